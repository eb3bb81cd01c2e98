-- ops.suppression: identifiers of erased subjects, as their salted hash
-- (the same HMAC token identity uses, never the value). Ingested rows,
-- identifiers, consents and vault entries matching one are dropped, so an
-- old extract loaded again never brings an erased person back.
-- grain: one row per id_token

-- name: create
CREATE TABLE IF NOT EXISTS ops.suppression (
    id_token     VARCHAR NOT NULL,
    id_type      VARCHAR NOT NULL,
    request_id   VARCHAR,          -- the erasure request, or 'cli:<time>' for `privacy forget`
    added_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
