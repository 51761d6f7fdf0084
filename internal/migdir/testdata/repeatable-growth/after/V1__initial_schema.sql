CREATE TABLE namespaces (
  uuid uuid PRIMARY KEY,
  name varchar(255) NOT NULL UNIQUE
);

CREATE TABLE jobs (
  uuid uuid PRIMARY KEY,
  namespace_uuid uuid NOT NULL REFERENCES namespaces (uuid),
  name varchar(255) NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (namespace_uuid, name)
);
