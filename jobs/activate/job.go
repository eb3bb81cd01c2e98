package activate

import (
	"context"

	"github.com/parcours/parcours/orchestration"
)

// PlanJob is the activate_plan job.
type PlanJob struct{}

// NewPlan returns the activate_plan job.
func NewPlan() *PlanJob { return &PlanJob{} }

// Spec implements orchestration.Job. It runs after purge (erasures and
// ended consents are known) and after segments and triggers.
func (j *PlanJob) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "activate_plan", Needs: []string{"segments", "triggers", "purge"},
		SQL: sqlRefs(),
		Doc: "plan what each destination gains and loses (consent, suppression, frequency cap), write the payloads; no network"}
}

// Run implements orchestration.Job.
func (j *PlanJob) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	rep, err := Plan(ctx, env.WH, conn, env.Config, env.Date, env.RunID, env.Log)
	if err != nil {
		return c, err
	}
	var excluded int64
	for _, s := range rep.Segments {
		c.In += s.Audience
		c.Out += s.Add + s.Update + s.Remove
		c.Detail["add"] += s.Add
		c.Detail["update"] += s.Update
		c.Detail["remove"] += s.Remove
		for _, n := range s.Excluded {
			excluded += n
		}
	}
	c.Detail["excluded"] = excluded
	c.Detail["size_alerts"] = int64(rep.SizeAlerts)
	c.Detail["abandoned_batches"] = rep.Abandoned
	env.Log.Info().Int("destinations", len(env.Config.Activation.Destinations)).Int64("changes", c.Out).
		Int64("excluded", excluded).Int("size_alerts", rep.SizeAlerts).Msg("activation planned")
	return c, nil
}

// ApplyJob is the activate_apply job.
type ApplyJob struct {
	// Options tune the apply (tests).
	Options ApplyOptions
}

// NewApply returns the activate_apply job.
func NewApply() *ApplyJob { return &ApplyJob{} }

// Spec implements orchestration.Job.
func (j *ApplyJob) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "activate_apply", Needs: []string{"activate_plan"},
		SQL: sqlRefs(),
		Doc: "send exactly the plan (retries, idempotency keys, dead letters); exit 75 if a destination failed temporarily"}
}

// Run implements orchestration.Job.
func (j *ApplyJob) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	rep, err := Apply(ctx, env.WH, env.Config, env.Date, env.RunID, env.Log, j.Options)
	for _, d := range rep.Destinations {
		c.In += d.Planned
		c.Out += d.Accepted
		c.Detail["sent"] += d.Sent
		c.Detail["rejected"] += d.Rejected
		c.Detail["retried"] += d.Retried
		c.Detail["dead_lettered"] += d.DeadLettered
		if d.Failure != "" {
			c.Detail["failed_destinations"]++
		}
	}
	return c, err
}
