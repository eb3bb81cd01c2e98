-- landing.web_events: website events, deduplicated on event_id, in UTC,
-- with the marketing channel of the visit derived from UTM tags and referrer.
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.web_events (
    event_id      VARCHAR,
    ts            TIMESTAMPTZ,
    event_date    DATE,     -- business-time-zone day of ts (late events land on their own day)
    session_id    VARCHAR,
    cookie_id     VARCHAR,
    user_id       VARCHAR,
    event         VARCHAR,
    page          VARCHAR,
    product_id    VARCHAR,
    category      VARCHAR,
    order_id      VARCHAR,
    amount        DECIMAL(18,2),
    currency      VARCHAR,
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    referrer      VARCHAR,
    device        VARCHAR,
    channel       VARCHAR,  -- direct | organic_search | paid_search | social | display | email | affiliate | referral | other_campaign
    _file       VARCHAR,  -- extract file (relative to the input folder)
    _load_date  DATE,     -- folder date of that file
    _run_id     VARCHAR,
    _line       BIGINT,   -- Parquet row number; text formats keep it only in quarantine
    _extra      JSON,     -- columns the contract does not know, kept aside
    _reasons    VARCHAR,  -- contract violations (rows with any are moved to ops.quarantine)
    _field      VARCHAR,
    _raw        VARCHAR,
    _nulled     VARCHAR   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
);
ALTER TABLE landing.web_events ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    event_id, ts, local_date(ts) AS event_date, session_id, cookie_id, user_id, event,
    page, product_id, category, order_id, amount, upper(currency) AS currency,
    lower(utm_source) AS utm_source, lower(utm_medium) AS utm_medium, utm_campaign, referrer, device,
    CASE
        WHEN lower(utm_medium) IN ('cpc', 'ppc', 'paid_search', 'sem') THEN 'paid_search'
        WHEN lower(utm_medium) IN ('social', 'paid_social') THEN 'social'
        WHEN lower(utm_medium) IN ('display', 'banner', 'cpm') THEN 'display'
        WHEN lower(utm_medium) = 'email' THEN 'email'
        WHEN lower(utm_medium) = 'affiliate' THEN 'affiliate'
        WHEN utm_medium IS NOT NULL THEN 'other_campaign'
        WHEN referrer IS NULL THEN 'direct'
        WHEN regexp_matches(referrer, '(google|bing|yahoo|duckduckgo|qwant|ecosia)\.') THEN 'organic_search'
        WHEN regexp_matches(referrer, '(facebook|instagram|twitter|t\.co|linkedin|tiktok|pinterest)\.') THEN 'social'
        ELSE 'referral'
    END AS channel,
    COLUMNS('^_')
FROM typed;
