-- ops.segment_centroids: the centre of every micro-segment (k-means
-- cluster) of a computed day, in the standardised feature space the day
-- clustered in (log1p of long-tailed features, z-scores, clipped at +-3),
-- with its label and size. The segments job matches each night's clusters
-- to the previous computation's centres (an optimal one-to-one assignment
-- on Euclidean distance) so a cluster keeps its id (micro_3 stays micro_3)
-- from day to day, and its label while the label still describes it; a
-- new cluster gets an id never used before. No customer
-- key: a centre is a mean over a cluster. A run replaces its computed_on
-- day as a whole.
-- grain: one row per (computed_on, family, segment)

-- name: create
CREATE TABLE IF NOT EXISTS ops.segment_centroids (
    computed_on  DATE NOT NULL,
    family       VARCHAR NOT NULL,   -- micro
    segment      VARCHAR NOT NULL,   -- micro_<n>: n is never reused once retired
    customers    BIGINT NOT NULL,    -- members on computed_on
    label        VARCHAR,            -- the day's label in words ("Frequent app buyers, high basket"), kept from day to day while it holds
    features     VARCHAR[] NOT NULL, -- the feature of each coordinate, in order
    centroid     DOUBLE[] NOT NULL,  -- the centre, standardised (z units)
    shift        DOUBLE              -- distance to the previous computation's centre of this id (z units); NULL: new id
);

-- name: scope
-- The day's centres, staged by the job.
-- temp: builds seg_centroids
CREATE OR REPLACE TEMP TABLE seg_centroids (
    segment    VARCHAR NOT NULL,
    customers  BIGINT NOT NULL,
    label      VARCHAR,
    features   VARCHAR[] NOT NULL,
    centroid   DOUBLE[] NOT NULL,
    shift      DOUBLE
);

-- name: centroids_insert
-- Stages the day's centres in the TEMP table seg_centroids (scope):
-- the rows placeholder stands for their value tuples (warehouse.InsertRows).
-- temp: reads seg_centroids
INSERT INTO seg_centroids (segment, customers, label, features, centroid, shift) VALUES {{rows}};

-- name: previous
-- The centres of the latest computation before $date that has any: what
-- tonight's clusters are matched to. A matched cluster keeps the label
-- while it still describes it; tonight keeps their number, unless the
-- silhouette chooses it afresh (segments.choose_k_every_days).
SELECT segment, computed_on, label, features, centroid
FROM ops.segment_centroids
WHERE family = 'micro'
  AND computed_on = (SELECT max(computed_on) FROM ops.segment_centroids
                     WHERE family = 'micro' AND computed_on < CAST($date AS DATE))
ORDER BY segment;

-- name: last_id
-- The highest micro id number used on any day but $date (0: none): fresh
-- ids start above it, so a retired id is never given to another cluster
-- and a re-run of $date numbers as the first run did.
SELECT coalesce(max(TRY_CAST(regexp_extract(segment, '^micro_([0-9]+)$', 1) AS BIGINT)), 0)
FROM ops.segment_centroids
WHERE family = 'micro' AND computed_on <> CAST($date AS DATE);

-- name: write
-- Run in the transaction that writes analytics.segment_members.
-- temp: reads seg_centroids
DELETE FROM ops.segment_centroids WHERE computed_on = CAST($date AS DATE);
INSERT INTO ops.segment_centroids
SELECT CAST($date AS DATE), 'micro', segment, customers, label, features, centroid, shift
FROM seg_centroids
ORDER BY segment;
