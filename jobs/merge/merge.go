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
	sqlfs "github.com/parcours/parcours/sql"
)

// Alias is the catalog name shard i is attached under.
func Alias(i int) string { return fmt.Sprintf("shard%d", i) }

// The SQL files the merge jobs run (see each file's header).
const (
	gatherSQL  = "merge.gather.sql"
	finishSQL  = "merge.finish.sql"
	handoffSQL = "handoff.cold.sql"
)

// section returns a section of file with its {{name}} placeholders
// replaced by identifiers, given as name, identifier pairs and quoted here.
func section(env *orchestration.Env, file, name string, idents ...string) (string, error) {
	q, err := env.WH.SQL.Section(file, name)
	if err != nil {
		return "", err
	}
	for i := 0; i+1 < len(idents); i += 2 {
		q = strings.ReplaceAll(q, "{{"+idents[i]+"}}", sqlfs.QuoteIdent(idents[i+1]))
	}
	return q, nil
}

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
// union of the shards' rows (a full replace: a rerun gathers the same rows
// again). Its section of merge.gather.sql copies one shard's rows into
// target: "copy" every row of source, the others the rows their named
// args select.
type copySpec struct {
	target, source string
	ref            sqlfs.Ref // a section of merge.gather.sql
	sample         string    // copy_churn_features' {{sample}} clause
	args           []any
}

// plain copies every row of source in the shards into target.
func plain(target, source string) copySpec {
	return copySpec{target: target, source: source, ref: sqlfs.Ref{File: gatherSQL, Section: "copy"}}
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
			clear, err := section(env, gatherSQL, "clear", "target", s.target)
			if err != nil {
				return err
			}
			if _, err := warehouse.ExecScript(ctx, conn, clear); err != nil {
				return fmt.Errorf("gather %s: %w", s.target, err)
			}
			// One statement per shard, in shard order, in the same
			// transaction: the rows of a UNION ALL of the shards.
			var n int64
			for i := range env.ShardDirs {
				q, err := section(env, s.ref.File, s.ref.Section, "target", s.target, "source", s.source, "shard", Alias(i))
				if err != nil {
					return err
				}
				k, err := warehouse.ExecScript(ctx, conn, strings.ReplaceAll(q, "{{sample}}", s.sample), s.args...)
				if err != nil {
					return fmt.Errorf("gather %s from shard %d (%s): %s: %w", s.target, i, env.ShardDirs[i], s.ref, err)
				}
				n += k
			}
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
		q, err := section(env, gatherSQL, "gate", "shard", Alias(i))
		if err != nil {
			return err
		}
		var n int64
		err = warehouse.QueryRow(ctx, env.WH.DB, q, sql.Named("job", orchestration.GateName(stage)), sql.Named("date", env.Date),
			sql.Named("waiting", orchestration.StatusWaiting), sql.Named("succeeded", orchestration.StatusSucceeded)).Scan(&n)
		if err != nil {
			return fmt.Errorf("shard %d (%s): %s gate: %w", i, env.ShardDirs[i], gatherSQL, err)
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
	return orchestration.Spec{Name: "gather_models", SQL: sqlRefs(),
		Doc: "copy the shards' orders and churn cut-off features for the one training of the night"}
}

func (g *gatherModels) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	if err := requireGate(ctx, env, orchestration.StageModels); err != nil {
		return orchestration.Counts{}, err
	}
	specs := []copySpec{plain("analytics.orders", "analytics.orders")}
	cfg := env.Config.Models
	due, err := train.Due(ctx, env.WH, "churn", env.Date, cfg.RetrainDays)
	if err != nil {
		return orchestration.Counts{}, err
	}
	if due {
		tc, ec := train.ChurnCutoffs(env.Date, cfg.ChurnHorizonDays)
		specs = append(specs, copySpec{target: "analytics.customer_features", ref: sqlfs.Ref{File: gatherSQL, Section: "copy_churn_features"},
			sample: features.SampleClause(cfg.ChurnTrainSample),
			args:   []any{sql.Named("train_cutoff", tc.Format(time.DateOnly)), sql.Named("eval_cutoff", ec.Format(time.DateOnly))}})
	}
	return gather(ctx, env, specs)
}

