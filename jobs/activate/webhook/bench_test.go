package webhook

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
)

const (
	benchMembers = 1_000_000
	benchBatch   = 1000
)

func benchBatches() []delivery.Batch {
	attrs := map[string]string{"tier": "gold", "score": "87"}
	ms := make([]delivery.Member, benchMembers)
	for i := range ms {
		ms[i] = delivery.Member{Key: fmt.Sprintf("ck%08d", i), Email: fmt.Sprintf("user%08d@example.com", i),
			FirstName: "Zoë", LastName: "Dupont", CountryCode: "FR", Attributes: attrs}
	}
	var out []delivery.Batch
	for i, ch := range delivery.Chunk(ms, benchBatch) {
		out = append(out, delivery.Batch{Destination: "bench", Segment: "rfm:champions", Date: "2024-03-01", Number: i + 1, Op: delivery.OpUpsert, Members: ch})
	}
	return out
}

// BenchmarkWebhookPush pushes 1,000,000 members in batches of 1,000 to a
// loopback fake server, one request at a time, clean and with 10% of
// requests failing transiently (500, 503, dropped connection) and retried.
// allocs/op and B/op include the in-process server's decoding.
func BenchmarkWebhookPush(b *testing.B) {
	batches := benchBatches()
	for _, bc := range []struct {
		name   string
		faults fakeserver.Faults
	}{
		{"clean", fakeserver.Faults{}},
		{"transient_10pct", fakeserver.Faults{Rate: 0.1, Seed: 1, Kinds: []fakeserver.Fault{fakeserver.InternalError, fakeserver.Unavailable, fakeserver.Drop}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var pushed, retries int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				srv, err := fakeserver.New(fakeserver.Options{WebhookSecret: "bench-secret"})
				if err != nil {
					b.Fatal(err)
				}
				srv.SetFaults(bc.faults)
				c, err := New(Config{Name: "bench", URL: srv.WebhookURL("bench"), Secret: "bench-secret", BatchSize: benchBatch,
					Delivery: delivery.Config{Timeout: 10 * time.Second, MaxAttempts: 10, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				for _, bt := range batches {
					reqs, _, err := c.Encode(bt)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range reqs {
						out, err := delivery.Deliver(context.Background(), c, r)
						if err != nil {
							b.Fatal(err)
						}
						pushed += len(out.Accepted)
						retries += out.Retries
					}
				}
				elapsed += time.Since(start)
				b.StopTimer()
				if n := len(srv.Audience(fakeserver.Webhook, "bench/rfm:champions")); n != benchMembers {
					b.Fatalf("server holds %d members, want %d", n, benchMembers)
				}
				srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(pushed)/elapsed.Seconds(), "members/s")
			b.ReportMetric(float64(retries)/float64(b.N), "retries/op")
		})
	}
}

// BenchmarkWebhookEncode is the client side alone: encoding (signing is
// Send's) 1,000 batches of 1,000 members, no network.
func BenchmarkWebhookEncode(b *testing.B) {
	batches := benchBatches()
	c, err := New(Config{Name: "bench", URL: "http://127.0.0.1:1", Secret: "bench-secret", BatchSize: benchBatch})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	start := time.Now()
	for b.Loop() {
		for _, bt := range batches {
			reqs, _, err := c.Encode(bt)
			if err != nil {
				b.Fatal(err)
			}
			n += len(reqs[0].Members)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "members/s")
}
