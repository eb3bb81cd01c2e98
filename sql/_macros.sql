-- Macros every transform may use. Created on each connection as TEMP macros
-- (never stored in a database file). {{timezone}} and {{tcf_mapping}} come
-- from the config.
-- The macros in named sections below are created by the warehouse package
-- with values only it knows: the shard a warehouse is, and the ones that
-- carry a secret derived from the pepper.

-- Email: trimmed and lower-cased; NULL when blank.
CREATE OR REPLACE TEMP MACRO norm_email(e) AS
  nullif(lower(trim(e)), '');

-- Is a (normalised) email plausible: one @, a dot in the domain, no spaces.
CREATE OR REPLACE TEMP MACRO valid_email(e) AS
  regexp_full_match(e, '[^@\s]+@[^@\s]+\.[^@\s.]+');

-- An identifier type's rank as a row's anchor: a CRM customer id first,
-- then a type of the company's own, an email, a phone, a card, a device,
-- a cookie. Identity links and the split's fact keys use it.
CREATE OR REPLACE TEMP MACRO id_rank(t) AS
  CASE t WHEN 'customer_id' THEN 0 WHEN 'email' THEN 2 WHEN 'phone' THEN 3 WHEN 'loyalty_card' THEN 4
         WHEN 'device_id' THEN 5 WHEN 'cookie_id' THEN 6 ELSE 1 END;

-- The events a customer shard must hold together (the merge's route stage,
-- orchestration/SHARDS.md): a web visit as the split's activity counts it,
-- every event of an app device (its app sessions are cut by the gaps
-- between all its events), otherwise the event alone (fact: its route).
CREATE OR REPLACE TEMP MACRO event_group(platform, session_id, anonymous_id, event_date, fact) AS
  CASE WHEN platform = 'app' AND anonymous_id IS NOT NULL THEN 'a:' || anonymous_id
       WHEN platform <> 'app' AND coalesce(session_id, anonymous_id || ':' || event_date) IS NOT NULL
            THEN 'w:' || coalesce(session_id, anonymous_id || ':' || event_date)
       ELSE 'f:' || fact END;

-- norm_phone(p): a phone number to E.164, or NULL when it is not one, is
-- a Go function (libphonenumber, default region from `region`) the
-- warehouse registers: the same normaliser serves identity, erasure and
-- activation. (internal/phone)

-- A naive local timestamp string (as tills and CRMs write them) read in the
-- business time zone, as an instant. NULL when it does not parse.
CREATE OR REPLACE TEMP MACRO local_ts(s, fmt) AS
  timezone('{{timezone}}', try_strptime(s, fmt));

-- The business calendar day of an instant.
CREATE OR REPLACE TEMP MACRO local_date(ts) AS
  CAST(timezone('{{timezone}}', ts) AS DATE);

-- Text with surrounding spaces trimmed, NULL when blank. trim() copies
-- every string, so it only runs on values that need it (4x faster on events).
CREATE OR REPLACE TEMP MACRO clean(s) AS
  CASE
    WHEN s = '' THEN NULL
    WHEN starts_with(s, ' ') OR ends_with(s, ' ') THEN nullif(trim(s), '')
    ELSE s
  END;

-- An ISO 8601 timestamp as an instant: with Z or an offset as written,
-- without one read in the business time zone. NULL when it does not parse.
-- (Suffix tests rather than a regular expression: this runs on every event,
-- ends_with compares bytes where right() counts characters first.)
CREATE OR REPLACE TEMP MACRO parse_ts(s) AS
  CASE
    WHEN length(s) > 19 AND (ends_with(s, 'Z') OR ends_with(s, 'z') OR substr(s, -6, 1) IN ('+', '-')
                             OR substr(s, -5, 1) IN ('+', '-') OR substr(s, -3, 1) IN ('+', '-'))
      THEN try_cast(s AS TIMESTAMPTZ)
    ELSE timezone('{{timezone}}', try_cast(s AS TIMESTAMP))
  END;

-- One CSV field re-encoded with minimal quoting (used to show a rejected
-- row as it was written).
CREATE OR REPLACE TEMP MACRO csv_field(s) AS
  CASE
    WHEN s IS NULL THEN ''
    WHEN regexp_matches(s, '[",\r\n]') THEN '"' || replace(s, '"', '""') || '"'
    ELSE s
  END;

