// Package audit is the privacy audit that ends every run before anything
// is exported: it scans the cold store for anything that identifies a
// person and for rows under k, and the hot analytics tables for PII
// columns or values. A violation fails the run with the table, column and
// rule, so no export leaves.
package audit

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	vaultjob "github.com/parcours/parcours/jobs/vault"
	"github.com/parcours/parcours/orchestration"
)

// Violation is one broken rule.
type Violation struct {
	Table, Column, Rule, Example string
	Count                        int64
}

func (v Violation) String() string {
	s := v.Table
	if v.Column != "" {
		s += "." + v.Column
	}
	s += ": " + v.Rule
	if v.Count > 0 {
		s += fmt.Sprintf(" (%d)", v.Count)
	}
	return s
}

// Job is the privacy audit job.
type Job struct{}

// New returns the privacy audit job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "privacy_audit", Needs: []string{"purge"}, After: []string{"attribution", "kpis", "segments"},
		SQL:       []string{"ops.privacy_audit.sql", "ops.name_tokens.sql", "handoff.cold.sql"},
		Doc:       "scan cold for identifiers and rows under k, hot for PII columns; fails the run before any export",
		Placement: orchestration.OnBoth, MergeStage: orchestration.StagePublish}
}

// PIIColumns are column names that may only exist in the vault (and in
// landing, which is emptied every run).
func PIIColumns() []string {
	return []string{"email", "phone", "first_name", "last_name", "name", "birth_date", "postcode", "address", "city",
		"cookie_id", "device_id", "loyalty_card"}
}

// FreeText are hot columns holding what customers wrote, skipped by the
// value scan (they are erased with their customer).
func FreeText() []string { return []string{"analytics.survey_responses.verbatim"} }

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	vs, scanned, err := Scan(ctx, env.WH, env.Config.Privacy.K)
	if err != nil {
		return c, err
	}
	c.In = scanned
	c.Out = int64(len(vs))
	detail := fmt.Sprintf("%d values scanned, no violation", scanned)
	if len(vs) > 0 {
		var parts []string
		for _, v := range vs {
			parts = append(parts, v.String())
		}
		detail = strings.Join(parts, "; ")
	}
	if _, err := env.WH.DB.ExecContext(ctx, `INSERT INTO ops.privacy_audit (run_id, logical_date, action, target, rows, detail)
VALUES (?, ?, 'scan', 'cold, hot', ?, ?)`, env.RunID, env.Date, len(vs), detail); err != nil {
		return c, err
	}
	if len(vs) > 0 {
		return c, fmt.Errorf("privacy audit failed, nothing exported: %s", detail)
	}
	if env.Shard.Sharded() {
		// The merged audit checks cold values against every shard's names
		// through their tokens; no name leaves the shard.
		names, err := vaultNames(ctx, env.WH)
		if err != nil {
			return c, err
		}
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		if _, err := env.WH.Exec(ctx, "handoff.cold.sql", "names", sql.Named("names", list)); err != nil {
			return c, err
		}
		c.Detail = map[string]int64{"name_tokens": int64(len(list))}
	}
	return c, nil
}

type column struct{ schema, table, name, typ string }

