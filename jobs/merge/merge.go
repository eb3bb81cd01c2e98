// Package merge holds the jobs of `parcours merge`, which combines the
// customer shards of a sharded night (orchestration/SHARDS.md) on a merged
// warehouse: gather copies what the stage's merged jobs read from every
// shard (attached as shard0, shard1, ...), the merged jobs run unchanged,
// and finish sends back what the shards need (the model registry, the
// day's segment members), opens the shards' merge gate and deletes every
// per-customer copy from the merged warehouse. Only cold aggregates, the
// registry and the ledger stay there.
package merge

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/jobs/train"
	"github.com/parcours/parcours/orchestration"
)

// Alias is the catalog name shard i is attached under.
func Alias(i int) string { return fmt.Sprintf("shard%d", i) }

// Jobs returns the DAG of one merge stage over the given jobs (jobs.All).
func Jobs(all []orchestration.Job, stage string) []orchestration.Job {
	if stage == orchestration.StageRoute {
		return routeStage(all)
	}
	if stage == orchestration.StageModels {
		return orchestration.MergeJobs(all, stage, &gatherModels{}, &finish{stage: stage})
	}
	js := orchestration.MergeJobs(all, stage, &gatherPublish{}, &finish{stage: stage})
	// kpis read the night's state before the shards' purge (the snapshot);
	// segments and the audit read it after: a second gather in between.
	live := &gatherLive{}
	var needs []string
	for _, j := range js {
		if n := j.Spec().Name; n == "cold" || n == "attribution" || n == "kpis" || n == "purge" {
			needs = append(needs, n)
		}
	}
	for i, j := range js {
		if j.Spec().Name == "segments" {
			js[i] = orchestration.WithNeeds(j, append(j.Spec().Needs, live.Spec().Name))
		}
	}
	return append(js, orchestration.WithNeeds(live, needs))
}

// copySpec is one table gather replaces on the merged warehouse by the
// union of the shards' source rows (a full replace: a rerun gathers the
// same rows again). from is "schema.table [WHERE ...]" in every shard.
type copySpec struct {
	target, from string
}

func gather(ctx context.Context, env *orchestration.Env, specs []copySpec) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	err = warehouse.InTx(ctx, conn, func() error {
		for _, s := range specs {
			var parts []string
			for i := range env.ShardDirs {
				parts = append(parts, fmt.Sprintf("SELECT * FROM %s.%s", Alias(i), s.from))
			}
			if _, err := conn.ExecContext(ctx, "DELETE FROM "+s.target); err != nil {
				return fmt.Errorf("gather %s: %w", s.target, err)
			}
			res, err := conn.ExecContext(ctx, "INSERT INTO "+s.target+" "+strings.Join(parts, " UNION ALL "))
			if err != nil {
				return fmt.Errorf("gather %s from the shards: %w", s.target, err)
			}
			n, _ := res.RowsAffected()
			c.Detail[s.target] = n
			c.In += n
		}
		return nil
	})
	return c, err
}

// requireGate fails (temporarily) unless every shard has reached the
// stage's gate for the date: its upstream jobs are done there.
func requireGate(ctx context.Context, env *orchestration.Env, stage string) error {
	for i := range env.ShardDirs {
		var n int64
		err := env.WH.DB.QueryRowContext(ctx, fmt.Sprintf(
			"SELECT count(*) FROM %s.ops.job_runs WHERE job = ? AND logical_date = ? AND status IN (?, ?)", Alias(i)),
			orchestration.GateName(stage), env.Date, orchestration.StatusWaiting, orchestration.StatusSucceeded).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return orchestration.Temporary(fmt.Errorf("shard %d (%s) has not reached %s for %s yet: run `parcours run nightly --shard %d/%d` first",
				i, env.ShardDirs[i], orchestration.GateName(stage), env.DateString(), i, len(env.ShardDirs)), time.Minute)
		}
	}
	return nil
}

// gatherModels copies what training reads: every order (churn labels, CLV)
// and, when churn is due, the features the shards built at its cut-offs.
type gatherModels struct{}

func (g *gatherModels) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "gather_models",
		Doc: "copy the shards' orders and churn cut-off features for the one training of the night"}
}

