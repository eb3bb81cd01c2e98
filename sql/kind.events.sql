-- kind events: Behavioural events of websites and apps: landing.<source> of every
-- events source.
-- grain: one row per event_id

-- name: columns
-- The landing table of a events source (ingest adds the lineage columns).
event_id      VARCHAR,
ts            TIMESTAMPTZ,
event_date    DATE,     -- business-time-zone day of ts (late events land on their own day)
platform      VARCHAR,  -- web | app
session_id    VARCHAR,
anonymous_id  VARCHAR,  -- cookie or app install
event         VARCHAR,
page          VARCHAR,
screen        VARCHAR,
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
campaign_id   VARCHAR,
os            VARCHAR,
app_version   VARCHAR,
channel       VARCHAR   -- traffic channel: direct | organic_search | paid_search | social | display | email | affiliate | referral | other_campaign

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    event_id, ts, local_date(ts) AS event_date, coalesce(platform, 'web') AS platform, session_id, anonymous_id, event,
    page, screen, product_id, category, order_id, amount, upper(currency) AS currency,
    lower(utm_source) AS utm_source, lower(utm_medium) AS utm_medium, utm_campaign, referrer, device, campaign_id, os, app_version,
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

-- name: ids
SELECT _source AS source, 'events' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'event ' || event_id AS evidence, _ids AS ids
FROM kind.events;
