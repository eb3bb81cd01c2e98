// Package identity is the identity job: it collects identifiers and the
// links between them from landing, stitches them into customers with an
// over-merge guard, and gives each customer a stable pseudonymous key.
package identity

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the identity job.
type Job struct{}

// New returns the identity job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "identity", Needs: []string{"ingest"},
		SQL: sqlRefs(),
		Doc: "stitch identifiers (CRM id, email, phone, card, cookie, device) into customers with stable keys"}
}

// CustomerKey derives the key of a customer from its representative's
// token: an HMAC under the pepper, truncated to 128 bits.
func CustomerKey(pepper []byte, repToken string) string {
	return keys.Token(pepper, "customer", repToken)[:32]
}

// Run implements orchestration.Job. It merges the night's identifiers and
// links into the graph, then restitches the components they touch, or the
// whole graph when the map is empty or the guard limits changed.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var counts orchestration.Counts
	if env.Shard.Sharded() {
		// The merged warehouse stitched the whole input (its route stage);
		// the shard's ingest copied the graph with the night's facts.
		counts.Notes = append(counts.Notes, "a shard's identity graph is the merged warehouse's, copied by its ingest")
		return counts, nil
	}
	wh := env.WH
	conn, err := wh.Conn(ctx)
	if err != nil {
		return counts, err
	}
	defer conn.Close()
	opts := OptionsFor(env)
	all, err := fullStitch(ctx, wh, conn, opts.Limits)
	if err != nil {
		return counts, err
	}
	all = all || env.Config.FullRecompute
	opts.All = all
	steps := []sqlfs.Ref{
		{File: incremental, Section: "start"},
		{File: "identity.identifiers.sql", Section: "extract"}, {File: incremental, Section: "seed_nodes"},
		{File: "identity.identifiers.sql", Section: "merge"},
		{File: "identity.links.sql", Section: "extract"}, {File: incremental, Section: "seed_links"},
		{File: "identity.links.sql", Section: "merge"},
	}
	lap := logging.Steps(env.Log, "identity step")
	timed := func(step sqlfs.Ref, args ...any) error {
		if _, err := wh.Run(ctx, conn, step, args...); err != nil {
			return err
		}
		lap(step.String())
		return nil
	}
	for _, step := range steps {
		if all && step.File == incremental && step.Section != "start" {
			continue // a full stitch needs no seeds
		}
		if err := timed(step); err != nil {
			return counts, err
		}
	}
	if err := timed(sqlfs.Ref{File: "identity.usage_blocked.sql", Section: "extract"},
		sql.Named("max_receipts", env.Config.Identity.MaxReceiptsPerCardDay), sql.Named("max_stores", env.Config.Identity.MaxStoresPerCardDay)); err != nil {
		return counts, err
	}
	out, err := Restitch(ctx, wh, conn, opts)
	if err != nil {
		return counts, err
	}
	if out.Blocked > 0 {
		env.Log.Warn().Int("identifiers", out.Blocked).
			Msg("over-merge guard blocked shared identifiers; see identity.blocked")
	}
	counts.In = int64(out.Links)
	counts.Out = int64(out.Known)
	mode := int64(0)
	if all {
		mode = 1
	}
	counts.Detail = map[string]int64{"identifiers": int64(out.Identifiers), "links": int64(out.Links),
		"customers": int64(out.Customers), "known_customers": int64(out.Known), "blocked": int64(out.Blocked),
		"merges": int64(out.Merges), "moved": int64(out.Moved), "full_stitch": mode}
	return counts, nil
}

const incremental = "identity.incremental.sql"

// Options say what a restitch covers and how it names what it records.
type Options struct {
	Limits Limits
	// MaxReceiptsPerCardDay and MaxStoresPerCardDay word the reason of
	// identifiers blocked for their use.
	MaxReceiptsPerCardDay, MaxStoresPerCardDay int
	// All restitches the whole graph, not only the components that
	// identity.incremental.sql finds affected.
	All   bool
	Date  time.Time
	RunID string
	Log   zerolog.Logger
}

