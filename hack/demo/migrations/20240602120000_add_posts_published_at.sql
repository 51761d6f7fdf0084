-- Posts can be drafts: published_at stays NULL until they go out.
ALTER TABLE posts ADD COLUMN published_at datetime NULL;
CREATE INDEX posts_published_at ON posts (published_at);
