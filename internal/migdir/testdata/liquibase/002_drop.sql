--liquibase formatted sql

--changeset bob:3
DROP TABLE posts;
