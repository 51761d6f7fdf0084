CREATE TABLE legacy (id int);
-- Remove what we no longer need.
ALTER TABLE users DROP COLUMN email, DROP INDEX users_email;
DROP TABLE legacy;
