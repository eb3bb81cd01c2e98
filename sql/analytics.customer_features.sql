-- analytics.customer_features: point-in-time features of every customer who
-- bought before a cut-off date, from the analytics (consented) tables only.
-- No leakage: every input is filtered on its business date < $cutoff, so
-- nothing on or after the cut-off day can enter a feature (a test changes
-- later events and checks the features do not move). Windows (30/90/365
-- days) end the day before the cut-off. Missing means "never happened":
-- rates without a denominator and "last" scores without an answer are NULL.
-- grain: one row per (cutoff, customer_key)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.customer_features (
    cutoff                   DATE NOT NULL,
    customer_key             VARCHAR NOT NULL,
    recency_days             DOUBLE,   -- days since the last purchase
    frequency_90d            DOUBLE,   -- purchases in the last 90 days
    frequency_365d           DOUBLE,   -- purchases in the last 365 days
    interpurchase_days       DOUBLE,   -- mean days between purchases (NULL with one purchase)
    recency_ratio            DOUBLE,   -- recency / mean days between purchases: overdue when > 1
    monetary_365d            DOUBLE,   -- revenue in the last 365 days
    orders_total             DOUBLE,   -- purchases ever
    tenure_days              DOUBLE,   -- days since the first purchase
    avg_basket               DOUBLE,   -- mean order value, ever
    discount_share           DOUBLE,   -- discount / (amount + discount) over store receipts
    share_web                DOUBLE,   -- channel mix of purchases, ever
    share_app                DOUBLE,
    share_store              DOUBLE,
    days_since_last_visit    DOUBLE,   -- web or app, within the last 90 days (NULL: none)
    sessions_30d             DOUBLE,   -- web sessions
    sessions_90d             DOUBLE,
    app_days_30d             DOUBLE,   -- days with app activity
    app_days_90d             DOUBLE,
    product_views_30d        DOUBLE,
    product_views_90d        DOUBLE,
    cart_abandons_30d        DOUBLE,   -- web sessions with a cart and no purchase
    cart_abandons_90d        DOUBLE,
    email_sends_90d          DOUBLE,
    days_since_email_open    DOUBLE,   -- within the last 90 days (NULL: none)
    email_open_rate_90d      DOUBLE,   -- opens / sends
    email_click_rate_90d     DOUBLE,   -- clicks / sends
    unsubscribes_90d         DOUBLE,
    contacts_90d             DOUBLE,   -- call-centre contacts
    unresolved_contacts_90d  DOUBLE,
    days_since_last_contact  DOUBLE,
    last_nps                 DOUBLE,
    last_csat                DOUBLE,
    last_ces                 DOUBLE
);