// OptionsFor gives the options of a night's run.
func OptionsFor(env *orchestration.Env) Options {
	c := env.Config.Identity
	return Options{Limits: Limits{MaxCustomerIDs: c.MaxCustomerIDs, MaxCustomersPerDevice: c.MaxCustomersPerDevice},
		MaxReceiptsPerCardDay: c.MaxReceiptsPerCardDay, MaxStoresPerCardDay: c.MaxStoresPerCardDay,
		Date: env.Date, RunID: env.RunID, Log: env.Log}
}

// Outcome is what a restitch covered and changed.
type Outcome struct {
	// Identifiers and Links are the graph stitched (all, or the affected part).
	Identifiers int `json:"identifiers"`
	Links       int `json:"links"`
	// Customers and Known count the customers of the whole map afterwards
	// (Known: holding a CRM id), Blocked the blocked identifiers. A check
	// leaves them 0.
	Customers int `json:"customers,omitempty"`
	Known     int `json:"known_customers,omitempty"`
	Blocked   int `json:"blocked,omitempty"`
	// Merges are the merges of known customers found in what was stitched.
	Merges int `json:"merges"`
	// Moved counts the identifiers whose customer or blocked state changed.
	Moved int `json:"moved"`
}

// stitchVersion names the stitching rules, so that a map stitched under
// other rules or limits is restitched whole.
func stitchVersion(lim Limits) string {
	return fmt.Sprintf("stitch 1; max_customer_ids %d; max_customers_per_device %d", lim.MaxCustomerIDs, lim.MaxCustomersPerDevice)
}

func fullStitch(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, lim Limits) (bool, error) {
	q, err := wh.SQL.Section(incremental, "mode")
	if err != nil {
		return false, err
	}
	var all bool
	if err := conn.QueryRowContext(ctx, q, sql.Named("value", stitchVersion(lim))).Scan(&all); err != nil {
		return false, fmt.Errorf("%s mode: %w", incremental, err)
	}
	return all, nil
}

// Rebuild restitches the whole graph from identity.identifiers and
// identity.links, as `parcours identity rebuild` does.
func Rebuild(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, opts Options) (Outcome, error) {
	if err := run(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "start"}); err != nil {
		return Outcome{}, err
	}
	opts.All = true
	return Restitch(ctx, wh, conn, opts)
}

