package consent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"
)

func TestRecordObjection(t *testing.T) {
	ctx := context.Background()
	wh := whtest.Open(t, nil)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on the 21st is already the 22nd in Paris: the audit's date.
	now := time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)
	record := func(o Objection) Recorded {
		t.Helper()
		r, err := RecordObjection(ctx, wh, "email", "Ann@Example.com", o, now, paris)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	object := Objection{Scope: "marketing", Action: "objection", Active: true, RequestID: "r1"}
	// Nobody holds the email yet: recorded all the same, for whoever will.
	if r := record(object); r.Customers != 0 || !strings.Contains(r.Detail, "no segment, trigger or activation") ||
		!strings.Contains(r.Detail, "no customer holds this identifier yet") {
		t.Errorf("first objection: %+v", r)
	}
	if _, err := wh.DB.Exec(`INSERT INTO identity.customer_map VALUES (pseudonym('email', 'ann@example.com'), 'email', 'abcdef0123456789', false)`); err != nil {
		t.Fatal(err)
	}
	object.RequestID = "r2"
	if r := record(object); r.Customers != 1 || !strings.HasSuffix(r.Detail, "; already in force") {
		t.Errorf("second objection: %+v", r)
	}
	// A withdrawal without a request id gets one from the clock.
	r := record(Objection{Scope: "marketing", Action: "objection_withdrawn"})
	if r.RequestID != "cli:2026-11-21T23:30:00Z" || !strings.Contains(r.Detail, "processing resumes") {
		t.Errorf("withdrawal: %+v", r)
	}
	var n, audited int
	var subject, day string
	if err := wh.DB.QueryRow(`SELECT count(*) FROM consent.objections WHERE id_token = pseudonym('email', 'ann@example.com')`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d records (%v), want 3", n, err)
	}
	if err := wh.DB.QueryRow(`SELECT count(*), max(subject), CAST(max(logical_date) AS VARCHAR) FROM ops.privacy_audit
		WHERE target = 'consent.objections'`).Scan(&audited, &subject, &day); err != nil || audited != 3 || subject != "abcdef012345" || day != "2026-11-22" {
		t.Errorf("audit: %d rows, subject %q, day %s (%v)", audited, subject, day, err)
	}
	// The identifier itself is never stored (the same search finds a
	// request id, so it does look at every column).
	quoting := func(s string) int {
		var n int
		if err := wh.DB.QueryRow(`SELECT count(*) FROM consent.objections o WHERE CAST(o AS VARCHAR) ILIKE '%' || ? || '%'`, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if quoting("ann@example") != 0 || quoting("r2") != 1 {
		t.Errorf("records quoting the email: %d, the request r2: %d; want 0 and 1", quoting("ann@example"), quoting("r2"))
	}
}
