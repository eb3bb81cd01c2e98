// Package export writes the cold store as Parquet for BI tools, under
// <export_dir>/cold/, once the privacy audit has passed: one file per cold
// table, each written to a temporary name and renamed into place, and a
// manifest with every file's row count and SHA-256.
package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/publish"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// file holds the statements the export runs.
const file = "export.cold.sql"

// Job is the export job.
type Job struct{}

// New returns the export job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "export", Needs: []string{"privacy_audit"}, SQL: sqlRefs(),
		Doc:       "cold tables to Parquet under <export_dir>/cold/ with a manifest (only after the privacy audit passed)",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// ManifestFile is one exported file in manifest.json.
type ManifestFile struct {
	Table  string `json:"table"`
	File   string `json:"file"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// Manifest describes one export.
type Manifest struct {
	LogicalDate string         `json:"logical_date"`
	RunID       string         `json:"run_id"`
	K           int            `json:"k"`
	Files       []ManifestFile `json:"files"`
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	dir, err := publish.Dir(env.Config.ExportDir, "cold")
	if err != nil {
		return c, fmt.Errorf("export: %w", err)
	}
	// Files a killed export left half-written.
	if n, err := publish.Sweep(dir, "*.tmp", time.Now()); err != nil {
		return c, fmt.Errorf("export: %w", err)
	} else if n > 0 {
		env.Log.Info().Int("files", n).Msg("removed temp files an interrupted export left")
	}
	list, err := env.WH.SQL.Section(file, "tables")
	if err != nil {
		return c, err
	}
	copyTo, err := env.WH.SQL.Section(file, "copy")
	if err != nil {
		return c, err
	}
	count, err := env.WH.SQL.Section(file, "count")
	if err != nil {
		return c, err
	}
	rows, err := warehouse.Query(ctx, env.WH.DB, list)
	if err != nil {
		return c, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return c, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	m := Manifest{LogicalDate: env.DateString(), RunID: env.RunID, K: env.Config.Privacy.K}
	for _, t := range tables {
		final := filepath.Join(dir, t+".parquet")
		tmp := final + ".tmp"
		q := strings.NewReplacer("{{table}}", sqlfs.QuoteIdent(t), "{{path}}", warehouse.Quote(tmp)).Replace(copyTo)
		if _, err := env.WH.DB.ExecContext(ctx, q); err != nil {
			return c, fmt.Errorf("export cold.%s: %w", t, err)
		}
		if err := publish.File(tmp); err != nil {
			return c, fmt.Errorf("export cold.%s: %w", t, err)
		}
		if err := os.Rename(tmp, final); err != nil {
			return c, fmt.Errorf("export cold.%s: %w", t, err)
		}
		var n int64
		if err := warehouse.QueryRow(ctx, env.WH.DB, strings.ReplaceAll(count, "{{table}}", sqlfs.QuoteIdent(t))).Scan(&n); err != nil {
			return c, err
		}
		sum, err := fileSHA256(final)
		if err != nil {
			return c, err
		}
		m.Files = append(m.Files, ManifestFile{Table: t, File: t + ".parquet", Rows: n, SHA256: sum})
		c.Out += n
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	tmp := filepath.Join(dir, "manifest.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), publish.FileMode); err != nil {
		return c, err
	}
	if err := publish.File(tmp); err != nil {
		return c, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "manifest.json")); err != nil {
		return c, err
	}
	c.Detail = map[string]int64{"files": int64(len(m.Files))}
	return c, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