// Restitch stitches the graph (whole, or the components the night's seeds
// touch) and replaces that part of identity.customer_map, customers and
// blocked, recording merges of known customers. The seeds and TEMP tables
// of identity.incremental.sql start must exist on conn.
func Restitch(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, opts Options) (Outcome, error) {
	var out Outcome
	lap := logging.Steps(opts.Log, "identity step")
	if !opts.All {
		steps, grown, err := closeAffected(ctx, wh, conn)
		if err != nil {
			return out, err
		}
		opts.Log.Debug().Int("steps", steps).Int64("grown", grown).Msg("identity affected components closed")
		lap("affected components")
	}
	all := sql.Named("all", opts.All)
	// The graph is built in Go: DuckDB gives back first what it holds
	// from the SQL above and the jobs before.
	if err := wh.ReleaseMemory(ctx); err != nil {
		return out, err
	}
	st, err := stitchGraph(ctx, wh, conn, opts)
	if err != nil {
		return out, err
	}
	g, res, compKey, blocked := st.g, st.res, st.keys, st.blocked
	lap("load and stitch")
	prev, err := previousKeys(ctx, wh, conn, opts.All)
	if err != nil {
		return out, err
	}
	merges := findMerges(g, res, compKey, prev)
	out.Identifiers, out.Links, out.Merges = len(g.Nodes), len(g.Edges), len(merges)
	if err := writeMap(ctx, wh, conn, g, res, compKey, blocked); err != nil {
		return out, err
	}
	q, err := wh.SQL.Section(incremental, "compare")
	if err != nil {
		return out, err
	}
	if err := conn.QueryRowContext(ctx, q, all).Scan(&out.Moved); err != nil {
		return out, fmt.Errorf("%s compare: %w", incremental, err)
	}
	lap("write map")
	if err := inTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: incremental, Section: "swap"}, all); err != nil {
			return err
		}
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "identity.customers.sql", Section: "build"}, all); err != nil {
			return err
		}
		blockedRows := make([][]any, 0, len(res.Blocked))
		for _, b := range res.Blocked {
			n := g.Nodes[b.Node]
			reason := fmt.Sprintf("shared by %d customers (limit %d)", b.Customers, b.Limit)
			if b.Usage {
				reason = fmt.Sprintf("up to %d receipts a day, or in %d+ stores the same day: a generic card kept at the tills", b.Customers, opts.MaxStoresPerCardDay)
			}
			blockedRows = append(blockedRows, []any{n.Token, n.Type, g.Labels[b.Node], b.Customers, b.Limit, reason})
		}
		if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: "identity.blocked.sql", Section: "record"}, blockedRows); err != nil {
			return fmt.Errorf("record blocked identifiers: %w", err)
		}
		mergeRows := make([][]any, 0, len(merges))
		for _, m := range merges {
			mergeRows = append(mergeRows, []any{m.key, m.token, m.label, m.viaType, m.viaLabel, nullable(m.previous), opts.Date, opts.RunID})
		}
		if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: "ops.identity_merges.sql", Section: "record"}, mergeRows); err != nil {
			return fmt.Errorf("record merges: %w", err)
		}
		_, err := wh.Run(ctx, conn, sqlfs.Ref{File: incremental, Section: "stitched"}, sql.Named("value", stitchVersion(opts.Limits)))
		return err
	}); err != nil {
		return out, err
	}
	lap("swap and record")
	q, err = wh.SQL.Section(incremental, "totals")
	if err != nil {
		return out, err
	}
	if err := conn.QueryRowContext(ctx, q).Scan(&out.Customers, &out.Known, &out.Blocked); err != nil {
		return out, fmt.Errorf("%s totals: %w", incremental, err)
	}
	return out, nil
}

// stitched is a stitch of the graph, or of its affected part.
type stitched struct {
	g       *Graph
	res     Result
	keys    []string // per component
	blocked []bool   // per node
}

// stitchGraph loads the graph (whole, or the affected components) and
// stitches it, identifiers blocked for their use set apart.
func stitchGraph(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, opts Options) (stitched, error) {
	g, err := loadGraph(ctx, wh, conn, opts.All)
	if err != nil {
		return stitched{}, err
	}
	usage, err := usageBlocked(ctx, wh, conn, g, opts.All)
	if err != nil {
		return stitched{}, err
	}
	// Identifiers blocked for their use lose their links before stitching.
	edges, kept := g.Edges, []int(nil)
	if len(usage) > 0 {
		edges = make([]Edge, 0, len(g.Edges))
		for i, e := range g.Edges {
			_, a := usage[e.A]
			_, b := usage[e.B]
			if !a && !b {
				edges = append(edges, e)
				kept = append(kept, i)
			}
		}
	}
	res := Stitch(g.Nodes, edges, opts.Limits)
	if kept != nil { // Used indexes the kept edges; callers index g.Edges
		used := make([]bool, len(g.Edges))
		for k, i := range kept {
			used[i] = res.Used[k]
		}
		res.Used = used
	}
	for n, perDay := range usage {
		res.Blocked = append(res.Blocked, Blocked{Node: n, Customers: perDay, Limit: opts.MaxReceiptsPerCardDay, Usage: true})
	}
	sort.Slice(res.Blocked, func(i, j int) bool { return res.Blocked[i].Node < res.Blocked[j].Node })
	st := stitched{g: g, res: res, keys: make([]string, len(res.Reps)), blocked: make([]bool, len(g.Nodes))}
	for c, rep := range res.Reps {
		st.keys[c] = CustomerKey(wh.Secrets.Pepper, g.Nodes[rep].Token)
	}
	for _, b := range res.Blocked {
		st.blocked[b.Node] = true
	}
	return st, nil
}

