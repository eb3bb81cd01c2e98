-- Migration 1: the columns added to tables after they were first
-- released, for warehouses made before schema versions existed (version
-- 0). Such a warehouse may hold any of them already, hence IF NOT EXISTS;
-- later migrations know the version they start from and need no guard.
-- A new warehouse gets these columns from the tables' create sections
-- and never runs this.
--
-- "up" changes hot.duckdb, "up_cold" the cold store (cold.duckdb): one
-- transaction writes one database, so up_cold commits first and must be
-- safe to run twice (the version is recorded with up, after it).

-- name: up
ALTER TABLE analytics.app_events ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE analytics.contacts ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE analytics.email_events ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE analytics.store_receipts ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE analytics.survey_responses ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE analytics.web_events ADD COLUMN IF NOT EXISTS _source VARCHAR;
ALTER TABLE ops.cold_contrib_conversion_paths ADD COLUMN IF NOT EXISTS nulls BIGINT DEFAULT 0;
ALTER TABLE ops.cold_cohorts ADD COLUMN IF NOT EXISTS first_day DATE;
ALTER TABLE ops.cold_cohorts ADD COLUMN IF NOT EXISTS acquired_via VARCHAR;
ALTER TABLE ops.ingest_files ADD COLUMN IF NOT EXISTS nulled JSON;
ALTER TABLE ops.ingest_files ADD COLUMN IF NOT EXISTS rows_filtered BIGINT DEFAULT 0;
ALTER TABLE ops.models ADD COLUMN IF NOT EXISTS decision VARCHAR;

-- name: up_cold
ALTER TABLE cold.conversion_paths ADD COLUMN IF NOT EXISTS nulls BIGINT DEFAULT 0;
ALTER TABLE cold.segment_profiles ADD COLUMN IF NOT EXISTS label VARCHAR;
