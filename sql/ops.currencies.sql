-- ops.currencies: the currencies amounts arrive in, counted per ingest
-- batch from the events and orders that carry one (no customer, no
-- amount): the report shows amounts in the configured currency or, when
-- none is set, in the one the data carries, and says when it mixes
-- several (parcours converts nothing).
-- grain: one row per (batch, currency)

-- name: create
CREATE TABLE IF NOT EXISTS ops.currencies (
    batch     VARCHAR NOT NULL,
    currency  VARCHAR NOT NULL,   -- ISO 4217 code, upper case
    facts     BIGINT NOT NULL     -- events and orders with an amount in it
);

-- name: record
-- Runs in the split, after landing.activity.sql's build (batches).
-- temp: reads batches
DELETE FROM ops.currencies WHERE batch IN (SELECT batch FROM batches);
INSERT INTO ops.currencies
SELECT _run_id, upper(currency), count(*)
FROM (SELECT _run_id, currency FROM kind.events WHERE currency IS NOT NULL AND amount IS NOT NULL
      UNION ALL
      SELECT _run_id, currency FROM kind.orders WHERE currency IS NOT NULL AND amount IS NOT NULL)
GROUP BY ALL;

-- name: report_mix
-- The currencies amounts arrived in, the most used first, for the report.
SELECT currency, sum(facts) FROM ops.currencies GROUP BY currency ORDER BY 2 DESC, 1;
