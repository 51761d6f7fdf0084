--liquibase formatted sql

--changeset alice:1
CREATE TABLE users (id int PRIMARY KEY);
--rollback DROP TABLE users;

--changeset alice:2
CREATE TABLE posts (id int PRIMARY KEY);

--changeset alice:5 runOnChange:true
CREATE OR REPLACE VIEW user_ids AS
  SELECT id FROM users;
--rollback DROP VIEW user_ids;
