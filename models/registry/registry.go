// Package registry records trained models in ops.models and keeps their
// artifacts under <warehouse>/models/: registration, promotion (at most one
// promoted model per kind), listing and loading.
package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
)

// Model is one row of ops.models.
type Model struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Algorithm   string          `json:"algorithm"`
	Params      json.RawMessage `json:"params,omitempty"`
	TrainCutoff *time.Time      `json:"train_cutoff,omitempty"`
	EvalCutoff  *time.Time      `json:"eval_cutoff,omitempty"`
	Features    []string        `json:"features,omitempty"`
	Metrics     json.RawMessage `json:"metrics,omitempty"`
	Artifact    string          `json:"artifact"`
	Status      string          `json:"status"`
	CodeVersion string          `json:"code_version,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	PromotedAt  *time.Time      `json:"promoted_at,omitempty"`
	// Decision says why the model was promoted or not, in words; a retired
	// model says which one replaced it.
	Decision string `json:"decision,omitempty"`
}

// ErrNotFound is returned for an unknown model id or a kind with no
// promoted model.
var ErrNotFound = errors.New("model not found")

// DB is what the registry needs of a database handle.
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Sections is where the registry's statements come from: the warehouse's
// SQL set (embedded, or the config's sql_dir), a *sql.Set of the sql package.
type Sections interface {
	Section(file, section string) (string, error)
}

// modelsSQL holds the registry's statements.
const modelsSQL = "ops.models.sql"

// NewID names a model: kind, algorithm and creation time.
func NewID(kind, algorithm string, now time.Time) string {
	return fmt.Sprintf("%s-%s-%s", kind, algorithm, now.UTC().Format("20060102T150405.000"))
}

// CodeVersion is the VCS revision the binary was built from, when known.
func CodeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	if rev == "" {
		rev = bi.Main.Version
	}
	return rev
}

// SaveArtifact writes a model's bytes under <warehouse>/models/ atomically
// and returns the path relative to the warehouse.
func SaveArtifact(warehouseDir, id string, b []byte) (string, error) {
	rel := filepath.Join("models", id+".model")
	path := filepath.Join(warehouseDir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("save model %s: %w", id, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", fmt.Errorf("save model %s: %w", id, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("save model %s: %w", id, err)
	}
	return rel, nil
}

// LoadArtifact reads a model's bytes.
func LoadArtifact(warehouseDir string, m *Model) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(warehouseDir, m.Artifact))
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", m.ID, err)
	}
	return b, nil
}

// Register records a model as a candidate.
func Register(ctx context.Context, db DB, sqls Sections, m *Model) error {
	if m.Status == "" {
		m.Status = "candidate"
	}
	if m.CodeVersion == "" {
		m.CodeVersion = CodeVersion()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	feats := m.Features
	if feats == nil {
		feats = []string{}
	}
	q, err := sqls.Section(modelsSQL, "register")
	if err != nil {
		return err
	}
	_, err = warehouse.ExecScript(ctx, db, q,
		sql.Named("id", m.ID), sql.Named("kind", m.Kind), sql.Named("algorithm", m.Algorithm), sql.Named("params", jsonOrNil(m.Params)),
		sql.Named("train_cutoff", m.TrainCutoff), sql.Named("eval_cutoff", m.EvalCutoff), sql.Named("features", feats),
		sql.Named("metrics", jsonOrNil(m.Metrics)), sql.Named("artifact", m.Artifact), sql.Named("status", m.Status),
		sql.Named("code_version", m.CodeVersion), sql.Named("created_at", m.CreatedAt), sql.Named("decision", nilIfEmpty(m.Decision)))
	if err != nil {
		return fmt.Errorf("register model %s: %w", m.ID, err)
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func jsonOrNil(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Promote makes a model the one nightly scoring uses for its kind, saying
// why (decision; "" keeps the one it was registered with); the previously
// promoted one is retired, naming its successor.
func Promote(ctx context.Context, db DB, sqls Sections, id, decision string) error {
	m, err := Get(ctx, db, sqls, id)
	if err != nil {
		return err
	}
	for _, section := range []string{"retire_promoted", "promote"} {
		q, err := sqls.Section(modelsSQL, section)
		if err != nil {
			return err
		}
		if _, err := warehouse.ExecScript(ctx, db, q, sql.Named("id", id), sql.Named("kind", m.Kind), sql.Named("decision", decision)); err != nil {
			return fmt.Errorf("promote %s: %w", id, err)
		}
	}
	return nil
}

// Get reads one model.
func Get(ctx context.Context, db DB, sqls Sections, id string) (*Model, error) {
	ms, err := list(ctx, db, sqls, "get", sql.Named("id", id))
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return ms[0], nil
}

// Promoted returns the promoted model of a kind.
func Promoted(ctx context.Context, db DB, sqls Sections, kind string) (*Model, error) {
	ms, err := list(ctx, db, sqls, "promoted", sql.Named("kind", kind))
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: no promoted %s model", ErrNotFound, kind)
	}
	return ms[0], nil
}

// List returns every model, newest first (of one kind when kind is set).
func List(ctx context.Context, db DB, sqls Sections, kind string) ([]*Model, error) {
	return list(ctx, db, sqls, "list", sql.Named("kind", kind))
}

// list reads the models a section of ops.models.sql selects.
func list(ctx context.Context, db DB, sqls Sections, section string, args ...any) ([]*Model, error) {
	q, err := sqls.Section(modelsSQL, section)
	if err != nil {
		return nil, err
	}
	rows, err := warehouse.Query(ctx, db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read model registry: %w", err)
	}
	defer rows.Close()
	var out []*Model
	for rows.Next() {
		var m Model
		var params, metrics sql.NullString
		var train, eval, promoted sql.NullTime
		var feats []any
		if err := rows.Scan(&m.ID, &m.Kind, &m.Algorithm, &params, &train, &eval, &feats, &metrics,
			&m.Artifact, &m.Status, &m.CodeVersion, &m.CreatedAt, &promoted, &m.Decision); err != nil {
			return nil, err
		}
		if params.Valid {
			m.Params = json.RawMessage(params.String)
		}
		if metrics.Valid {
			m.Metrics = json.RawMessage(metrics.String)
		}
		if train.Valid {
			m.TrainCutoff = &train.Time
		}
		if eval.Valid {
			m.EvalCutoff = &eval.Time
		}
		if promoted.Valid {
			m.PromotedAt = &promoted.Time
		}
		for _, f := range feats {
			m.Features = append(m.Features, fmt.Sprint(f))
		}
		out = append(out, &m)
	}
	return out, rows.Err()
}
