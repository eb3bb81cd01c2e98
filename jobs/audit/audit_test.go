package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// TestScanFindsPlantedLeaks plants, in one cold table, each kind of value
// the scan must refuse, next to harmless ones, and checks each is named.
func TestScanFindsPlantedLeaks(t *testing.T) {
	cfg := config.Default()
	ctx := context.Background()
	wh := whtest.Open(t, &cfg)
	for _, q := range []string{
		`INSERT INTO identity.identifiers VALUES (pseudonym('cookie_id', 'ck-7f3a'), 'cookie_id', 'ck-***', now())`,
		`INSERT INTO identity.identifiers VALUES (pseudonym('customer_id', 'CRM-0042'), 'customer_id', 'CRM-***', now())`,
		`INSERT INTO identity.customers (customer_key, known, representative_type, n_identifiers, n_customer_ids)
         VALUES ('0123456789abcdef0123456789abcdef', true, 'customer_id', 1, 1)`,
		`CREATE TABLE cold.main.leaky (channel VARCHAR, note VARCHAR, customers BIGINT)`,
		`INSERT INTO cold.main.leaky VALUES ('web', 'ck-7f3a', 12), ('app', 'fine', 15), ('store', 'CRM-0042', 11),
         ('email', 'someone@example.com', 20), ('web', '0123456789abcdef0123456789abcdef', 30), ('app', 'ok', 3)`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	vs, _, err := Scan(ctx, wh, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{ // rule on cold.leaky -> count (0: any)
		"a known customer identifier":                 2, // the cookie and the CRM id, through their tokens
		"looks like an email":                         0,
		"a customer key":                              1,
		"rows standing for fewer than k=10 customers": 1,
	}
	got := map[string]int64{}
	for _, v := range vs {
		if v.Table == "cold.leaky" {
			got[v.Rule] += max(v.Count, 1)
		}
	}
	for rule, n := range want {
		if got[rule] == 0 || (n > 0 && got[rule] != n) {
			t.Errorf("rule %q: found %d, want %d (all: %v)", rule, got[rule], n, vs)
		}
	}
}

// TestRunFailsOnEachPlantedLeak plants one violation of each rule in an
// otherwise clean warehouse (with a vault) and checks the job fails on it
// and records it in ops.privacy_audit; the controls must pass.
func TestRunFailsOnEachPlantedLeak(t *testing.T) {
	const leaky = `CREATE TABLE cold.main.leaky (channel VARCHAR, note VARCHAR, customers BIGINT)`
	for _, tc := range []struct {
		name  string
		plant []string
		want  string // in the recorded detail; "" = the audit passes
	}{
		{"clean", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'fine', 12)`}, ""},
		{"vault name", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'QUINTARD', 12)`},
			"cold.leaky.note: a name held in the vault"},
		{"vault full name", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'Maëlle Quintard', 12)`},
			"cold.leaky.note: a name held in the vault"},
		{"name of an erased subject", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'Berthier', 12)`}, ""},
		{"shard name token", []string{leaky, `INSERT INTO ops.name_tokens VALUES (pseudonym('name', 'zoé'))`,
			`INSERT INTO cold.main.leaky VALUES ('web', 'Zoé', 12)`},
			"cold.leaky.note: a name held in a shard's vault (1)"},
		{"identifier", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'ck-7f3a', 12), ('app', 'CRM-0042', 12)`},
			"cold.leaky.note: a known customer identifier (2)"},
		{"customer key", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', '0123456789abcdef0123456789abcdef', 12)`},
			"cold.leaky.note: a customer key (1)"},
		{"email", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'someone@example.com', 12)`},
			"cold.leaky.note: looks like an email"},
		{"phone", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', '+33 6 12 34 56 78', 12)`},
			"cold.leaky.note: looks like a phone number"},
		{"card", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', '4970101234567890', 12)`},
			"cold.leaky.note: looks like a card number"},
		{"token", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'ffffffffffffffffffffffffffffffffffff', 12)`},
			"cold.leaky.note: looks like a customer key or token"},
		{"under k", []string{leaky, `INSERT INTO cold.main.leaky VALUES ('web', 'fine', 12), ('app', 'ok', 3), ('web', 'ok', 9)`},
			"cold.leaky.customers: rows standing for fewer than k=10 customers (2)"},
		{"no customers column", []string{`CREATE TABLE cold.main.bare (channel VARCHAR)`},
			"cold.bare: no customers column"},
		{"hot PII column", []string{`ALTER TABLE ops.name_tokens ADD COLUMN phone VARCHAR`},
			"ops.name_tokens.phone: PII column outside the vault"},
		{"hot emails", []string{`CREATE TABLE analytics.notes (customer_key VARCHAR, note VARCHAR)`,
			`INSERT INTO analytics.notes VALUES ('k1', 'a@b.fr'), ('k2', 'write to x.y@example.com'), ('k3', 'no @ here')`},
			"analytics.notes.note: email addresses in a hot analytics table (2)"},
		{"free text", []string{`INSERT INTO analytics.survey_responses (response_id, ts, event_date, customer_key, verbatim, _batch)
			VALUES ('s1', now(), current_date, 'k1', 'call me at a@b.fr', 'b1')`}, ""},
	} {
		for _, fps := range []bool{false, true} {
			name := tc.name + ", names decrypted"
			if fps {
				name = tc.name + ", name fingerprints"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				runPlanted(t, fps, tc.plant, tc.want)
			})
		}
	}
}

// runPlanted runs the audit job on vaultWarehouse(fps) after the plant
// statements, and checks its recorded detail holds want ("" = it passes).
func runPlanted(t *testing.T, fps bool, plant []string, want string) {
	t.Helper()
	ctx := context.Background()
	wh, cfg := vaultWarehouse(t, fps)
	for _, q := range plant {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	env := &orchestration.Env{Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), RunID: "r1", Config: cfg, WH: wh, Log: zerolog.Nop()}
	_, err := New().Run(ctx, env)
	var detail string
	if err := wh.DB.QueryRowContext(ctx, `SELECT detail FROM ops.privacy_audit WHERE action = 'scan' AND run_id = 'r1'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	switch {
	case want == "" && err != nil:
		t.Errorf("audit failed on a clean warehouse: %v", err)
	case want == "" && !strings.HasSuffix(detail, "values scanned, no violation"):
		t.Errorf("detail %q", detail)
	case want != "" && err == nil:
		t.Errorf("audit passed, want a failure with %q (detail %q)", want, detail)
	case want != "" && !strings.Contains(detail, want):
		t.Errorf("detail %q lacks %q", detail, want)
	}
}