// Check counts the identifiers whose customer or blocked state differs
// between the map the next night would leave (today's map with the
// components it finds affected restitched, erasures since the last
// stitch included) and a stitch of the whole graph. It writes nothing.
func Check(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, opts Options) (Outcome, error) {
	var out Outcome
	if err := run(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "start"}); err != nil {
		return out, err
	}
	if _, _, err := closeAffected(ctx, wh, conn); err != nil {
		return out, err
	}
	type row struct {
		key     string
		blocked bool
	}
	next := map[string]row{} // the map outside the affected part, then the affected part restitched
	rows, err := query(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "unaffected"})
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var tok string
		var r row
		if err := rows.Scan(&tok, &r.key, &r.blocked); err != nil {
			rows.Close()
			return out, err
		}
		next[tok] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	opts.All = false
	inc, err := stitchGraph(ctx, wh, conn, opts)
	if err != nil {
		return out, err
	}
	for n, node := range inc.g.Nodes {
		next[node.Token] = row{inc.keys[inc.res.Comp[n]], inc.blocked[n]}
	}
	opts.All = true
	full, err := stitchGraph(ctx, wh, conn, opts)
	if err != nil {
		return out, err
	}
	out.Identifiers, out.Links = len(full.g.Nodes), len(full.g.Edges)
	for n, node := range full.g.Nodes {
		r, ok := next[node.Token]
		if !ok || r != (row{full.keys[full.res.Comp[n]], full.blocked[n]}) {
			out.Moved++
		}
		delete(next, node.Token)
	}
	out.Moved += len(next) // map rows of identifiers no longer in the graph
	return out, nil
}

// closeAffected grows the seeds into whole components (see
// identity.incremental.sql).
func closeAffected(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (steps int, affected int64, err error) {
	if err := run(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "close_start"}); err != nil {
		return 0, 0, err
	}
	for step := 0; ; step++ {
		n, err := wh.Run(ctx, conn, sqlfs.Ref{File: incremental, Section: "close_step"}, sql.Named("step", step))
		if err != nil {
			return step, affected, err
		}
		affected += n
		if n == 0 {
			return step + 1, affected, nil
		}
	}
}

// usageBlocked maps graph nodes blocked for their use to their worst day.
func usageBlocked(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, g *Graph, all bool) (map[int]int, error) {
	rows, err := query(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "usage_blocked"}, sql.Named("all", all))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var tok string
		var n int
		if err := rows.Scan(&tok, &n); err != nil {
			return nil, err
		}
		if i, ok := g.Index[tok]; ok {
			out[i] = n
		}
	}
	return out, rows.Err()
}

// query runs one of the incremental stitch's queries.
func query(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ref sqlfs.Ref, args ...any) (*sql.Rows, error) {
	q, err := wh.SQL.Text(ref)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return rows, nil
}

func inTx(ctx context.Context, conn *sql.Conn, f func() error) error {
	return warehouse.InTx(ctx, conn, f)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Graph is the identifier graph as loaded from the warehouse.
type Graph struct {
	Nodes  []Node
	Labels []string
	Index  map[string]int // token -> node
	Edges  []Edge
	// Evidence per edge: source and first evidence, for explanations.
	Sources   []string
	Evidence  []string
	FirstSeen []time.Time
}

// loadGraph reads identity.identifiers and identity.links: all of them, or
// the affected components.
func loadGraph(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, all bool) (*Graph, error) {
	g := &Graph{Index: map[string]int{}}
	rows, err := query(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "nodes"}, sql.Named("all", all))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var n Node
		var label string
		if err := rows.Scan(&n.Token, &n.Type, &n.FirstSeen, &label); err != nil {
			rows.Close()
			return nil, err
		}
		g.Index[n.Token] = len(g.Nodes)
		g.Nodes = append(g.Nodes, n)
		g.Labels = append(g.Labels, label)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = query(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "links"}, sql.Named("all", all))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, src, ev string
		var fs sql.NullTime
		if err := rows.Scan(&a, &b, &src, &ev, &fs); err != nil {
			return nil, err
		}
		ia, okA := g.Index[a]
		ib, okB := g.Index[b]
		if !okA || !okB {
			continue // an identifier erased since: its links no longer count
		}
		g.Edges = append(g.Edges, Edge{A: ia, B: ib})
		g.Sources = append(g.Sources, src)
		g.Evidence = append(g.Evidence, ev)
		g.FirstSeen = append(g.FirstSeen, fs.Time)
	}
	return g, rows.Err()
}

