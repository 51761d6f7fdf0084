-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION add_one(i int) RETURNS int AS $$
BEGIN
  RETURN i + 1;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TABLE posts (id int);

-- +goose Down
DROP FUNCTION add_one;