func columns(ctx context.Context, db *sql.DB, catalog string, schemas ...string) ([]column, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE table_catalog = ? AND list_contains(?, table_schema) ORDER BY table_schema, table_name, ordinal_position`, catalog, schemas)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.schema, &c.table, &c.name, &c.typ); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Rules for values that look like an identifier whoever they belong to.
func valueRules() []struct {
	name string
	re   *regexp.Regexp
} {
	return []struct {
		name string
		re   *regexp.Regexp
	}{
		{"looks like an email", regexp.MustCompile(`[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}`)},
		{"looks like a phone number", regexp.MustCompile(`^\+?[0-9][0-9 .\-()]{7,}[0-9]$`)},
		{"looks like a card number", regexp.MustCompile(`^[0-9]{8,19}$`)},
		{"looks like a customer key or token", regexp.MustCompile(`^[0-9a-f]{32,64}$`)},
	}
}

// Scan runs every check and returns the violations and how many distinct
// cold values it looked at.
func Scan(ctx context.Context, wh *warehouse.Warehouse, k int) ([]Violation, int64, error) {
	var vs []Violation
	db := wh.DB
	names, err := vaultNames(ctx, wh)
	if err != nil {
		return nil, 0, err
	}
	cold, err := columns(ctx, db, "cold", "main")
	if err != nil {
		return nil, 0, err
	}
	tables := map[string]bool{}
	var scanned int64
	for _, c := range cold {
		tables[c.table] = true
		if c.typ != "VARCHAR" {
			continue
		}
		q := fmt.Sprintf(`SELECT DISTINCT %s FROM cold.main.%s WHERE %s IS NOT NULL`, ident(c.name), ident(c.table), ident(c.name))
		vals, err := strings_(ctx, db, q)
		if err != nil {
			return nil, 0, err
		}
		scanned += int64(len(vals))
		for _, v := range vals {
			for _, r := range valueRules() {
				if r.re.MatchString(v) {
					vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: r.name, Example: v})
				}
			}
			if names[strings.ToLower(v)] {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a name held in the vault"})
			}
		}
		// Exact check against every identifier the warehouse knows, of
		// every type, through their tokens (no identifier in clear needed).
		if wh.Secrets != nil && len(vals) > 0 {
			var n int64
			// Tokens first, then an equality join: an IN-list join
			// condition is a nested loop, values x identifiers.
			err := db.QueryRowContext(ctx, `SELECT count(*) FROM (
    SELECT DISTINCT pseudonym(t.typ, x.v) AS tok
    FROM (SELECT unnest(?) AS v) x,
         (VALUES ('customer_id'), ('email'), ('phone'), ('loyalty_card'), ('cookie_id'), ('device_id')) t(typ)) p
JOIN identity.identifiers i ON i.id_token = p.tok`, vals).Scan(&n)
			if err != nil {
				return nil, 0, fmt.Errorf("scan cold.%s.%s: %w", c.table, c.name, err)
			}
			if n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a known customer identifier", Count: n})
			}
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT unnest(?) AS v) x
WHERE x.v IN (SELECT customer_key FROM identity.customers)`, vals).Scan(&n)
			if err != nil {
				return nil, 0, err
			}
			if n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a customer key", Count: n})
			}
			// Sharded: the shards' vault names, as tokens (ops.name_tokens).
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT DISTINCT pseudonym('name', lower(unnest(?))) AS tok) p
JOIN ops.name_tokens t ON t.token = p.tok`, vals).Scan(&n)
			if err != nil {
				return nil, 0, fmt.Errorf("scan cold.%s.%s for names: %w", c.table, c.name, err)
			}
			if n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a name held in a shard's vault", Count: n})
			}
		}
	}
	for t := range tables {
		has := false
		for _, c := range cold {
			if c.table == t && c.name == "customers" {
				has = true
			}
		}
		if !has {
			if t != "suppressed_cells" {
				vs = append(vs, Violation{Table: "cold." + t, Rule: "no customers column: cannot show every row stands for k customers"})
			}
			continue
		}
		var n int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM cold.main.%s WHERE customers < ?", ident(t)), k).Scan(&n); err != nil {
			return nil, 0, err
		}
		if n > 0 {
			vs = append(vs, Violation{Table: "cold." + t, Column: "customers", Rule: fmt.Sprintf("rows standing for fewer than k=%d customers", k), Count: n})
		}
	}
	hot, err := columns(ctx, db, "hot", "analytics", "consent", "identity", "ops")
	if err != nil {
		return nil, 0, err
	}
	pii := map[string]bool{}
	for _, p := range PIIColumns() {
		pii[p] = true
	}
	free := map[string]bool{}
	for _, f := range FreeText() {
		free[f] = true
	}
	for _, c := range hot {
		full := c.schema + "." + c.table
		if pii[c.name] {
			vs = append(vs, Violation{Table: full, Column: c.name, Rule: "PII column outside the vault"})
		}
		if c.schema != "analytics" || c.typ != "VARCHAR" || free[full+"."+c.name] {
			continue
		}
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM analytics.%s WHERE contains(%s, '@') AND regexp_matches(%s, '[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}')`,
			ident(c.table), ident(c.name), ident(c.name))
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("scan %s.%s: %w", full, c.name, err)
		}
		if n > 0 {
			vs = append(vs, Violation{Table: full, Column: c.name, Rule: "email addresses in a hot analytics table", Count: n})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].String() < vs[j].String() })
	return vs, scanned, nil
}

// vaultNames decrypts the first and last names held in the vault, lower-cased.
func vaultNames(ctx context.Context, wh *warehouse.Warehouse) (map[string]bool, error) {
	out := map[string]bool{}
	if wh.Secrets == nil || wh.Secrets.MasterKey == nil {
		return out, nil
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return nil, err
	}
	keys, err := strings_(ctx, wh.DB, "SELECT DISTINCT customer_key FROM vault.pii WHERE customer_key IS NOT NULL")
	if err != nil {
		return nil, err
	}
	recs, err := vaultjob.ReadSubjects(ctx, wh.DB, ks, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		f, l := strings.ToLower(r.Values["first_name"]), strings.ToLower(r.Values["last_name"])
		for _, n := range []string{f, l, strings.TrimSpace(f + " " + l)} {
			if n != "" {
				out[n] = true
			}
		}
	}
	return out, nil
}

func strings_(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
