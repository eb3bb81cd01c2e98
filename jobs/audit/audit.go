// Package audit is the privacy audit that ends every run before anything
// is exported: it scans the cold store for anything that identifies a
// person and for rows under k, and the hot analytics tables for PII
// columns or values. A violation fails the run with the table, column and
// rule, so no export leaves.
//
// Every check reads the whole of what it checks every night: all cold
// values, every vault name, every row of every hot analytics text column.
// None is restricted to what changed since the last passing audit: no
// table records which rows a night changed (UPDATEs, ALTERs and erasures
// leave no mark a scan could trust), and a cold value that passed last
// night can become a leak when a new name enters the vault or a new
// identifier is stitched. What it saves is work that proved nothing: it
// decrypts only the two name fields of the vault, and checks all cold
// values against identifiers, customer keys and name tokens in one query
// rather than one per column.
package audit

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/parallel"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
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
		SQL:       sqlRefs(),
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
	t0 := time.Now()
	names, err := vaultNames(ctx, env.WH)
	if err != nil {
		return c, err
	}
	env.Log.Debug().Str("check", "vault_names").Int("names", names.len()).Int("decrypted", len(names.plain)).
		Float64("took_s", time.Since(t0).Seconds()).Msg("audit step")
	vs, scanned, err := scan(ctx, env.WH, env.Config.Privacy.K, names, env.Log)
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
	if _, err := env.WH.Exec(ctx, sqlfs.Ref{File: auditSQL, Section: "record_scan"}, sql.Named("run_id", env.RunID), sql.Named("date", env.Date),
		sql.Named("rows", len(vs)), sql.Named("detail", detail)); err != nil {
		return c, fmt.Errorf("%s record_scan: %w", auditSQL, err)
	}
	if len(vs) > 0 {
		return c, fmt.Errorf("privacy audit failed, nothing exported: %s", detail)
	}
	if env.Shard.Sharded() {
		// The merged audit checks cold values against every shard's names
		// through their tokens; no name leaves the shard.
		list := names.tokens()
		if _, err := env.WH.Exec(ctx, sqlfs.Ref{File: "handoff.cold.sql", Section: "name_tokens"}, sql.Named("tokens", list)); err != nil {
			return c, err
		}
		c.Detail = map[string]int64{"name_tokens": int64(len(list))}
	}
	return c, nil
}

// auditSQL holds the audit's queries.
const auditSQL = "ops.privacy_audit.sql"

// section is one of the audit's queries with its {{name}} placeholders
// replaced by the quoted identifiers given as name, value pairs.
func section(wh *warehouse.Warehouse, name string, idents ...string) (string, error) {
	q, err := wh.SQL.Section(auditSQL, name)
	if err != nil {
		return "", err
	}
	for i := 0; i+1 < len(idents); i += 2 {
		q = strings.ReplaceAll(q, "{{"+idents[i]+"}}", warehouse.QuoteIdent(idents[i+1]))
	}
	return q, nil
}

type column struct{ schema, table, name, typ string }