// gatherPublish copies the shards' cold hand-offs (handoff.cold.sql): the
// contributions, ledgers and snapshots the single-node cold, attribution
// and kpis jobs read before the purge.
type gatherPublish struct{}

func (g *gatherPublish) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "gather_publish", SQL: sqlRefs(),
		Doc: "sum the shards' cold hand-offs (contributions, ledgers, pre-purge snapshots) for publication under k"}
}

func (g *gatherPublish) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	if err := requireGate(ctx, env, orchestration.StagePublish); err != nil {
		return orchestration.Counts{}, err
	}
	for i := range env.ShardDirs {
		q, err := section(env, handoffSQL, "shard_day", "shard", Alias(i))
		if err != nil {
			return orchestration.Counts{}, err
		}
		var day string
		err = warehouse.QueryRow(ctx, env.WH.DB, q).Scan(&day)
		if err != nil && err != sql.ErrNoRows {
			return orchestration.Counts{}, fmt.Errorf("shard %d hand-off: %w", i, err)
		}
		if day != env.DateString() {
			return orchestration.Counts{}, fmt.Errorf("shard %d (%s) holds the cold hand-off of %q, not of %s: "+
				"its cold job ran for another date since (merge each date before the shards run the next)", i, env.ShardDirs[i], day, env.DateString())
		}
	}
	specs := []copySpec{
		plain("ops.cold_ledger", "handoff.cold_ledger"),
		plain("ops.cold_cohorts", "handoff.cold_cohorts"),
		plain("consent.intervals", "handoff.consent_intervals"),
	}
	for _, t := range []string{"daily_activity", "funnel_daily", "cohort_retention", "survey_scores", "conversion_paths"} {
		specs = append(specs, plain("ops.cold_contrib_"+t, "handoff.cold_contrib_"+t))
	}
	// attribution's channels under k
	specs = append(specs, plain("ops.cold_contrib_path_channels", "handoff.cold_contrib_path_channels"))
	// the report's currency
	specs = append(specs, plain("ops.currencies", "handoff.currencies"))
	return gather(ctx, env, specs)
}

// gatherLive copies, after the shards' purge, scoring and audit, what the
// segments, the privacy audit and the report read.
type gatherLive struct{}

func (g *gatherLive) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "gather_live", SQL: sqlRefs(),
		Doc: "copy the shards' consent, orders, features, scores and previous segment members for the segments"}
}

func (g *gatherLive) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	day := sql.Named("day", env.DateString())
	next := env.Date.AddDate(0, 0, 1).Format(time.DateOnly)
	// The previous members: of the latest day before this one any shard
	// computed them on.
	var prev sql.NullTime
	for i := range env.ShardDirs {
		q, err := section(env, gatherSQL, "previous_members_day", "shard", Alias(i))
		if err != nil {
			return orchestration.Counts{}, err
		}
		var p sql.NullTime
		if err := warehouse.QueryRow(ctx, env.WH.DB, q, day).Scan(&p); err != nil {
			return orchestration.Counts{}, fmt.Errorf("shard %d (%s): %s previous_members_day: %w", i, env.ShardDirs[i], gatherSQL, err)
		}
		if p.Valid && (!prev.Valid || p.Time.After(prev.Time)) {
			prev = p
		}
	}
	var prevDay any // NULL: no previous members, none copied
	if prev.Valid {
		prevDay = prev.Time.Format(time.DateOnly)
	}
	return gather(ctx, env, []copySpec{
		plain("consent.intervals", "consent.intervals"),
		plain("analytics.orders", "analytics.orders"),
		{target: "analytics.customer_features", ref: sqlfs.Ref{File: gatherSQL, Section: "copy_features_at"}, args: []any{sql.Named("cutoff", next)}},
		{target: "analytics.churn_scores", ref: sqlfs.Ref{File: gatherSQL, Section: "copy_churn_scores"}, args: []any{day}},
		{target: "analytics.clv_scores", ref: sqlfs.Ref{File: gatherSQL, Section: "copy_clv_scores"}, args: []any{day}},
		{target: "analytics.segment_members", ref: sqlfs.Ref{File: gatherSQL, Section: "copy_previous_members"}, args: []any{sql.Named("prev", prevDay)}},
		plain("ops.name_tokens", "handoff.name_tokens"),
	})
}