func (g *gatherModels) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	if err := requireGate(ctx, env, orchestration.StageModels); err != nil {
		return orchestration.Counts{}, err
	}
	specs := []copySpec{{target: "analytics.orders", from: "analytics.orders"}}
	cfg := env.Config.Models
	due, err := train.Due(ctx, env.WH.DB, "churn", env.Date, cfg.RetrainDays)
	if err != nil {
		return orchestration.Counts{}, err
	}
	if due {
		tc, ec := train.ChurnCutoffs(env.Date, cfg.ChurnHorizonDays)
		specs = append(specs, copySpec{target: "analytics.customer_features", from: fmt.Sprintf(
			"analytics.customer_features WHERE cutoff IN (DATE '%s', DATE '%s')%s", tc.Format(time.DateOnly), ec.Format(time.DateOnly),
			features.SampleClause(cfg.ChurnTrainSample))})
	}
	return gather(ctx, env, specs)
}

// gatherPublish copies the shards' cold hand-offs (handoff.cold.sql): the
// contributions, ledgers and snapshots the single-node cold, attribution
// and kpis jobs read before the purge.
type gatherPublish struct{}

func (g *gatherPublish) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "gather_publish",
		Doc: "sum the shards' cold hand-offs (contributions, ledgers, pre-purge snapshots) for publication under k"}
}

func (g *gatherPublish) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	if err := requireGate(ctx, env, orchestration.StagePublish); err != nil {
		return orchestration.Counts{}, err
	}
	for i := range env.ShardDirs {
		var day string
		err := env.WH.DB.QueryRowContext(ctx, fmt.Sprintf("SELECT value FROM %s.handoff.meta WHERE key = 'day'", Alias(i))).Scan(&day)
		if err != nil && err != sql.ErrNoRows {
			return orchestration.Counts{}, fmt.Errorf("shard %d hand-off: %w", i, err)
		}
		if day != env.DateString() {
			return orchestration.Counts{}, fmt.Errorf("shard %d (%s) holds the cold hand-off of %q, not of %s: "+
				"its cold job ran for another date since (merge each date before the shards run the next)", i, env.ShardDirs[i], day, env.DateString())
		}
	}
	specs := []copySpec{
		{target: "ops.cold_ledger", from: "handoff.cold_ledger"},
		{target: "ops.cold_cohorts", from: "handoff.cold_cohorts"},
		{target: "consent.intervals", from: "handoff.consent_intervals"},
	}
	for _, t := range []string{"daily_activity", "funnel_daily", "cohort_retention", "survey_scores", "conversion_paths"} {
		specs = append(specs, copySpec{target: "ops.cold_contrib_" + t, from: "handoff.cold_contrib_" + t})
	}
	// attribution's channels under k
	specs = append(specs, copySpec{target: "ops.cold_contrib_path_channels", from: "handoff.cold_contrib_path_channels"})
	// the report's currency
	specs = append(specs, copySpec{target: "ops.currencies", from: "handoff.currencies"})
	return gather(ctx, env, specs)
}

// gatherLive copies, after the shards' purge, scoring and audit, what the
// segments, the privacy audit and the report read.
type gatherLive struct{}

func (g *gatherLive) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "gather_live",
		Doc: "copy the shards' consent, orders, features, scores and previous segment members for the segments"}
}