func columns(ctx context.Context, wh *warehouse.Warehouse, catalog string, schemas ...string) ([]column, error) {
	q, err := section(wh, "columns")
	if err != nil {
		return nil, err
	}
	rows, err := wh.DB.QueryContext(ctx, q, sql.Named("catalog", catalog), sql.Named("schemas", schemas))
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

type valueRule struct {
	name string
	re   *regexp.Regexp
}

// valueRules are the rules for values that look like an identifier
// whoever they belong to.
var valueRules = []valueRule{
	{"looks like an email", regexp.MustCompile(`[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}`)},
	{"looks like a phone number", regexp.MustCompile(`^\+?[0-9][0-9 .\-()]{7,}[0-9]$`)},
	{"looks like a card number", regexp.MustCompile(`^[0-9]{8,19}$`)},
	{"looks like a customer key or token", regexp.MustCompile(`^[0-9a-f]{32,64}$`)},
}

// Scan runs every check and returns the violations and how many distinct
// cold values it looked at.
func Scan(ctx context.Context, wh *warehouse.Warehouse, k int) ([]Violation, int64, error) {
	names, err := vaultNames(ctx, wh)
	if err != nil {
		return nil, 0, err
	}
	return scan(ctx, wh, k, names, zerolog.Nop())
}

// scan runs every check against the given vault names. Each check reads
// the whole of what it checks, every night: nothing is skipped because it
// passed before (see the package doc).
func scan(ctx context.Context, wh *warehouse.Warehouse, k int, names nameSet, log zerolog.Logger) ([]Violation, int64, error) {
	t0 := time.Now()
	step := func(name string, n int) {
		log.Debug().Str("check", name).Int("n", n).Float64("took_s", time.Since(t0).Seconds()).Msg("audit step")
		t0 = time.Now()
	}
	var vs []Violation
	cold, err := columns(ctx, wh, "cold", "main")
	if err != nil {
		return nil, 0, err
	}
	// Every distinct text value of every cold column, checked here against
	// the value rules and the vault names, then all at once in SQL against
	// the identifiers, customer keys and shards' name tokens.
	tables := map[string]bool{}
	var scanned int64
	var cols, vals []string // cols[i]: the index in textCols of vals[i]
	var textCols []column
	for _, c := range cold {
		tables[c.table] = true
		if c.typ != "VARCHAR" {
			continue
		}
		q, err := section(wh, "cold_values", "table", c.table, "column", c.name)
		if err != nil {
			return nil, 0, err
		}
		values, err := strings_(ctx, wh.DB, q)
		if err != nil {
			return nil, 0, err
		}
		scanned += int64(len(values))
		col := strconv.Itoa(len(textCols))
		for _, v := range values {
			for _, r := range valueRules {
				if r.re.MatchString(v) {
					vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: r.name, Example: v})
				}
			}
			if names.has(strings.ToLower(v)) {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a name held in the vault"})
			}
			cols = append(cols, col)
			vals = append(vals, v)
		}
		textCols = append(textCols, c)
	}
	step("cold_values", int(scanned))
	// Exact checks against every identifier the warehouse knows, of every
	// type, through their tokens (no identifier in clear needed), against
	// customer keys, and (sharded) against the shards' vault names as
	// tokens (ops.name_tokens).
	if wh.Secrets != nil && len(vals) > 0 {
		found, err := coldTokens(ctx, wh, cols, vals)
		if err != nil {
			return nil, 0, err
		}
		for i, c := range textCols {
			key := strconv.Itoa(i)
			if n := found["identifier"][key]; n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a known customer identifier", Count: n})
			}
			if n := found["customer_key"][key]; n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a customer key", Count: n})
			}
			if n := found["name_token"][key]; n > 0 {
				vs = append(vs, Violation{Table: "cold." + c.table, Column: c.name, Rule: "a name held in a shard's vault", Count: n})
			}
		}
		step("cold_tokens", len(vals))
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
		q, err := section(wh, "cold_under_k", "table", t)
		if err != nil {
			return nil, 0, err
		}
		var n int64
		if err := wh.DB.QueryRowContext(ctx, q, sql.Named("k", k)).Scan(&n); err != nil {
			return nil, 0, err
		}
		if n > 0 {
			vs = append(vs, Violation{Table: "cold." + t, Column: "customers", Rule: fmt.Sprintf("rows standing for fewer than k=%d customers", k), Count: n})
		}
	}
	step("cold_under_k", len(tables))
	hot, err := columns(ctx, wh, "hot", "analytics", "consent", "identity", "ops")
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
	scannedHot := 0
	for _, c := range hot {
		full := c.schema + "." + c.table
		if pii[c.name] {
			vs = append(vs, Violation{Table: full, Column: c.name, Rule: "PII column outside the vault"})
		}
		if c.schema != "analytics" || c.typ != "VARCHAR" || free[full+"."+c.name] {
			continue
		}
		q, err := section(wh, "hot_emails", "table", c.table, "column", c.name)
		if err != nil {
			return nil, 0, err
		}
		var n int64
		if err := wh.DB.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("scan %s.%s: %w", full, c.name, err)
		}
		if n > 0 {
			vs = append(vs, Violation{Table: full, Column: c.name, Rule: "email addresses in a hot analytics table", Count: n})
		}
		scannedHot++
	}
	step("hot_emails", scannedHot)
	sort.Slice(vs, func(i, j int) bool { return vs[i].String() < vs[j].String() })
	return vs, scanned, nil
}