// finish ends a stage: it sends the shards what they need, opens their
// gate for the date and deletes the per-customer copies here.
type finish struct{ stage string }

func (f *finish) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "finish_" + f.stage, SQL: sqlRefs(),
		Doc: "send the shards the registry or the day's segment members, open their gate, delete the per-customer copies"}
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
		// The sections run on the shard, in this order: what it gets
		// (merge.finish.sql), then its gate opens.
		var run [][2]string
		switch f.stage {
		case orchestration.StageModels:
			run = append(run, [2]string{finishSQL, "send_models"})
			if err := copyArtifacts(env.WH.Dir, env.ShardDirs[i]); err != nil {
				return c, err
			}
		case orchestration.StagePublish:
			run = append(run, [2]string{finishSQL, "send_members"}, [2]string{handoffSQL, "clear_shard"})
		}
		run = append(run, [2]string{finishSQL, "open_gate"})
		for _, fs := range run {
			q, err := section(env, fs[0], fs[1], "shard", Alias(i))
			if err != nil {
				return c, err
			}
			if _, err := warehouse.ExecScript(ctx, db, q, sql.Named("day", env.DateString()),
				sql.Named("shard_count", n), sql.Named("shard_index", i), sql.Named("run_id", env.RunID),
				sql.Named("job", orchestration.GateName(f.stage)), sql.Named("host", host()), sql.Named("pid", os.Getpid())); err != nil {
				return c, fmt.Errorf("finish %s on shard %d (%s): %s %s: %w", f.stage, i, env.ShardDirs[i], fs[0], fs[1], err)
			}
		}
	}
	if f.stage == orchestration.StagePublish {
		// Every member went to exactly one shard (send_members).
		q, err := section(env, finishSQL, "members_sent")
		if err != nil {
			return c, err
		}
		if err := warehouse.QueryRow(ctx, db, q, sql.Named("date", env.Date)).Scan(&c.Out); err != nil {
			return c, fmt.Errorf("%s members_sent: %w", finishSQL, err)
		}
		c.Detail["segment_members_sent"] = c.Out
	}
	if _, err := env.WH.Exec(ctx, sqlfs.Ref{File: finishSQL, Section: "drop_copies"}); err != nil {
		return c, fmt.Errorf("finish %s: %s drop_copies: %w", f.stage, finishSQL, err)
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
		q, err := section(env, finishSQL, "misplaced_vault_rows", "shard", Alias(i))
		if err != nil {
			return moved, err
		}
		rows, err := warehouse.Query(ctx, env.WH.DB, q, sql.Named("shard_count", n), sql.Named("shard_index", i))
		if err != nil {
			return moved, fmt.Errorf("shard %d: %s misplaced_vault_rows: %w", i, finishSQL, err)
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
			q, err := section(env, finishSQL, "move_vault_row", "from", Alias(i), "to", Alias(j))
			if err != nil {
				return moved, err
			}
			if _, err := warehouse.ExecScript(ctx, env.WH.DB, q, sql.Named("subject", m.subject)); err != nil {
				return moved, fmt.Errorf("move vault row %s from shard %d to %d: %s move_vault_row: %w", m.subject, i, j, finishSQL, err)
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
