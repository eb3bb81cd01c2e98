-- handoff.*: what a customer shard hands to `parcours merge` for the cold
-- publication of its night (orchestration/SHARDS.md). A shard never
-- publishes: its cold job snapshots here, before its purge, what the
-- single-node cold, attribution and kpis jobs read, and the merge sums the
-- shards' snapshots and publishes them under the k rule. The merge empties
-- these tables once it has used them, so no erased customer's key stays.
-- grain: copies of the source tables, one snapshot per shard and night

-- name: create
CREATE TABLE IF NOT EXISTS handoff.meta (
    key    VARCHAR NOT NULL,   -- 'day': the logical date of the snapshot
    value  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS handoff.name_tokens (
    token  VARCHAR NOT NULL    -- pseudonym('name', lower(name)) of the shard's vault names
);

-- name: snapshot
DELETE FROM handoff.meta;
CREATE OR REPLACE TABLE handoff.cold_contrib_daily_activity AS SELECT * FROM ops.cold_contrib_daily_activity;
CREATE OR REPLACE TABLE handoff.cold_contrib_funnel_daily AS SELECT * FROM ops.cold_contrib_funnel_daily;
CREATE OR REPLACE TABLE handoff.cold_contrib_cohort_retention AS SELECT * FROM ops.cold_contrib_cohort_retention;
CREATE OR REPLACE TABLE handoff.cold_contrib_survey_scores AS SELECT * FROM ops.cold_contrib_survey_scores;
CREATE OR REPLACE TABLE handoff.cold_contrib_conversion_paths AS SELECT * FROM ops.cold_contrib_conversion_paths;
CREATE OR REPLACE TABLE handoff.cold_contrib_path_channels AS SELECT * FROM ops.cold_contrib_path_channels;
-- report: the currencies amounts arrive in
CREATE OR REPLACE TABLE handoff.currencies AS SELECT * FROM ops.currencies;
-- conversion_paths publishes the exact customers of pooled paths from its ledger
CREATE OR REPLACE TABLE handoff.cold_ledger AS SELECT * FROM ops.cold_ledger WHERE cold_table = 'conversion_paths';
-- kpis: new customers per day, consented share (customers and marketing
-- spend the merged warehouse has itself: its route stage loaded them)
CREATE OR REPLACE TABLE handoff.cold_cohorts AS SELECT * FROM ops.cold_cohorts;
CREATE OR REPLACE TABLE handoff.consent_intervals AS SELECT * FROM consent.intervals;
DROP TABLE IF EXISTS handoff.customers;
DROP TABLE IF EXISTS handoff.marketing_spend;
INSERT INTO handoff.meta VALUES ('day', CAST(CAST($date AS DATE) AS VARCHAR));

-- name: name_tokens
-- The shard's vault names as tokens ($tokens: pseudonym('name', n) of each
-- lower-cased name), for the merged privacy audit's check that no cold
-- value is a customer's name (no name leaves the shard).
DELETE FROM handoff.name_tokens;
INSERT INTO handoff.name_tokens
SELECT DISTINCT unnest(CAST($tokens AS VARCHAR[]));

-- name: shard_day
-- Read by the merge (gather_publish): the day of a shard's snapshot, the
-- shard attached as {{shard}} (no row: it never made one).
SELECT value FROM {{shard}}.handoff.meta WHERE key = 'day';

-- name: clear_shard
-- Run by the merge (finish_publish) once the hand-off has served: no
-- erased customer's key stays in the shard {{shard}}'s copies.
DELETE FROM {{shard}}.handoff.cold_ledger;
DELETE FROM {{shard}}.handoff.cold_cohorts;
DELETE FROM {{shard}}.handoff.consent_intervals;
