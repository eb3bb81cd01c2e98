package activate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// maxDeadInARow stops a destination after this many batches in a row
// failed temporarily: it is down, and its remaining batches wait for the
// next apply instead of each burning its retries.
const maxDeadInARow = 3

// DestinationResult is what one apply did for one destination: the line
// it writes in ops.sync_runs.
type DestinationResult struct {
	Destination  string  `json:"destination"`
	Batches      int     `json:"batches"`
	Planned      int64   `json:"planned"`
	Sent         int64   `json:"sent"`
	Accepted     int64   `json:"accepted"`
	Rejected     int64   `json:"rejected"`
	Retried      int64   `json:"retried"`
	DeadLettered int64   `json:"dead_lettered"`
	Skipped      int     `json:"skipped_batches"` // left for the next apply after the destination failed
	DurationS    float64 `json:"duration_s"`
	// Failure is the kind of the last failure: temporary or permanent.
	Failure string `json:"failure,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ApplyReport is what `activate apply` did.
type ApplyReport struct {
	Date         string              `json:"date"`
	Destinations []DestinationResult `json:"destinations"`
}

// ApplyOptions tune an apply.
type ApplyOptions struct {
	// AfterBatch, when set, is called after each batch is recorded; an
	// error stops the apply there (tests use it to stand for a crash).
	AfterBatch func(key string) error
}

// batchRow is one batch to send.
type batchRow struct {
	key, dest, segment, op, payload, sum string
	date                                 time.Time
	members                              int64
}

// Apply sends the planned batches of date, and every batch an earlier
// apply left dead, destination by destination in parallel. Each batch's
// payload file is checked against the SHA-256 the plan recorded and sent
// unchanged; what the destination accepted is recorded in ops.sync_state
// in one transaction with the batch, so a crash between batches resumes
// without re-sending accepted ones. A destination that fails does not
// hold up the others. The error is temporary (exit 75) when a destination
// failed temporarily, after the others finished.
func Apply(ctx context.Context, wh *warehouse.Warehouse, cfg *config.Config, date time.Time, runID string, log zerolog.Logger, opt ApplyOptions) (ApplyReport, error) {
	ds := date.Format(time.DateOnly)
	rep := ApplyReport{Date: ds, Destinations: []DestinationResult{}}
	batches, err := pendingBatches(ctx, wh, ds)
	if err != nil {
		return rep, err
	}
	var mu sync.Mutex // one writer at a time: DuckDB transactions on shared tables
	var wg sync.WaitGroup
	results := make([]DestinationResult, len(cfg.Activation.Destinations))
	errs := make([]error, len(cfg.Activation.Destinations))
	for i, d := range cfg.Activation.Destinations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = applyDestination(ctx, wh, cfg, d, batches[d.Name], log, opt, &mu)
		}()
	}
	wg.Wait()
	var temporary, other []error
	for i, r := range results {
		rep.Destinations = append(rep.Destinations, r)
		if _, err := wh.Run(context.WithoutCancel(ctx), wh.DB, sqlfs.Ref{File: syncRunsSQL, Section: "record_apply"}, sql.Named("run_id", runID),
			sql.Named("date", ds), sql.Named("destination", r.Destination), sql.Named("planned", r.Planned),
			sql.Named("sent", r.Sent), sql.Named("accepted", r.Accepted), sql.Named("rejected", r.Rejected),
			sql.Named("retried", r.Retried), sql.Named("dead_lettered", r.DeadLettered), sql.Named("duration_s", r.DurationS),
			sql.Named("error", redact.Text(r.Error))); err != nil {
			other = append(other, fmt.Errorf("sync log: %w", err))
		}
		if errs[i] == nil {
			continue
		}
		if r.Failure == string(delivery.Temporary) {
			temporary = append(temporary, errs[i])
		} else {
			other = append(other, errs[i])
		}
	}
	if err := errors.Join(other...); err != nil {
		return rep, fmt.Errorf("activate apply %s: %w", ds, errors.Join(append(other, temporary...)...))
	}
	if err := errors.Join(temporary...); err != nil {
		return rep, orchestration.Temporary(fmt.Errorf("activate apply %s: %w", ds, err), 0)
	}
	return rep, nil
}

// pendingBatches lists, per destination, the batches to send: the date's
// planned ones and every one up to the date left dead or unsettled
// ('sending': an apply died while sending it); removals first (privacy
// before reach), then in plan order.
func pendingBatches(ctx context.Context, wh *warehouse.Warehouse, ds string) (map[string][]batchRow, error) {
	q, err := wh.SQL.Section(batchesSQL, "pending")
	if err != nil {
		return nil, err
	}
	rs, err := warehouse.Query(ctx, wh.DB, q, sql.Named("date", ds))
	if err != nil {
		return nil, fmt.Errorf("pending batches: %w", err)
	}
	defer rs.Close()
	out := map[string][]batchRow{}
	for rs.Next() {
		var b batchRow
		if err := rs.Scan(&b.key, &b.dest, &b.segment, &b.op, &b.payload, &b.sum, &b.date, &b.members); err != nil {
			return nil, err
		}
		out[b.dest] = append(out[b.dest], b)
	}
	return out, rs.Err()
}

func applyDestination(ctx context.Context, wh *warehouse.Warehouse, cfg *config.Config, d config.Destination, batches []batchRow,
	log zerolog.Logger, opt ApplyOptions, mu *sync.Mutex) (DestinationResult, error) {
	started := time.Now()
	res := DestinationResult{Destination: d.Name}
	defer func() { res.DurationS = time.Since(started).Seconds() }()
	if len(batches) == 0 {
		return res, nil
	}
	c, err := Connect(d, log)
	if err != nil {
		res.Failure, res.Error = string(delivery.Permanent), err.Error()
		return res, err
	}
	deadInARow := 0
	var last error
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			res.Skipped = len(batches) - i
			res.Failure, res.Error = string(delivery.Temporary), err.Error()
			return res, fmt.Errorf("%s: %w", d.Name, err)
		}
		if erased, err := erasedSincePlan(ctx, wh, b.key); err != nil {
			res.Failure, res.Error = string(delivery.Permanent), err.Error()
			return res, fmt.Errorf("%s: %w", d.Name, err)
		} else if erased > 0 {
			res.Skipped++
			log.Warn().Str("destination", d.Name).Str("batch", b.key).Int("erased", erased).
				Msg("batch holds a member erased since the plan: not sent, re-planned by the next plan")
			continue
		}
		res.Batches++
		res.Planned += b.members
		mu.Lock()
		_, err := wh.Exec(context.WithoutCancel(ctx), sqlfs.Ref{File: "activation.apply.sql", Section: "sending"}, sql.Named("batch_key", b.key))
		mu.Unlock()
		if err != nil {
			res.Failure, res.Error = string(delivery.Permanent), err.Error()
			return res, fmt.Errorf("%s: mark %s sending: %w", d.Name, b.key, err)
		}
		out, sendErr := sendBatch(ctx, c, Dir(cfg), b)
		res.Sent += int64(len(out.Accepted) + len(out.Rejected))
		res.Accepted += int64(len(out.Accepted))
		res.Rejected += int64(len(out.Rejected))
		res.Retried += int64(out.Retries)
		status, kind, msg := "accepted", "", ""
		switch {
		case errors.Is(sendErr, errPayload):
			// The planned bytes are gone or changed: nothing was sent, and
			// re-sending cannot work. The next plan re-plans its members.
			status, msg, kind = "abandoned", sendErr.Error(), string(delivery.Permanent)
		case sendErr != nil:
			status, msg = "dead", sendErr.Error()
			kind = string(delivery.KindOf(sendErr))
			if kind != string(delivery.Permanent) {
				kind = string(delivery.Temporary)
			}
			res.DeadLettered += b.members - int64(len(out.Accepted)+len(out.Rejected))
		case len(out.Rejected) > 0:
			status = "partial"
		}
		mu.Lock()
		err = settle(context.WithoutCancel(ctx), wh, b.key, status, kind, msg, out)
		mu.Unlock()
		if err != nil {
			res.Failure, res.Error = string(delivery.Permanent), err.Error()
			return res, fmt.Errorf("%s: record %s: %w", d.Name, b.key, err)
		}
		if status != "dead" {
			if err := os.Remove(filepath.Join(Dir(cfg), b.payload)); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.Warn().Err(err).Str("batch", b.key).Msg("could not delete a sent payload file")
			}
		}
		if opt.AfterBatch != nil {
			if err := opt.AfterBatch(b.key); err != nil {
				res.Failure, res.Error = string(delivery.Temporary), err.Error()
				return res, err
			}
		}
		if sendErr == nil {
			deadInARow = 0
			continue
		}
		last = sendErr
		res.Failure, res.Error = kind, msg
		if status == "abandoned" {
			log.Error().Err(sendErr).Str("destination", d.Name).Str("batch", b.key).
				Msg("payload not as planned: batch abandoned, its members are re-planned by the next plan")
			continue
		}
		log.Warn().Err(sendErr).Str("destination", d.Name).Str("batch", b.key).Str("kind", kind).
			Msg("batch not delivered: dead-lettered for the next apply")
		deadInARow++
		if kind == string(delivery.Permanent) || deadInARow >= maxDeadInARow {
			res.Skipped = len(batches) - i - 1
			break
		}
	}
	if last != nil {
		return res, fmt.Errorf("%s: %w", d.Name, last)
	}
	return res, nil
}

// errPayload marks a payload file that is missing, changed or unreadable.
var errPayload = errors.New("payload file not as planned")

// sendBatch reads a payload file, checks it is the one planned, and
// delivers its requests in order.
func sendBatch(ctx context.Context, c delivery.Connector, dir string, b batchRow) (delivery.Outcome, error) {
	var total delivery.Outcome
	body, err := os.ReadFile(filepath.Join(dir, b.payload))
	if err != nil {
		return total, &delivery.Error{Kind: delivery.Permanent, Op: "read payload " + b.payload, Err: errors.Join(errPayload, err)}
	}
	h := sha256.Sum256(body)
	if got := hex.EncodeToString(h[:]); got != b.sum {
		return total, &delivery.Error{Kind: delivery.Permanent, Op: "read payload " + b.payload,
			Err: fmt.Errorf("%w: sha256 %s, the plan recorded %s: the file changed since it was planned", errPayload, got, b.sum)}
	}
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return total, &delivery.Error{Kind: delivery.Permanent, Op: "decode payload " + b.payload, Err: errors.Join(errPayload, err)}
	}
	for _, r := range p.Requests {
		out, err := delivery.Deliver(ctx, c, r)
		total.Accepted = append(total.Accepted, out.Accepted...)
		total.Rejected = append(total.Rejected, out.Rejected...)
		total.Requests += out.Requests
		total.Splits += out.Splits
		total.Attempts += out.Attempts
		total.Retries += out.Retries
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// settle records one batch's outcome in one transaction.
func settle(ctx context.Context, wh *warehouse.Warehouse, key, status, kind, msg string, out delivery.Outcome) error {
	conn, err := wh.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	keys := make([]string, 0, len(out.Accepted)+len(out.Rejected))
	outcomes := make([]string, 0, cap(keys))
	details := make([]string, 0, cap(keys))
	for _, k := range out.Accepted {
		keys, outcomes, details = append(keys, k), append(outcomes, "accepted"), append(details, "")
	}
	for _, r := range out.Rejected {
		keys, outcomes, details = append(keys, r.Key), append(outcomes, "rejected"), append(details, redact.Text(r.Reason))
	}
	return warehouse.InTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: applySQL, Section: "settled"}, sql.Named("member_keys", keys),
			sql.Named("outcomes", outcomes), sql.Named("details", details)); err != nil {
			return fmt.Errorf("settled members: %w", err)
		}
		_, err := wh.Run(ctx, conn, sqlfs.Ref{File: "activation.apply.sql", Section: "settle"}, sql.Named("batch_key", key),
			sql.Named("batch_status", status), sql.Named("failure_kind", kind), sql.Named("batch_error", redact.Text(msg)),
			sql.Named("attempts", out.Attempts))
		return err
	})
}

// erasedSincePlan counts the members of an upsert batch erased after it
// was planned (see the guard section of activation.apply.sql).
func erasedSincePlan(ctx context.Context, wh *warehouse.Warehouse, key string) (int, error) {
	q, err := wh.SQL.Section("activation.apply.sql", "guard")
	if err != nil {
		return 0, err
	}
	var n int
	if err := wh.DB.QueryRowContext(ctx, q, sql.Named("batch_key", key)).Scan(&n); err != nil {
		return 0, fmt.Errorf("erasure guard %s: %w", key, err)
	}
	return n, nil
}
