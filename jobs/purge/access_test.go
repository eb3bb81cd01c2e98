package purge

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/internal/warehouse/whtest"
)

// A subject access report on a hand-made warehouse: one customer with an
// email and a CRM id, a consent, an order and a churn score; another
// customer who shares nothing with them; an erased phone.
func TestAccess(t *testing.T) {
	ctx := context.Background()
	wh := whtest.Open(t, nil, func(o *warehouse.Options) {
		o.Secrets = &keys.Secrets{Pepper: []byte("p"), MasterKey: []byte("0123456789abcdef0123456789abcdef")}
	})
	for _, s := range []string{
		`INSERT INTO identity.identifiers VALUES
		   (pseudonym('email', 'ann@example.com'), 'email', 'a***@example.com', TIMESTAMPTZ '2026-01-05 10:00:00+00'),
		   (pseudonym('customer_id', 'C1'), 'customer_id', 'C*', TIMESTAMPTZ '2026-01-04 10:00:00+00'),
		   (pseudonym('email', 'bob@example.com'), 'email', 'b***@example.com', TIMESTAMPTZ '2026-01-06 10:00:00+00')`,
		`INSERT INTO identity.customer_map VALUES
		   (pseudonym('email', 'ann@example.com'), 'email', 'kann', false),
		   (pseudonym('customer_id', 'C1'), 'customer_id', 'kann', false),
		   (pseudonym('email', 'bob@example.com'), 'email', 'kbob', false)`,
		`INSERT INTO consent.events VALUES ('c1', pseudonym('customer_id', 'C1'), 'customer_id', 'analytics', 'granted',
		   TIMESTAMPTZ '2026-01-04 10:00:00+00', NULL, 'web form', 'r1')`,
		`INSERT INTO analytics.orders VALUES ('o1', 'store', 'kann', TIMESTAMPTZ '2026-02-01 12:00:00+00', DATE '2026-02-01', 42.50, 0, 2),
		   ('o2', 'web', 'kbob', TIMESTAMPTZ '2026-02-02 12:00:00+00', DATE '2026-02-02', 10, 0, 1)`,
		`INSERT INTO analytics.churn_scores VALUES (DATE '2026-03-01', 'kann', 'm1', 0.72, 'high', 'no purchase for 28 days', NULL, NULL, '[]')`,
		`INSERT INTO ops.suppression (id_token, id_type, request_id) VALUES (pseudonym('phone', '+33612345678'), 'phone', 'e1')`,
	} {
		if _, err := wh.DB.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}

	// The email as a person types it: normalised as ingest normalises it.
	rep, err := Access(ctx, wh, "email", " Ann@Example.COM ")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Suppressed || len(rep.Customers) != 1 {
		t.Fatalf("report %+v, want one customer, not erased", rep)
	}
	c := rep.Customers[0]
	if c.CustomerKey != "kann" || len(c.Identifiers) != 2 || c.Identifiers[0]["label"] != "C*" || c.Identifiers[1]["label"] != "a***@example.com" {
		t.Errorf("identifiers %v", c.Identifiers)
	}
	if len(c.Consents) != 1 || c.Consents[0]["purpose"] != "analytics" || c.Consents[0]["given_with"] != "customer_id" {
		t.Errorf("consents %v", c.Consents)
	}
	// Every analytics table keyed by the customer, none of Bob's rows.
	if len(c.Data["analytics.orders"]) != 1 || c.Data["analytics.orders"][0]["order_id"] != "o1" || len(c.Data["analytics.churn_scores"]) != 1 {
		t.Errorf("data %v", c.Data)
	}
	if _, keyed := c.Data["analytics.orders"][0]["customer_key"]; keyed {
		t.Error("rows carry the customer key")
	}
	if !slices.Equal(c.ColdTables, []string{"cold.cohort_retention"}) {
		t.Errorf("cold tables fed %v, want the cohort table an order feeds", c.ColdTables)
	}
	if p := c.Prediction; p == nil || p.Churn == nil || p.Churn.Probability != 0.72 || p.Churn.Reasons[0] != "no purchase for 28 days" ||
		!strings.HasPrefix(p.AutomatedDecisions, "in use") {
		t.Errorf("prediction %+v", c.Prediction)
	}

	// An erased identifier nobody holds any more.
	rep, err = Access(ctx, wh, "phone", "06 12 34 56 78")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Suppressed || len(rep.Customers) != 0 || !slices.Contains(rep.Notes, "no customer holds this identifier") {
		t.Errorf("erased phone: %+v", rep)
	}

	if got, err := CustomersOf(ctx, wh, "customer_id", "C1"); err != nil || !slices.Equal(got, []string{"kann"}) {
		t.Errorf("CustomersOf(C1) = %v, %v", got, err)
	}
}
