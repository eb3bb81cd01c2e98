package warehouse

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	sqlfs "github.com/parcours/parcours/sql"
)

func open(t *testing.T, cfg *config.Config, secrets *keys.Secrets) *Warehouse {
	t.Helper()
	sqls, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	wh, err := Open(context.Background(), cfg, Options{SQL: sqls, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

// The SQL pseudonym macro must compute exactly keys.Token, or identifiers
// tokenised in SQL would not match those tokenised in Go.
func TestPseudonymMacroMatchesGo(t *testing.T) {
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	peppers := [][]byte{bytes.Repeat([]byte{0xAB}, 32), []byte("k"), bytes.Repeat([]byte{1}, 100)}
	values := []struct{ typ, v string }{{"email", "a@b.c"}, {"phone", "+33612345678"}, {"customer_id", "C0000001"}, {"email", "éléonore@exemple.fr"}, {"x", ""}}
	for _, p := range peppers {
		cfg.Warehouse = t.TempDir() // a warehouse refuses a second pepper
		wh := open(t, &cfg, &keys.Secrets{Pepper: p})
		for _, v := range values {
			var got string
			if err := wh.DB.QueryRow("SELECT pseudonym(?, ?)", v.typ, v.v).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := keys.Token(p, v.typ, v.v); got != want {
				t.Errorf("pepper %x… %s:%s: SQL %s, Go %s", p[:1], v.typ, v.v, got, want)
			}
		}
		var null sql.NullString
		if err := wh.DB.QueryRow("SELECT pseudonym('email', NULL)").Scan(&null); err != nil || null.Valid {
			t.Fatalf("pseudonym of NULL = %v %v, want NULL", null, err)
		}
		wh.Close()
	}
}

func TestNormalisationMacros(t *testing.T) {
	tests := []struct {
		region, in, phone string
	}{
		{"FR", "06 12 34 56 78", "+33612345678"},
		{"FR", "06.12.34.56.78", "+33612345678"},
		{"FR", "0612345678", "+33612345678"},
		{"FR", "+33612345678", "+33612345678"},
		{"FR", "+33 6 12 34 56 78", "+33612345678"},
		{"FR", "+33 (0)6 12 34 56 78", "+33612345678"},
		{"FR", "0033 6 12 34 56 78", "+33612345678"},
		{"FR", "0000000000", ""},
		{"FR", "12", ""},
		{"FR", "", ""},
		{"US", "(415) 555-0132", "+14155550132"},
		{"DE", "030 1234567", "+49301234567"},
	}
	for _, tt := range tests {
		cfg := config.Default()
		cfg.Warehouse = t.TempDir()
		cfg.Region = tt.region
		wh := open(t, &cfg, nil)
		var got sql.NullString
		if err := wh.DB.QueryRow("SELECT norm_phone(?)", tt.in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.String != tt.phone {
			t.Errorf("%s norm_phone(%q) = %q, want %q", tt.region, tt.in, got.String, tt.phone)
		}
		wh.Close()
	}
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	wh := open(t, &cfg, nil)
	var email string
	var valid, bad bool
	if err := wh.DB.QueryRow("SELECT norm_email('  Jane.DOE@Example.COM '), valid_email('jane@example.com'), valid_email('jane@example')").Scan(&email, &valid, &bad); err != nil {
		t.Fatal(err)
	}
	if email != "jane.doe@example.com" || !valid || bad {
		t.Fatalf("email macros: %q %v %v", email, valid, bad)
	}
	// Naive local times are read in the business time zone; ISO with an offset as written.
	var a, b, c string
	if err := wh.DB.QueryRow(`SELECT strftime(local_ts('2026-07-01 12:00:00', '%Y-%m-%d %H:%M:%S'), '%H:%M'),
		strftime(parse_ts('2026-01-01T12:00:00+01:00'), '%H:%M'), CAST(local_date(parse_ts('2026-11-21T23:30:00Z')) AS VARCHAR)`).Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a != "10:00" || b != "11:00" || c != "2026-11-22" {
		t.Fatalf("time macros: %s %s %s, want 10:00 11:00 2026-11-22", a, b, c)
	}
}

// parse_ts tests its suffix with byte comparisons; it must read every text
// as the character tests it replaced did (kept here as the reference).
func TestParseTsMatchesCharacterTests(t *testing.T) {
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	wh := open(t, &cfg, nil)
	defer wh.Close()
	if _, err := wh.DB.Exec(`CREATE TEMP MACRO parse_ts_chars(s) AS
  CASE
    WHEN length(s) > 19 AND (right(s, 1) IN ('Z', 'z') OR substr(s, -6, 1) IN ('+', '-')
                             OR substr(s, -5, 1) IN ('+', '-') OR substr(s, -3, 1) IN ('+', '-'))
      THEN try_cast(s AS TIMESTAMPTZ)
    ELSE timezone('` + cfg.Timezone + `', try_cast(s AS TIMESTAMP))
  END`); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"2026-06-01T11:30:09.181Z", "2026-06-01T11:30:09z", "2026-06-01T11:30:09", "2026-06-01 11:30:09",
		"2026-06-01T11:30:09+02:00", "2026-06-01T11:30:09-0500", "2026-06-01T11:30:09+02", "2026-06-01T11:30Z",
		"2026-06-01Z", "2026-06-01", "2026-06-01T11:30:09.123456+05:30", "2026-03-29 02:30:00", "2026-10-25 02:30:00",
		"2026-06-01T11:30:09 Europe/Paris", "2026-06-01T11:30:09 UTC", "not a time", "", "2026-06-01T11:30:09é",
		"2026-06-01T11:30:0éZ", "2026-06-01T11:30:09+é2:00", "ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉZ",
	} {
		var got, want sql.NullString
		if err := wh.DB.QueryRow("SELECT CAST(parse_ts(?) AS VARCHAR), CAST(parse_ts_chars(?) AS VARCHAR)", in, in).Scan(&got, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("parse_ts(%q) = %v, the character tests give %v", in, got, want)
		}
	}
}

func TestSecondWriterIsLockedOut(t *testing.T) {
	dir := t.TempDir()
	l1, err := AcquireLock(dir, true, "parcours run nightly --date 2026-11-22")
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(dir, true, "second")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.Command != "parcours run nightly --date 2026-11-22" {
		t.Fatalf("second writer: %v, want a LockedError naming the holder", err)
	}
	if _, err := AcquireLock(dir, false, "reader"); !IsLocked(err) {
		t.Fatalf("reader during a write: %v, want locked", err)
	}
	if err := l1.Release(); err != nil {
		t.Fatal(err)
	}
	r1, err := AcquireLock(dir, false, "reader 1")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := AcquireLock(dir, false, "reader 2")
	if err != nil {
		t.Fatalf("readers must share the lock: %v", err)
	}
	r1.Release()
	r2.Release()
}

// A warehouse remembers its pepper's check value and refuses another one;
// its keystore refuses another master key. Both before anything is written.
func TestWrongSecretsRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	good := &keys.Secrets{Pepper: bytes.Repeat([]byte{1}, 32), MasterKey: bytes.Repeat([]byte{2}, 32)}
	wh := open(t, &cfg, good)
	ks, err := vault.OpenKeystore(wh.KeystorePath(), good.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	ks.DataKey(vault.Subject{1}, true)
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	sqls, _ := sqlfs.Parse(sqlfs.FS())
	for _, tc := range []struct {
		name string
		s    *keys.Secrets
		want string
	}{
		{"other pepper", &keys.Secrets{Pepper: bytes.Repeat([]byte{9}, 32), MasterKey: good.MasterKey}, "pepper"},
		{"other master key", &keys.Secrets{Pepper: good.Pepper, MasterKey: bytes.Repeat([]byte{9}, 32)}, "does not open keystore"},
		{"rotation half done", &keys.Secrets{Pepper: good.Pepper, MasterKey: bytes.Repeat([]byte{9}, 32), NextMasterKey: good.MasterKey}, "rotation was interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(context.Background(), &cfg, Options{SQL: sqls, Secrets: tc.s})
			if err == nil {
				w.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, keys.ErrKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a key error about %q", err, tc.want)
			}
		})
	}
	w, err := Open(context.Background(), &cfg, Options{SQL: sqls, Secrets: good})
	if err != nil {
		t.Fatalf("right secrets refused: %v", err)
	}
	w.Close()
}
