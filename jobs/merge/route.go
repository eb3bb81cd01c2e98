package merge

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// maxShards is how many shards a route can address (route.event_groups
// holds a group's shards as the bits of a UBIGINT).
const maxShards = 64

// routeStage is the first stage of a sharded night, before any shard
// runs: the unchanged ingest and identity jobs load and stitch the whole
// input on the merged warehouse, once, then route tells each fact's shard.
func routeStage(all []orchestration.Job) []orchestration.Job {
	byName := map[string]orchestration.Job{}
	for _, j := range all {
		byName[j.Spec().Name] = j
	}
	return []orchestration.Job{
		orchestration.WithNeeds(byName["ingest"], nil),
		orchestration.WithNeeds(byName["identity"], []string{"ingest"}),
		orchestration.WithNeeds(&route{}, []string{"identity"}),
	}
}

// route writes route.* (route.event_groups.sql): the identifier lists'
// customers and the event groups' shards, from which each shard's ingest
// copies its slice of landing.
type route struct{}

func (r *route) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "route", SQL: sqlRefs(),
		Doc: "tell every shard which of the night's facts are its own: its customers', its share of the rest, the whole of their visits"}
}

func (r *route) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	n := len(env.ShardDirs)
	if n < 1 || n > maxShards {
		return c, orchestration.Usage("route: %d shards; a sharded night has 1 to %d", n, maxShards)
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "landing.fact_keys.sql", Section: "build"}); err != nil {
		return c, err
	}
	if _, err := env.WH.Run(ctx, conn, sqlfs.Ref{File: "route.event_groups.sql", Section: "build"},
		sql.Named("shards", n), sql.Named("day", env.DateString())); err != nil {
		return c, err
	}
	scrubbed, err := scrub(ctx, env, conn)
	if err != nil {
		return c, err
	}
	c.Detail["erasure_scrubbed"] = scrubbed
	q, err := env.WH.SQL.Section("route.event_groups.sql", "counts")
	if err != nil {
		return c, err
	}
	var lists, groups int64
	if err := conn.QueryRowContext(ctx, q).Scan(&lists, &groups); err != nil {
		return c, fmt.Errorf("route.event_groups.sql counts: %w", err)
	}
	c.Detail["combo_keys"], c.Detail["event_groups"], c.Out = lists, groups, lists+groups
	return c, nil
}

// scrub deletes, for the night's erasure requests, the quarantined rows
// and error texts that quote the subjects, in any form the shards' vaults
// know them by: only the merged warehouse holds quarantine, and only
// before the shards' purge do their vaults still hold the subjects. The
// merged purge (publish stage) erases the rest.
func scrub(ctx context.Context, env *orchestration.Env, conn *sql.Conn) (int64, error) {
	reqs, err := purge.PendingRequests(ctx, env.WH, conn)
	if err != nil || len(reqs) == 0 {
		return 0, err
	}
	if env.WH.Secrets == nil || env.WH.Secrets.MasterKey == nil {
		return 0, fmt.Errorf("route: the master key is needed to read the shards' vaults for an erasure")
	}
	var vaults []purge.Vault
	for i, dir := range env.ShardDirs {
		path := warehouse.KeystorePath(dir)
		if !warehouse.Exists(dir) {
			continue // not created yet: it holds nobody
		}
		if _, err := os.Stat(path); err != nil {
			continue
		}
		ks, err := vault.OpenKeystore(path, env.WH.Secrets.MasterKey)
		if err != nil {
			return 0, fmt.Errorf("shard %d keystore: %w", i, err)
		}
		vaults = append(vaults, purge.Vault{Table: Alias(i) + ".vault.pii", Keys: ks})
	}
	audits, err := purge.ScrubTexts(ctx, env.WH, conn, reqs, vaults)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, a := range audits {
		n += a.Rows
	}
	return n, purge.WriteAudit(ctx, env.WH, conn, env.RunID, env.Date, audits)
}
