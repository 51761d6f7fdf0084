-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY posts_id ON posts (id);

-- +goose Down
DROP INDEX posts_id;
