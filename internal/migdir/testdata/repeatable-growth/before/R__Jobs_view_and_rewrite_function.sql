CREATE OR REPLACE VIEW jobs_view AS
SELECT j.uuid,
       j.namespace_uuid,
       j.name,
       j.description,
       j.created_at
FROM jobs j
WHERE j.is_hidden IS FALSE;

CREATE OR REPLACE FUNCTION rewrite_jobs_view() RETURNS TRIGGER AS
$$
BEGIN
    INSERT INTO jobs (uuid, namespace_uuid, name, description)
    VALUES (NEW.uuid, NEW.namespace_uuid, NEW.name, NEW.description)
    ON CONFLICT (namespace_uuid, name) DO UPDATE SET description = EXCLUDED.description;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS rewrite_jobs ON jobs_view;

CREATE TRIGGER rewrite_jobs
    INSTEAD OF INSERT OR UPDATE ON jobs_view
    FOR EACH ROW
EXECUTE FUNCTION rewrite_jobs_view();
