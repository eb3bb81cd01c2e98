package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// mergedAlias is the catalog the merged warehouse is attached under while
// a shard slices.
const mergedAlias = "merged"

// dividedKinds are the kinds whose rows the shards divide among themselves
// (the facts landing.fact_keys.sql resolves, and the order lines orders
// are made of). Every other kind (customers, consents, erasure requests,
// reference data, marketing spend) is copied whole to every shard.
var dividedKinds = map[string]bool{"events": true, "orders": true, "order_lines": true, "contacts": true,
	"email_events": true, "surveys": true}

// identityTables are copied whole from the merged warehouse: the graph its
// identity job built, and the suppression list, so the shard resolves
// every fact to the same customer.
func identityTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name || '.' || table_name FROM duckdb_tables()
WHERE database_name = ? AND schema_name = 'identity' AND NOT temporary ORDER BY 1`, mergedAlias)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return append(out, "ops.identity_merges", "ops.suppression"), rows.Err()
}

// slice is a customer shard's ingest: the merged warehouse's route stage
// (`parcours merge --stage route`) has loaded and stitched the whole
// input; the shard copies the identity graph and replicated sources whole,
// and of the divided ones only the rows route.* gives it. Its split then
// finds every fact of its customers, its share of facts without one and
// the whole of every visit it counts, as if it had read all input.
func slice(ctx context.Context, env *orchestration.Env, srcs []sources.Resolved) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	if env.MergedDir == "" {
		return c, orchestration.Usage("a shard's night slices its input from the merged warehouse: give --merged DIR " +
			"(the warehouse `parcours merge --stage route` loaded)")
	}
	if !warehouse.Exists(env.MergedDir) {
		return c, orchestration.Temporary(fmt.Errorf("no merged warehouse at %s yet: run `parcours merge --stage route --date %s` first",
			env.MergedDir, env.DateString()), time.Minute)
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	if err := prepare(ctx, conn, env.WH.SQL, srcs); err != nil {
		return c, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ATTACH %s AS %s (READ_ONLY)", warehouse.Quote(warehouse.HotPath(env.MergedDir)), mergedAlias)); err != nil {
		return c, orchestration.Temporary(fmt.Errorf("attach the merged warehouse %s: %w", env.MergedDir, err), time.Minute)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+mergedAlias) }()
	if err := routed(ctx, conn, env); err != nil {
		return c, err
	}
	tables, err := identityTables(ctx, conn)
	if err != nil {
		return c, err
	}
	bit := uint64(1) << env.Shard.Index
	err = warehouse.InTx(ctx, conn, func() error {
		copyAll := func(t string) (int64, error) {
			if _, err := conn.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return 0, fmt.Errorf("slice: empty %s: %w", t, err)
			}
			res, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s BY NAME SELECT * FROM %s.%s", t, mergedAlias, t))
			if err != nil {
				return 0, fmt.Errorf("slice: copy %s from the merged warehouse: %w", t, err)
			}
			return res.RowsAffected()
		}
		for _, t := range tables {
			if _, err := copyAll(t); err != nil {
				return err
			}
		}
		for _, r := range srcs {
			if !dividedKinds[r.Kind.Name] {
				n, err := copyAll(r.Table())
				if err != nil {
					return err
				}
				c.Detail[r.Name] = n
				c.In += n
				continue
			}
			if _, err := conn.ExecContext(ctx, "DELETE FROM "+r.Table()); err != nil {
				return fmt.Errorf("slice: empty %s: %w", r.Table(), err)
			}
			res, err := conn.ExecContext(ctx, sliceSQL(r, bit))
			if err != nil {
				return fmt.Errorf("slice %s from the merged warehouse: %w", r.Name, err)
			}
			n, _ := res.RowsAffected()
			c.Detail[r.Name] = n
			c.In += n
		}
		return nil
	})
	c.Out = c.In
	return c, err
}

// sliceSQL copies the rows of a divided source that go to the shard: an
// event by its group (route.event_groups), any other fact by its customer
// (route.combo_keys) or, without one, by its route, as in_shard decides;
// order lines by their order's identifiers and id, as kind.orders makes
// the order of them.
func sliceSQL(r sources.Resolved, bit uint64) string {
	from := mergedAlias + "." + r.Table()
	fact := "_source || ':' || " + keyExpr(r.DedupKey)
	switch r.Kind.Name {
	case "events":
		return fmt.Sprintf(`INSERT INTO %[1]s
