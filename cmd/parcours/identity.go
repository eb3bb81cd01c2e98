package main

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/identity"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) identityCommand() *cobra.Command {
	c := &cobra.Command{Use: "identity", Short: "Inspect identity stitching"}
	c.AddCommand(a.identityExplainCommand(), a.identityRebuildCommand())
	return c
}

// identityExplainCommand shows why an identifier belongs to its customer.
func (a *app) identityExplainCommand() *cobra.Command {
	var idType string
	var asJSON bool
	c := &cobra.Command{
		Use:   "explain <identifier>",
		Short: "Show which customer an identifier belongs to and the chain of links that joined each identifier",
		Example: `  parcours identity explain jane.doe@example.com
  parcours identity explain "06 12 34 56 78"
  parcours identity explain C0001234 --type customer_id --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours identity explain")
			if err != nil {
				return err
			}
			defer sess.Close()
			if sess.wh.Secrets == nil {
				return orchestration.Usage("identity explain needs the pepper: set PARCOURS_PEPPER or keep the key file at %s", a.cfg.KeyFile())
			}
			phoneQ, err := sess.wh.SQL.Section("identity.explain.sql", "phone")
			if err != nil {
				return err
			}
			tokenQ, err := sess.wh.SQL.Section("identity.explain.sql", "token")
			if err != nil {
				return err
			}
			normPhone := func(s string) string {
				var p sql.NullString
				_ = warehouse.QueryRow(ctx, sess.wh.DB, phoneQ, sql.Named("value", s)).Scan(&p)
				return p.String
			}
			cands := identity.Candidates(args[0], normPhone)
			if idType != "" {
				var kept []identity.Candidate
				for _, c := range cands {
					if c.Type == idType {
						kept = append(kept, c)
					}
				}
				cands = kept
			}
			for _, cand := range cands {
				var token string
				if err := warehouse.QueryRow(ctx, sess.wh.DB, tokenQ, sql.Named("type", cand.Type), sql.Named("value", cand.Value)).Scan(&token); err != nil {
					return fmt.Errorf("identity.explain.sql token: %w", err)
				}
				ex, err := identity.Explain(ctx, sess.wh, token, args[0])
				if err != nil {
					continue
				}
				if asJSON {
					return a.printJSON(ex)
				}
				ex.Render(a.stdout)
				return nil
			}
			var types []string
			for _, c := range cands {
				types = append(types, c.Type)
			}
			return orchestration.NotFound("this identifier is not in the identity graph (tried as %s)", strings.Join(types, ", "))
		},
	}
	c.Flags().StringVar(&idType, "type", "", "identifier type: customer_id, email, phone, loyalty_card, cookie_id, device_id")
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	return c
}

// identityRebuildCommand restitches the whole graph: nights restitch only
// the components that changed, and this proves (--check) or restores that
// the map equals a stitch from scratch.
func (a *app) identityRebuildCommand() *cobra.Command {
	var check, asJSON bool
	c := &cobra.Command{
		Use:   "rebuild",
		Short: "Restitch the whole identity graph from scratch (--check: only count the identifiers that would move)",
		Long: `Nights restitch only the parts of the identity graph that their identifiers
and links touch. rebuild stitches all of it again from identity.identifiers and
identity.links and replaces the customer map. --check writes nothing: it
compares the map the next night would leave (today's, with the parts it finds
affected restitched, erasures since included) with a stitch of the whole graph,
and exits 1 when they differ.`,
		Example: `  parcours identity rebuild --check
  parcours identity rebuild`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, false, "parcours identity rebuild")
			if err != nil {
				return err
			}
			defer sess.Close()
			if sess.wh.Secrets == nil {
				return orchestration.Usage("identity rebuild needs the pepper: set PARCOURS_PEPPER or keep the key file at %s", a.cfg.KeyFile())
			}
			conn, err := sess.wh.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			now := time.Now().UTC()
			env := orchestration.Env{Date: now.Truncate(24 * time.Hour), RunID: orchestration.NewRunID(now), Config: &a.cfg, Log: a.log}
			opts := identity.OptionsFor(&env)
			rebuild := identity.Rebuild
			if check {
				rebuild = identity.Check
			}
			out, err := rebuild(ctx, sess.wh, conn, opts)
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				verb := "moved"
				if check {
					verb = "would move"
				}
				fmt.Fprintf(a.stdout, "identifiers %d, links %d: %d identifiers %s to another customer or blocked state\n",
					out.Identifiers, out.Links, out.Moved, verb)
			}
			if check && out.Moved > 0 {
				return fmt.Errorf("the customer map differs from a stitch from scratch in %d identifiers: run parcours identity rebuild", out.Moved)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "compare only: write nothing, exit 1 if the map differs from a full restitch")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return c
}
