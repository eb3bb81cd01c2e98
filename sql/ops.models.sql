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
