package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// CheckReport is what `sources check` found.
type CheckReport struct {
	Date      string        `json:"date"`
	Input     string        `json:"input"`
	Sources   []SourceCheck `json:"sources"`
	Unmatched []string      `json:"unmatched_files"`
	Error     string        `json:"error,omitempty"`
}

// SourceCheck is what the dry run did with one source.
type SourceCheck struct {
	Name        string           `json:"name"`
	Kind        string           `json:"kind"`
	Files       []FileCheck      `json:"files"`
	Read        int64            `json:"rows_read"`
	Loaded      int64            `json:"rows_loaded"`
	Filtered    int64            `json:"rows_filtered"`
	Quarantined int64            `json:"rows_quarantined"`
	Duplicates  int64            `json:"rows_duplicate"`
	Nulled      map[string]int64 `json:"values_nulled,omitempty"`
	Reasons     []ReasonCheck    `json:"quarantine"`
	IDs         []IDCheck        `json:"identifiers"`
	Sample      []map[string]any `json:"sample"`
}

// FileCheck is one file of a source.
type FileCheck struct {
	File   string   `json:"file"`
	Status string   `json:"status"`
	Read   int64    `json:"rows_read"`
	Error  string   `json:"error,omitempty"`
	Extra  []string `json:"unmapped_columns,omitempty"`
}

// ReasonCheck is one reason rows of a source were quarantined.
type ReasonCheck struct {
	Field    string   `json:"field"`
	Reason   string   `json:"reason"`
	Rows     int64    `json:"rows"`
	Examples []string `json:"examples"` // file:line
}

// IDCheck counts one identifier type of a source.
type IDCheck struct {
	Type     string `json:"type"`
	Values   int64  `json:"values"`
	Distinct int64  `json:"distinct"`
}

