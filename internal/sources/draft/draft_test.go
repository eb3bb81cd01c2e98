package draft

import (
	"reflect"
	"testing"
)

func TestNameAndGlob(t *testing.T) {
	for _, tc := range []struct{ file, name, glob string }{
		{"orders_2026-11-22.csv", "orders", "orders_*.csv"},
		{"Clients_export.csv", "clients_export", "Clients_export.csv"},
		{"events_20261122.jsonl.gz", "events", "events_*.jsonl.gz"},
		{"Export Commandes 2026_11_22 10-15.csv", "export_commandes", "Export Commandes *.csv"},
		{"2026-11-22.csv", "source_", "*.csv"},
		{"données clients.csv", "donnees_clients", "données clients.csv"},
	} {
		name, glob := nameAndGlob(tc.file)
		if name != tc.name || glob != tc.glob {
			t.Errorf("%s: %q %q, want %q %q", tc.file, name, glob, tc.name, tc.glob)
		}
	}
}

func TestDetectLayout(t *testing.T) {
	for _, tc := range []struct {
		values     []string
		monthFirst bool
		layout     string
		dateOnly   bool
	}{
		{[]string{"22/11/2026 10:15", "01/12/2026 08:00"}, false, "%d/%m/%Y %H:%M", false},
		{[]string{"11/22/2026 8:26", "12/1/2026 18:28"}, false, "%m/%d/%Y %H:%M", false},
		{[]string{"01/02/2026 10:00"}, true, "%m/%d/%Y %H:%M", false}, // ambiguous: the region's order
		{[]string{"01/02/2026 10:00"}, false, "%d/%m/%Y %H:%M", false},
		{[]string{"11/21/2026 03:04 PM", "11/22/2026 09:30 am"}, false, "%m/%d/%Y %I:%M %p", false},
		{[]string{"22.11.2026", "1.12.2026"}, false, "%d.%m.%Y", true},
		{[]string{"20261122"}, false, "%Y%m%d", true},
		{[]string{"hello", "22/11/2026"}, false, "", false},
	} {
		l, d := detectLayout(tc.values, tc.monthFirst)
		if l != tc.layout || d != tc.dateOnly {
			t.Errorf("%v: %q %v, want %q %v", tc.values, l, d, tc.layout, tc.dateOnly)
		}
	}
}

func TestProfile(t *testing.T) {
	p := func(vs ...string) profile { return profileOf(Column{Name: "c", Values: vs}, "FR", false) }
	if x := p("a@b.fr", "c@d.com"); x.email != 1 {
		t.Errorf("emails: %+v", x)
	}
	if x := p("06 12 34 56 78", "+33 7 88 99 00 11"); x.phone != 1 {
		t.Errorf("phones: %v", x.phone)
	}
	if x := p("33612345678", "12345678901"); x.phone != 0 {
		t.Errorf("ids read as phones: %v", x.phone)
	}
	if x := p("49,90", "120,00"); !x.money() || x.commaDecimal != 1 {
		t.Errorf("decimal commas: %+v", x)
	}
	if x := p("1795338000", "1795338060"); x.epoch != "s" {
		t.Errorf("epoch seconds: %q", x.epoch)
	}
	if x := p("2026-11-22T09:00:00Z", "2026-11-22 10:00:00"); x.iso != 1 || x.dateOnly {
		t.Errorf("iso: %+v", x)
	}
	if x := p("00123", "00456"); !x.leadingZero {
		t.Errorf("leading zeros: %+v", x)
	}
	if got := fold("Numéro client"); got != "numeroclient" {
		t.Errorf("fold: %q", got)
	}
}

func TestEnumValues(t *testing.T) {
	values, unknown := enumValues([]string{"send", "open", "click", "bounce", "unsubscribe"},
		[]string{"Sent", "Opened", "click", "Hard Bounce", "Forwarded"})
	want := map[string]string{"Sent": "send", "Opened": "open", "Hard Bounce": "bounce"}
	if !reflect.DeepEqual(values, want) || !reflect.DeepEqual(unknown, []string{"Forwarded"}) {
		t.Errorf("%v %v", values, unknown)
	}
}

// Columns as exports name them give their kind.
func TestGuessKind(t *testing.T) {
	cols := func(names ...string) []profile {
		var out []profile
		for _, n := range names {
			out = append(out, profile{Column: Column{Name: n}, norm: fold(n)})
		}
		return out
	}
	for _, tc := range []struct {
		file string
		cols []string
		kind string
	}{
		{"export.csv", []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}, "order_lines"},
		{"export.csv", []string{"Order Number", "Order Date", "Customer Email", "Order Total", "Currency"}, "orders"},
		{"export.csv", []string{"customer_id", "email", "first_name", "last_name", "created_at"}, "customers"},
		{"activity.csv", []string{"Email", "Campaign", "Action", "Date"}, "email_events"},
		{"export.csv", []string{"response_id", "submitted_at", "email", "nps", "comment"}, "surveys"},
		{"catalog.csv", []string{"sku", "title", "category", "brand", "price"}, "products"},
	} {
		a, _ := guessKind(tc.file, cols(tc.cols...))
		if a.kind.Name != tc.kind {
			t.Errorf("%v: %s, want %s", tc.cols, a.kind.Name, tc.kind)
		}
	}
}
