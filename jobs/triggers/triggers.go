// Package triggers is the nightly triggers job: behavioural messages worth
// sending today, one row per customer and trigger in
// analytics.trigger_fires, for activation to push ("trigger:<name>").
//
//   - cart_abandonment: an add-to-cart in the last 24 hours with no purchase
//     in any channel since.
//   - browse_abandonment: 3 or more product views of one category in the
//     last 7 days with no purchase since; the content is a buying guide for
//     that category, never a discount.
//   - post_contact: an unresolved call-centre contact in the last
//     PostContactDays days with no later resolved contact.
//   - win_back: a customer in rfm at_risk or cant_lose_them and in a
//     value_risk high_value_* segment on the latest segment day.
//
// "Now" is the end of the run's business day. A trigger fires only with a
// consent for its channel's purpose valid then, never for a customer whose
// latest record for that trigger is an opt-out, and at most once per
// customer per cooldown. Who was kept out is counted, per trigger and
// reason, in analytics.trigger_exclusions.
package triggers

import (
	"context"

	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the triggers job.
type Job struct{}

// New returns the triggers job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	refs := sqlRefs()
	for _, name := range Names() {
		refs = append(refs, sqlfs.Ref{File: firesFile, Section: name})
	}
	return orchestration.Spec{Name: "triggers", Needs: []string{"segments"},
		SQL: refs,
		Doc: "cart and browse abandonment, post-contact follow-up, win-back: consented, opt-outs honoured, one per cooldown"}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	res, err := Evaluate(ctx, env.WH, conn, env.Date, env.Config.Location(), env.Config.Triggers)
	if err != nil {
		return c, err
	}
	for _, name := range Names() {
		c.In += res.Candidates(name)
		c.Out += res.Fires[name]
		c.Detail[name] = res.Fires[name]
		for _, r := range ExclusionReasons() {
			c.Detail[name+"."+r] = res.Excluded[name][r]
		}
	}
	env.Log.Info().Int64("fires", c.Out).Int64("candidates", c.In).Msg("triggers evaluated")
	return c, nil
}
