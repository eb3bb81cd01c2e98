-- Migration 2: vault.pii keeps keyed fingerprints of each subject's
-- lower-cased names (name_fps), which the privacy audit looks cold values
-- up in instead of decrypting every name each night. Rows sealed before
-- have none (NULL): the vault job computes them on its next run.

-- name: up
ALTER TABLE vault.pii ADD COLUMN name_fps VARCHAR[];
ALTER TABLE vault.pii_stage ADD COLUMN name_fps VARCHAR[];