func (g *gatherLive) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	d := env.DateString()
	next := env.Date.AddDate(0, 0, 1).Format(time.DateOnly)
	var prevParts []string
	for i := range env.ShardDirs {
		prevParts = append(prevParts, fmt.Sprintf("SELECT max(computed_on) AS d FROM %s.analytics.segment_members WHERE computed_on < DATE '%s'", Alias(i), d))
	}
	var prev sql.NullTime
	if err := env.WH.DB.QueryRowContext(ctx, "SELECT max(d) FROM ("+strings.Join(prevParts, " UNION ALL ")+")").Scan(&prev); err != nil {
		return orchestration.Counts{}, err
	}
	prevDay := "NULL"
	if prev.Valid {
		prevDay = "DATE '" + prev.Time.Format(time.DateOnly) + "'"
	}
	return gather(ctx, env, []copySpec{
		{target: "consent.intervals", from: "consent.intervals"},
		{target: "analytics.orders", from: "analytics.orders"},
		{target: "analytics.customer_features", from: "analytics.customer_features WHERE cutoff = DATE '" + next + "'"},
		{target: "analytics.churn_scores", from: "analytics.churn_scores WHERE scored_on = DATE '" + d + "'"},
		{target: "analytics.clv_scores", from: "analytics.clv_scores WHERE scored_on = DATE '" + d + "'"},
		{target: "analytics.segment_members", from: "analytics.segment_members WHERE computed_on = " + prevDay},
		{target: "ops.name_tokens", from: "handoff.name_tokens"},
	})
}

// finish ends a stage: it sends the shards what they need, opens their
// gate for the date and deletes the per-customer copies here.
type finish struct{ stage string }

func (f *finish) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "finish_" + f.stage,
		Doc: "send the shards the registry or the day's segment members, open their gate, delete the per-customer copies"}
}

// perCustomer are the merged warehouse's tables that hold customer keys
// only while a stage runs.
func perCustomer() []string {
	return []string{"analytics.orders", "analytics.customer_features", "analytics.churn_scores", "analytics.clv_scores",
		"analytics.segment_members", "consent.intervals", "ops.cold_ledger", "ops.cold_cohorts", "ops.name_tokens"}
}

