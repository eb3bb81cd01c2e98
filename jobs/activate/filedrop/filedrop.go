// Package filedrop delivers segment batches as files into an outbox folder
// that another system collects (SFTP sync, a bucket mirror, a BI tool):
// one CSV, JSONL or Parquet file per batch, named
// <destination>_<segment>_<date>_<op>_<batch>.<ext>, and beside it
// <file>.manifest.json with the row count, byte size and SHA-256 of the
// file. Both are written atomically (hidden temporary name in the same
// folder, fsync, rename), the manifest last: a collector that waits for
// the manifest, or ignores dot-files, never sees a half-written file.
// Sending the same batch again is a no-op. Files get Config.FileMode
// (default 0640: owner and the collector's group) before they are renamed
// into place.
package filedrop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// Formats.
const (
	CSV     = "csv"
	JSONL   = "jsonl"
	Parquet = "parquet"
)

// Request headers carrying what the manifest records (set by Encode, so a
// planned request file is self-describing).
const (
	headerDestination = "X-Parcours-Destination"
	headerSegment     = "X-Parcours-Segment"
	headerDate        = "X-Parcours-Date"
	headerOp          = "X-Parcours-Op"
	headerBatch       = "X-Parcours-Batch"
	headerRows        = "X-Parcours-Rows"
	headerFormat      = "X-Parcours-Format"
)

// Config is one file-drop destination.
type Config struct {
	Name string
	// Outbox is the folder files are dropped into (created if missing).
	Outbox string
	// Format is csv, jsonl or parquet.
	Format string
	// FileMode is the permission of dropped files and manifests (default
	// DefaultFileMode); never world-writable, always owner-readable.
	FileMode os.FileMode
	Logger   zerolog.Logger
}

// DefaultFileMode lets the owner write and the collector's group read:
// files hold personal data, so others get nothing.
const DefaultFileMode os.FileMode = 0o640

// ParseFileMode reads a configured mode such as "0640" (octal; "" is
// DefaultFileMode) and checks it with CheckFileMode.
func ParseFileMode(s string) (os.FileMode, error) {
	if s == "" {
		return DefaultFileMode, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("file mode %q: want octal permission bits such as 0640", s)
	}
	m := os.FileMode(n)
	return m, CheckFileMode(m)
}

// CheckFileMode refuses world-writable modes (anyone could alter a file
// before it is collected) and modes the owner cannot read (a re-send
// compares the file on disk to skip rewriting it).
func CheckFileMode(m os.FileMode) error {
	switch {
	case m&^os.ModePerm != 0:
		return fmt.Errorf("file mode %#o: permission bits only", m)
	case m&0o002 != 0:
		return fmt.Errorf("file mode %#o: must not be world-writable", m)
	case m&0o400 == 0:
		return fmt.Errorf("file mode %#o: the owner must be able to read", m)
	}
	return nil
}

// Connector is a file-drop destination.
type Connector struct {
	cfg Config
	// failAfter makes data writes fail after that many bytes (tests).
	failAfter int64
}

// New validates cfg and builds the connector.
func New(cfg Config) (*Connector, error) {
	var errs []error
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, `/\ `) {
		errs = append(errs, errors.New("name is required, without slashes or spaces"))
	}
	if cfg.Outbox == "" {
		errs = append(errs, errors.New("outbox is required"))
	}
	if cfg.Format != CSV && cfg.Format != JSONL && cfg.Format != Parquet {
		errs = append(errs, fmt.Errorf("format %q: want csv, jsonl or parquet", cfg.Format))
	}
	if cfg.FileMode == 0 {
		cfg.FileMode = DefaultFileMode
	}
	if err := CheckFileMode(cfg.FileMode); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("filedrop %s: %w", cfg.Name, err)
	}
	return &Connector{cfg: cfg}, nil
}

// Name implements delivery.Connector.
func (c *Connector) Name() string { return c.cfg.Name }

// RemoteID implements delivery.Connector: files carry the pseudonymous key.
func (c *Connector) RemoteID(m delivery.Member) (string, error) {
	if m.Key == "" {
		return "", errors.New("filedrop: member without key")
	}
	return m.Key, nil
}

// Manifest describes one dropped file.
type Manifest struct {
	File        string `json:"file"`
	Rows        int    `json:"rows"`
	Bytes       int    `json:"bytes"`
	SHA256      string `json:"sha256"`
	Format      string `json:"format"`
	Destination string `json:"destination"`
	Segment     string `json:"segment"`
	Date        string `json:"date"`
	Op          string `json:"op"`
	Batch       int    `json:"batch"`
}

// ManifestName is the manifest file of a data file.
func ManifestName(file string) string { return file + ".manifest.json" }

// FileName is the data file of a batch. Characters outside [A-Za-z0-9.-]
// (the ':' of "rfm:champions", for one) become '-', so names are portable.
func FileName(b delivery.Batch, format string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
				return r
			}
			return '-'
		}, s)
	}
	return fmt.Sprintf("%s_%s_%s_%s_%05d.%s", clean(b.Destination), clean(b.Segment), clean(b.Date), b.Op, b.Number, format)
}

