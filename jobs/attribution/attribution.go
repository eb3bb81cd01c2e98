// Package attribution is the attribution job: every attribution model of
// models/attribution runs on each month's complete conversion paths
// (everyone's, consented or not, rare paths included: the summed
// contributions behind cold.conversion_paths), and only per-channel
// credits backed by at least k distinct converting customers are
// published in cold.attribution (see sql/cold.attribution.sql).
package attribution

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/parallel"
	"github.com/parcours/parcours/internal/warehouse"
	attr "github.com/parcours/parcours/models/attribution"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the attribution job.
type Job struct{}

// New returns the attribution job.
func New() *Job { return &Job{} }

const file = "cold.attribution.sql"

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "attribution", Needs: []string{"cold"},
		SQL:       sqlRefs(),
		Doc:       "heuristic, Markov and Shapley attribution of each month's complete conversion paths; channel credits under k rolled up, into cold.attribution",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Names of the rows that are not a channel: NoTouch is the path of a
// conversion without any touch, published as Unattributed; channels
// under k are published together as OtherChannels.
const (
	NoTouch       = "(no touch)"
	Unattributed  = "(unattributed)"
	OtherChannels = "other channels"
)

// Month is one month's input: its complete paths (NoTouch apart) and the
// distinct converting customers whose paths hold each channel.
type Month struct {
	Month      time.Time
	Paths      []attr.Path
	NoTouch    attr.Path
	Converters map[string]int64
}

// Row is one cold.attribution row.
type Row struct {
	Month       time.Time
	Model       string
	Channel     string
	Conversions float64
	Value       float64
	Customers   int64
}

// Published is one month's outcome under the k rule.
type Published struct {
	// Rows are the channels (and Unattributed) with at least k converting customers.
	Rows []Row
	// Other holds, per model, the summed credits of the Rolled channels;
	// its Customers is left for the caller (the union of their customers).
	Other  []Row
	Rolled []string
	// Withheld counts rows under k that cannot be rolled up: Unattributed.
	Withheld int
}

// Apply places one month's model credits (RunAll's output on m.Paths)
// under the k rule, without any I/O.
func Apply(m Month, credits []attr.Credit, k int64) Published {
	var p Published
	rolled := map[string]bool{}
	other := map[string]*Row{}
	var models []string
	for _, c := range credits {
		n := m.Converters[c.Channel]
		if n >= k {
			p.Rows = append(p.Rows, Row{m.Month, c.Model, c.Channel, c.Conversions, c.Value, n})
			continue
		}
		rolled[c.Channel] = true
		o := other[c.Model]
		if o == nil {
			o = &Row{Month: m.Month, Model: c.Model, Channel: OtherChannels}
			other[c.Model] = o
			models = append(models, c.Model)
		}
		o.Conversions += c.Conversions
		o.Value += c.Value
	}
	for _, model := range models {
		p.Other = append(p.Other, *other[model])
	}
	for ch := range rolled {
		p.Rolled = append(p.Rolled, ch)
	}
	sort.Strings(p.Rolled)
	if m.NoTouch.Conversions > 0 {
		if n := m.Converters[NoTouch]; n >= k {
			for _, model := range modelsOf(credits) {
				p.Rows = append(p.Rows, Row{m.Month, model, Unattributed, m.NoTouch.Conversions, m.NoTouch.Value, n})
			}
		} else {
			p.Withheld++
		}
	}
	return p
}

