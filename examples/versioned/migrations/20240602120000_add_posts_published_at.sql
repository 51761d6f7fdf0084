-- Posts can be drafts: published_at stays NULL until they go out.
ALTER TABLE `posts` ADD COLUMN `published_at` timestamp NULL, ADD INDEX `posts_published_at` (`published_at`);
