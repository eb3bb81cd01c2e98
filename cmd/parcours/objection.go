package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/consent"
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

// recordObjection opens the warehouse, records the objection and prints
// what it did.
func (a *app) recordObjection(ctx context.Context, ident, idType string, rec objectionRecord, asJSON bool) error {
	sess, err := a.open(ctx, false, "parcours privacy "+rec.action)
	if err != nil {
		return err
	}
	defer sess.Close()
	typ, value, err := subjectOf(ctx, sess.wh, ident, idType)
	if err != nil {
		return err
	}
	done, err := consent.RecordObjection(ctx, sess.wh, typ, value, consent.Objection{Scope: rec.scope, Action: rec.action,
		Active: rec.active, RequestID: rec.requestID, Note: rec.note}, time.Now(), a.cfg.Location())
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(done)
	}
	fmt.Fprintf(a.stdout, "%s recorded (request %s): %s\n", strings.ReplaceAll(done.Action, "_", " "), done.RequestID, done.Detail)
	return nil
}
