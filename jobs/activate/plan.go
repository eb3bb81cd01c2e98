package activate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// The SQL files whose sections the activation jobs read beside the
// transforms of activation.plan.sql and activation.apply.sql.
const (
	planSQL       = "activation.plan.sql"
	applySQL      = "activation.apply.sql"
	batchesSQL    = "ops.activation_batches.sql"
	audiencesSQL  = "ops.activation_audiences.sql"
	exclusionsSQL = "ops.activation_exclusions.sql"
	syncRunsSQL   = "ops.sync_runs.sql"
	syncStateSQL  = "ops.sync_state.sql"
)

// PlanBatchSize is the most members in one planned batch (one payload
// file); connectors cut a batch into requests of their own size.
const PlanBatchSize = 10000

// Payload is one planned batch as written to its file: the requests
// exactly as apply will send them.
type Payload struct {
	Destination string             `json:"destination"`
	Segment     string             `json:"segment"`
	Date        string             `json:"date"`
	Op          string             `json:"op"`
	Batch       int                `json:"batch"`
	Requests    []delivery.Request `json:"requests"`
}

// SegmentPlan is what a plan holds for one destination's segment.
type SegmentPlan struct {
	Destination string           `json:"destination"`
	Segment     string           `json:"segment"`
	Audience    int64            `json:"audience"` // members passing the gates
	Previous    *int64           `json:"previous,omitempty"`
	Alert       bool             `json:"size_alert"`
	Add         int64            `json:"add"`
	Update      int64            `json:"update"`
	Remove      int64            `json:"remove"`
	Unchanged   int64            `json:"unchanged"`
	InFlight    int64            `json:"in_flight"` // in a dead batch waiting to be re-sent
	Excluded    map[string]int64 `json:"excluded"`
	Batches     []string         `json:"batches"` // payload files, relative to the activation folder
	// Configured is false for a segment no longer in the config whose
	// members the destination still holds: it only gets privacy removals.
	Configured bool `json:"configured"`
}

// PlanReport is what `activate plan` computed for a date.
type PlanReport struct {
	Date     string        `json:"date"`
	Dir      string        `json:"dir"`
	Segments []SegmentPlan `json:"segments"`
	// Abandoned and Superseded count earlier batches this plan replaced.
	Abandoned  int64 `json:"abandoned"`
	Superseded int64 `json:"superseded"`
	SizeAlerts int   `json:"size_alerts"`
}

// row is one audience member as the audience SQL returns it, with what
// ops.sync_state holds for them at the destination.
type row struct {
	dest, segment, customer string
	present, inFlight       bool
	excluded                string
	remoteID, fingerprint   string // sync_state's, when present
}

// leaver is a member the destination holds that must leave it.
type leaver struct {
	dest, segment, customer, remoteID, reason string
}

// planned is one member of a batch being written.
type planned struct {
	m                     delivery.Member
	customer              string // "" once erased
	remoteID, fingerprint string
	kind, reason          string
}