func (f *finish) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	db := env.WH.DB
	n := len(env.ShardDirs)
	if f.stage == orchestration.StageModels {
		moved, err := rehome(ctx, env)
		if err != nil {
			return c, err
		}
		c.Detail["vault_rehomed"] = moved
	}
	for i := range env.ShardDirs {
		s := Alias(i)
		var stmts []string
		switch f.stage {
		case orchestration.StageModels:
			// The registry is replaced whole: every shard scores with the
			// same promoted models.
			stmts = append(stmts, "DELETE FROM "+s+".ops.models", "INSERT INTO "+s+".ops.models SELECT * FROM ops.models")
			if err := copyArtifacts(env.WH.Dir, env.ShardDirs[i]); err != nil {
				return c, err
			}
		case orchestration.StagePublish:
			stmts = append(stmts,
				fmt.Sprintf("DELETE FROM %s.analytics.segment_members WHERE computed_on = DATE '%s'", s, env.DateString()),
				fmt.Sprintf("INSERT INTO %s.analytics.segment_members SELECT * FROM analytics.segment_members WHERE computed_on = DATE '%s' AND %s",
					s, env.DateString(), warehouse.ShardPredicate("customer_key", "NULL", n, i)))
			// The hand-off has served: no erased customer's key stays in it.
			for _, t := range []string{"cold_ledger", "cold_cohorts", "consent_intervals"} {
				stmts = append(stmts, fmt.Sprintf("DELETE FROM %s.handoff.%s", s, t))
			}
		}
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO %[1]s.ops.job_runs (run_id, job, logical_date, attempt, status, started_at, ended_at, rows_in, rows_out, host, pid)
SELECT '%[2]s', '%[3]s', DATE '%[4]s', coalesce(max(attempt), 0) + 1, 'succeeded', now(), now(), 0, 0, '%[5]s', %[6]d
FROM %[1]s.ops.job_runs WHERE job = '%[3]s' AND logical_date = DATE '%[4]s'`,
			s, env.RunID, orchestration.GateName(f.stage), env.DateString(), host(), os.Getpid()))
		for _, q := range stmts {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return c, fmt.Errorf("finish %s on shard %d (%s): %w", f.stage, i, env.ShardDirs[i], err)
			}
		}
	}
	if f.stage == orchestration.StagePublish {
		// Every member went to exactly one shard (ShardPredicate).
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM analytics.segment_members WHERE computed_on = ?", env.Date).Scan(&c.Out); err != nil {
			return c, err
		}
		c.Detail["segment_members_sent"] = c.Out
	}
	for _, t := range perCustomer() {
		if _, err := db.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return c, fmt.Errorf("finish %s: empty %s: %w", f.stage, t, err)
		}
	}
	return c, nil
}

// rehome moves vault rows whose customer changed shard (two identities
// merged into a customer whose key hashes elsewhere) to the new owner,
// with their wrapped data key: the owner's key first, then its row, then
// the old copy and key go. A crash in between leaves two copies, which the
// next merge resolves the same way.
func rehome(ctx context.Context, env *orchestration.Env) (int64, error) {
	if env.WH.Secrets == nil || env.WH.Secrets.MasterKey == nil {
		return 0, fmt.Errorf("merge: the master key is needed to move vault rows between shards")
	}
	n := len(env.ShardDirs)
	stores := make([]*vault.Keystore, n)
	ks := func(i int) (*vault.Keystore, error) {
		if stores[i] == nil {
			k, err := vault.OpenKeystore(warehouse.KeystorePath(env.ShardDirs[i]), env.WH.Secrets.MasterKey)
			if err != nil {
				return nil, fmt.Errorf("shard %d keystore: %w", i, err)
			}
			stores[i] = k
		}
		return stores[i], nil
	}
	var moved int64
	for i := range env.ShardDirs {
		rows, err := env.WH.DB.QueryContext(ctx, fmt.Sprintf(`SELECT subject_token, customer_key FROM %s.vault.pii
WHERE customer_key IS NOT NULL AND NOT %s ORDER BY subject_token`, Alias(i), warehouse.ShardPredicate("customer_key", "NULL", n, i)))
		if err != nil {
			return moved, err
		}
		type mv struct{ subject, key string }
		var todo []mv
		for rows.Next() {
			var m mv
			if err := rows.Scan(&m.subject, &m.key); err != nil {
				rows.Close()
				return moved, err
			}
			todo = append(todo, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return moved, err
		}
		for _, m := range todo {
			j := orchestration.ShardOf(m.key, n)
			s, err := vault.ParseSubject(m.subject)
			if err != nil {
				return moved, err
			}
			from, err := ks(i)
			if err != nil {
				return moved, err
			}
			to, err := ks(j)
			if err != nil {
				return moved, err
			}
			if w, ok := from.Wrapped(s); ok {
				if err := to.PutWrapped(s, w); err != nil {
					return moved, err
				}
				if err := to.Save(); err != nil {
					return moved, err
				}
			}
			// The owner keeps its own row if it sealed a newer version.
			for _, q := range []string{
				fmt.Sprintf(`DELETE FROM %[2]s.vault.pii WHERE subject_token = '%[3]s'
  AND updated_at <= (SELECT updated_at FROM %[1]s.vault.pii WHERE subject_token = '%[3]s')`, Alias(i), Alias(j), m.subject),
				fmt.Sprintf(`INSERT INTO %[2]s.vault.pii SELECT * FROM %[1]s.vault.pii WHERE subject_token = '%[3]s'
  AND NOT EXISTS (SELECT 1 FROM %[2]s.vault.pii WHERE subject_token = '%[3]s')`, Alias(i), Alias(j), m.subject),
				fmt.Sprintf(`DELETE FROM %s.vault.pii WHERE subject_token = '%s'`, Alias(i), m.subject),
			} {
				if _, err := env.WH.DB.ExecContext(ctx, q); err != nil {
					return moved, fmt.Errorf("move vault row %s from shard %d to %d: %w", m.subject, i, j, err)
				}
			}
			if from.Destroy(s) {
				if err := from.Save(); err != nil {
					return moved, err
				}
			}
			moved++
		}
	}
	return moved, nil
}

// copyArtifacts copies model files the shard lacks (ids are unique, an
// artifact never changes once written).
func copyArtifacts(from, to string) error {
	files, err := filepath.Glob(filepath.Join(from, "models", "*.model"))
	if err != nil {
		return err
	}
	for _, src := range files {
		dst := filepath.Join(to, "models", filepath.Base(src))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := copyFile(src, dst); err != nil {
			return fmt.Errorf("ship model %s to %s: %w", filepath.Base(src), to, err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func host() string {
	h, _ := os.Hostname()
	return strings.ReplaceAll(h, "'", "")
}
