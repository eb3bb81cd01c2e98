-- ops.models: the model registry. Every trained model is a row: what it is,
-- what it was trained on, how it scored on its holdout, where its artifact
-- is, and whether nightly scoring uses it (status promoted: at most one per
-- kind). Artifacts are files under <warehouse>/models/.
-- grain: one row per model id

-- name: create
CREATE TABLE IF NOT EXISTS ops.models (
    id             VARCHAR NOT NULL,     -- <kind>-<algorithm>-<time>
    kind           VARCHAR NOT NULL,     -- churn | clv
    algorithm      VARCHAR NOT NULL,     -- logreg | xgboost | forest | recency | bgnbd+gammagamma
    params         JSON,
    train_cutoff   DATE,                 -- features and labels of this cut-off trained it
    eval_cutoff    DATE,                 -- and of this later one evaluated it (time split)
    features       VARCHAR[],
    metrics        JSON,                 -- holdout metrics (churn: roc_auc, pr_auc, lift, brier, calibration...)
    artifact       VARCHAR NOT NULL,     -- file, relative to the warehouse folder
    status         VARCHAR NOT NULL,     -- candidate | promoted | retired
    code_version   VARCHAR,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    promoted_at    TIMESTAMPTZ,
    decision       VARCHAR               -- why it was promoted or not, in words
);

-- name: register
-- Record a trained model (models/registry Register): status candidate
-- unless the job says otherwise, promoted later by promote.
INSERT INTO ops.models
(id, kind, algorithm, params, train_cutoff, eval_cutoff, features, metrics, artifact, status, code_version, created_at, decision)
VALUES ($id, $kind, $algorithm, $params, $train_cutoff, $eval_cutoff, $features, $metrics, $artifact, $status, $code_version,
        $created_at, $decision);

-- name: retire_promoted
-- First step of a promotion: the kind's promoted model, if another than
-- $id, is retired, naming its successor.
UPDATE ops.models SET status = 'retired', decision = 'retired: replaced by ' || $id
WHERE kind = $kind AND status = 'promoted' AND id <> $id;

-- name: promote
-- Second step: $id becomes the kind's promoted model, with the reason
-- $decision ('' keeps the one it was registered with).
UPDATE ops.models SET status = 'promoted', promoted_at = now(), decision = coalesce(nullif($decision, ''), decision)
WHERE id = $id;

-- name: get
-- One model by id (no row: unknown id).
SELECT id, kind, algorithm, CAST(params AS VARCHAR), train_cutoff, eval_cutoff, features,
       CAST(metrics AS VARCHAR), artifact, status, coalesce(code_version, ''), created_at, promoted_at, coalesce(decision, '')
FROM ops.models
WHERE id = $id;

-- name: promoted
-- The promoted model of $kind, latest promotion first (no row: none).
SELECT id, kind, algorithm, CAST(params AS VARCHAR), train_cutoff, eval_cutoff, features,
       CAST(metrics AS VARCHAR), artifact, status, coalesce(code_version, ''), created_at, promoted_at, coalesce(decision, '')
FROM ops.models
WHERE kind = $kind AND status = 'promoted'
ORDER BY promoted_at DESC;

-- name: list
-- Every model of $kind ('' for every kind), newest first.
SELECT id, kind, algorithm, CAST(params AS VARCHAR), train_cutoff, eval_cutoff, features,
       CAST(metrics AS VARCHAR), artifact, status, coalesce(code_version, ''), created_at, promoted_at, coalesce(decision, '')
FROM ops.models
WHERE $kind = '' OR kind = $kind
ORDER BY created_at DESC;
