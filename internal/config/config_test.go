package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		body    string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{name: "empty file keeps defaults", body: "", check: func(c Config) bool {
			return c.Ingest.RejectThreshold == 0.05 && c.Region == "FR" && c.Identity.MaxCustomerIDs == 2
		}},
		{name: "values override", body: "region: DE\ningest:\n  reject_threshold: 0.2\n", check: func(c Config) bool {
			return c.Region == "DE" && c.Ingest.RejectThreshold == 0.2 && c.Ingest.CatchUp
		}},
		{name: "env overrides file", body: "warehouse: a\n", env: map[string]string{"PARCOURS_WAREHOUSE": "b"},
			check: func(c Config) bool { return c.Warehouse == "b" }},
		{name: "unknown key is an error", body: "ingest:\n  reject_treshold: 0.2\n", wantErr: "reject_treshold"},
		{name: "training sample defaults to a cap, 0 trains on all", body: "models:\n  churn_train_sample: 0\n",
			check: func(c Config) bool {
				return c.Models.ChurnTrainSample == 0 && Default().Models.ChurnTrainSample == 500000
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PARCOURS_WAREHOUSE", "")
			t.Setenv("PARCOURS_INPUT", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(write(strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("an explicit missing config file must be an error")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"bad zone", func(c *Config) { c.Timezone = "Mars/Olympus" }, "timezone"},
		{"bad region", func(c *Config) { c.Region = "XX" }, "region"},
		{"currency symbol", func(c *Config) { c.Currency = "€" }, "currency"},
		{"currency lower case", func(c *Config) { c.Currency = "eur" }, "currency"},
		{"currency", func(c *Config) { c.Currency = "GBP" }, ""},
		{"threshold", func(c *Config) { c.Ingest.RejectThreshold = 2 }, "reject_threshold"},
		{"guard", func(c *Config) { c.Identity.MaxCustomerIDs = 0 }, "max_customer_ids"},
		{"log", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"destination", func(c *Config) {
			c.Activation.Destinations = []Destination{{Name: "x", Type: "webhook", Purpose: "marketing_email", Mode: "upsert", Segments: []string{"rfm:loyal"}}}
		}, ""},
		{"destination without type", func(c *Config) {
			c.Activation.Destinations = []Destination{{Name: "x", Purpose: "marketing_email", Mode: "upsert", Segments: []string{"rfm:loyal"}}}
		}, "type: required"},
		{"destination purpose", func(c *Config) {
			c.Activation.Destinations = []Destination{{Name: "x", Type: "webhook", Purpose: "spam", Mode: "upsert", Segments: []string{"rfm:loyal"}}}
		}, "purpose"},
		{"frequency cap", func(c *Config) { c.Activation.FrequencyCap = 0 }, "frequency_cap"},
		{"training sample", func(c *Config) { c.Models.ChurnTrainSample = -1 }, "models.churn_train_sample"},
	}
	for _, tt := range tests {
		c := Default()
		tt.mutate(&c)
		err := c.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// A destination's own keys land in Options as written (a number keeps its
// text: 0640 is not 416), for its connector to decode; JSON and YAML
// output write them back beside the others.
func TestDestinationOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parcours.yaml")
	yml := `activation:
  destinations:
  - name: g
    type: filedrop
    outbox: /srv/out
    file_mode: 0640
    audience_id: 0000012345
    default_country: FR
    purpose: marketing_ads
    mode: mirror
    segments: [rfm:loyal]
`
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Activation.Destinations[0]
	text := func(k string) string {
		n, ok := d.Options[k].(yaml.Node)
		if !ok {
			t.Fatalf("option %s = %#v, want its yaml.Node", k, d.Options[k])
		}
		return n.Value
	}
	if d.Name != "g" || d.Purpose != "marketing_ads" || d.DefaultCountry != "FR" || len(d.Options) != 3 ||
		text("outbox") != "/srv/out" || text("file_mode") != "0640" || text("audience_id") != "0000012345" {
		t.Fatalf("destination = %+v", d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outbox":"/srv/out"`, `"file_mode":"0640"`, `"audience_id":"0000012345"`, `"name":"g"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json = %s, want %s", b, want)
		}
	}
	y, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Destination
	if err := yaml.Unmarshal(y, &back); err != nil {
		t.Fatal(err)
	}
	if n := back.Options["file_mode"].(yaml.Node); n.Value != "0640" || back.Name != "g" || len(back.Options) != 3 {
		t.Errorf("yaml round trip = %s", y)
	}
}
