package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/identity"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) privacyCommand() *cobra.Command {
	c := &cobra.Command{Use: "privacy", Short: "Data-subject rights: erasure (forget), access (export), objection (object), contesting a decision (contest, resolve)"}
	c.AddCommand(a.privacyForgetCommand(), a.privacyExportCommand())
	c.AddCommand(a.objectionCommands()...)
	return c
}

// privacyForgetCommand erases a subject now.
func (a *app) privacyForgetCommand() *cobra.Command {
	var idType string
	var asJSON bool
	c := &cobra.Command{
		Use:   "forget <email|phone|customer id>",
		Short: "Erase a subject now: hot rows, vault entry and data key (crypto-shredding), identity graph; suppress their identifiers",
		Example: `  parcours privacy forget jane.doe@example.com
  parcours privacy forget "+33 6 12 34 56 78" --request-id DPO-2026-0042`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reqID, _ := cmd.Flags().GetString("request-id")
			if reqID == "" {
				reqID = "cli:" + time.Now().UTC().Format(time.RFC3339)
			}
			sess, err := a.open(ctx, false, "parcours privacy forget")
			if err != nil {
				return err
			}
			defer sess.Close()
			typ, value, err := subjectOf(ctx, sess.wh, args[0], idType)
			if err != nil {
				return err
			}
			conn, err := sess.wh.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			audits, err := purge.Erase(ctx, sess.wh, conn, []purge.Request{{ID: reqID, Type: typ, Value: value}}, a.log)
			if err != nil {
				return err
			}
			today := time.Now().In(a.cfg.Location())
			date := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
			if err := purge.WriteAudit(ctx, sess.wh, conn, reqID, date, audits); err != nil {
				return err
			}
			last := audits[len(audits)-1]
			if asJSON {
				err = a.printJSON(map[string]any{"request_id": reqID, "type": typ, "subject": last.Subject, "detail": last.Detail})
			} else {
				fmt.Fprintf(a.stdout, "erased (%s, request %s): %s\n", typ, reqID, last.Detail)
			}
			if err == nil && last.Subject == "" {
				// Recorded and suppressed all the same: data about it that
				// arrives later is not kept.
				return orchestration.NotFound("no customer holds this %s; it is suppressed and the request recorded", typ)
			}
			return err
		},
	}
	c.Flags().String("request-id", "", "id of the request, for ops.privacy_audit (default cli:<time>)")
	c.Flags().StringVar(&idType, "type", "", "identifier type: email, phone or customer_id (default: guessed)")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// privacyExportCommand writes everything held about a subject (access).
func (a *app) privacyExportCommand() *cobra.Command {
	var idType string
	var out string
	c := &cobra.Command{
		Use:   "export <email|phone|customer id>",
		Short: "Everything held about a subject, as JSON: decrypted profile, consents, hot facts, scores, cold tables fed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours privacy export")
			if err != nil {
				return err
			}
			defer sess.Close()
			if sess.wh.Secrets == nil || sess.wh.Secrets.MasterKey == nil {
				return fmt.Errorf("%w: privacy export needs the master key and pepper", keys.ErrKey)
			}
			typ, value, err := subjectOf(ctx, sess.wh, args[0], idType)
			if err != nil {
				return err
			}
			rep, err := purge.Access(ctx, sess.wh, typ, value)
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(rep, "", "  ")
			b = append(b, '\n')
			if out == "" || out == "-" {
				_, err = a.stdout.Write(b)
			} else if err = os.WriteFile(out, b, 0o600); err != nil { // 0600: the file holds the subject's PII in clear
				err = fmt.Errorf("write %s: %w", out, err)
			} else {
				fmt.Fprintf(a.stderr, "wrote %s (%d customer(s))\n", out, len(rep.Customers))
			}
			if err == nil && len(rep.Customers) == 0 && !rep.Suppressed {
				// The report is written all the same: "we hold nothing"
				// is an answer the subject is owed. An erased subject is
				// known (suppressed), and the report says so: not "not found".
				return orchestration.NotFound("no customer holds this %s", typ)
			}
			return err
		},
	}
	c.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	c.Flags().Bool("json", false, "print one JSON object (what export always writes)")
	c.Flags().StringVar(&idType, "type", "", "identifier type: email, phone or customer_id (default: guessed)")
	return c
}