// vaultWarehouse is a new warehouse with a master key, one known customer
// (CRM-0042, cookie ck-7f3a, key 0123…) whose name is sealed in the vault,
// and one erased customer whose name stays sealed under a destroyed key.
// With fps, the rows carry their name fingerprints as the vault job
// writes them (none for the destroyed key); without, they were sealed
// before vault.pii kept them (NULL).
func vaultWarehouse(t *testing.T, fps bool) (*warehouse.Warehouse, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.Privacy.K = 10
	ctx := context.Background()
	master := make([]byte, 32)
	master[0] = 7
	wh, ks := whtest.OpenVault(t, &cfg, master)
	for _, p := range []struct{ crm, first, last, key string }{
		{"CRM-0042", "Maëlle", "Quintard", "0123456789abcdef0123456789abcdef"},
		{"CRM-0099", "Odile", "Berthier", "fedcba9876543210fedcba9876543210"},
	} {
		var token string
		if err := wh.DB.QueryRowContext(ctx, `SELECT pseudonym('customer_id', ?)`, p.crm).Scan(&token); err != nil {
			t.Fatal(err)
		}
		first, last := whtest.SealNames(t, ks, token, p.first, p.last)
		var names any // NULL
		if fps {
			names = "[]"
			if p.crm != "CRM-0099" {
				names = "['" + strings.Join(vault.NameFingerprints(wh.Secrets.Pepper, p.first, p.last), "', '") + "']"
			}
		}
		if _, err := wh.DB.ExecContext(ctx, `INSERT INTO vault.pii (subject_token, customer_key, updated_at, first_name, last_name, run_id, name_fps)
VALUES (?, ?, now(), ?, ?, 'r0', CAST(? AS VARCHAR[]))`, token, p.key, first, last, names); err != nil {
			t.Fatal(err)
		}
		if p.crm == "CRM-0099" {
			subj, _ := vault.ParseSubject(token)
			ks.Destroy(subj)
		}
	}
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO identity.identifiers VALUES (pseudonym('cookie_id', 'ck-7f3a'), 'cookie_id', 'ck-***', now())`,
		`INSERT INTO identity.identifiers VALUES (pseudonym('customer_id', 'CRM-0042'), 'customer_id', 'CRM-***', now())`,
		`INSERT INTO identity.customers (customer_key, known, representative_type, n_identifiers, n_customer_ids)
         VALUES ('0123456789abcdef0123456789abcdef', true, 'customer_id', 1, 1)`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	return wh, &cfg
}
