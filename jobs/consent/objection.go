package consent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Objection is one record `privacy object|contest|resolve` adds to
// consent.objections: an objection (GDPR article 21) or a contest of an
// automated decision (article 22), or their withdrawal or resolution.
type Objection struct {
	// Scope is profiling, marketing or contest; Action what the audit
	// calls the record (objection, objection_withdrawn, contest,
	// contest_resolved).
	Scope, Action string
	// Active is true for an objection or contest in force, false for its
	// withdrawal or resolution.
	Active bool
	// RequestID names the request (default cli:<time>); Note is the
	// subject's reason or a resolution note, kept as given.
	RequestID, Note string
}

// Recorded is what RecordObjection did (fields in the order the command
// has always printed them as JSON).
type Recorded struct {
	Action    string `json:"action"`
	Customers int    `json:"customers"`
	// Detail says what changes from the next run, in words (also in the
	// privacy audit).
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Scope     string `json:"scope"`
	Type      string `json:"type"`
}

// RecordObjection writes one record for the identifier value of type typ
// and its privacy audit row, dated now in the business time zone loc. The
// record holds the identifier's token, never the identifier; it applies to
// whoever holds it, now or later.
func RecordObjection(ctx context.Context, wh *warehouse.Warehouse, typ, value string, o Objection, now time.Time, loc *time.Location) (Recorded, error) {
	rec := Recorded{Action: o.Action, Scope: o.Scope, Type: typ, RequestID: o.RequestID}
	if rec.RequestID == "" {
		rec.RequestID = "cli:" + now.UTC().Format(time.RFC3339Nano)
	}
	const file = "consent.objections.sql"
	var token sql.NullString
	if err := wh.QueryRowSection(ctx, wh.DB, sqlfs.Ref{File: file, Section: "token"}, sql.Named("id_type", typ), sql.Named("value", value)).Scan(&token); err != nil {
		return rec, err
	}
	if !token.Valid {
		return rec, orchestration.Usage("%s is not a usable %s", typ, typ)
	}
	var was sql.NullBool
	if err := wh.QueryRowSection(ctx, wh.DB, sqlfs.Ref{File: file, Section: "latest"}, sql.Named("id_token", token.String), sql.Named("scope", o.Scope)).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rec, err
	}
	q, err := wh.SQL.Section(file, "customers")
	if err != nil {
		return rec, err
	}
	rows, err := warehouse.QueryMaps(ctx, wh.DB, q, sql.Named("id_token", token.String))
	if err != nil {
		return rec, err
	}
	rec.Customers = len(rows)
	var noteArg any
	if o.Note != "" {
		noteArg = o.Note
	}
	if _, err := wh.Exec(ctx, sqlfs.Ref{File: file, Section: "record"}, sql.Named("record_id", rec.RequestID+":"+o.Scope),
		sql.Named("id_token", token.String), sql.Named("id_type", typ), sql.Named("scope", o.Scope),
		sql.Named("active", o.Active), sql.Named("request_id", rec.RequestID), sql.Named("note", noteArg)); err != nil {
		return rec, fmt.Errorf("record %s: %w", o.Action, err)
	}
	effect := map[string]string{
		"objection":           "no score, segment, trigger or activation from the next run",
		"objection_withdrawn": "processing resumes from the next run, within the consents given",
		"contest":             "no automated decision (score, segment, trigger, activation) from the next run until resolved",
		"contest_resolved":    "automated decisions resume from the next run",
	}[o.Action]
	if o.Action == "objection" && o.Scope == "marketing" {
		effect = "no segment, trigger or activation from the next run"
	}
	rec.Detail = fmt.Sprintf("%s (%s identifier); %s", o.Scope, typ, effect)
	switch {
	case rec.Customers == 0:
		rec.Detail += "; no customer holds this identifier yet: it applies when one does"
	case o.Active && was.Valid && was.Bool:
		rec.Detail += "; already in force"
	case !o.Active && !(was.Valid && was.Bool):
		rec.Detail += "; none was in force"
	}
	subject := ""
	if rec.Customers > 0 {
		subject = fmt.Sprint(rows[0]["customer_key"])[:12]
	}
	local := now.In(loc)
	date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	if err := purge.WriteAudit(ctx, wh, wh.DB, rec.RequestID, date, []purge.Audit{{Action: o.Action, RequestID: rec.RequestID,
		Subject: subject, Target: "consent.objections", Rows: 1, Detail: rec.Detail}}); err != nil {
		return rec, err
	}
	return rec, nil
}
