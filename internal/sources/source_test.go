package sources

import (
	"slices"
	"strings"
	"testing"
)

func TestKindsAreValid(t *testing.T) {
	for _, k := range Kinds() {
		if err := k.validate(); err != nil {
			t.Error(err)
		}
	}
}

// The built-in sources resolve, each file goes to one source, and every
// kind but order_lines has a built-in example.
func TestDefaultsResolve(t *testing.T) {
	rs, err := Effective(nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range rs {
		kinds[r.Kind.Name] = true
	}
	for _, k := range KindNames() {
		if !kinds[k] && k != "order_lines" {
			t.Errorf("no built-in source of kind %s", k)
		}
	}
	if len(rs) != 15 {
		t.Errorf("%d built-in sources, want 15", len(rs))
	}
}

// A user's entry replaces a built-in one by name, adds a new one, or
// turns one off; errors name the source, the key and what is allowed.
func TestEffectiveMergesAndValidates(t *testing.T) {
	off := false
	rs, err := Effective([]Source{
		{Name: "web_events", Kind: "events", Files: "web_*.jsonl"},
		{Name: "shop_orders", Kind: "orders", Files: "orders_*.csv", Columns: map[string]string{"order_id": "id", "amount": "total_price - coalesce(refunded, 0)"}},
		{Name: "surveys", Enabled: &off},
	})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Resolved{}
	for _, r := range rs {
		names[r.Name] = r
	}
	if names["web_events"].Files != "web_*.jsonl" || names["shop_orders"].Map["amount"] != "total_price - coalesce(refunded, 0)" {
		t.Errorf("merge: %+v", names["web_events"].Source)
	}
	if _, ok := names["surveys"]; ok {
		t.Error("a disabled source is still there")
	}
	for _, tc := range []struct {
		s    Source
		want string
	}{
		{Source{Name: "x", Kind: "orderz", Files: "a.csv"}, "source x: kind: \"orderz\" is not a kind (kinds: customers, events, orders"},
		{Source{Name: "x", Kind: "orders", Files: "a.csv", Columns: map[string]string{"total": "t"}}, "source x: columns: \"total\" is not a field of kind orders (fields: order_id, ts, amount"},
		{Source{Name: "x", Kind: "orders"}, "source x: files: required"},
		{Source{Name: "x", Kind: "orders", Files: "a.csv", Format: "xlsx"}, "source x: format: \"xlsx\": want csv, jsonl or parquet"},
		{Source{Name: "x", Kind: "orders", Files: "a.csv", Encoding: "ebcdic"}, "source x: encoding: \"ebcdic\""},
		{Source{Name: "x", Kind: "orders", Files: "a.parquet", Delimiter: ";"}, "source x: delimiter: a csv option"},
		{Source{Name: "x", Kind: "orders", Files: "a.csv", IDs: []ID{{Select: "email", Type: "E-mail"}}}, "source x: ids[0].type"},
		{Source{Name: "x", Kind: "orders", Files: "a.csv", Key: []string{"nope"}}, "source x: key: \"nope\" is neither a field of kind orders"},
		{Source{Name: "Shop Orders", Kind: "orders", Files: "a.csv"}, "source Shop Orders: name"},
		{Source{Name: "x", Kind: "orders", Files: "crm_customers.csv"}, "source x: files \"crm_customers.csv\": also the files of source crm_customers"},
		{Source{Name: "x", Preset: "nosuch", Files: "a.csv"}, "source x: preset: \"nosuch\" is not a preset"},
		{Source{Name: "x", Kind: "consents", Files: "a.csv", IDs: []ID{{Select: "e", Type: "email"}}}, "source x: ids: kind consents names its subject"},
	} {
		_, err := Effective([]Source{tc.s})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.s, err, tc.want)
		}
	}
}

// An unknown key in a source entry names the source and lists the keys.
func TestParseUnknownKey(t *testing.T) {
	_, err := Parse([]byte("sources:\n  - name: shop_orders\n    kind: orders\n    file: orders.csv\n"))
	if err == nil || !strings.Contains(err.Error(), `source shop_orders: unknown key "file" (allowed: name, kind, preset, files`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPresetsResolve(t *testing.T) {
	if len(PresetNames()) == 0 {
		t.Fatal("no presets")
	}
	for _, p := range PresetNames() {
		if _, err := Resolve(Source{Name: "s", Preset: p, Files: "x.data"}); err != nil {
			t.Errorf("preset %s: %v", p, err)
		}
	}
}

// key may name the files' column a field is mapped to, as users write it.
func TestKeyByMappedColumn(t *testing.T) {
	for _, tc := range []struct {
		key  []string
		want []string
	}{
		{nil, []string{"order_id"}},
		{[]string{"id"}, []string{"order_id"}},
		{[]string{"ID", "ts"}, []string{"order_id", "ts"}},
	} {
		r, err := Resolve(Source{Name: "shop_orders", Kind: "orders", Files: "orders_*.csv", Key: tc.key,
			Columns: map[string]string{"order_id": "id", "amount": "total"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.DedupKey, tc.want) {
			t.Errorf("key %v: dedup key %v, want %v", tc.key, r.DedupKey, tc.want)
		}
	}
}
