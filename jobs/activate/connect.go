// Package activate pushes segments and triggers to marketing tools: the
// activate_plan job computes, without any network call, what each
// configured destination must gain and lose and writes the exact payloads;
// activate_apply sends exactly those payloads through the connectors below
// this folder and records what each destination accepted in ops.sync_state.
// See README.md in this folder for the connectors and the sync model.
package activate

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/jobs/activate/delivery"
)

// Connect builds the connector of one configured destination: its type's
// package decodes and checks its own keys and builds it. Secrets come
// from the environment variables the keys name, never from the file.
func Connect(d config.Destination, log zerolog.Logger) (delivery.Connector, error) {
	_, o, problems := decode(d)
	if len(problems) > 0 {
		return nil, fmt.Errorf("destination %s: %s", d.Name, strings.Join(problems, "; "))
	}
	dc := delivery.Config{
		Destination:   d.Name,
		Timeout:       seconds(d.TimeoutSeconds),
		MinBackoff:    seconds(d.MinBackoffSeconds),
		MaxBackoff:    seconds(d.MaxBackoffSeconds),
		MaxAttempts:   d.MaxAttempts,
		RatePerSecond: d.RatePerSecond,
		Logger:        log.With().Str("destination", d.Name).Logger(),
		Seed:          seedOf(d.Name),
	}
	c, err := o.Connect(delivery.Settings{Delivery: dc, BatchSize: d.BatchSize, DefaultCountry: d.DefaultCountry}, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", d.Name, err)
	}
	return c, nil
}

// Fields are the vault fields a destination receives: the configured
// list, or the type's default (data minimisation: only what it matches or
// greets on).
func Fields(d config.Destination) []string {
	if len(d.Fields) > 0 {
		return d.Fields
	}
	if t, err := typeOf(d); err == nil {
		return t.fields
	}
	return []string{"email"}
}

// Dir is the folder planned payloads are written under.
func Dir(cfg *config.Config) string {
	if cfg.Activation.Dir != "" {
		return cfg.Activation.Dir
	}
	return filepath.Join(cfg.Warehouse, "activation")
}

// seedOf gives each destination its own, stable backoff jitter.
func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
