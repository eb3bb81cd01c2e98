package main

import (
	"database/sql"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/identity"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) identityCommand() *cobra.Command {
	c := &cobra.Command{Use: "identity", Short: "Inspect identity stitching"}
	var idType string
	var asJSON bool
	explain := &cobra.Command{
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
			normPhone := func(s string) string {
				var p sql.NullString
				_ = sess.wh.DB.QueryRowContext(ctx, "SELECT norm_phone(?)", s).Scan(&p)
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
				if err := sess.wh.DB.QueryRowContext(ctx, "SELECT pseudonym(?, ?)", cand.Type, cand.Value).Scan(&token); err != nil {
					return err
				}
				ex, err := identity.Explain(ctx, sess.wh.DB, token, args[0])
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
	explain.Flags().StringVar(&idType, "type", "", "identifier type: customer_id, email, phone, loyalty_card, cookie_id, device_id")
	explain.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	c.AddCommand(explain)
	return c
}
