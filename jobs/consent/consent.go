// Package consent builds the consent history (consent.events) and the
// consent gate (consent.intervals), and answers "may customer C be
// used for purpose P at time T" for Go code through Gate. SQL transforms
// ask the same question by joining consent.intervals, so there is one
// rule, in one table.
package consent

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Purposes are the purposes a consent is given for.
func Purposes() []string {
	return []string{"analytics", "personalization", "marketing_email", "marketing_sms", "marketing_ads"}
}

// Job loads new consent records and rebuilds the intervals.
type Job struct{}

// New returns the consent job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "consent", Needs: []string{"identity"},
		SQL: sqlRefs(),
		Doc: "consent history per customer and purpose; the gate every job asks (consent.intervals); per-trigger opt-outs; objections to profiling and marketing"}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	err = warehouse.InTx(ctx, conn, func() error {
		n, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.events.sql", Section: "load"}, sql.Named("run_id", env.RunID))
		if err != nil {
			return err
		}
		c.In = n
		n, err = env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.trigger_optouts.sql", Section: "load"}, sql.Named("run_id", env.RunID))
		if err != nil {
			return err
		}
		c.In += n
		n, err = env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.objections.sql", Section: "load"}, sql.Named("run_id", env.RunID))
		if err != nil {
			return err
		}
		c.In += n
		if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.objections.sql", Section: "audit_loaded"},
			sql.Named("run_id", env.RunID), sql.Named("date", env.Date)); err != nil {
			return err
		}
		if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.objections.sql", Section: "build"}); err != nil {
			return err
		}
		// Under legitimate interest every identified customer's analytics
		// interval depends on identity.customers and objections: rebuilt whole.
		basis := env.Config.Privacy.AnalyticsBasis
		all := env.Config.FullRecompute || basis == "legitimate_interest"
		if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.intervals.sql", Section: "build"},
			sql.Named("all", all), sql.Named("run_id", env.RunID)); err != nil {
			return err
		}
		if basis == "legitimate_interest" {
			if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "consent.intervals.sql", Section: "legitimate_interest"}); err != nil {
				return err
			}
		}
		q, err := env.WH.SQL.Section("consent.intervals.sql", "count")
		if err != nil {
			return err
		}
		if err := warehouse.QueryRow(ctx, conn, q).Scan(&c.Out); err != nil {
			return fmt.Errorf("consent.intervals.sql count: %w", err)
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if err := gateState(ctx, env, conn, &c); err != nil {
		return c, err
	}
	return c, nil
}

// gateState records the lawful basis of analytics in the privacy audit and
// says, at warn level, why a night lets nobody through the analytics gate.
func gateState(ctx context.Context, env *orchestration.Env, conn *sql.Conn, c *orchestration.Counts) error {
	now := env.EndOfDay()
	q, err := env.WH.SQL.Section("consent.intervals.sql", "gate_state")
	if err != nil {
		return err
	}
	var customers, analysed, records, grants int64
	if err := conn.QueryRowContext(ctx, q, sql.Named("now", now)).Scan(&customers, &analysed, &records, &grants); err != nil {
		return fmt.Errorf("consent gate state: %w", err)
	}
	c.Detail = map[string]int64{"customers": customers, "analysed": analysed}
	basis := env.Config.Privacy.AnalyticsBasis
	num := message.NewPrinter(language.English) // 1,041: counts a reader takes in at a glance
	detail := num.Sprintf("analytics basis: %s; %d of %d identified customers may be analysed", basis, analysed, customers)
	if customers > 0 && analysed == 0 {
		var cause string
		switch {
		case !hasConsentsSource(env):
			cause = "no consents source configured"
		case records == 0:
			cause = "no consent record loaded yet (no consents file in the extracts)"
		case grants == 0:
			cause = fmt.Sprintf("%d consent records, none granting analytics", records)
		default:
			cause = "every analytics consent has ended"
		}
		msg := num.Sprintf("%s: 0 of %d customers may be analysed", cause, customers)
		env.Log.Warn().Int64("customers", customers).Str("basis", basis).
			Msg(msg + " (hot tables, scores and segments stay empty; privacy.analytics_basis: legitimate_interest is the other lawful basis)")
		detail += "; " + cause
	}
	_, err = env.WH.Exec(ctx, sqlfs.Ref{File: "ops.privacy_audit.sql", Section: "record"}, sql.Named("run_id", env.RunID), sql.Named("date", env.Date),
		sql.Named("action", "analytics_basis"), sql.Named("rows", analysed), sql.Named("detail", detail))
	return err
}

func hasConsentsSource(env *orchestration.Env) bool {
	srcs, err := sources.Effective(env.Config.Sources)
	if err != nil {
		return false
	}
	for _, r := range srcs {
		if r.Kind.Name == "consents" {
			return true
		}
	}
	return false
}

// Interval is one stretch of time a customer may be used for a purpose:
// [From, To), To zero when open-ended.
type Interval struct {
	From, To time.Time
}

// Gate answers consent questions from consent.intervals, loaded once.
type Gate struct {
	iv map[string]map[string][]Interval // customer -> purpose -> sorted intervals
}

// Sections is where LoadGate finds its statement: the warehouse's SQL set
// (a *sql.Set of the sql package), so that sql_dir reaches it.
type Sections interface {
	Section(file, section string) (string, error)
}

// LoadGate reads every interval (optionally only for some purposes).
func LoadGate(ctx context.Context, sqls Sections, db warehouse.Queryer, purposes ...string) (*Gate, error) {
	q, err := sqls.Section("consent.intervals.sql", "gate")
	if err != nil {
		return nil, err
	}
	rows, err := warehouse.Query(ctx, db, q, sql.Named("all", len(purposes) == 0), sql.Named("purposes", purposes))
	if err != nil {
		return nil, fmt.Errorf("load consent gate: %w", err)
	}
	defer rows.Close()
	g := &Gate{iv: map[string]map[string][]Interval{}}
	for rows.Next() {
		var key, purpose string
		var from time.Time
		var to sql.NullTime
		if err := rows.Scan(&key, &purpose, &from, &to); err != nil {
			return nil, err
		}
		g.Add(key, purpose, Interval{From: from, To: to.Time})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, byP := range g.iv {
		for p := range byP {
			sort.Slice(byP[p], func(i, j int) bool { return byP[p][i].From.Before(byP[p][j].From) })
		}
	}
	return g, nil
}

// Add records an interval (LoadGate's building block; tests use it too).
func (g *Gate) Add(customer, purpose string, iv Interval) {
	if g.iv == nil {
		g.iv = map[string]map[string][]Interval{}
	}
	if g.iv[customer] == nil {
		g.iv[customer] = map[string][]Interval{}
	}
	g.iv[customer][purpose] = append(g.iv[customer][purpose], iv)
}

// May reports whether the customer may be used for the purpose at t.
func (g *Gate) May(customer, purpose string, t time.Time) bool {
	for _, iv := range g.iv[customer][purpose] {
		if iv.From.After(t) {
			return false
		}
		if iv.To.IsZero() || t.Before(iv.To) {
			return true
		}
	}
	return false
}