// Plan computes the activation plan of date: for each configured
// destination and segment, the members to add, update and remove, after
// the consent, suppression and frequency-cap gates; it writes each batch's
// payload file (the exact requests apply will send) and records batches,
// members, exclusions, audience sizes and the sync log. No network call.
// conn must be a dedicated connection (temp tables).
func Plan(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg *config.Config, date time.Time, runID string, log zerolog.Logger) (PlanReport, error) {
	started := time.Now()
	ds := date.Format(time.DateOnly)
	rep := PlanReport{Date: ds, Dir: Dir(cfg), Segments: []SegmentPlan{}}
	dests := cfg.Activation.Destinations
	conns := map[string]delivery.Connector{}
	for _, d := range dests {
		c, err := Connect(d, log)
		if err != nil {
			return rep, err
		}
		conns[d.Name] = c
	}
	now := orchestration.EndOfDay(date, cfg.Location())
	args := []any{sql.Named("date", ds), sql.Named("now", now), sql.Named("cap", cfg.Activation.FrequencyCap),
		sql.Named("window_days", cfg.Activation.FrequencyWindowDays)}
	var replaced []string // payloads this plan replaces, abandons or supersedes
	err := warehouse.InTx(ctx, conn, func() error {
		if err := fillDestSegments(ctx, wh, conn, ds, dests); err != nil {
			return err
		}
		if len(dests) == 0 {
			// No destination and no batch to settle: the sections below
			// would change nothing, yet their gates join the consents and
			// the identity map (1.6 s at a million customers).
			var open int64
			if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: batchesSQL, Section: "open_count"}).Scan(&open); err != nil {
				return fmt.Errorf("%s open_count: %w", batchesSQL, err)
			}
			if open == 0 {
				return nil
			}
		}
		before, err := statusCounts(ctx, wh, conn)
		if err != nil {
			return err
		}
		if replaced, err = unsentPayloads(ctx, wh, conn, ds); err != nil {
			return err
		}
		for _, section := range []string{"abandon", "audience", "leaving"} {
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "activation.plan.sql", Section: section}, args...); err != nil {
				return err
			}
		}
		settled, err := droppedPayloads(ctx, wh, conn)
		if err != nil {
			return err
		}
		replaced = append(replaced, settled...)
		after, err := statusCounts(ctx, wh, conn)
		if err != nil {
			return err
		}
		rep.Abandoned = after["abandoned"] - before["abandoned"]
		rep.Superseded = after["superseded"] - before["superseded"]
		rows, err := readAudience(ctx, wh, conn)
		if err != nil {
			return err
		}
		leavers, err := readLeavers(ctx, wh, conn)
		if err != nil {
			return err
		}
		var keys []string
		for _, r := range rows {
			if r.excluded == "" && !r.inFlight {
				keys = append(keys, r.customer)
			}
		}
		for _, l := range leavers {
			if l.customer != "" { // a removal carries what the destination needs to unsubscribe
				keys = append(keys, l.customer)
			}
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		held, err := readHeld(ctx, wh, conn)
		if err != nil {
			return err
		}
		fields, err := readFields(ctx, wh, conn, keys, now)
		if err != nil {
			return err
		}
		for _, d := range dests {
			// Configured segments, then segments the destination still holds
			// members of but no longer configured: only privacy removals.
			segs := slices.Clone(d.Segments)
			for _, l := range leavers {
				if l.dest == d.Name && !slices.Contains(segs, l.segment) {
					segs = append(segs, l.segment)
				}
			}
			for i, seg := range segs {
				sp, err := planSegment(ctx, wh, conn, cfg, d, conns[d.Name], seg, ds, runID, rows, leavers, fields, held[d.Name+"\x00"+seg])
				if err != nil {
					return fmt.Errorf("plan %s %s: %w", d.Name, seg, err)
				}
				sp.Configured = i < len(d.Segments)
				rep.Segments = append(rep.Segments, sp)
			}
		}
		if err := recordSizes(ctx, wh, conn, cfg, ds, &rep); err != nil {
			return err
		}
		return recordPlanLog(ctx, wh, conn, runID, ds, rep, time.Since(started))
	})
	if err != nil {
		return rep, fmt.Errorf("activate plan %s: %w", ds, err)
	}
	if err := cleanPayloads(ctx, wh, rep.Dir, replaced); err != nil {
		log.Warn().Err(err).Msg("could not delete settled payload files")
	}
	for _, s := range rep.Segments {
		if s.Alert {
			log.Warn().Str("destination", s.Destination).Str("segment", s.Segment).Int64("audience", s.Audience).
				Int64("previous", *s.Previous).Float64("size_alert_share", cfg.Activation.SizeAlertShare).
				Msg("segment audience size moved past the alert share")
		}
	}
	return rep, nil
}

