// Package attribution is the attribution job: every attribution model of
// models/attribution runs on each month's k-anonymous conversion paths
// (cold.conversion_paths, converting and non-converting) and the credited
// conversions and revenue per channel go to cold.attribution. The pooled
// '(other)' paths (each under k customers) have no channel sequence: their
// conversions and value are kept under channel '(unattributed)' for every
// model, so each model's credits still add up to the month's conversions.
package attribution

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	attr "github.com/parcours/parcours/models/attribution"
	"github.com/parcours/parcours/orchestration"
)

// Job is the attribution job.
type Job struct{}

// New returns the attribution job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "attribution", Needs: []string{"cold"},
		SQL:       []string{"cold.attribution.sql", "cold.conversion_paths.sql"},
		Doc:       "heuristic, Markov and Shapley attribution of each month's conversion paths into cold.attribution",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Pooled is the path under which cold.conversion_paths pools the paths
// under k customers; Unattributed is the channel their credit goes to.
const (
	Pooled       = "(other)"
	Unattributed = "(unattributed)"
)

type monthPaths struct {
	paths     []attr.Path
	customers []int64
	pooled    attr.Path
	pooledN   int64
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	rows, err := env.WH.DB.QueryContext(ctx, `SELECT month, path, customers, conversions, CAST(value AS DOUBLE), nulls
FROM cold.conversion_paths ORDER BY month, path`)
	if err != nil {
		return c, fmt.Errorf("read conversion paths: %w", err)
	}
	byMonth := map[time.Time]*monthPaths{}
	var months []time.Time
	for rows.Next() {
		var m time.Time
		var path string
		var customers, conv, nulls int64
		var value float64
		if err := rows.Scan(&m, &path, &customers, &conv, &value, &nulls); err != nil {
			rows.Close()
			return c, err
		}
		mp := byMonth[m]
		if mp == nil {
			mp = &monthPaths{}
			byMonth[m] = mp
			months = append(months, m)
		}
		p := attr.Path{Channels: strings.Split(path, attr.DefaultSeparator), Conversions: float64(conv), Value: value, Nulls: float64(nulls)}
		if path == Pooled {
			mp.pooled, mp.pooledN = p, customers
		} else {
			mp.paths = append(mp.paths, p)
			mp.customers = append(mp.customers, customers)
		}
		c.In++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	sort.Slice(months, func(i, k int) bool { return months[i].Before(months[k]) })
	var out [][]any
	var idle []string // months with paths but no conversion: nothing to credit
	for _, m := range months {
		mp := byMonth[m]
		if len(mp.paths) == 0 {
			continue
		}
		conv := 0.0
		for _, p := range mp.paths {
			conv += p.Conversions
		}
		if conv == 0 {
			idle = append(idle, m.Format("2006-01"))
			continue
		}
		credits, err := attr.RunAll(ctx, mp.paths, attr.Config{HalfLife: env.Config.Attribution.HalfLifeTouches, MarkovOrders: []int{1, 2, 3}, Shapley: attr.ShapleyOptions{Seed: env.Config.Models.Seed}})
		if err != nil {
			return c, fmt.Errorf("attribution of %s: %w", m.Format("2006-01"), err)
		}
		// The largest path cell crediting a channel bounds its customers from below.
		floor := map[string]int64{}
		for i, p := range mp.paths {
			for _, ch := range p.Channels {
				floor[ch] = max(floor[ch], mp.customers[i])
			}
		}
		models := map[string]bool{}
		for _, cr := range credits {
			out = append(out, []any{m, cr.Model, cr.Channel, cr.Conversions, cr.Value, floor[cr.Channel]})
			models[cr.Model] = true
		}
		if mp.pooled.Conversions > 0 {
			for _, model := range sortedKeys(models) {
				out = append(out, []any{m, model, Unattributed, mp.pooled.Conversions, mp.pooled.Value, mp.pooledN})
			}
		}
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := conn.ExecContext(ctx, "DELETE FROM cold.attribution"); err != nil {
			return err
		}
		return warehouse.InsertRows(ctx, conn, "INSERT INTO cold.attribution VALUES", "", out)
	})
	c.Out = int64(len(out))
	if err != nil {
		return c, err
	}
	if len(idle) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("no conversion on the published paths of %s: nothing to credit", strings.Join(idle, ", ")))
	}
	if len(out) == 0 {
		if c.In == 0 {
			return c, orchestration.Skip("no conversion path published yet (cold.conversion_paths is empty)")
		}
		return c, orchestration.Skip("no published conversion path converts: nothing to credit")
	}
	return c, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
