-- Macros every transform may use. Created on each connection as TEMP macros
-- (never stored in a database file). {{placeholders}} come from the config:
-- calling_code / trunk_prefix from `region`, timezone from `timezone`.
-- The pseudonym(type, value) macro (HMAC-SHA256 under the pepper) is added
-- by the warehouse package because it carries a secret.

-- Email: trimmed and lower-cased; NULL when blank.
CREATE OR REPLACE TEMP MACRO norm_email(e) AS
  nullif(lower(trim(e)), '');

-- Is a (normalised) email plausible: one @, a dot in the domain, no spaces.
CREATE OR REPLACE TEMP MACRO valid_email(e) AS
  regexp_full_match(e, '[^@\s]+@[^@\s]+\.[^@\s.]+');

-- Phone to E.164. Separators (spaces, dots, dashes, brackets) and the
-- "(0)" of "+33 (0)6..." are dropped; "00" becomes "+"; a national number
-- gets the configured region's calling code (dropping its trunk 0 where the
-- region has one). Anything else, including placeholders such as
-- "0000000000", is NULL: not a usable phone.
CREATE OR REPLACE TEMP MACRO phone_digits(p) AS
  regexp_replace(replace(trim(p), '(0)', ''), '[\s.\-()/]', '', 'g');
CREATE OR REPLACE TEMP MACRO norm_phone(p) AS
  CASE
    WHEN p IS NULL OR trim(p) = '' THEN NULL
    WHEN regexp_full_match(phone_digits(p), '\+[1-9][0-9]{6,14}') THEN phone_digits(p)
    WHEN regexp_full_match(phone_digits(p), '00[1-9][0-9]{6,14}') THEN '+' || substr(phone_digits(p), 3)
    WHEN {{trunk_prefix}} AND regexp_full_match(phone_digits(p), '0[1-9][0-9]{5,13}')
      THEN '+{{calling_code}}' || substr(phone_digits(p), 2)
    WHEN NOT {{trunk_prefix}} AND regexp_full_match(phone_digits(p), '[1-9][0-9]{5,13}')
      THEN '+{{calling_code}}' || phone_digits(p)
    ELSE NULL
  END;

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
-- (Suffix tests rather than a regular expression: this runs on every event.)
CREATE OR REPLACE TEMP MACRO parse_ts(s) AS
  CASE
    WHEN length(s) > 19 AND (right(s, 1) IN ('Z', 'z') OR substr(s, -6, 1) IN ('+', '-')
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
  array_to_string(list_slice(list_filter(l, (x, i) -> i = 1 OR x <> l[i - 1]), -n, -1), ' > ');
