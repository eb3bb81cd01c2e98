package segments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

const (
	membersFile   = "analytics.segment_members.sql"
	profilesFile  = "cold.segment_profiles.sql"
	centroidsFile = "ops.segment_centroids.sql"
	riskMixFile   = "cold.churn_risk_mix.sql"
	// Read only: the scores and features the families are built on.
	clvScoresFile   = "analytics.clv_scores.sql"
	churnScoresFile = "analytics.churn_scores.sql"
	featuresFile    = "analytics.customer_features.sql"
)

// Params are the run's settings that come from the configuration.
type Params struct {
	// Date is the logical date: the computed_on day, the scored_on day of
	// the scores read, the last day of orders counted.
	Date time.Time
	// Location is the business time zone: consent is checked at the end of
	// Date there.
	Location *time.Location
	// RiskHigh is the churn probability from which a customer is high risk
	// (config models.risk_high, where the 'high' risk band starts).
	RiskHigh float64
	// K is the smallest segment published to cold (config privacy.k).
	K int
	// Seed makes the micro-segments reproducible (config models.seed).
	Seed uint64
	// Log gets each step's duration at debug level (the zero Logger: none).
	Log zerolog.Logger
}

// Result is what one computation did.
type Result struct {
	// Consented is the number of customers with analytics consent at the
	// end of the day: the most any family can hold.
	Consented int64
	// Members counts each family's members (0 for a skipped family).
	Members map[string]int64
	// Skipped are the families not computed today, and why.
	Skipped []SkipError
	// Micro is the micro-segmentation, nil when skipped.
	Micro *MicroSegmentation
	// Changes are the day's segments with who entered and left since the
	// previous computed day.
	Changes []Change
	// Published and Suppressed count the segment profiles written to cold
	// and those held back for having fewer than k members.
	Published, Suppressed int64
}

// Compute computes every family's segments of p.Date on conn (the job's
// own connection: the steps share temp tables), replaces that day in
// analytics.segment_members in one transaction, then its profiles in
// cold.segment_profiles in another (one transaction writes one database
// file), and reads the day's changes. The micro-segments' centres go to
// ops.segment_centroids with the members: the next computation matches
// its clusters to them.
func Compute(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, p Params, opts Options) (Result, error) {
	res := Result{Members: map[string]int64{}}
	if err := validate(opts); err != nil {
		return res, err
	}
	if p.Location == nil || p.K < 1 || !(p.RiskHigh > 0 && p.RiskHigh < 1) {
		return res, fmt.Errorf("segments: need a location, k >= 1 and 0 < risk_high < 1, got %+v", p)
	}
	day := p.Date.Format(time.DateOnly)
	// Consent is checked at the end of the business day: the next local midnight.
	now := orchestration.EndOfDay(p.Date, p.Location)
	lap := logging.Steps(p.Log, "segments step")
	if err := stage(ctx, wh, conn, p, opts, now); err != nil {
		return res, fmt.Errorf("segments of %s: %w", day, err)
	}
	if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: membersFile, Section: "consented_count"}).Scan(&res.Consented); err != nil {
		return res, fmt.Errorf("segments of %s: %w", day, err)
	}
	lap("scope")

	args := []any{sql.Named("date", day), sql.Named("value_quantile", opts.ValueQuantile),
		sql.Named("risk_high", p.RiskHigh), sql.Named("min_purchases", opts.MinPurchases30d)}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: membersFile, Section: FamilyRFM}, args...); err != nil {
		return res, fmt.Errorf("segments of %s: %w", day, err)
	}
	lap(FamilyRFM)
	clv, churn, err := scoreCounts(ctx, wh, conn, p.Date)
	if err != nil {
		return res, fmt.Errorf("segments of %s: %w", day, err)
	}
	for _, f := range []string{FamilyValueRisk, FamilyPropensity} {
		if reason := scoreSkip(f, day, clv, churn); reason != "" {
			res.Skipped = append(res.Skipped, SkipError{f, reason})
			continue
		}
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: membersFile, Section: f}, args...); err != nil {
			return res, fmt.Errorf("segments of %s: %w", day, err)
		}
		lap(f)
	}
	res.Micro, err = micro(ctx, wh, conn, p, opts, lap)
	var skip *SkipError
	switch {
	case errors.As(err, &skip):
		res.Skipped = append(res.Skipped, *skip)
	case err != nil:
		return res, fmt.Errorf("segments of %s: %w", day, err)
	}

	if err := warehouse.InTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: membersFile, Section: "write"}, args...); err != nil {
			return err
		}
		_, err := wh.Run(ctx, conn, sqlfs.Ref{File: centroidsFile, Section: "write"}, sql.Named("date", day))
		return err
	}); err != nil {
		return res, fmt.Errorf("write segments of %s: %w", day, err)
	}
	lap("write")
	if err := publish(ctx, wh, conn, day, p.K, &res); err != nil {
		return res, fmt.Errorf("publish segment profiles of %s: %w", day, err)
	}
	lap("profiles")
	if res.Changes, err = Diff(ctx, wh, conn, p.Date); err != nil {
		return res, err
	}
	lap("diff")
	for _, f := range Families() {
		res.Members[f] = 0
	}
	for _, c := range res.Changes {
		res.Members[c.Family] += c.Members
	}
	return res, nil
}

