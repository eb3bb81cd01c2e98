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
func Register(ctx context.Context, db DB, m *Model) error {
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
	_, err := db.ExecContext(ctx, `INSERT INTO ops.models
(id, kind, algorithm, params, train_cutoff, eval_cutoff, features, metrics, artifact, status, code_version, created_at, decision)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Kind, m.Algorithm, jsonOrNil(m.Params), m.TrainCutoff, m.EvalCutoff, feats, jsonOrNil(m.Metrics),
		m.Artifact, m.Status, m.CodeVersion, m.CreatedAt, nilIfEmpty(m.Decision))
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
func Promote(ctx context.Context, db DB, id, decision string) error {
	m, err := Get(ctx, db, id)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "UPDATE ops.models SET status = 'retired', decision = 'retired: replaced by ' || ? WHERE kind = ? AND status = 'promoted' AND id <> ?", id, m.Kind, id); err != nil {
		return fmt.Errorf("promote %s: %w", id, err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE ops.models SET status = 'promoted', promoted_at = now(), decision = coalesce(nullif(?, ''), decision) WHERE id = ?", decision, id); err != nil {
		return fmt.Errorf("promote %s: %w", id, err)
	}
	return nil
}

const columns = `id, kind, algorithm, CAST(params AS VARCHAR), train_cutoff, eval_cutoff, features,
  CAST(metrics AS VARCHAR), artifact, status, coalesce(code_version, ''), created_at, promoted_at, coalesce(decision, '')`

// Get reads one model.
func Get(ctx context.Context, db DB, id string) (*Model, error) {
	ms, err := list(ctx, db, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return ms[0], nil
}

// Promoted returns the promoted model of a kind.
func Promoted(ctx context.Context, db DB, kind string) (*Model, error) {
	ms, err := list(ctx, db, "WHERE kind = ? AND status = 'promoted' ORDER BY promoted_at DESC", kind)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%w: no promoted %s model", ErrNotFound, kind)
	}
	return ms[0], nil
}

// List returns every model, newest first (of one kind when kind is set).
func List(ctx context.Context, db DB, kind string) ([]*Model, error) {
	if kind != "" {
		return list(ctx, db, "WHERE kind = ? ORDER BY created_at DESC", kind)
	}
	return list(ctx, db, "ORDER BY created_at DESC")
}

func list(ctx context.Context, db DB, where string, args ...any) ([]*Model, error) {
	rows, err := db.QueryContext(ctx, "SELECT "+columns+" FROM ops.models "+where, args...)
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