// fillDestSegments loads the configured destinations' segments, in
// priority order (config order), into the temp table the plan SQL reads.
func fillDestSegments(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ds string, dests []config.Destination) error {
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "activation.plan.sql", Section: "destinations"}, sql.Named("date", ds)); err != nil {
		return err
	}
	for i, d := range dests {
		for _, s := range d.Segments {
			family, name, _ := strings.Cut(s, ":")
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: planSQL, Section: "add_dest_segment"}, sql.Named("destination", d.Name),
				sql.Named("segment", s), sql.Named("family", family), sql.Named("name", name),
				sql.Named("is_trigger", family == "trigger"), sql.Named("purpose", d.Purpose),
				sql.Named("mirror", d.Mode == "mirror"), sql.Named("priority", i)); err != nil {
				return fmt.Errorf("dest_segments: %w", err)
			}
		}
	}
	return nil
}

func statusCounts(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (map[string]int64, error) {
	q, err := wh.SQL.Section(batchesSQL, "status_counts")
	if err != nil {
		return nil, err
	}
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("batch statuses: %w", err)
	}
	defer rs.Close()
	out := map[string]int64{}
	for rs.Next() {
		var s string
		var n int64
		if err := rs.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rs.Err()
}

func readAudience(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) ([]row, error) {
	q, err := wh.SQL.Section(planSQL, "read_audience")
	if err != nil {
		return nil, err
	}
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read audience: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.dest, &r.segment, &r.customer, &r.present, &r.inFlight, &r.excluded, &r.remoteID, &r.fingerprint); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func readLeavers(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) ([]leaver, error) {
	q, err := wh.SQL.Section(planSQL, "read_leavers")
	if err != nil {
		return nil, err
	}
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read leaving members: %w", err)
	}
	defer rs.Close()
	var out []leaver
	for rs.Next() {
		var l leaver
		if err := rs.Scan(&l.dest, &l.segment, &l.customer, &l.remoteID, &l.reason); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rs.Err()
}

// planSegment diffs one destination's segment against what it holds and
// writes the batches.
func planSegment(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg *config.Config, d config.Destination, c delivery.Connector,
	seg, ds, runID string, rows []row, leavers []leaver, fields map[string]memberFields, held map[string]string) (SegmentPlan, error) {
	sp := SegmentPlan{Destination: d.Name, Segment: seg, Excluded: map[string]int64{}, Batches: []string{}}
	want, cc := Fields(d), d.DefaultCountry
	var ups, removes []planned
	seen := map[string]bool{} // remote ids removed, so none twice
	for _, r := range rows {
		if r.dest != d.Name || r.segment != seg {
			continue
		}
		switch {
		case r.excluded != "":
			sp.Excluded[r.excluded]++
			continue
		case r.inFlight:
			sp.InFlight++
			sp.Audience++
			continue
		}
		m := fields[r.customer].member(r.customer, want, cc)
		rid, err := c.RemoteID(m)
		if err != nil || rid == "" {
			sp.Excluded["no_identifier"]++
			continue
		}
		sp.Audience++
		fp := fingerprint(m)
		switch {
		case !r.present && held[rid] != "" && held[rid] != r.customer:
			// Another customer with the same identifier (a shared
			// email) is already there: the destination holds it once.
			sp.Excluded["shared_identifier"]++
			sp.Audience--
			continue
		case !r.present:
			ups = append(ups, planned{m: m, customer: r.customer, remoteID: rid, fingerprint: fp, kind: "add"})
		case rid != r.remoteID:
			// The destination knows the member by an identifier that
			// changed: take the old one out, send the new one.
			ups = append(ups, planned{m: m, customer: r.customer, remoteID: rid, fingerprint: fp, kind: "update"})
			removes = append(removes, planned{m: delivery.Member{Key: r.remoteID, RemoteID: r.remoteID}, customer: r.customer,
				remoteID: r.remoteID, kind: "remove", reason: "identifier_changed"})
			seen[r.remoteID] = true
		case fp != r.fingerprint:
			ups = append(ups, planned{m: m, customer: r.customer, remoteID: rid, fingerprint: fp, kind: "update"})
		default:
			sp.Unchanged++
		}
	}
	for _, l := range leavers {
		if l.dest != d.Name || l.segment != seg || seen[l.remoteID] {
			continue
		}
		seen[l.remoteID] = true
		// Removals are reported by remote id (it survives an erasure
		// between plan and apply). A live member's removal carries their
		// fields, so an email platform unsubscribes them instead of
		// deleting them for good; an erased one has only the remote id.
		m := delivery.Member{Key: l.remoteID, RemoteID: l.remoteID}
		if l.customer != "" && l.reason != "erased" {
			m = fields[l.customer].member(l.remoteID, want, cc)
			m.RemoteID = l.remoteID
		}
		m.Reason = l.reason
		removes = append(removes, planned{m: m, customer: l.customer, remoteID: l.remoteID, kind: "remove", reason: l.reason})
	}
	// Two customers may share an identifier the destination matches on
	// (a shared email): it can hold it once.
	ups = dedupeRemote(ups, sp.Excluded)
	for _, p := range ups {
		if p.kind == "add" {
			sp.Add++
		} else {
			sp.Update++
		}
	}
	sp.Remove = int64(len(removes))
	for _, op := range []struct {
		name    string
		members []planned
	}{{delivery.OpRemove, removes}, {delivery.OpUpsert, ups}} {
		files, skipped, err := writeBatches(ctx, wh, conn, cfg, d, c, seg, ds, runID, op.name, op.members)
		if err != nil {
			return sp, err
		}
		sp.Batches = append(sp.Batches, files...)
		for code, n := range skipped {
			sp.Excluded[code] += n
			if op.name == delivery.OpUpsert {
				sp.Audience -= n
			}
		}
	}
	for reason, n := range sp.Excluded {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: exclusionsSQL, Section: "record"}, sql.Named("date", ds), sql.Named("destination", d.Name),
			sql.Named("segment", seg), sql.Named("reason", reason), sql.Named("customers", n)); err != nil {
			return sp, fmt.Errorf("record exclusions: %w", err)
		}
	}
	return sp, nil
}