SELECT * EXCLUDE (_grp) FROM (
    SELECT *, event_group(platform, session_id, anonymous_id, event_date, %[3]s) AS _grp FROM %[2]s
) l
SEMI JOIN (SELECT grp FROM %[4]s.route.event_groups WHERE shards & CAST(%[5]d AS UBIGINT) <> 0) g ON g.grp = l._grp`,
			r.Table(), from, fact, mergedAlias, bit)
	case "order_lines":
		return fmt.Sprintf(`INSERT INTO %[1]s
SELECT l.* EXCLUDE (_oids) FROM (
    SELECT *, list_sort(list_distinct(flatten(list(%[3]s) OVER (PARTITION BY _source, order_id)))) AS _oids FROM %[2]s
) l
LEFT JOIN %[4]s.route.combo_keys c ON c.ids = l._oids
WHERE in_shard(c.customer_key, l._source || ':' || l.order_id)`, r.Table(), from, idsView(r), mergedAlias)
	default:
		return fmt.Sprintf(`INSERT INTO %[1]s
SELECT l.* EXCLUDE (_fids, _route) FROM (
    SELECT *, %[3]s AS _fids, %[4]s AS _route FROM %[2]s
) l
LEFT JOIN %[5]s.route.combo_keys c ON c.ids = l._fids
WHERE in_shard(c.customer_key, l._route)`, r.Table(), from, idsView(r), fact, mergedAlias)
	}
}

// routed checks that the merged warehouse has routed this date for this
// many shards, under this warehouse's pepper. A date it found nothing to
// load for is nothing to do here either.
func routed(ctx context.Context, conn *sql.Conn, env *orchestration.Env) error {
	var mine, theirs string
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT
  (SELECT value FROM ops.meta WHERE key = 'pepper_check'), (SELECT value FROM %s.ops.meta WHERE key = 'pepper_check')`, mergedAlias)).Scan(&mine, &theirs); err != nil {
		return fmt.Errorf("read the pepper check values: %w", err)
	}
	if mine != theirs {
		return orchestration.Usage("the merged warehouse %s was built with another pepper than this shard: "+
			"shards and their merge share PARCOURS_PEPPER and PARCOURS_MASTER_KEY", env.MergedDir)
	}
	var day, shards sql.NullString
	err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT max(value) FILTER (WHERE key = 'day'), max(value) FILTER (WHERE key = 'shards')
FROM %s.route.meta`, mergedAlias)).Scan(&day, &shards)
	if err != nil {
		return fmt.Errorf("read the merged warehouse's route: %w", err)
	}
	if day.String == env.DateString() {
		if n, _ := strconv.Atoi(shards.String); n != env.Shard.Count {
			return orchestration.Usage("the merged warehouse %s routed %s into %s shards, not %d: run the route stage with all %d shards",
				env.MergedDir, env.DateString(), shards.String, env.Shard.Count, env.Shard.Count)
		}
		return nil
	}
	// Not routed: did the route stage find nothing to load?
	var reason sql.NullString
	err = conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT error FROM %s.ops.job_runs
WHERE job = 'ingest' AND logical_date = ? AND status = ? ORDER BY attempt DESC LIMIT 1`, mergedAlias),
		env.Date, orchestration.StatusNothingToDo).Scan(&reason)
	if err == nil {
		return fmt.Errorf("%w: the merged warehouse's route stage had nothing to load (%s)", orchestration.ErrNothingToDo, reason.String)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return orchestration.Temporary(fmt.Errorf("the merged warehouse %s has not routed %s yet (it holds the route of %q): "+
		"run `parcours merge --stage route --date %s` first", env.MergedDir, env.DateString(), day.String, env.DateString()), time.Minute)
}