// coldTokens runs the token checks on every cold value at once (cols[i]
// names the column of vals[i]) and returns rule -> column -> count.
func coldTokens(ctx context.Context, wh *warehouse.Warehouse, cols, vals []string) (map[string]map[string]int64, error) {
	q, err := section(wh, "cold_tokens")
	if err != nil {
		return nil, err
	}
	rows, err := wh.DB.QueryContext(ctx, q, sql.Named("cols", cols), sql.Named("vals", vals))
	if err != nil {
		return nil, fmt.Errorf("scan cold values for identifiers: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var rule, col string
		var n int64
		if err := rows.Scan(&rule, &col, &n); err != nil {
			return nil, err
		}
		if out[rule] == nil {
			out[rule] = map[string]int64{}
		}
		out[rule][col] = n
	}
	return out, rows.Err()
}

// nameSet is what the audit knows of the names held in the vault: their
// fingerprints (vault.pii name_fps), and the names of the rows that have
// none yet (sealed before fingerprints were kept), decrypted.
type nameSet struct {
	pepper []byte
	fps    map[string]bool // name tokens
	plain  map[string]bool // lower-cased names
}

// has reports whether a lower-cased value is a name held in the vault.
func (n nameSet) has(lower string) bool {
	return n.plain[lower] || (len(n.fps) > 0 && n.fps[vault.NameFingerprint(n.pepper, lower)])
}

func (n nameSet) len() int { return len(n.fps) + len(n.plain) }

// tokens are the names' tokens, sorted.
func (n nameSet) tokens() []string {
	set := make(map[string]bool, n.len())
	for t := range n.fps {
		set[t] = true
	}
	for p := range n.plain {
		set[vault.NameFingerprint(n.pepper, p)] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// vaultNames reads the fingerprints of the names held in the vault, and
// decrypts the names of the rows sealed before fingerprints were kept
// (the vault job fills them in on its next run). Only the two name fields
// are ever opened.
func vaultNames(ctx context.Context, wh *warehouse.Warehouse) (nameSet, error) {
	out := nameSet{fps: map[string]bool{}, plain: map[string]bool{}}
	if wh.Secrets == nil || wh.Secrets.MasterKey == nil {
		return out, nil
	}
	out.pepper = wh.Secrets.Pepper
	q, err := section(wh, "vault_name_fps")
	if err != nil {
		return out, err
	}
	fps, err := strings_(ctx, wh.DB, q)
	if err != nil {
		return out, fmt.Errorf("read vault name fingerprints: %w", err)
	}
	for _, t := range fps {
		out.fps[t] = true
	}
	if q, err = section(wh, "vault_names"); err != nil {
		return out, err
	}
	type sealed struct {
		token       string
		first, last []byte
	}
	var all []sealed
	rows, err := wh.DB.QueryContext(ctx, q)
	if err != nil {
		return out, fmt.Errorf("read vault: %w", err)
	}
	for rows.Next() {
		var r sealed
		if err := rows.Scan(&r.token, &r.first, &r.last); err != nil {
			rows.Close()
			return out, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(all) == 0 {
		return out, nil
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return out, err
	}
	// Decryption is the cost (a key unwrap and two opens per subject): it
	// runs on every core over blocks of subjects, each into its own set;
	// the union does not depend on the order, and the error reported is
	// the first subject's in the vault's order, as a serial loop's would be.
	const block = 4096
	sets := make([]map[string]bool, (len(all)+block-1)/block)
	err = parallel.Chunks(ctx, len(all), block, func(lo, hi int) error {
		set := map[string]bool{}
		sets[lo/block] = set
		for _, r := range all[lo:hi] {
			f, l, err := ks.OpenNames(r.token, r.first, r.last)
			if err != nil {
				return err
			}
			for _, n := range vault.LowerNames(f, l) {
				set[n] = true
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	for _, set := range sets {
		for n := range set {
			out.plain[n] = true
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
