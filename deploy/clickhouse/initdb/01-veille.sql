-- Run once by the clickhouse-server image on an empty data volume
-- (/docker-entrypoint-initdb.d). Veille creates and migrates its own tables
-- at start-up; only the database must exist.
CREATE DATABASE IF NOT EXISTS veille;