func previousKeys(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, all bool) (map[string]string, error) {
	rows, err := query(ctx, wh, conn, sqlfs.Ref{File: incremental, Section: "previous_keys"}, sql.Named("all", all))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, k string
		if err := rows.Scan(&t, &k); err != nil {
			return nil, err
		}
		out[t] = k
	}
	return out, rows.Err()
}

type merge struct {
	key, token, label, viaType, viaLabel, previous string
}

// findMerges lists, for every customer holding several CRM ids, each id
// other than the representative, with the identifier that joined it.
func findMerges(g *Graph, res Result, compKey []string, prev map[string]string) []merge {
	members := map[int][]int{}
	for n, c := range res.Comp {
		if g.Nodes[n].Type == CustomerID {
			members[c] = append(members[c], n)
		}
	}
	adj := make(map[int][]int)
	for i, e := range g.Edges {
		if res.Used[i] {
			adj[e.A] = append(adj[e.A], e.B)
			adj[e.B] = append(adj[e.B], e.A)
		}
	}
	var out []merge
	for c, ms := range members {
		if len(ms) < 2 {
			continue
		}
		rep := res.Reps[c]
		for _, m := range ms {
			if m == rep {
				continue
			}
			via := firstHop(adj, m, rep, g)
			mg := merge{key: compKey[c], token: g.Nodes[m].Token, label: g.Labels[m], previous: prev[g.Nodes[m].Token]}
			if via >= 0 {
				mg.viaType, mg.viaLabel = g.Nodes[via].Type, g.Labels[via]
			}
			out = append(out, mg)
		}
	}
	return out
}

// firstHop returns the first identifier (not a customer id) on a shortest
// path from m to rep: the identifier that joined them.
func firstHop(adj map[int][]int, from, to int, g *Graph) int {
	prev := map[int]int{from: -1}
	queue := []int{from}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == to {
			break
		}
		for _, x := range adj[n] {
			if _, ok := prev[x]; !ok {
				prev[x] = n
				queue = append(queue, x)
			}
		}
	}
	if _, ok := prev[to]; !ok {
		return -1
	}
	var path []int
	for n := to; n != -1; n = prev[n] {
		path = append(path, n)
	}
	for i := len(path) - 1; i >= 0; i-- {
		if g.Nodes[path[i]].Type != CustomerID {
			return path[i]
		}
	}
	return -1
}

// writeMap appends the new customer map into identity.customer_map_next
// with DuckDB's appender (hundreds of thousands of rows, no SQL per row).
func writeMap(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, g *Graph, res Result, compKey []string, blocked []bool) error {
	if err := run(ctx, wh, conn, sqlfs.Ref{File: "identity.customer_map.sql", Section: "clear_next"}); err != nil {
		return err
	}
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", "identity", "customer_map_next")
		if err != nil {
			return fmt.Errorf("append customer map: %w", err)
		}
		for n, node := range g.Nodes {
			if err := app.AppendRow(node.Token, node.Type, compKey[res.Comp[n]], blocked[n]); err != nil {
				_ = app.Close()
				return fmt.Errorf("append customer map: %w", err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("append customer map: %w", err)
		}
		return nil
	})
}

// run runs a section that returns nothing the caller reads.
func run(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ref sqlfs.Ref) error {
	_, err := wh.Run(ctx, conn, ref)
	return err
}