// Check is `parcours sources check`: the real loader on the files of the
// date folder d, into a throwaway warehouse (deleted after; the real one
// is not touched), then what it did per source, read back. only, when set,
// checks that source alone. A mapping that cannot work is a usage error;
// files that would not load come back with the report and an error.
func Check(ctx context.Context, base config.Config, sqls *sqlfs.Set, d time.Time, only string) (*CheckReport, error) {
	srcs, err := sources.Effective(base.Sources)
	if err != nil {
		return nil, orchestration.Usage("%v", err)
	}
	tmp, err := os.MkdirTemp("", "parcours-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg := base
	cfg.Warehouse = filepath.Join(tmp, "wh")
	cfg.Ingest.CatchUp = false
	secrets := &keys.Secrets{Pepper: keys.Random(32), MasterKey: keys.Random(32)}
	wh, err := warehouse.Open(ctx, &cfg, warehouse.Options{SQL: sqls, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	job := New()
	if only != "" {
		job = Only(only)
	}
	env := &orchestration.Env{Date: d, RunID: "check", Config: &cfg, WH: wh, Log: zerolog.Nop()}
	_, runErr := job.Run(ctx, env)
	if runErr != nil && (errors.Is(runErr, orchestration.ErrNothingToDo) || orchestration.ExitCode(runErr) == orchestration.ExitUsage) {
		return nil, runErr
	}
	rep := &CheckReport{Date: d.Format(time.DateOnly), Input: base.Input, Unmatched: []string{}}
	if runErr != nil {
		rep.Error = redact.Text(runErr.Error())
	}
	for _, r := range srcs {
		if only != "" && r.Name != only {
			continue
		}
		sc, err := describeCheck(ctx, wh, r)
		if err != nil {
			return nil, err
		}
		if len(sc.Files) > 0 || only != "" {
			rep.Sources = append(rep.Sources, sc)
		}
	}
	q, err := wh.SQL.Section("ops.ingest_files.sql", "unmatched")
	if err != nil {
		return nil, err
	}
	rows, err := wh.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		rep.Unmatched = append(rep.Unmatched, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if runErr != nil {
		return rep, fmt.Errorf("some files would not load: %w", runErr)
	}
	return rep, nil
}

// describeCheck reads back what the dry run did with one source.
func describeCheck(ctx context.Context, wh *warehouse.Warehouse, r sources.Resolved) (SourceCheck, error) {
	sc := SourceCheck{Name: r.Name, Kind: r.Kind.Name, Files: []FileCheck{}, Reasons: []ReasonCheck{}, IDs: []IDCheck{}, Sample: []map[string]any{}}
	q, err := wh.SQL.Section("ops.ingest_files.sql", "check_files")
	if err != nil {
		return sc, err
	}
	rows, err := wh.DB.QueryContext(ctx, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, err
	}
	for rows.Next() {
		var f FileCheck
		var loaded, filtered, quarantined, dup int64
		var extra []any
		var nulled string
		if err := rows.Scan(&f.File, &f.Status, &f.Read, &loaded, &filtered, &quarantined, &dup, &f.Error, &extra, &nulled); err != nil {
			rows.Close()
			return sc, err
		}
		for _, e := range extra {
			f.Extra = append(f.Extra, fmt.Sprint(e))
		}
		sc.Read += f.Read
		sc.Loaded += loaded
		sc.Filtered += filtered
		sc.Quarantined += quarantined
		sc.Duplicates += dup
		for why, n := range parseCounts(nulled) {
			if sc.Nulled == nil {
				sc.Nulled = map[string]int64{}
			}
			sc.Nulled[why] += n
		}
		sc.Files = append(sc.Files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	if q, err = wh.SQL.Section("ops.quarantine.sql", "check_reasons"); err != nil {
		return sc, err
	}
	rows, err = wh.DB.QueryContext(ctx, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, err
	}
	for rows.Next() {
		var q ReasonCheck
		var ex []any
		if err := rows.Scan(&q.Field, &q.Reason, &q.Rows, &ex); err != nil {
			rows.Close()
			return sc, err
		}
		for _, e := range ex {
			q.Examples = append(q.Examples, fmt.Sprint(e))
		}
		sc.Reasons = append(sc.Reasons, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	if len(sc.Files) == 0 || sc.Loaded == 0 {
		return sc, nil
	}
	if q, err = wh.SQL.Section("sources.check.sql", "identifiers"); err != nil {
		return sc, err
	}
	q = strings.ReplaceAll(q, "{{table}}", sqlfs.QuoteIdent("kind."+r.Kind.Name))
	rows, err = warehouse.Query(ctx, wh.DB, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, fmt.Errorf("sources.check.sql identifiers: %w", err)
	}
	for rows.Next() {
		var id IDCheck
		if err := rows.Scan(&id.Type, &id.Values, &id.Distinct); err != nil {
			rows.Close()
			return sc, err
		}
		sc.IDs = append(sc.IDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	var fields []string
	for _, c := range r.Contract {
		fields = append(fields, sqlfs.QuoteIdent(c.Name))
	}
	if q, err = wh.SQL.Section("sources.check.sql", "sample"); err != nil {
		return sc, err
	}
	q = strings.ReplaceAll(q, "{{columns}}", strings.Join(fields, ", "))
	q = strings.ReplaceAll(q, "{{table}}", sqlfs.QuoteIdent(r.Table()))
	rows, err = warehouse.Query(ctx, wh.DB, q)
	if err != nil {
		return sc, fmt.Errorf("sources.check.sql sample: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]*string, len(r.Contract))
		dst := make([]any, len(vals))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			return sc, err
		}
		row := map[string]any{}
		for i, c := range r.Contract {
			if vals[i] == nil {
				continue
			}
			v := *vals[i]
			if c.Personal {
				v = mask(v)
			}
			row[c.Name] = v
		}
		sc.Sample = append(sc.Sample, row)
	}
	return sc, rows.Err()
}

// mask keeps enough of personal data to recognise the mapping
// ("h***@example.fr", "+33***", "D***").
func mask(v string) string {
	r := []rune(v)
	if len(r) == 0 {
		return v
	}
	if at := strings.LastIndex(v, "@"); at > 0 {
		return string(r[0]) + "***" + v[at:]
	}
	if strings.HasPrefix(v, "+") && len(r) > 3 {
		return string(r[:3]) + "***" // the country code
	}
	return string(r[0]) + "***"
}

// parseCounts reads a JSON object of counts ({"reason": 3}).
func parseCounts(s string) map[string]int64 {
	out := map[string]int64{}
	_ = yaml.Unmarshal([]byte(s), &out) // JSON is YAML
	return out
}
