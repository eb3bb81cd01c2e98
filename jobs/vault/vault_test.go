package vault

import (
	"context"
	"slices"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse/whtest"
)

// Rows sealed before vault.pii kept name fingerprints get them on the
// next run, equal to what sealing writes and to the SQL name pseudonym
// the merged audit compares; a subject whose data key is gone gets none.
func TestFillNameFingerprints(t *testing.T) {
	cfg := config.Default()
	ctx := context.Background()
	master := make([]byte, 32)
	master[0] = 3
	wh, ks := whtest.OpenVault(t, &cfg, master)
	for _, p := range []struct{ token, first, last string }{
		{"01", "Maëlle", "Quintard"}, // live
		{"02", "Odile", ""},          // live, no last name
		{"03", "Zoé", "Berthier"},    // erased: key destroyed
	} {
		token := p.token + "00000000000000000000000000000000000000000000000000000000000000"
		first, last := whtest.SealNames(t, ks, token, p.first, p.last)
		if _, err := wh.DB.ExecContext(ctx, `INSERT INTO vault.pii (subject_token, customer_key, updated_at, first_name, last_name, run_id)
VALUES (?, 'k' || ?, now(), ?, ?, 'r0')`, token, p.token, first, last); err != nil {
			t.Fatal(err)
		}
		if p.token == "03" {
			subj, _ := vault.ParseSubject(token)
			ks.Destroy(subj)
		}
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, err := fillNameFingerprints(ctx, wh, conn, ks)
	if err != nil || n != 3 {
		t.Fatalf("filled %d, %v; want 3", n, err)
	}
	want := map[string][]string{
		"k01": vault.NameFingerprints(wh.Secrets.Pepper, "Maëlle", "Quintard"),
		"k02": vault.NameFingerprints(wh.Secrets.Pepper, "Odile", ""),
		"k03": {},
	}
	if len(want["k01"]) != 3 || len(want["k02"]) != 1 { // "odile" is the first and the full name
		t.Fatalf("fingerprints %v", want)
	}
	for key, fps := range want {
		var got []any
		var sqlToken string
		if err := wh.DB.QueryRowContext(ctx, `SELECT name_fps, pseudonym('name', 'maëlle quintard') FROM vault.pii WHERE customer_key = ?`, key).Scan(&got, &sqlToken); err != nil {
			t.Fatal(err)
		}
		var gs []string
		for _, g := range got {
			gs = append(gs, g.(string))
		}
		if !slices.Equal(gs, fps) {
			t.Errorf("%s: name_fps %v, want %v", key, gs, fps)
		}
		if key == "k01" && !slices.Contains(gs, sqlToken) {
			t.Errorf("the full name's SQL pseudonym %s is not among %v", sqlToken, gs)
		}
	}
	if n, err := fillNameFingerprints(ctx, wh, conn, ks); err != nil || n != 0 {
		t.Fatalf("second run filled %d, %v; want 0", n, err)
	}
}