// dedupeRemote keeps the first member of each remote id (in customer key
// order), counting the others as excluded.
func dedupeRemote(ps []planned, excluded map[string]int64) []planned {
	seen := make(map[string]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if seen[p.remoteID] {
			excluded["shared_identifier"]++
			continue
		}
		seen[p.remoteID] = true
		out = append(out, p)
	}
	return out
}

// writeBatches cuts members into batches, encodes each with the connector,
// writes its payload file and records the batch and its members. It
// returns the files and how many members the connector could not carry,
// by reason code (a rejection reason's part before ':', such as
// no_identifier or consent_ad_user_data).
func writeBatches(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg *config.Config, d config.Destination, c delivery.Connector,
	seg, ds, runID, op string, members []planned) ([]string, map[string]int64, error) {
	if len(members) == 0 {
		return nil, nil, nil
	}
	slices.SortFunc(members, func(a, b planned) int { return strings.Compare(a.m.Key, b.m.Key) })
	segKey := SegmentKey(seg)
	nextQ, err := wh.SQL.Section(batchesSQL, "next_batch")
	if err != nil {
		return nil, nil, err
	}
	var next int
	if err := warehouse.QueryRow(ctx, conn, nextQ, sql.Named("destination", d.Name), sql.Named("segment", seg),
		sql.Named("date", ds), sql.Named("op", op)).Scan(&next); err != nil {
		return nil, nil, fmt.Errorf("next batch number: %w", err)
	}
	roleQ, err := wh.SQL.Section(planSQL, "shard_role")
	if err != nil {
		return nil, nil, err
	}
	var role string // a customer shard's batches carry its number (delivery.IdempotencyKey)
	if err := conn.QueryRowContext(ctx, roleQ).Scan(&role); err != nil {
		return nil, nil, fmt.Errorf("warehouse role: %w", err)
	}
	var files []string
	skipped := map[string]int64{}
	for start := 0; start < len(members); start += PlanBatchSize {
		chunk := members[start:min(start+PlanBatchSize, len(members))]
		b := delivery.Batch{Destination: d.Name, Segment: segKey, Date: ds, Number: next, Op: op,
			Shard: strings.Replace(role, "/", "of", 1), Members: make([]delivery.Member, len(chunk))}
		for i, p := range chunk {
			b.Members[i] = p.m
		}
		reqs, skip, err := c.Encode(b)
		if err != nil {
			return nil, nil, err
		}
		gone := map[string]bool{}
		for _, s := range skip {
			gone[s.Key] = true
			code, _, _ := strings.Cut(s.Reason, ":")
			skipped[code]++
		}
		key := delivery.IdempotencyKey(b)
		// The plan's run id in the name: a re-plan that fails half way
		// never overwrites the file of a batch that stays planned.
		rel := filepath.Join(ds, d.Name, fmt.Sprintf("%s-%s-%05d-%s.json", segKey, op, next, runID))
		sum, err := writePayload(filepath.Join(Dir(cfg), rel), Payload{Destination: d.Name, Segment: seg, Date: ds,
			Op: op, Batch: next, Requests: reqs})
		if err != nil {
			return nil, nil, err
		}
		n := int64(len(chunk) - len(gone))
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: batchesSQL, Section: "record_planned"}, sql.Named("idempotency_key", key),
			sql.Named("date", ds), sql.Named("destination", d.Name), sql.Named("segment", seg), sql.Named("op", op),
			sql.Named("batch", next), sql.Named("members", n), sql.Named("requests", len(reqs)),
			sql.Named("payload", rel), sql.Named("sha256", sum)); err != nil {
			return nil, nil, fmt.Errorf("record batch %s: %w", key, err)
		}
		if err := appendMembers(conn, key, chunk, gone); err != nil {
			return nil, nil, fmt.Errorf("record members of %s: %w", key, err)
		}
		files = append(files, rel)
		next++
	}
	return files, skipped, nil
}

