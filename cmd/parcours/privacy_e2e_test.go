package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
)

// copyDir copies a generated data set so a test may edit its extracts.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func dayBefore(t *testing.T, d string, n int) string {
	t.Helper()
	x, err := time.Parse(time.DateOnly, d)
	if err != nil {
		t.Fatal(err)
	}
	return x.AddDate(0, 0, -n).Format(time.DateOnly)
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// hotRows counts a customer's rows over every analytics table.
func hotRows(t *testing.T, wh, customerKey string) int64 {
	t.Helper()
	var parts []string
	for _, tbl := range []string{"web_events", "app_events", "store_receipts", "contacts", "email_events", "survey_responses", "orders"} {
		parts = append(parts, fmt.Sprintf("(SELECT count(*) FROM analytics.%s WHERE customer_key = '%s')", tbl, customerKey))
	}
	return atoi(t, queryCSV(t, wh, "SELECT "+strings.Join(parts, " + "))[0][0])
}

// A customer withdraws analytics consent: the next run deletes their hot
// facts, and the cold totals of days it cannot touch stay as they were.
func TestConsentWithdrawal(t *testing.T) {
	data := copyDir(t, dataset(t, 800, 30, 11))
	wh := t.TempDir()
	last := lastDate(t, data)
	prev := dayBefore(t, last, 1)
	mustCLI(t, "run", "nightly", "--date", prev, "--input", data, "--warehouse", wh)

	pick := queryRead(t, wh, []string{data}, fmt.Sprintf(`
SELECT t.value, m.customer_key, count(*) AS n
FROM read_csv('%s', all_varchar = true) t
JOIN identity.customer_map m ON m.id_token = pseudonym('customer_id', t.value)
JOIN analytics.web_events w ON w.customer_key = m.customer_key
WHERE t.type = 'customer_id'
GROUP BY ALL ORDER BY n DESC, 1 LIMIT 1`, filepath.Join(data, "truth", "identities.csv")))
	if len(pick) == 0 {
		t.Fatal("no consented customer with web events")
	}
	crmID, ck := pick[0][0], pick[0][1]
	if hotRows(t, wh, ck) == 0 {
		t.Fatal("picked customer has no hot rows")
	}
	// Late events of the new folder may still change the day before it;
	// days before that are closed.
	closed := dayBefore(t, last, 2)
	coldBefore := queryCSV(t, wh, fmt.Sprintf(`SELECT * FROM cold.daily_activity WHERE day <= '%s' ORDER BY ALL`, closed))
	funnelBefore := queryCSV(t, wh, fmt.Sprintf(`SELECT * FROM cold.funnel_daily WHERE day <= '%s' ORDER BY ALL`, closed))
	if len(coldBefore) < 20 {
		t.Fatalf("only %d cold rows before the withdrawal", len(coldBefore))
	}

	appendLine(t, filepath.Join(data, last, "consents.csv"),
		fmt.Sprintf("TEST-WITHDRAW-1,%s,customer_id,analytics,withdrawn,%sT09:00:00Z,,preference_centre", crmID, last))
	mustCLI(t, "run", "nightly", "--date", last, "--input", data, "--warehouse", wh)

	if n := hotRows(t, wh, ck); n != 0 {
		t.Errorf("%d hot rows left for the customer who withdrew", n)
	}
	r := queryCSV(t, wh, fmt.Sprintf(`SELECT ended_by FROM consent.intervals WHERE customer_key = '%s' AND purpose = 'analytics' ORDER BY valid_from DESC LIMIT 1`, ck))
	if len(r) == 0 || r[0][0] != "withdrawn" {
		t.Errorf("last analytics interval: %v, want one ended by the withdrawal", r)
	}
	if got := queryCSV(t, wh, fmt.Sprintf(`SELECT * FROM cold.daily_activity WHERE day <= '%s' ORDER BY ALL`, closed)); fmt.Sprint(got) != fmt.Sprint(coldBefore) {
		t.Errorf("cold.daily_activity of closed days changed after the withdrawal")
	}
	if got := queryCSV(t, wh, fmt.Sprintf(`SELECT * FROM cold.funnel_daily WHERE day <= '%s' ORDER BY ALL`, closed)); fmt.Sprint(got) != fmt.Sprint(funnelBefore) {
		t.Errorf("cold.funnel_daily of closed days changed after the withdrawal")
	}
	if n := queryCSV(t, wh, `SELECT count(*) FROM ops.privacy_audit WHERE action = 'consent_purge' AND rows > 0`)[0][0]; n == "0" {
		t.Error("no consent purge in ops.privacy_audit")
	}
}

