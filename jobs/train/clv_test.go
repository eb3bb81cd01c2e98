package train

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse/whtest"
	"github.com/parcours/parcours/models/clv"
)

// Transactions reads the purchases before a day, by customer then day,
// with their calendar day and amount as the CLV model summarises them.
func TestTransactions(t *testing.T) {
	cfg := config.Default()
	ctx := context.Background()
	wh := whtest.Open(t, &cfg)
	if _, err := wh.DB.ExecContext(ctx, `INSERT INTO analytics.orders VALUES
  ('o3', 'web',   'kb', '2026-03-02 23:30:00+00', '2026-03-03', 12.50, NULL, 1),
  ('o1', 'store', 'ka', '2026-03-01 10:00:00+00', '2026-03-01', 19.99, NULL, 2),
  ('o2', 'web',   'ka', '2026-03-01 09:00:00+00', '2026-03-01', 5.01,  NULL, 1),
  ('o4', 'app',   'ka', '2026-03-05 10:00:00+00', '2026-03-05', 7.00,  NULL, 1)`); err != nil {
		t.Fatal(err)
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	got, err := Transactions(ctx, wh, conn, day("2026-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	want := []clv.Transaction{ // o4 is on the day: not before it
		{Customer: "ka", Time: day("2026-03-01"), Amount: 5.01},
		{Customer: "ka", Time: day("2026-03-01"), Amount: 19.99},
		{Customer: "kb", Time: day("2026-03-03"), Amount: 12.5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
