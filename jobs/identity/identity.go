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

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// Job is the identity job.
type Job struct{}

// New returns the identity job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "identity", Needs: []string{"ingest"},
		SQL: []string{"identity.identifiers.sql", "identity.links.sql", "identity.usage_blocked.sql", "identity.customer_map.sql",
			"identity.customers.sql", "identity.blocked.sql", "ops.identity_merges.sql"},
		Doc: "stitch identifiers (CRM id, email, phone, card, cookie, device) into customers with stable keys"}
}

// CustomerKey derives the key of a customer from its representative's
// token: an HMAC under the pepper, truncated to 128 bits.
func CustomerKey(pepper []byte, repToken string) string {
	return keys.Token(pepper, "customer", repToken)[:32]
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var counts orchestration.Counts
	wh := env.WH
	conn, err := wh.Conn(ctx)
	if err != nil {
		return counts, err
	}
	defer conn.Close()
	t0 := time.Now()
	lap := func(step string) {
		env.Log.Debug().Str("step", step).Float64("took_s", time.Since(t0).Seconds()).Msg("identity step")
		t0 = time.Now()
	}
	for _, step := range [][2]string{
		{"identity.identifiers.sql", "extract"}, {"identity.identifiers.sql", "merge"},
		{"identity.links.sql", "extract"}, {"identity.links.sql", "merge"},
	} {
		if err := runSection(ctx, wh, conn, step[0], step[1]); err != nil {
			return counts, err
		}
		lap(step[0] + ":" + step[1])
	}
	if _, err := wh.RunSection(ctx, conn, "identity.usage_blocked.sql", "extract",
		sql.Named("max_receipts", env.Config.Identity.MaxReceiptsPerCardDay), sql.Named("max_stores", env.Config.Identity.MaxStoresPerCardDay)); err != nil {
		return counts, err
	}
	g, err := LoadGraph(ctx, conn)
	if err != nil {
		return counts, err
	}
	usage, err := usageBlocked(ctx, conn, g)
	if err != nil {
		return counts, err
	}
	lap("load graph")
	lim := Limits{MaxCustomerIDs: env.Config.Identity.MaxCustomerIDs, MaxCustomersPerDevice: env.Config.Identity.MaxCustomersPerDevice}
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
	res := Stitch(g.Nodes, edges, lim)
	if kept != nil { // Used indexes the kept edges; callers index g.Edges
		used := make([]bool, len(g.Edges))
		for k, i := range kept {
			used[i] = res.Used[k]
		}
		res.Used = used
	}
	for n, perDay := range usage {
		res.Blocked = append(res.Blocked, Blocked{Node: n, Customers: perDay, Limit: env.Config.Identity.MaxReceiptsPerCardDay, Usage: true})
	}
	sort.Slice(res.Blocked, func(i, j int) bool { return res.Blocked[i].Node < res.Blocked[j].Node })
	compKey := make([]string, len(res.Reps))
	for c, rep := range res.Reps {
		compKey[c] = CustomerKey(wh.Secrets.Pepper, g.Nodes[rep].Token)
	}
	prev, err := previousKeys(ctx, conn)
	if err != nil {
		return counts, err
	}
	merges := findMerges(g, res, compKey, prev)
	blocked := make([]bool, len(g.Nodes))
	for _, b := range res.Blocked {
		blocked[b.Node] = true
	}
	lap("stitch")
	if err := writeMap(ctx, conn, g, res, compKey, blocked); err != nil {
		return counts, err
	}
	lap("write map")
	if err := inTx(ctx, conn, func() error {
		if err := runSection(ctx, wh, conn, "identity.customer_map.sql", "swap"); err != nil {
			return err
		}
		if err := runSection(ctx, wh, conn, "identity.customers.sql", "build"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM identity.blocked"); err != nil {
			return err
		}
		blockedRows := make([][]any, 0, len(res.Blocked))
		for _, b := range res.Blocked {
			n := g.Nodes[b.Node]
			reason := fmt.Sprintf("shared by %d customers (limit %d)", b.Customers, b.Limit)
			if b.Usage {
				reason = fmt.Sprintf("up to %d receipts a day, or in %d+ stores the same day: a generic card kept at the tills", b.Customers, env.Config.Identity.MaxStoresPerCardDay)
			}
			blockedRows = append(blockedRows, []any{n.Token, n.Type, g.Labels[b.Node], b.Customers, b.Limit, reason})
		}
		if err := warehouse.InsertRows(ctx, conn, "INSERT INTO identity.blocked VALUES", "", blockedRows); err != nil {
			return fmt.Errorf("record blocked identifiers: %w", err)
		}
		mergeRows := make([][]any, 0, len(merges))
		for _, m := range merges {
			mergeRows = append(mergeRows, []any{m.key, m.token, m.label, m.viaType, m.viaLabel, nullable(m.previous), env.Date, env.RunID})
		}
		if err := warehouse.InsertRows(ctx, conn, `INSERT INTO ops.identity_merges
(customer_key, merged_token, merged_label, via_type, via_label, previous_key, logical_date, run_id)
VALUES`, "ON CONFLICT DO NOTHING", mergeRows); err != nil {
			return fmt.Errorf("record merges: %w", err)
		}
		return nil
	}); err != nil {
		return counts, err
	}
	lap("swap and record")
	known := 0
	for _, rep := range res.Reps {
		if g.Nodes[rep].Type == CustomerID {
			known++
		}
	}
	if len(res.Blocked) > 0 {
		env.Log.Warn().Int("identifiers", len(res.Blocked)).
			Msg("over-merge guard blocked shared identifiers; see identity.blocked")
	}
	counts.In = int64(len(g.Edges))
	counts.Out = int64(known)
	counts.Detail = map[string]int64{"identifiers": int64(len(g.Nodes)), "links": int64(len(g.Edges)),
		"customers": int64(len(res.Reps)), "known_customers": int64(known), "blocked": int64(len(res.Blocked)),
		"merges": int64(len(merges))}
	return counts, nil
}

// usageBlocked maps graph nodes blocked for their use to their worst day.
func usageBlocked(ctx context.Context, conn *sql.Conn, g *Graph) (map[int]int, error) {
	rows, err := conn.QueryContext(ctx, "SELECT id_token, max_per_day FROM identity.usage_blocked")
	if err != nil {
		return nil, fmt.Errorf("read usage-blocked identifiers: %w", err)
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

func runSection(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, file, section string) error {
	_, err := wh.RunSection(ctx, conn, file, section)
	return err
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

// LoadGraph reads identity.identifiers and identity.links.
func LoadGraph(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (*Graph, error) {
	g := &Graph{Index: map[string]int{}}
	rows, err := q.QueryContext(ctx, "SELECT id_token, id_type, coalesce(epoch_us(first_seen), 0), coalesce(label, '') FROM identity.identifiers ORDER BY id_token")
	if err != nil {
		return nil, fmt.Errorf("read identifiers: %w", err)
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
	rows, err = q.QueryContext(ctx, "SELECT a_token, b_token, source, coalesce(evidence, ''), first_seen FROM identity.links ORDER BY a_token, b_token, source")
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
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

func previousKeys(ctx context.Context, conn *sql.Conn) (map[string]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT id_token, customer_key FROM identity.customer_map WHERE id_type = 'customer_id'")
	if err != nil {
		return nil, fmt.Errorf("read previous customer map: %w", err)
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
func writeMap(ctx context.Context, conn *sql.Conn, g *Graph, res Result, compKey []string, blocked []bool) error {
	if _, err := conn.ExecContext(ctx, "DELETE FROM identity.customer_map_next"); err != nil {
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