func modelsOf(credits []attr.Credit) []string {
	var out []string
	for _, c := range credits {
		if len(out) == 0 || out[len(out)-1] != c.Model {
			out = append(out, c.Model)
		}
	}
	return out
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	wh := env.WH
	months, err := load(ctx, wh)
	if err != nil {
		return c, err
	}
	before, err := pooledBefore(ctx, wh)
	if err != nil {
		return c, err
	}
	k := int64(env.Config.Privacy.K)
	// The touch-hazard model's effects are the channels', not a month's:
	// it is fitted once on every month's paths together, then credits each
	// month (a month alone is often too thin to tell channels apart).
	hazard, err := fitHazard(ctx, months)
	if err != nil {
		return c, err
	}
	// Each month's models are independent of the other months': they run
	// on every core, and the months are then written in order, as before.
	credits := make([][]attr.Credit, len(months))
	errs := make([]error, len(months))
	live := make([]bool, len(months))
	for i, m := range months {
		live[i] = converted(m)
	}
	parallel.For(len(months), func(i int) {
		if live[i] {
			credits[i], errs[i] = attr.RunAll(ctx, months[i].Paths, attr.Config{HalfLife: env.Config.Attribution.HalfLifeTouches,
				MarkovOrders: []int{1, 2, 3}, Hazard: hazard})
		}
	})
	var out [][]any
	var idle []string // months with journeys but no conversion on a touched path: nothing to credit
	rolledCells, withheld := 0, 0
	for i, m := range months {
		c.In += int64(len(m.Paths))
		if !live[i] {
			idle = append(idle, m.Month.Format("2006-01"))
			continue
		}
		if errs[i] != nil {
			return c, fmt.Errorf("attribution of %s: %w", m.Month.Format("2006-01"), errs[i])
		}
		p := Apply(*m, credits[i], k)
		withheld += p.Withheld
		if len(p.Rolled) > 0 {
			rolledCells += len(p.Rolled)
			n, err := pooledConverters(ctx, wh, m, p.Rolled, before, env.DateString(), env.Config.Privacy.LateDays)
			if err != nil {
				return c, err
			}
			if n >= k {
				for _, o := range p.Other {
					o.Customers = n
					p.Rows = append(p.Rows, o)
				}
			} else {
				withheld += len(p.Other)
			}
		}
		sort.Slice(p.Rows, func(a, b int) bool {
			if p.Rows[a].Model != p.Rows[b].Model {
				return p.Rows[a].Model < p.Rows[b].Model
			}
			return p.Rows[a].Channel < p.Rows[b].Channel
		})
		for _, r := range p.Rows {
			out = append(out, []any{r.Month, r.Model, r.Channel, r.Conversions, r.Value, r.Customers})
		}
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: file, Section: "clear"}); err != nil {
			return err
		}
		insert, err := wh.SQL.Section(file, "insert")
		if err != nil {
			return err
		}
		if err := warehouse.InsertRows(ctx, conn, insert, "", out); err != nil {
			return err
		}
		_, err = wh.Run(ctx, conn, sqlfs.Ref{File: file, Section: "suppressed"}, sql.Named("k", k), sql.Named("rolled", rolledCells),
			sql.Named("suppressed", withheld), sql.Named("date", env.DateString()))
		return err
	})
	c.Out = int64(len(out))
	if err != nil {
		return c, err
	}
	if len(idle) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("no conversion on a touched path in %s: nothing to credit", strings.Join(idle, ", ")))
	}
	if len(out) == 0 {
		if len(months) == 0 {
			return c, orchestration.Skip("no conversion path yet")
		}
		return c, orchestration.Skip("no conversion on a touched path, or none with k converting customers: nothing to credit")
	}
	return c, nil
}

// fitHazard fits the touch-hazard model on every month's paths pooled
// (nil when nothing converts: there is nothing to credit either).
func fitHazard(ctx context.Context, months []*Month) (*attr.HazardModel, error) {
	pooled := map[string]*attr.Path{}
	var keys []string
	for _, m := range months {
		for _, p := range m.Paths {
			key := strings.Join(p.Channels, attr.DefaultSeparator)
			q := pooled[key]
			if q == nil {
				q = &attr.Path{Channels: p.Channels}
				pooled[key] = q
				keys = append(keys, key)
			}
			q.Conversions += p.Conversions
			q.Value += p.Value
			q.Nulls += p.Nulls
		}
	}
	sort.Strings(keys)
	paths := make([]attr.Path, len(keys))
	conv := 0.0
	for i, key := range keys {
		paths[i] = *pooled[key]
		conv += paths[i].Conversions
	}
	if conv == 0 {
		return nil, nil
	}
	m, err := attr.FitHazard(ctx, paths)
	if err != nil {
		return nil, fmt.Errorf("attribution: %w", err)
	}
	return &m, nil
}

// converted reports whether a month has a conversion on a touched path:
// a month without one has nothing to credit.
func converted(m *Month) bool {
	conv := 0.0
	for _, p := range m.Paths {
		conv += p.Conversions
	}
	return conv != 0
}

