package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/orchestration"
)

// objectionRecord is one record `privacy object|contest|resolve` adds to
// consent.objections.
type objectionRecord struct {
	scope, action, note, requestID string
	active                         bool
}

// objectionCommands are the right to object (GDPR article 21) and to
// contest an automated decision (article 22).
func (a *app) objectionCommands() []*cobra.Command {
	var idType, to, reqID, reason, note string
	var withdraw, asJSON bool
	object := &cobra.Command{
		Use:   "object <email|phone|customer id> --to profiling|marketing",
		Short: "Record an objection (GDPR art. 21): from the next run no score, segment, trigger or activation (marketing: no segment, trigger or activation)",
		Long: `Records the subject's objection in consent.objections and ops.privacy_audit.
From the next nightly run:
  --to profiling   no churn or CLV score, no segment, no trigger, no
                   activation (removed from every destination that holds them)
  --to marketing   no segment, no trigger, no activation (direct marketing
                   and the profiling behind it); still scored
Their facts stay for the other purposes they consented to. --withdraw
records that they withdrew the objection.`,
		Example: `  parcours privacy object jane.doe@example.com --to marketing --request-id DPO-2026-0051`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != "profiling" && to != "marketing" {
				return orchestration.Usage("--to %q: want profiling or marketing", to)
			}
			rec := objectionRecord{scope: to, active: !withdraw, action: "objection", requestID: reqID}
			if withdraw {
				rec.action = "objection_withdrawn"
			}
			return a.recordObjection(cmd.Context(), args[0], idType, rec, asJSON)
		},
	}
	object.Flags().StringVar(&to, "to", "", "what the subject objects to: profiling or marketing")
	object.Flags().BoolVar(&withdraw, "withdraw", false, "record that the subject withdrew this objection")

	contest := &cobra.Command{
		Use:   "contest <email|phone|customer id> --reason TEXT",
		Short: "Record a contested prediction (GDPR art. 22): no automated decision about the subject until `privacy resolve`",
		Long: `Records that the subject contests a prediction about them. Until
` + "`parcours privacy resolve`" + `, from the next run, they get no score, no segment,
no trigger and no activation, as with an objection to profiling. The
reason is stored as the subject gave it, and shown in their privacy export;
it is never written to logs or the audit.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return orchestration.Usage("--reason: say what the subject contests, in their words")
			}
			return a.recordObjection(cmd.Context(), args[0], idType,
				objectionRecord{scope: "contest", active: true, action: "contest", note: reason, requestID: reqID}, asJSON)
		},
	}
	contest.Flags().StringVar(&reason, "reason", "", "what the subject contests, in their words")

	resolve := &cobra.Command{
		Use:   "resolve <email|phone|customer id> [--note TEXT]",
		Short: "Close a contest: automated decisions about the subject resume from the next run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.recordObjection(cmd.Context(), args[0], idType,
				objectionRecord{scope: "contest", active: false, action: "contest_resolved", note: note, requestID: reqID}, asJSON)
		},
	}
	resolve.Flags().StringVar(&note, "note", "", "the outcome of the review, for the subject's privacy export")

	for _, c := range []*cobra.Command{object, contest, resolve} {
		c.Flags().StringVar(&idType, "type", "", "identifier type: email, phone or customer_id (default: guessed)")
		c.Flags().StringVar(&reqID, "request-id", "", "id of the request, for ops.privacy_audit (default cli:<time>)")
		c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	}
	return []*cobra.Command{object, contest, resolve}
}

// recordObjection writes one record and its audit row.
func (a *app) recordObjection(ctx context.Context, ident, idType string, rec objectionRecord, asJSON bool) error {
	now := time.Now().UTC()
	if rec.requestID == "" {
		rec.requestID = "cli:" + now.Format(time.RFC3339Nano)
	}
	sess, err := a.open(ctx, false, "parcours privacy "+rec.action)
	if err != nil {
		return err
	}
	defer sess.Close()
	wh := sess.wh
	typ, value, err := subjectOf(ctx, wh, ident, idType)
	if err != nil {
		return err
	}
	section := func(name string) (string, error) { return wh.SQL.Section("consent.objections.sql", name) }
	q, err := section("token")
	if err != nil {
		return err
	}
	var token sql.NullString
	if err := wh.DB.QueryRowContext(ctx, q, sql.Named("id_type", typ), sql.Named("value", value)).Scan(&token); err != nil {
		return err
	}
	if !token.Valid {
		return orchestration.Usage("%s is not a usable %s", typ, typ)
	}
	if q, err = section("latest"); err != nil {
		return err
	}
	var was sql.NullBool
	if err := wh.DB.QueryRowContext(ctx, q, sql.Named("id_token", token.String), sql.Named("scope", rec.scope)).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if q, err = section("customers"); err != nil {
		return err
	}
	rows, err := wh.DB.QueryContext(ctx, q, sql.Named("id_token", token.String))
	if err != nil {
		return err
	}
	var customers []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		customers = append(customers, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var noteArg any
	if rec.note != "" {
		noteArg = rec.note
	}
	if _, err := wh.Exec(ctx, "consent.objections.sql", "record", sql.Named("record_id", rec.requestID+":"+rec.scope),
		sql.Named("id_token", token.String), sql.Named("id_type", typ), sql.Named("scope", rec.scope),
		sql.Named("active", rec.active), sql.Named("request_id", rec.requestID), sql.Named("note", noteArg)); err != nil {
		return fmt.Errorf("record %s: %w", rec.action, err)
	}
	effect := map[string]string{
		"objection":           "no score, segment, trigger or activation from the next run",
		"objection_withdrawn": "processing resumes from the next run, within the consents given",
		"contest":             "no automated decision (score, segment, trigger, activation) from the next run until resolved",
		"contest_resolved":    "automated decisions resume from the next run",
	}[rec.action]
	if rec.action == "objection" && rec.scope == "marketing" {
		effect = "no segment, trigger or activation from the next run"
	}
	detail := fmt.Sprintf("%s (%s identifier); %s", rec.scope, typ, effect)
	switch {
	case len(customers) == 0:
		detail += "; no customer holds this identifier yet: it applies when one does"
	case rec.active && was.Valid && was.Bool:
		detail += "; already in force"
	case !rec.active && !(was.Valid && was.Bool):
		detail += "; none was in force"
	}
	subject := ""
	if len(customers) > 0 {
		subject = customers[0][:12]
	}
	local := now.In(a.cfg.Location())
	date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	if err := purge.WriteAudit(ctx, wh, wh.DB, rec.requestID, date, []purge.Audit{{Action: rec.action, RequestID: rec.requestID,
		Subject: subject, Target: "consent.objections", Rows: 1, Detail: detail}}); err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(map[string]any{"request_id": rec.requestID, "action": rec.action, "scope": rec.scope,
			"type": typ, "customers": len(customers), "detail": detail})
	}
	fmt.Fprintf(a.stdout, "%s recorded (request %s): %s\n", strings.ReplaceAll(rec.action, "_", " "), rec.requestID, detail)
	return nil
}
