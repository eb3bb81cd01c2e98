-- analytics.customer_attrs: one row per stitched customer with the generalised
-- attributes of its newest CRM profile (a customer may hold several CRM
-- ids). Rebuilt each run; what hot and cold jobs join facts to.
-- grain: one row per customer_key

-- name: create
CREATE TABLE IF NOT EXISTS analytics.customer_attrs (
    customer_key    VARCHAR NOT NULL,
    region          VARCHAR NOT NULL,
    birth_year      INTEGER,
    signup_channel  VARCHAR,
    created_at      TIMESTAMPTZ
);

-- name: build
DELETE FROM analytics.customer_attrs;
INSERT INTO analytics.customer_attrs
SELECT customer_key, arg_max(region, updated_at), arg_max(birth_year, updated_at),
       arg_max(signup_channel, updated_at), min(created_at)
FROM analytics.customer_profile WHERE customer_key IS NOT NULL
GROUP BY customer_key ORDER BY customer_key;