// Encode implements delivery.Connector: one file per batch, whole in the
// request body.
func (c *Connector) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("filedrop %s: %w", c.cfg.Name, err)
	}
	header, attrs := columns(b.Members)
	data := rows(b.Members, header, attrs)
	var body []byte
	var err error
	ctype := ""
	switch c.cfg.Format {
	case CSV:
		body, err = encodeCSV(header, data)
		ctype = "text/csv; charset=utf-8"
	case JSONL:
		body, err = encodeJSONL(header, data)
		ctype = "application/x-ndjson"
	case Parquet:
		body, err = encodeParquet(header, data)
		ctype = "application/vnd.apache.parquet"
	}
	if err != nil {
		return nil, nil, fmt.Errorf("filedrop %s: encode %s: %w", c.cfg.Name, delivery.IdempotencyKey(b), err)
	}
	h := http.Header{}
	h.Set("Content-Type", ctype)
	h.Set(headerDestination, b.Destination)
	h.Set(headerSegment, b.Segment)
	h.Set(headerDate, b.Date)
	h.Set(headerOp, b.Op)
	h.Set(headerBatch, strconv.Itoa(b.Number))
	h.Set(headerRows, strconv.Itoa(len(b.Members)))
	h.Set(headerFormat, c.cfg.Format)
	keys := make([]string, len(b.Members))
	for i, m := range b.Members {
		keys[i] = m.Key
	}
	return []delivery.Request{{Key: delivery.IdempotencyKey(b), Method: http.MethodPut, Path: FileName(b, c.cfg.Format),
		Header: h, Body: body, Members: keys}}, nil, nil
}

// manifest is what Send records for r.
func (c *Connector) manifest(r delivery.Request) (Manifest, error) {
	rows, err := strconv.Atoi(r.Header.Get(headerRows))
	if err != nil {
		return Manifest{}, fmt.Errorf("row count header: %w", err)
	}
	batch, err := strconv.Atoi(r.Header.Get(headerBatch))
	if err != nil {
		return Manifest{}, fmt.Errorf("batch header: %w", err)
	}
	sum := sha256.Sum256(r.Body)
	return Manifest{File: r.Path, Rows: rows, Bytes: len(r.Body), SHA256: hex.EncodeToString(sum[:]),
		Format: r.Header.Get(headerFormat), Destination: r.Header.Get(headerDestination), Segment: r.Header.Get(headerSegment),
		Date: r.Header.Get(headerDate), Op: r.Header.Get(headerOp), Batch: batch}, nil
}

// Send implements delivery.Connector: writes the file, then its manifest.
// If both are already there with the same content, nothing is written.
// File-system failures are temporary (a full disk, an unmounted share)
// except permission errors.
func (c *Connector) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("filedrop %s send %s", c.cfg.Name, r.Key)
	accepted := delivery.Result{Accepted: r.Members}
	if r.Path == "" || r.Path != filepath.Base(r.Path) || strings.HasPrefix(r.Path, ".") {
		return delivery.Result{}, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: fmt.Errorf("file name %q: want a plain, visible name", r.Path)}
	}
	m, err := c.manifest(r)
	if err != nil {
		return delivery.Result{}, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: err}
	}
	mbody, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return delivery.Result{}, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: err}
	}
	mbody = append(mbody, '\n')
	final := filepath.Join(c.cfg.Outbox, r.Path)
	if c.same(final, r.Body) && c.same(filepath.Join(c.cfg.Outbox, ManifestName(r.Path)), mbody) {
		c.cfg.Logger.Debug().Str("destination", c.cfg.Name).Str("file", r.Path).Msg("already delivered")
		return accepted, nil
	}
	if err := c.makeOutbox(); err != nil {
		return delivery.Result{}, fsError(op, err)
	}
	accepted.Attempts = 1
	if err := writeAtomic(ctx, c.cfg.Outbox, r.Path, r.Body, c.cfg.FileMode, c.failAfter); err != nil {
		return delivery.Result{Attempts: 1}, fsError(op, err)
	}
	if err := writeAtomic(ctx, c.cfg.Outbox, ManifestName(r.Path), mbody, c.cfg.FileMode, 0); err != nil {
		return delivery.Result{Attempts: 1}, fsError(op, err)
	}
	c.cfg.Logger.Debug().Str("destination", c.cfg.Name).Str("file", r.Path).Int("rows", m.Rows).Msg("file dropped")
	return accepted, nil
}

// makeOutbox creates a missing outbox with DirMode(FileMode): parcours
// runs under umask 077, which would leave a new folder 0700 and the
// collector's group unable to reach files it may read. A folder that
// already exists is the operator's, and keeps its mode.
func (c *Connector) makeOutbox() error {
	if _, err := os.Stat(c.cfg.Outbox); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(c.cfg.Outbox, 0o700); err != nil {
		return err
	}
	return os.Chmod(c.cfg.Outbox, DirMode(c.cfg.FileMode))
}

// DirMode is the mode of an outbox folder parcours creates: the file mode
// with search (x) added wherever it lets a class read.
func DirMode(file os.FileMode) os.FileMode {
	m := file & os.ModePerm
	for _, r := range []os.FileMode{0o400, 0o040, 0o004} {
		if m&r != 0 {
			m |= r >> 2
		}
	}
	return m
}

// same says path holds want with the configured mode (a changed mode is
// applied by rewriting, the same atomic way).
func (c *Connector) same(path string, want []byte) bool {
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != c.cfg.FileMode {
		return false
	}
	got, err := os.ReadFile(path)
	return err == nil && bytes.Equal(got, want)
}

func fsError(op string, err error) error {
	kind := delivery.Temporary
	if errors.Is(err, fs.ErrPermission) {
		kind = delivery.Permanent
	}
	return &delivery.Error{Kind: kind, Op: op, Err: err}
}
