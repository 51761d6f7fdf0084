-- Create the users table.
CREATE TABLE users (
  id integer PRIMARY KEY AUTOINCREMENT,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
