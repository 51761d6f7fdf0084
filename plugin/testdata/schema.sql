CREATE TABLE users (
  id int PRIMARY KEY,
  email varchar(255) NOT NULL
);
