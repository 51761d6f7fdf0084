-- Create the users table.
CREATE TABLE users (
  id bigint NOT NULL,
  name varchar(255) NOT NULL,
  PRIMARY KEY (id)
);