// appendMembers records a batch's members through DuckDB's appender (list
// parameters cost more to bind than the rows cost to write).
func appendMembers(conn *sql.Conn, key string, chunk []planned, gone map[string]bool) error {
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", "ops", "activation_members")
		if err != nil {
			return err
		}
		for _, p := range chunk {
			if gone[p.m.Key] {
				continue
			}
			row := []driver.Value{key, p.m.Key, nullable(p.customer), p.remoteID, p.fingerprint, p.kind, nullable(p.reason), nil, nil}
			if err := app.AppendRow(row...); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
}

func nullable(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// SegmentKey is a configured segment as it appears in idempotency keys and
// file names: printable ASCII without '/' or spaces.
func SegmentKey(seg string) string {
	var b strings.Builder
	for _, r := range seg {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.', r == ':':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// writePayload writes a payload file atomically (temp file, fsync,
// rename) and returns its SHA-256.
func writePayload(path string, p Payload) (string, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode payload %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("payload folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".payload-*")
	if err != nil {
		return "", fmt.Errorf("write payload %s: %w", path, err)
	}
	_, werr := tmp.Write(body)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("write payload %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("write payload %s: %w", path, err)
	}
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:]), nil
}

// recordSizes writes each segment's audience size against its previous
// plan and flags moves past the alert share (never for triggers, whose
// daily fires move by nature).
func recordSizes(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg *config.Config, ds string, rep *PlanReport) error {
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: audiencesSQL, Section: "clear_date"}, sql.Named("date", ds)); err != nil {
		return fmt.Errorf("audience sizes: %w", err)
	}
	prevQ, err := wh.SQL.Section(audiencesSQL, "previous")
	if err != nil {
		return err
	}
	for i := range rep.Segments {
		s := &rep.Segments[i]
		if !s.Configured {
			continue
		}
		var prev sql.NullInt64
		err := warehouse.QueryRow(ctx, conn, prevQ, sql.Named("destination", s.Destination), sql.Named("segment", s.Segment),
			sql.Named("date", ds)).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("previous audience size: %w", err)
		}
		var change sql.NullFloat64
		if prev.Valid {
			p := prev.Int64
			s.Previous = &p
			if p > 0 {
				change = sql.NullFloat64{Float64: float64(s.Audience-p) / float64(p), Valid: true}
			}
			trigger := strings.HasPrefix(s.Segment, "trigger:")
			moved := (p == 0 && s.Audience > 0) || (change.Valid && math.Abs(change.Float64) > cfg.Activation.SizeAlertShare)
			s.Alert = !trigger && moved
		}
		if s.Alert {
			rep.SizeAlerts++
		}
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: audiencesSQL, Section: "record"}, sql.Named("date", ds), sql.Named("destination", s.Destination),
			sql.Named("segment", s.Segment), sql.Named("members", s.Audience), sql.Named("previous", prev),
			sql.Named("change", change), sql.Named("alert", s.Alert)); err != nil {
			return fmt.Errorf("audience sizes: %w", err)
		}
	}
	return nil
}

