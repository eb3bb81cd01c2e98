package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestReference(t *testing.T) {
	keys, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Key{}
	for _, k := range keys {
		if k.Doc == "" {
			t.Errorf("%s has no description: give its field in config.go a doc comment", k.Path)
		}
		if _, dup := byPath[k.Path]; dup {
			t.Errorf("%s listed twice", k.Path)
		}
		byPath[k.Path] = k
	}
	for _, tc := range []struct {
		path, typ, def, env, docHas string
	}{
		{"warehouse", "string", "warehouse", "PARCOURS_WAREHOUSE", "`warehouse` is the folder"},
		{"currency", "string", `""`, "", "ISO 4217"},
		{"full_recompute", "bool", "false", "", "recomputes identity stitching"},
		{"ingest.reject_threshold", "number", "0.05", "", "quarantined"},
		// A comment on a group of fields describes each, its Go names as keys.
		{"ingest.plausible_days_ahead", "int", "2", "", "`plausible_from` and `plausible_days_ahead` bound"},
		{"privacy.retention_months", "map of int", "{app_events: 13, contacts: 36, email_events: 13, order_records: 60, store_receipts: 60, survey_responses: 36, web_events: 13}", "", "per hot table"},
		{"privacy.tcf_purposes", "map of list of int", "{analytics: [1, 9], marketing_ads: [1, 3, 4], personalization: [1, 5, 6]}", "", "IAB TCF"},
		{"models.risk_high", "number", "0.6", "", "`risk_medium` and `risk_high`"},
		{"export_dir", "string", "exports", "PARCOURS_EXPORT_DIR", "Parquet"},
		{"activation.destinations", "list", "[]", "", "marketing tools"},
		// List elements have no default; a word that is also a field name
		// mid-sentence stays a word.
		{"activation.destinations[].mode", "string", "", "", "`mode` is upsert"},
		{"activation.destinations[].fields", "list of string", "", "", "data minimisation"},
	} {
		k, ok := byPath[tc.path]
		if !ok {
			t.Errorf("%s: not in the reference", tc.path)
			continue
		}
		if k.Type != tc.typ || k.Default != tc.def || k.Env != tc.env || !strings.Contains(k.Doc, tc.docHas) {
			t.Errorf("%s = %+v, want type %q default %q env %q and a doc with %q", tc.path, k, tc.typ, tc.def, tc.env, tc.docHas)
		}
	}
	// Sections are not keys of their own: their fields are.
	for _, p := range []string{"duckdb", "privacy", "activation"} {
		if _, ok := byPath[p]; ok {
			t.Errorf("section %s listed as a key", p)
		}
	}
}

func TestWriteReference(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"### Top level\n\n| key | type | default | what it sets |",
		"### `duckdb`\n",
		"| `warehouse` | string | `warehouse` | `warehouse` is the folder holding hot.duckdb, cold.duckdb and the key store. Environment: `PARCOURS_WAREHOUSE`. |",
		// A pipe in a description is escaped, not a column.
		"`type` is the connector: webhook \\| filedrop",
		// The second key of a group points at the first.
		"| `ingest.plausible_days_ahead` | int | `2` | (with the key above) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if strings.Index(out, "### Top level") != 0 {
		t.Errorf("the top-level keys do not come first")
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("PARCOURS_CONFIG", "")
	t.Chdir(t.TempDir())
	for _, o := range envOverrides() {
		t.Setenv(o.env, "/from/"+o.env)
	}
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range envOverrides() {
		if got := *o.field(&cfg); got != "/from/"+o.env {
			t.Errorf("%s: %s = %q", o.env, o.key, got)
		}
	}
}