// stage creates the temp tables and fills the rule tables and words.
func stage(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, p Params, opts Options, now time.Time) error {
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: membersFile, Section: "scope"}, sql.Named("now", now)); err != nil {
		return err
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: centroidsFile, Section: "scope"}); err != nil {
		return err
	}
	if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: membersFile, Section: "rfm_map_insert"}, rfmMap()); err != nil {
		return fmt.Errorf("rfm map: %w", err)
	}
	if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: membersFile, Section: "words_insert"}, fixedWords(opts, p.RiskHigh)); err != nil {
		return fmt.Errorf("segment words: %w", err)
	}
	return nil
}

// scoreCounts counts the CLV and churn scores of date: a kind without a
// promoted model has none.
func scoreCounts(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, date time.Time) (clv, churn int64, err error) {
	day := sql.Named("date", date.Format(time.DateOnly))
	if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: clvScoresFile, Section: "count_for_day"}, day).Scan(&clv); err != nil {
		return 0, 0, fmt.Errorf("count scores: %w", err)
	}
	if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: churnScoresFile, Section: "count_for_day"}, day).Scan(&churn); err != nil {
		return 0, 0, fmt.Errorf("count scores: %w", err)
	}
	return clv, churn, nil
}

// scoreSkip says why a score-based family cannot be computed from the
// day's clv and churn score counts, "" when it can: a kind without a
// promoted model writes no scores.
func scoreSkip(family, day string, clv, churn int64) string {
	switch {
	case clv == 0:
		return "no CLV scores of " + day + " (no promoted CLV model?)"
	case family == FamilyValueRisk && churn == 0:
		return "no churn scores of " + day + " (no promoted churn model?)"
	}
	return ""
}