-- A masked form of an identifier, for people reading explanations: enough
-- to recognise it, not enough to contact anyone.
CREATE OR REPLACE TEMP MACRO mask_identifier(t, v) AS
  CASE t
    WHEN 'email' THEN left(v, 1) || '***@' || split_part(v, '@', 2)
    WHEN 'phone' THEN left(v, 4) || '****' || right(v, 2)
    WHEN 'loyalty_card' THEN '****' || right(v, 4)
    WHEN 'cookie_id' THEN left(v, 8) || '…'
    WHEN 'device_id' THEN left(v, 8) || '…'
    ELSE v
  END;

-- A 10-year age band at a date, from a birth year: '30-39', or '80+' from 80,
-- 'unknown' without a birth year. Cold tables never see a birth date.
CREATE OR REPLACE TEMP MACRO age_band(birth_year, d) AS
  CASE
    WHEN birth_year IS NULL THEN 'unknown'
    WHEN year(d) - birth_year >= 80 THEN '80+'
    WHEN year(d) - birth_year < 10 THEN 'unknown'
    ELSE CAST(((year(d) - birth_year) // 10) * 10 AS VARCHAR) || '-' || CAST(((year(d) - birth_year) // 10) * 10 + 9 AS VARCHAR)
  END;

-- A list of touchpoints (oldest first) as an attribution path: repeats in
-- a row collapsed ('email > email > app' is 'email > app': fewer, larger
-- path cells under the k rule), then only the last n touches kept.
CREATE OR REPLACE TEMP MACRO touch_path(l, n) AS
  array_to_string(list_slice(list_filter(l, lambda x, i: i = 1 OR x <> l[i - 1]), -n, -1), ' > ');

-- The IAB TCF purposes each parcours purpose needs (privacy.tcf_purposes):
-- a TC string grants the purpose when its user consented to all of them.
CREATE OR REPLACE TEMP MACRO tcf_mapping() AS TABLE
  SELECT * FROM (VALUES {{tcf_mapping}}) m(purpose, tcf);

-- A Google Analytics 4 event parameter, as text: GA4's BigQuery export
-- holds them in event_params, a list of {key, value: {string_value,
-- int_value, float_value, double_value}} (here the row as JSON).
CREATE OR REPLACE TEMP MACRO ga4_param(j, k) AS
  list_transform(
    list_filter(json_extract(j, '$.event_params[*]'), lambda p: json_extract_string(p, '$.key') = k),
    lambda p: coalesce(json_extract_string(p, '$.value.string_value'), json_extract_string(p, '$.value.int_value'),
                       json_extract_string(p, '$.value.double_value'), json_extract_string(p, '$.value.float_value')))[1];

-- name: shard_of
-- shard_of(key, route, n): the shard of n a row goes to. A row with a
-- customer key goes by the key's first 32 bits (orchestration.ShardOf in
-- Go agrees), one without by an md5 of its route (source and id), so each
-- lands on exactly one shard. n is cast to UBIGINT: md5_number is a
-- UHUGEINT, and modulo a BIGINT would be computed in DOUBLE, inexactly.
CREATE OR REPLACE TEMP MACRO shard_of(key, route, n) AS
  (CASE WHEN key IS NOT NULL THEN coalesce(TRY_CAST(('0x' || left(key, 8)) AS UBIGINT) % CAST(n AS UBIGINT), 0)
        ELSE md5_number(coalesce(route, '')) % CAST(n AS UBIGINT) END);

-- name: in_shard_all
-- in_shard(key, route): is a row this warehouse's? Always, unsharded.
CREATE OR REPLACE TEMP MACRO in_shard(key, route) AS true;

-- name: in_shard
-- On customer shard {{index}} of {{count}}: the rows shard_of gives it.
CREATE OR REPLACE TEMP MACRO in_shard(key, route) AS (shard_of(key, route, {{count}}) = {{index}});

-- name: pseudonym
-- pseudonym(type, value): HMAC-SHA256 of "type:value" under the pepper,
-- written out as SHA-256 of the pads ({{opad}}, {{ipad}}: the pepper's
-- HMAC pads, hex), so DuckDB tokenises millions of rows without a Go loop.
CREATE OR REPLACE TEMP MACRO pseudonym(t, v) AS
  CASE WHEN v IS NULL THEN NULL ELSE sha256(unhex({{opad}}) || unhex(sha256(unhex({{ipad}}) || encode(t || ':' || v)))) END;

-- name: landed_key
-- landed_key(k): a salted 128-bit hash of an event key ({{salt}}, derived
-- from the pepper), as ops.landed_keys remembers landed rows.
CREATE OR REPLACE TEMP MACRO landed_key(k) AS md5_number({{salt}} || k);
