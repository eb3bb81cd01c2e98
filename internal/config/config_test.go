package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// A destination's own keys land in Options, as written, for its
// connector to decode; JSON output writes them back beside the others.
func TestDestinationOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parcours.yaml")
	yml := `activation:
  destinations:
  - name: g
    type: google_data_manager
    url: https://datamanager.googleapis.com
    customer_id: 1234567890
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
	if d.Name != "g" || d.Purpose != "marketing_ads" || len(d.Options) != 2 ||
		d.Options["url"] != "https://datamanager.googleapis.com" || d.Options["customer_id"] != 1234567890 {
		t.Fatalf("destination = %+v", d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"url":"https://datamanager.googleapis.com"`) || !strings.Contains(string(b), `"name":"g"`) {
		t.Errorf("json = %s", b)
	}
}
