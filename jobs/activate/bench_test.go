package activate

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/orchestration"
)

// BenchmarkApply1M plans and pushes a 1,000,000-member segment to a
// loopback webhook (1,000 members per request), through the whole path:
// audience SQL with its gates, payload files, HTTP with HMAC, sync state.
// The faulty case fails 10% of requests transiently (500, 503, dropped
// connections, drops after applying); apply re-runs while it reports a
// temporary failure, as a scheduler does on exit 75.
//
//	go test -tags duckdb_arrow ./jobs/activate -run '^$' -bench Apply1M -benchtime 1x
func BenchmarkApply1M(b *testing.B) {
	const n = 1_000_000
	for _, tc := range []struct {
		name   string
		faults fakeserver.Faults
	}{
		{"clean", fakeserver.Faults{}},
		{"10pct_transient", fakeserver.Faults{Rate: 0.1, Seed: 7, Kinds: []fakeserver.Fault{"500", "503", "drop", "drop_after_apply"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f := newFixture(b)
				f.cfg.Activation.Destinations = []config.Destination{{
					Name: "hook", Type: "webhook", Options: map[string]any{"url": f.srv.WebhookURL("hook"), "secret_env": "HOOK_SECRET"},
					Purpose: "marketing_email", Mode: "mirror", Segments: []string{"rfm:big"},
					BatchSize: 1000, TimeoutSeconds: 10, MaxAttempts: 5, MinBackoffSeconds: 0.01, MaxBackoffSeconds: 0.2,
				}}
				f.cfg.Activation.FrequencyCap = 100
				for _, q := range []string{
					`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-10', 'rfm', 'big', printf('k%07d', i) FROM range(1000000) t(i)`,
					`INSERT INTO consent.intervals (customer_key, purpose, valid_from, ended_by, consent_id)
SELECT printf('k%07d', i), 'marketing_email', TIMESTAMPTZ '2025-01-01 00:00:00+00', 'open', 'g' || i FROM range(1000000) t(i)`,
				} {
					if _, err := f.wh.DB.Exec(q); err != nil {
						b.Fatal(err)
					}
				}
				f.srv.SetFaults(tc.faults)
				b.StartTimer()
				start := time.Now()
				conn, err := f.wh.Conn(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Plan(b.Context(), f.wh, conn, &f.cfg, day, "bench", zerolog.Nop()); err != nil {
					b.Fatal(err)
				}
				conn.Close()
				planned := time.Since(start)
				runs := 0
				for {
					runs++
					_, err := Apply(b.Context(), f.wh, &f.cfg, day, "bench", zerolog.Nop(), ApplyOptions{})
					if err == nil {
						break
					}
					if !orchestration.IsTemporary(err) || runs > 20 {
						b.Fatal(err)
					}
				}
				took := time.Since(start)
				b.StopTimer()
				if got := len(f.srv.Audience(fakeserver.Webhook, "hook/rfm:big")); got != n {
					b.Fatalf("destination holds %d members, want %d", got, n)
				}
				b.ReportMetric(float64(n)/took.Seconds(), "members/s")
				b.ReportMetric(planned.Seconds(), "plan_s")
				b.ReportMetric(float64(runs), "applies")
				var ru syscall.Rusage
				if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
					b.ReportMetric(float64(ru.Maxrss)/1024, "peak_RSS_MiB")
				}
				fmt.Printf("%s: %d members in %.1f s (plan %.1f s), %d applies, server saw %d requests\n",
					tc.name, n, took.Seconds(), planned.Seconds(), runs, f.srv.Stats().Requests)
				b.StartTimer()
			}
		})
	}
}