-- name: build
DELETE FROM analytics.customer_features WHERE cutoff = CAST($cutoff AS DATE);
INSERT INTO analytics.customer_features
WITH c AS (SELECT CAST($cutoff AS DATE) AS d),
o AS (
    SELECT customer_key, count(*) AS n, max(order_date) AS last_d, min(order_date) AS first_d,
           avg(amount) AS basket,
           count(*) FILTER (WHERE order_date >= (SELECT d FROM c) - 365) AS n365,
           count(*) FILTER (WHERE order_date >= (SELECT d FROM c) - 90) AS n90,
           coalesce(sum(amount) FILTER (WHERE order_date >= (SELECT d FROM c) - 365), 0) AS m365,
           count(*) FILTER (WHERE channel = 'web') AS n_web,
           count(*) FILTER (WHERE channel = 'app') AS n_app,
           count(*) FILTER (WHERE channel = 'store') AS n_store
    FROM analytics.orders WHERE order_date < (SELECT d FROM c) GROUP BY customer_key
), disc AS (
    SELECT customer_key, sum(discount) / nullif(sum(amount) + sum(discount), 0) AS share
    FROM analytics.store_receipts WHERE event_date < (SELECT d FROM c) GROUP BY customer_key
), sess AS MATERIALIZED (   -- one row per web session of the 90 days: web and carts read it, one scan
    SELECT customer_key, session_id, max(event_date) AS last_d,
           count(*) FILTER (WHERE event = 'product_view' AND event_date >= (SELECT d FROM c) - 30) AS pv30,
           count(*) FILTER (WHERE event = 'product_view') AS pv90,
           bool_or(event = 'add_to_cart') AS carted, bool_or(event = 'purchase') AS bought
    FROM analytics.web_events
    WHERE event_date < (SELECT d FROM c) AND event_date >= (SELECT d FROM c) - 90
    GROUP BY customer_key, session_id
), web AS (   -- a session is in the last 30 days when any of its events is
    SELECT customer_key,
           count(session_id) FILTER (WHERE last_d >= (SELECT d FROM c) - 30) AS s30,
           count(session_id) AS s90,
           sum(pv30) AS pv30, sum(pv90) AS pv90,
           max(last_d) AS last_d
    FROM sess GROUP BY customer_key
), carts AS (   -- sessions with an add-to-cart and no purchase
    SELECT customer_key,
           count(*) FILTER (WHERE last_d >= (SELECT d FROM c) - 30) AS a30, count(*) AS a90
    FROM sess WHERE carted AND NOT bought
    GROUP BY customer_key
), app AS (
    SELECT customer_key,
           count(DISTINCT event_date) FILTER (WHERE event_date >= (SELECT d FROM c) - 30) AS d30,
           count(DISTINCT event_date) AS d90,
           max(event_date) AS last_d
    FROM analytics.app_events
    WHERE event_date < (SELECT d FROM c) AND event_date >= (SELECT d FROM c) - 90
    GROUP BY customer_key
), em AS (
    SELECT customer_key,
           count(*) FILTER (WHERE event = 'send') AS sends,
           count(*) FILTER (WHERE event = 'open') AS opens,
           count(*) FILTER (WHERE event = 'click') AS clicks,
           count(*) FILTER (WHERE event = 'unsubscribe') AS unsubs,
           max(event_date) FILTER (WHERE event IN ('open', 'click')) AS last_open
    FROM analytics.email_events
    WHERE event_date < (SELECT d FROM c) AND event_date >= (SELECT d FROM c) - 90
    GROUP BY customer_key
), ct AS (
    SELECT customer_key,
           count(*) FILTER (WHERE event_date >= (SELECT d FROM c) - 90) AS n90,
           count(*) FILTER (WHERE event_date >= (SELECT d FROM c) - 90 AND NOT resolved) AS unres90,
           max(event_date) AS last_d,
           arg_max(ces, ts) FILTER (WHERE ces IS NOT NULL) AS last_ces
    FROM analytics.contacts WHERE event_date < (SELECT d FROM c) GROUP BY customer_key
), sv AS (
    SELECT customer_key,
           arg_max(nps, ts) FILTER (WHERE nps IS NOT NULL) AS last_nps,
           arg_max(csat, ts) FILTER (WHERE csat IS NOT NULL) AS last_csat
    FROM analytics.survey_responses WHERE event_date < (SELECT d FROM c) GROUP BY customer_key
)
SELECT (SELECT d FROM c), o.customer_key,
       (SELECT d FROM c) - o.last_d, o.n90, o.n365,
       CASE WHEN o.n > 1 THEN (o.last_d - o.first_d) / (o.n - 1) END,
       CASE WHEN o.n > 1 AND o.last_d > o.first_d THEN ((SELECT d FROM c) - o.last_d) / ((o.last_d - o.first_d) / (o.n - 1)) END,
       o.m365, o.n, (SELECT d FROM c) - o.first_d, o.basket, disc.share,
       o.n_web / o.n, o.n_app / o.n, o.n_store / o.n,
       (SELECT d FROM c) - greatest(web.last_d, app.last_d),
       coalesce(web.s30, 0), coalesce(web.s90, 0), coalesce(app.d30, 0), coalesce(app.d90, 0),
       coalesce(web.pv30, 0), coalesce(web.pv90, 0), coalesce(carts.a30, 0), coalesce(carts.a90, 0),
       coalesce(em.sends, 0), (SELECT d FROM c) - em.last_open, em.opens / nullif(em.sends, 0), em.clicks / nullif(em.sends, 0), coalesce(em.unsubs, 0),
       coalesce(ct.n90, 0), coalesce(ct.unres90, 0), (SELECT d FROM c) - ct.last_d,
       sv.last_nps, sv.last_csat, ct.last_ces
