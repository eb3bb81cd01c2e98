// Package segments is the nightly segments job: it puts every customer
// with analytics consent at the end of the run's day into one segment of
// each family, in analytics.segment_members, and publishes what each
// segment looks like (size, feature means, words; never who) to
// cold.segment_profiles when it holds at least k customers.
//
//   - rfm: recency, frequency and monetary quintile scores (5 = best) over
//     every purchaser, named by the R x FM segment map (champions ... lost).
//   - value_risk: CLV at or above a quantile of the day x churn probability
//     at or above models.risk_high, from the day's scores.
//   - propensity: likely_to_buy_30d when the CLV model expects at least
//     MinPurchases30d purchases in the next 30 days.
//   - micro: k-means clusters of behavioural features, k chosen by the
//     silhouette (once a week by default, segments.choose_k_every_days;
//     the nights between keep it and fit afresh), described and labelled
//     in words by what sets each apart.
//     A cluster keeps its id (micro_<n>) from day to day: tonight's centres
//     are matched one to one to the previous computation's (Hungarian
//     algorithm on Euclidean distance, ops.segment_centroids); a new
//     cluster gets a number never used before. A matched cluster keeps its
//     label while the label still describes it (its words still true, no
//     strong trait left out), so labels do not flicker with the data.
//
// Every published segment has a label for people in cold.segment_profiles
// ("Champions", "High value, low risk", "Frequent app buyers, high
// basket"); FeatureLabel names the keys of its profile, with their units.
//
// A family whose input is missing (no promoted model, no features) is
// skipped with a warning, not an error. A run replaces its day as a whole;
// earlier days stay, and the job reports who entered and left each segment
// since the previous computed day.
package segments

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the segments job; its options are the configuration's segments
// section.
type Job struct{}

// New returns the segments job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "segments", Needs: []string{"score"},
		SQL:       append(sqlRefs(), sqlfs.Refs(membersFile, FamilyValueRisk, FamilyPropensity)...),
		Doc:       "RFM, value x risk, likely-to-buy and k-means micro-segments of consented customers; k-anonymous profiles and the churn risk mix to cold",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Run implements orchestration.Job. Counts: In is the consented customers,
// Out the membership rows written; Detail has each family's and segment's
// ("family:segment") members, their ":entered" and ":left" since the
// previous computed day, "skipped:<family>", "micro:k", and the profiles
// published and suppressed.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	cfg := env.Config
	res, err := Compute(ctx, env.WH, conn, Params{Date: env.Date, Location: cfg.Location(),
		RiskHigh: cfg.Models.RiskHigh, K: cfg.Privacy.K, Seed: cfg.Models.Seed, Log: env.Log}, cfg.Segments)
	if err != nil {
		return c, err
	}
	for _, s := range res.Skipped {
		env.Log.Warn().Str("family", s.Family).Msg(s.Error())
	}
	if res.Micro != nil {
		msg := "micro-segments: k chosen by silhouette"
		if !res.Micro.Chosen {
			msg = "micro-segments: k kept from the previous computation (segments.choose_k_every_days)"
		}
		env.Log.Info().Int("k", res.Micro.K).Int("fitted", res.Micro.Fitted).Interface("silhouettes", res.Micro.Scores).Msg(msg)
		for _, s := range res.Micro.Segments {
			ev := env.Log.Info().Str("segment", s.Name).Str("label", s.Label).Int("customers", s.Size).Bool("new", !s.Matched)
			if s.Matched {
				ev = ev.Float64("shift", s.Shift)
			}
			ev.Msg("micro-segment")
		}
	}
	c = counts(res)
	// The day's churn risk mix, k-anonymous, for the report's first screen.
	lap := logging.Steps(env.Log, "segments step")
	err = warehouse.InTx(ctx, conn, func() error {
		_, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: riskMixFile, Section: "publish"}, sql.Named("date", env.DateString()), sql.Named("k", cfg.Privacy.K))
		return err
	})
	if err != nil {
		return c, fmt.Errorf("churn risk mix: %w", err)
	}
	lap("churn risk mix")
	if res.Consented == 0 {
		return c, orchestration.Skip("no customer with analytics consent on %s: no segment to compute", env.DateString())
	}
	return c, nil
}

// counts turns a Result into the ledger's counts.
func counts(res Result) orchestration.Counts {
	c := orchestration.Counts{In: res.Consented, Detail: map[string]int64{}}
	for f, n := range res.Members {
		c.Detail[f] = n
		c.Out += n
	}
	for _, ch := range res.Changes {
		key := ch.Family + ":" + ch.Segment
		c.Detail[key] = ch.Members
		c.Detail[key+":entered"] = ch.Entered
		c.Detail[key+":left"] = ch.Left
	}
	for _, s := range res.Skipped {
		c.Detail["skipped:"+s.Family] = 1
		c.Notes = append(c.Notes, s.Error())
	}
	if res.Micro != nil {
		c.Detail["micro:k"] = int64(res.Micro.K)
	}
	c.Detail["profiles_published"] = res.Published
	c.Detail["profiles_suppressed"] = res.Suppressed
	return c
}
