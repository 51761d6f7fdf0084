ALTER TABLE jobs ADD COLUMN is_hidden boolean NOT NULL DEFAULT false;