FROM o
LEFT JOIN disc USING (customer_key) LEFT JOIN web USING (customer_key) LEFT JOIN carts USING (customer_key)
LEFT JOIN app USING (customer_key) LEFT JOIN em USING (customer_key) LEFT JOIN ct USING (customer_key)
LEFT JOIN sv USING (customer_key)
ORDER BY o.customer_key;

-- name: label
-- The churn label of a cut-off: 1 when the customer made no purchase in the
-- $horizon days from the cut-off on. Only meaningful once those days are over.
SELECT f.customer_key,
       CASE WHEN EXISTS (SELECT 1 FROM analytics.orders o WHERE o.customer_key = f.customer_key
                         AND o.order_date >= f.cutoff AND o.order_date < f.cutoff + CAST($horizon AS INTEGER))
            THEN 0 ELSE 1 END AS churned
FROM analytics.customer_features f WHERE f.cutoff = CAST($cutoff AS DATE)
ORDER BY f.customer_key;

-- name: last_day
-- The last day the warehouse holds purchases for: the latest date whose
-- split succeeded (a day without orders still counts), or the latest order.
-- A churn label needs its whole horizon up to this day.
SELECT CAST(greatest(
    (SELECT max(order_date) FROM analytics.orders),
    (SELECT max(logical_date) FROM ops.job_runs WHERE job = 'split' AND status = 'succeeded')) AS DATE);

-- name: count
-- How many customers have features at cut-off $cutoff: what build wrote,
-- and whether the segments job has any to cluster.
SELECT count(*) FROM analytics.customer_features WHERE cutoff = CAST($cutoff AS DATE);

-- name: load
-- Every customer's features at cut-off $cutoff, in customer_key order,
-- read by the models as Arrow (jobs/features Load).
SELECT * EXCLUDE (cutoff) FROM analytics.customer_features
WHERE cutoff = CAST($cutoff AS DATE)
ORDER BY customer_key;

-- name: load_sample
-- load for the training sample only (models.churn_train_sample): the
-- $limit smallest customer keys, as features.SampleClause keeps them
-- when the merge gathers a cut-off from the shards.
SELECT * EXCLUDE (cutoff) FROM analytics.customer_features
WHERE cutoff = CAST($cutoff AS DATE)
QUALIFY row_number() OVER (PARTITION BY cutoff ORDER BY customer_key) <= $limit
ORDER BY customer_key;

-- name: export
-- `parcours model features`: the features of the cut-offs $cutoffs with
-- their churn label over $horizon days, NULL for a cut-off after
-- $last_complete (its horizon is not over in the data), written to
-- {{file}} with the COPY options {{format}} (both set by the command).
COPY (
SELECT f.cutoff, f.customer_key, f.* EXCLUDE (customer_key, cutoff),
       CASE WHEN f.cutoff > CAST($last_complete AS DATE) THEN NULL
            WHEN EXISTS (SELECT 1 FROM analytics.orders o WHERE o.customer_key = f.customer_key
                         AND o.order_date >= f.cutoff AND o.order_date < f.cutoff + CAST($horizon AS INTEGER)) THEN 0 ELSE 1 END AS churned
FROM analytics.customer_features f WHERE list_contains(CAST($cutoffs AS DATE[]), f.cutoff) ORDER BY f.cutoff, f.customer_key
) TO {{file}} (FORMAT {{format}});

-- name: export_counts
-- The rows export wrote, and those without a label (cut-off after
-- $last_complete).
SELECT count(*), count(*) FILTER (WHERE cutoff > CAST($last_complete AS DATE))
FROM analytics.customer_features WHERE list_contains(CAST($cutoffs AS DATE[]), cutoff);