// subjectOf reads a typed identifier: with --type as given, otherwise an
// email if it has an @, a CRM id if it looks like one, else a phone.
func subjectOf(ctx context.Context, wh *warehouse.Warehouse, s, typ string) (string, string, error) {
	s = strings.TrimSpace(s)
	if typ != "" {
		switch typ {
		case identity.Email, identity.Phone, identity.CustomerID:
			return typ, s, nil
		}
		return "", "", orchestration.Usage("--type %q: want email, phone or customer_id", typ)
	}
	var p sql.NullString
	q, err := wh.SQL.Section("privacy.access.sql", "phone")
	if err != nil {
		return "", "", err
	}
	if err := wh.DB.QueryRowContext(ctx, q, sql.Named("value", s)).Scan(&p); err != nil {
		return "", "", fmt.Errorf("privacy.access.sql phone: %w", err)
	}
	for _, c := range identity.Candidates(s, func(string) string { return p.String }) {
		switch c.Type {
		case identity.Email, identity.CustomerID, identity.Phone:
			return c.Type, s, nil
		}
	}
	return "", "", orchestration.Usage("%q is not an email, phone number or customer id; use --type", s)
}

func (a *app) keysCommand() *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Manage the master key that wraps the vault's data keys"}
	c.AddCommand(a.keysRotateCommand())
	return c
}

// keysRotateCommand re-wraps the vault's data keys under a new master key.
func (a *app) keysRotateCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "rotate",
		Short: "Re-wrap every data key under a new master key (no vault value is touched); safe to interrupt and rerun",
		Long: `Re-wraps every customer data key of the keystore under a new master key.
With the master key in the key file, a new key is minted and kept there as
next_master_key until the keystore is rewritten, then promoted. With the
master key in PARCOURS_MASTER_KEY, give the new one in
PARCOURS_NEW_MASTER_KEY, then replace PARCOURS_MASTER_KEY by it. If
interrupted, run the same command again: it finishes what was started.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lock, err := warehouse.AcquireLock(a.cfg.Warehouse, true, "parcours keys rotate")
			if err != nil {
				if warehouse.IsLocked(err) {
					return orchestration.Temporary(err, 0)
				}
				return err
			}
			defer lock.Release()
			if !warehouse.Exists(a.cfg.Warehouse) {
				return orchestration.Usage("no warehouse at %s", a.cfg.Warehouse)
			}
			s, err := keys.Load(a.cfg.KeyFile(), false)
			if err != nil {
				return err
			}
			path := warehouse.KeystorePath(a.cfg.Warehouse)
			h, err := vault.ReadHeader(path)
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%w: %s does not exist; restore it from backup before rotating (nothing changed)", vault.ErrMissing, path)
			}
			if err != nil {
				return err
			}
			kcv := h.KeyCheckValue
			// Refuse a master key that opens nothing before minting anything.
			if kcv != "" && kcv != vault.KeyCheckValue(s.MasterKey) && (s.NextMasterKey == nil || kcv != vault.KeyCheckValue(s.NextMasterKey)) {
				return fmt.Errorf("%w (keystore %s, check value %s; the current master key is %s): nothing changed",
					vault.ErrWrongMaster, path, kcv, vault.KeyCheckValue(s.MasterKey))
			}
			next, err := keys.BeginRotation(a.cfg.KeyFile(), s)
			if err != nil {
				return err
			}
			n, err := vault.Rewrap(path, s.MasterKey, next)
			if err != nil {
				return err
			}
			// Prove every key unwraps under the new master before the old
			// one is dropped from the key file.
			if _, err := vault.OpenKeystore(path, next); err != nil {
				return err
			}
			if err := keys.CompleteRotation(a.cfg.KeyFile(), s); err != nil {
				return err
			}
			res := map[string]any{"data_keys": n, "key_check_value": vault.KeyCheckValue(next)}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "re-wrapped %d data keys; master key check value now %s\n", n, vault.KeyCheckValue(next))
			if s.MasterSource == keys.EnvMasterKey {
				fmt.Fprintf(a.stdout, "now set %s to the value of %s and unset the latter\n", keys.EnvMasterKey, keys.EnvNewMasterKey)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}
