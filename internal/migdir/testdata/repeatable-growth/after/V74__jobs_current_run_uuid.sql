ALTER TABLE jobs ADD COLUMN current_run_uuid uuid REFERENCES runs (uuid);