// load reads the months' complete paths and converting customers.
func load(ctx context.Context, wh *warehouse.Warehouse) ([]*Month, error) {
	byMonth := map[time.Time]*Month{}
	var months []*Month
	get := func(t time.Time) *Month {
		m := byMonth[t]
		if m == nil {
			m = &Month{Month: t, Converters: map[string]int64{}}
			byMonth[t] = m
			months = append(months, m)
		}
		return m
	}
	err := query(ctx, wh, "paths", nil, func(rs *sql.Rows) error {
		var t time.Time
		var path string
		var p attr.Path
		if err := rs.Scan(&t, &path, &p.Conversions, &p.Value, &p.Nulls); err != nil {
			return err
		}
		m := get(t)
		if path == NoTouch {
			m.NoTouch = p
			return nil
		}
		p.Channels = strings.Split(path, attr.DefaultSeparator)
		m.Paths = append(m.Paths, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	converters, err := monthChannelCounts(ctx, wh, "converters")
	if err != nil {
		return nil, err
	}
	for t, byChannel := range converters {
		get(t).Converters = byChannel
	}
	// Months contributed before converters were counted: the published
	// path cells' floors instead.
	floors, err := monthChannelCounts(ctx, wh, "floors")
	if err != nil {
		return nil, err
	}
	for _, m := range months {
		if f := floors[m.Month]; len(m.Converters) == 0 && f != nil {
			m.Converters = f
		}
	}
	sort.Slice(months, func(a, b int) bool { return months[a].Month.Before(months[b].Month) })
	return months, nil
}

// monthChannelCounts reads a section's (month, channel, count) rows.
func monthChannelCounts(ctx context.Context, wh *warehouse.Warehouse, section string) (map[time.Time]map[string]int64, error) {
	out := map[time.Time]map[string]int64{}
	err := query(ctx, wh, section, nil, func(rs *sql.Rows) error {
		var t time.Time
		var ch string
		var n int64
		if err := rs.Scan(&t, &ch, &n); err != nil {
			return err
		}
		if out[t] == nil {
			out[t] = map[string]int64{}
		}
		out[t][ch] = n
		return nil
	})
	return out, err
}

// pooledBefore reads the 'other channels' customers published last time.
func pooledBefore(ctx context.Context, wh *warehouse.Warehouse) (map[time.Time]int64, error) {
	out := map[time.Time]int64{}
	err := query(ctx, wh, "pooled_before", nil, func(rs *sql.Rows) error {
		var t time.Time
		var n int64
		if err := rs.Scan(&t, &n); err != nil {
			return err
		}
		out[t] = n
		return nil
	})
	return out, err
}

// pooledConverters is the number of distinct converting customers behind
// a month's rolled channels: exact from the ledger while it holds the
// month, else the figure published before, else the largest channel's
// (a lower bound: the union holds at least that many).
func pooledConverters(ctx context.Context, wh *warehouse.Warehouse, m *Month, rolled []string, before map[time.Time]int64,
	date string, lateDays int) (int64, error) {
	var exact, rows int64
	err := query(ctx, wh, "pooled_converters", []any{sql.Named("month", m.Month.Format(time.DateOnly)), sql.Named("channels", rolled),
		sql.Named("date", date), sql.Named("late_days", lateDays)},
		func(rs *sql.Rows) error { return rs.Scan(&exact, &rows) })
	if err != nil {
		return 0, err
	}
	if rows > 0 {
		return exact, nil
	}
	if n, ok := before[m.Month]; ok {
		return n, nil
	}
	var lower int64
	for _, ch := range rolled {
		lower = max(lower, m.Converters[ch])
	}
	return lower, nil
}

// query runs a read section of cold.attribution.sql, calling row for each row.
func query(ctx context.Context, wh *warehouse.Warehouse, section string, args []any, row func(*sql.Rows) error) error {
	q, err := wh.SQL.Section(file, section)
	if err != nil {
		return err
	}
	rs, err := wh.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", file, section, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs); err != nil {
			return fmt.Errorf("%s %s: %w", file, section, err)
		}
	}
	return rs.Err()
}
