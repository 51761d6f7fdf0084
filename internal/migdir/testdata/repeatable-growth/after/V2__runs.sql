CREATE TABLE runs (
  uuid uuid PRIMARY KEY,
  job_uuid uuid NOT NULL REFERENCES jobs (uuid),
  state varchar(64) NOT NULL,
  started_at timestamptz
);