// An erased customer stays erased when an old extract holding them is
// loaded again, and their values in a copy of the old warehouse file can
// no longer be decrypted.
func TestErasureStaysErased(t *testing.T) {
	data := copyDir(t, dataset(t, 800, 30, 12))
	wh := t.TempDir()
	last := lastDate(t, data)
	prev := dayBefore(t, last, 1)
	mustCLI(t, "run", "nightly", "--date", prev, "--input", data, "--warehouse", wh)

	// A customer of the first CRM extract with data in the vault.
	first := queryCSV(t, wh, `SELECT min(folder_date) FROM ops.ingest_files WHERE source = 'crm_customers'`)[0][0]
	crm := filepath.Join(data, first, "crm_customers.csv")
	pick := queryRead(t, wh, []string{data}, fmt.Sprintf(`
SELECT c.customer_id, c.email, m.customer_key
FROM read_csv('%s', all_varchar = true) c
JOIN identity.customer_map m ON m.id_token = pseudonym('customer_id', c.customer_id)
JOIN vault.pii v ON v.subject_token = m.id_token
WHERE c.email LIKE '%%@%%' AND m.customer_key IN (SELECT customer_key FROM analytics.orders)
ORDER BY 1 LIMIT 1`, crm))
	if len(pick) == 0 {
		t.Fatal("no customer to erase")
	}
	crmID, email, ck := pick[0][0], pick[0][1], pick[0][2]

	// The "old backup": the warehouse files as they were before the erasure.
	backup := t.TempDir()
	for _, f := range []string{"hot.duckdb", "keystore.bin"} {
		b, err := os.ReadFile(filepath.Join(wh, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(backup, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustCLI(t, "privacy", "forget", email, "--warehouse", wh, "--request-id", "DPO-TEST-1")

	check := func(when string) {
		t.Helper()
		if n := hotRows(t, wh, ck); n != 0 {
			t.Errorf("%s: %d hot rows", when, n)
		}
		r := queryCSV(t, wh, fmt.Sprintf(`SELECT
  (SELECT count(*) FROM vault.pii WHERE subject_token = pseudonym('customer_id', '%[1]s') OR customer_key = '%[2]s'),
  (SELECT count(*) FROM identity.customer_map WHERE id_token IN (pseudonym('customer_id', '%[1]s'), pseudonym('email', norm_email('%[3]s'))) OR customer_key = '%[2]s'),
  (SELECT count(*) FROM identity.identifiers WHERE id_token IN (pseudonym('customer_id', '%[1]s'), pseudonym('email', norm_email('%[3]s')))),
  (SELECT count(*) FROM ops.suppression WHERE id_token IN (pseudonym('customer_id', '%[1]s'), pseudonym('email', norm_email('%[3]s'))))`, crmID, ck, email))
		if r[0][0] != "0" || r[0][1] != "0" || r[0][2] != "0" || r[0][3] != "2" {
			t.Errorf("%s: vault %s, customer map %s, identifiers %s rows; %s of 2 identifiers suppressed", when, r[0][0], r[0][1], r[0][2], r[0][3])
		}
		out := mustCLI(t, "privacy", "export", email, "--warehouse", wh).stdout
		if !strings.Contains(out, `"erased": true`) || strings.Contains(strings.ToLower(out), strings.ToLower(crmID)) {
			t.Errorf("%s: subject export:\n%s", when, out)
		}
	}
	check("after forget")
	if n := queryCSV(t, wh, `SELECT count(*) FROM ops.privacy_audit WHERE request_id = 'DPO-TEST-1' AND action = 'erasure'`)[0][0]; n != "1" {
		t.Errorf("erasure audit rows: %s", n)
	}

	// The old extracts again, as new files: CRM versions and events with
	// new keys, so only the suppression list stands in their way.
	if err := os.RemoveAll(filepath.Join(data, last)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, last), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(crm)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 1; i < len(lines); i++ {
		// updated_at is the last column: a newer version of every record.
		if j := strings.LastIndex(lines[i], ","); j > 0 {
			lines[i] = lines[i][:j+1] + last + " 07:00:00"
		}
	}
	if err := os.WriteFile(filepath.Join(data, last, "crm_customers.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "run", "nightly", "--date", last, "--input", data, "--warehouse", wh)
	check("after re-ingesting the old extract")

	// Crypto-shredding: the backup's sealed email opened with the backup's
	// keystore (proof the test can fail), then not with today's keystore.
	s, err := keys.Load(filepath.Join(wh, "parcours.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := vault.ParseSubject(keys.Token(s.Pepper, "customer_id", crmID))
	db, err := sql.Open("duckdb", filepath.Join(backup, "hot.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sealed []byte
	if err := db.QueryRowContext(context.Background(), "SELECT email FROM vault.pii WHERE subject_token = ?", subj.String()).Scan(&sealed); err != nil {
		t.Fatalf("backup vault row: %v", err)
	}
	old, err := vault.OpenKeystore(filepath.Join(backup, "keystore.bin"), s.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	dk, ok, err := old.DataKey(subj, false)
	if err != nil || !ok {
		t.Fatalf("backup keystore has no key for the subject: %v", err)
	}
	if v, err := vault.Open(dk, subj, "email", sealed); err != nil || !strings.EqualFold(v, strings.TrimSpace(email)) {
		t.Fatalf("before erasure the value should open: %q %v", v, err)
	}
	now, err := vault.OpenKeystore(warehouse.KeystorePath(wh), s.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := now.DataKey(subj, false); ok {
		t.Error("the erased subject's data key still exists: the backup copy can be decrypted")
	}
}

func randomKey() string { return base64.StdEncoding.EncodeToString(keys.Random(32)) }

func fileBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A wrong or missing master key (or pepper) stops the run with exit 2
// before anything is changed; no key is minted for an existing warehouse.
func TestWrongOrMissingKeys(t *testing.T) {
	data := dataset(t, 500, 20, 13)
	wh := t.TempDir()
	date := lastDate(t, data)
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	ksPath, keyPath := warehouse.KeystorePath(wh), filepath.Join(wh, "parcours.key")
	ks, kf := fileBytes(t, ksPath), fileBytes(t, keyPath)
	vaultSum := queryCSV(t, wh, "SELECT count(*), sum(hash(email)) FROM vault.pii")

	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"wrong master key", []string{"PARCOURS_MASTER_KEY=" + randomKey()}, []string{"run", "nightly", "--force"}, "master key"},
		{"wrong pepper", []string{"PARCOURS_PEPPER=" + randomKey()}, []string{"run", "nightly", "--force"}, "pepper"},
		{"rotate with a wrong key", []string{"PARCOURS_MASTER_KEY=" + randomKey(), "PARCOURS_NEW_MASTER_KEY=" + randomKey()}, []string{"keys", "rotate"}, "master key"},
		{"malformed key", []string{"PARCOURS_MASTER_KEY=not-a-key"}, []string{"run", "nightly", "--force"}, "PARCOURS_MASTER_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.env, append(tc.args, "--date", date, "--input", data, "--warehouse", wh)...)
			if tc.args[0] == "keys" {
				r = cli(t, tc.env, append(tc.args, "--warehouse", wh)...)
			}
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", r.code, tc.want, tail(r.stderr, 5))
			}
			if !bytes.Equal(fileBytes(t, ksPath), ks) || !bytes.Equal(fileBytes(t, keyPath), kf) {
				t.Fatal("keystore or key file changed")
			}
			if got := queryCSV(t, wh, "SELECT count(*), sum(hash(email)) FROM vault.pii"); fmt.Sprint(got) != fmt.Sprint(vaultSum) {
				t.Fatal("vault changed")
			}
		})
	}
	// parcours query reads the warehouse, not the machine.
	t.Run("query sandbox", func(t *testing.T) {
		leak := filepath.Join(t.TempDir(), "leak.csv")
		for _, q := range []string{
			"COPY (SELECT * FROM ops.quarantine) TO '" + leak + "'",
			"SELECT content FROM read_text('" + keyPath + "')",
			"SELECT 1; COPY (SELECT 1) TO '" + leak + "'",
			"SELECT * FROM read_csv('/etc/passwd')",
		} {
			r := cli(t, nil, "query", q, "--warehouse", wh)
			if r.code != 2 || strings.Contains(r.stdout, "master_key") {
				t.Fatalf("query %q: exit %d, want 2\n%s%s", q, r.code, r.stdout, tail(r.stderr, 3))
			}
		}
		if _, err := os.Stat(leak); err == nil {
			t.Fatal("query wrote a file")
		}
		if r := mustCLI(t, "query", "SELECT count(*) AS n FROM vault.pii", "--warehouse", wh, "--format", "csv"); !strings.HasPrefix(r.stdout, "n\n") {
			t.Fatalf("a plain query: %q", r.stdout)
		}
	})
	// A lost keystore, or another warehouse's under the same keys, is
	// refused before any job runs: no ledger row, no byte changed.
	store := func() string {
		return fmt.Sprintf("%x %x", sha256.Sum256(fileBytes(t, warehouse.HotPath(wh))), sha256.Sum256(fileBytes(t, warehouse.ColdPath(wh))))
	}
	t.Run("missing keystore", func(t *testing.T) {
		before := store()
		if err := os.Remove(ksPath); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(ksPath, ks, 0o600)
		for _, args := range [][]string{{"run", "nightly", "--force", "--date", date, "--input", data}, {"privacy", "export", "x@example.com"}} {
			r := cli(t, nil, append(args, "--warehouse", wh)...)
			if r.code != 2 || !strings.Contains(r.stderr, "restore keystore.bin from the backup") {
				t.Fatalf("%s: exit %d, want 2 saying to restore the keystore:\n%s", args[0], r.code, tail(r.stderr, 5))
			}
		}
		if _, err := os.Stat(ksPath); err == nil {
			t.Fatal("a new, empty keystore was written")
		}
		if store() != before {
			t.Fatal("the warehouse changed")
		}
	})
	t.Run("foreign keystore", func(t *testing.T) {
		other := t.TempDir()
		if err := copyKeyFile(wh, other); err != nil {
			t.Fatal(err)
		}
		mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", other)
		runs := queryCSV(t, wh, "SELECT count(*) FROM ops.job_runs")
		before := store()
		if err := os.WriteFile(ksPath, fileBytes(t, warehouse.KeystorePath(other)), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cli(t, nil, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
		os.WriteFile(ksPath, ks, 0o600)
		if r.code != 2 || !strings.Contains(r.stderr, "belongs to warehouse") {
			t.Fatalf("exit %d, want 2 saying the keystore belongs to another warehouse:\n%s", r.code, tail(r.stderr, 5))
		}
		if strings.Contains(r.stderr, "job started") {
			t.Fatal("jobs ran with a foreign keystore")
		}
		if store() != before || fmt.Sprint(queryCSV(t, wh, "SELECT count(*) FROM ops.job_runs")) != fmt.Sprint(runs) {
			t.Fatal("the warehouse changed")
		}
	})
	t.Run("missing key file", func(t *testing.T) {
		moved := keyPath + ".away"
		if err := os.Rename(keyPath, moved); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(moved, keyPath)
		r := cli(t, nil, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
		if r.code != 2 || !strings.Contains(r.stderr, "key file") {
			t.Fatalf("exit %d, want 2 naming the key file:\n%s", r.code, tail(r.stderr, 5))
		}
		if _, err := os.Stat(keyPath); err == nil {
			t.Fatal("a new key file was minted for an existing warehouse")
		}
	})
}

// Rotation re-wraps every data key: every vault value still decrypts, the
// old master key no longer opens anything, and an interrupted rotation is
// finished by running it again.
func TestKeyRotation(t *testing.T) {
	data := dataset(t, 500, 20, 13)
	wh := t.TempDir()
	date := lastDate(t, data)
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	keyPath := filepath.Join(wh, "parcours.key")
	allValues := func() string {
		t.Helper()
		s, err := keys.Load(keyPath, false)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := vault.OpenKeystore(warehouse.KeystorePath(wh), s.MasterKey)
		if err != nil {
			t.Fatal(err)
		}
		rows := queryCSV(t, wh, "SELECT subject_token, hex(email), hex(last_name) FROM vault.pii WHERE email IS NOT NULL ORDER BY 1")
		var out strings.Builder
		for _, r := range rows {
			subj, _ := vault.ParseSubject(r[0])
			dk, ok, err := ks.DataKey(subj, false)
			if err != nil || !ok {
				t.Fatalf("subject %s: no data key (%v)", r[0], err)
			}
			for i, f := range []string{"email", "last_name"} {
				b := unhex(t, r[1+i])
				v, err := vault.Open(dk, subj, f, b)
				if err != nil {
					t.Fatalf("subject %s %s: %v", r[0], f, err)
				}
				out.WriteString(v + "\n")
			}
		}
		if len(rows) < 100 {
			t.Fatalf("only %d vault rows", len(rows))
		}
		return out.String()
	}
	before := allValues()
	oldKeys, err := keys.Load(keyPath, false)
	if err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "keys", "rotate", "--warehouse", wh)
	if allValues() != before {
		t.Fatal("vault values differ after rotation")
	}
	r := cli(t, []string{"PARCOURS_MASTER_KEY=" + base64.StdEncoding.EncodeToString(oldKeys.MasterKey)}, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
	if r.code != 2 {
		t.Fatalf("the old master key still works: exit %d", r.code)
	}

	// Interrupted after the keystore was re-wrapped, before the key file
	// was updated: runs refuse to start, and rotating again finishes.
	s, err := keys.Load(keyPath, false)
	if err != nil {
		t.Fatal(err)
	}
	next, err := keys.BeginRotation(keyPath, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Rewrap(warehouse.KeystorePath(wh), s.MasterKey, next); err != nil {
		t.Fatal(err)
	}
	r = cli(t, nil, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
	if r.code != 2 || !strings.Contains(r.stderr, "rotation was interrupted") {
		t.Fatalf("half-rotated: exit %d:\n%s", r.code, tail(r.stderr, 5))
	}
	mustCLI(t, "keys", "rotate", "--warehouse", wh)
	if allValues() != before {
		t.Fatal("vault values differ after the finished rotation")
	}
	mustCLI(t, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%X", &b); err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// Everything under the warehouse is owner-only (0600 files, 0700
// folders) whatever the umask; the cold exports and the report, which
// hold no identifier, are readable (0644 files, 0755 folders).
func TestFileModes(t *testing.T) {
	data := dataset(t, 500, 20, 13)
	wh := filepath.Join(t.TempDir(), "wh")
	exports := filepath.Join(t.TempDir(), "exports")
	old := syscall.Umask(0) // the most permissive umask a scheduler could have
	r := cli(t, []string{"PARCOURS_EXPORT_DIR=" + exports}, "run", "nightly", "--date", lastDate(t, data), "--input", data, "--warehouse", wh)
	syscall.Umask(old)
	if r.code != 0 {
		t.Fatalf("nightly: exit %d\n%s", r.code, tail(r.stderr, 20))
	}
	check := func(root string, file, dir os.FileMode) int {
		n := 0
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			want := file
			if fi.IsDir() {
				want = dir
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
			}
			n++
			return nil
		})
		return n
	}
	if n := check(wh, 0o600, 0o700); n < 6 {
		t.Fatalf("only %d entries under the warehouse", n)
	}
	if n := check(exports, 0o644, 0o755); n < 5 {
		t.Fatalf("only %d entries under the exports", n)
	}
	if _, err := os.Stat(filepath.Join(exports, "reports", "report-"+lastDate(t, data)+".html")); err != nil {
		t.Fatalf("no report beside the exports: %v", err)
	}
}