// recordPlanLog writes the plan's line per destination in ops.sync_runs.
func recordPlanLog(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, runID, ds string, rep PlanReport, took time.Duration) error {
	type agg struct{ planned, excluded, alerts int64 }
	per := map[string]*agg{}
	var order []string
	for _, s := range rep.Segments {
		a := per[s.Destination]
		if a == nil {
			a = &agg{}
			per[s.Destination] = a
			order = append(order, s.Destination)
		}
		a.planned += s.Add + s.Update + s.Remove
		for _, n := range s.Excluded {
			a.excluded += n
		}
		if s.Alert {
			a.alerts++
		}
	}
	for _, d := range order {
		a := per[d]
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: syncRunsSQL, Section: "record_plan"}, sql.Named("run_id", runID), sql.Named("date", ds),
			sql.Named("destination", d), sql.Named("planned", a.planned), sql.Named("excluded", a.excluded),
			sql.Named("size_alerts", a.alerts), sql.Named("duration_s", took.Seconds())); err != nil {
			return fmt.Errorf("sync log: %w", err)
		}
	}
	return nil
}

// cleanPayloads deletes the payload files this plan dropped (they hold
// personal data; apply deletes the files of the batches it settles). A
// re-plan under the same run id may have written a new batch under a
// dropped file's name: that one stays.
func cleanPayloads(ctx context.Context, wh *warehouse.Warehouse, dir string, dropped []string) error {
	if len(dropped) == 0 {
		return nil
	}
	q, err := wh.SQL.Section(batchesSQL, "current_payloads")
	if err != nil {
		return err
	}
	cur, err := wh.DB.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	current := map[string]bool{}
	for cur.Next() {
		var p string
		if err := cur.Scan(&p); err != nil {
			cur.Close()
			return err
		}
		current[p] = true
	}
	cur.Close()
	var errs []error
	for _, rel := range dropped {
		if current[rel] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, rel)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, cur.Err())...)
}

// droppedPayloads lists the payload files of the batches the abandon
// section just abandoned or superseded.
func droppedPayloads(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) ([]string, error) {
	return payloads(ctx, wh, conn, "dropped_payloads")
}

// unsentPayloads lists the payload files of the date's plan never sent:
// this plan replaces them.
func unsentPayloads(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ds string) ([]string, error) {
	return payloads(ctx, wh, conn, "unsent_payloads", sql.Named("date", ds))
}

// payloads lists the payload files a section of ops.activation_batches.sql
// selects.
func payloads(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, section string, args ...any) ([]string, error) {
	q, err := wh.SQL.Section(batchesSQL, section)
	if err != nil {
		return nil, err
	}
	rs, err := warehouse.Query(ctx, conn, q, args...)
	if err != nil {
		return nil, fmt.Errorf("payload files: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var p string
		if err := rs.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// readHeld maps each destination's segment ("destination\x00segment") to
// the remote ids it holds and the customer each stands for.
func readHeld(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (map[string]map[string]string, error) {
	q, err := wh.SQL.Section(syncStateSQL, "held")
	if err != nil {
		return nil, err
	}
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	defer rs.Close()
	out := map[string]map[string]string{}
	for rs.Next() {
		var d, s, rid, ck string
		if err := rs.Scan(&d, &s, &rid, &ck); err != nil {
			return nil, err
		}
		k := d + "\x00" + s
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		out[k][rid] = ck
	}
	return out, rs.Err()
}
