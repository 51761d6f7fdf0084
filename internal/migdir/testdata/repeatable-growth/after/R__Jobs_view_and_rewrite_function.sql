CREATE OR REPLACE VIEW jobs_view AS
SELECT j.uuid,
       j.namespace_uuid,
       j.name,
       j.description,
       j.created_at,
       j.current_run_uuid
FROM jobs j
WHERE j.is_hidden IS FALSE;

CREATE OR REPLACE FUNCTION rewrite_jobs_view() RETURNS TRIGGER AS
$$
BEGIN
    INSERT INTO jobs (uuid, namespace_uuid, name, description, current_run_uuid)
    VALUES (NEW.uuid, NEW.namespace_uuid, NEW.name, NEW.description, NEW.current_run_uuid)
    ON CONFLICT (namespace_uuid, name) DO UPDATE SET description = EXCLUDED.description,
                                                     current_run_uuid = EXCLUDED.current_run_uuid;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS rewrite_jobs ON jobs_view;

CREATE TRIGGER rewrite_jobs
    INSTEAD OF INSERT OR UPDATE ON jobs_view
    FOR EACH ROW
EXECUTE FUNCTION rewrite_jobs_view();