// micro clusters the consented customers' features at the scoring cut-off
// (the day after date) and stages members and descriptions.
func micro(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, p Params, opts Options, lap func(string)) (*MicroSegmentation, error) {
	cutoff := p.Date.AddDate(0, 0, 1)
	var n int64
	if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: featuresFile, Section: "count"}, sql.Named("cutoff", cutoff.Format(time.DateOnly))).Scan(&n); err != nil {
		return nil, fmt.Errorf("count features: %w", err)
	}
	if n == 0 {
		return nil, &SkipError{FamilyMicro, "no customer features at cut-off " + cutoff.Format(time.DateOnly) + " (has the features job run?)"}
	}
	in, err := loadMicroInput(ctx, wh, conn, cutoff)
	if err != nil {
		return nil, err
	}
	hist, err := loadMicroHistory(ctx, wh, conn, p.Date)
	if err != nil {
		return nil, err
	}
	lap("micro: load")
	seg, err := MicroK(ctx, in, opts, p.Seed, hist.KeptK(in.Columns, p.Date, opts.ChooseKEveryDays))
	if err != nil {
		return nil, err
	}
	lap("micro: cluster")
	if err := seg.Match(hist, in.Columns, opts.MatchMaxDistance); err != nil {
		return nil, err
	}
	if err := stageMicro(ctx, conn, in, seg); err != nil {
		return nil, err
	}
	words := make([][]any, len(seg.Segments))
	centres := make([][]any, len(seg.Segments))
	for i, s := range seg.Segments {
		words[i] = []any{FamilyMicro, s.Name, s.Description, s.Label}
		var shift any
		if s.Matched {
			shift = s.Shift
		}
		centres[i] = []any{s.Name, int64(s.Size), s.Label, in.Columns, s.Centroid, shift}
	}
	if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: membersFile, Section: "words_insert"}, words); err != nil {
		return nil, fmt.Errorf("micro segment words: %w", err)
	}
	if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: centroidsFile, Section: "centroids_insert"}, centres); err != nil {
		return nil, fmt.Errorf("micro segment centres: %w", err)
	}
	lap("micro: match and stage")
	return seg, nil
}

// loadMicroHistory reads the previous computation's day, micro centres
// and labels, and the highest micro id number used on another day than date.
func loadMicroHistory(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, date time.Time) (MicroHistory, error) {
	var h MicroHistory
	day := sql.Named("date", date.Format(time.DateOnly))
	q, err := wh.SQL.Section(centroidsFile, "last_id")
	if err != nil {
		return h, err
	}
	var last int64
	if err := conn.QueryRowContext(ctx, q, day).Scan(&last); err != nil {
		return h, fmt.Errorf("last micro segment id: %w", err)
	}
	h.LastID = int(last)
	if q, err = wh.SQL.Section(centroidsFile, "previous"); err != nil {
		return h, err
	}
	rows, err := conn.QueryContext(ctx, q, day)
	if err != nil {
		return h, fmt.Errorf("previous micro segment centres: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg string
		var label sql.NullString
		var on time.Time
		var feats, centre any
		if err := rows.Scan(&seg, &on, &label, &feats, &centre); err != nil {
			return h, fmt.Errorf("previous micro segment centres: %w", err)
		}
		fs, ok1 := listOf[string](feats)
		cs, ok2 := listOf[float64](centre)
		if !ok1 || !ok2 {
			return h, fmt.Errorf("previous micro segment centre %s: features %T, centroid %T", seg, feats, centre)
		}
		if h.Features != nil && !slices.Equal(h.Features, fs) {
			return h, fmt.Errorf("previous micro segment centres disagree on their features: %v and %v", h.Features, fs)
		}
		h.Features, h.PreviousOn = fs, on
		h.Previous = append(h.Previous, Centroid{Segment: seg, Centroid: cs, Label: label.String})
	}
	return h, rows.Err()
}

// listOf converts a LIST value as the driver scans it ([]any) to []T.
func listOf[T any](v any) ([]T, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]T, len(l))
	for i, x := range l {
		if out[i], ok = x.(T); !ok {
			return nil, false
		}
	}
	return out, true
}

// publish replaces the day's cold profiles: staged from hot first, then
// written in a transaction of their own.
func publish(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, day string, k int, res *Result) error {
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: profilesFile, Section: "profiles"}, sql.Named("date", day)); err != nil {
		return err
	}
	if err := warehouse.InTx(ctx, conn, func() error {
		_, err := wh.Run(ctx, conn, sqlfs.Ref{File: profilesFile, Section: "publish"}, sql.Named("date", day), sql.Named("k", k))
		return err
	}); err != nil {
		return err
	}
	return wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: profilesFile, Section: "published_counts"}, sql.Named("k", k)).Scan(&res.Published, &res.Suppressed)
}
