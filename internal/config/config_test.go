package config

import (
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
			c.Activation.Destinations = []Destination{{Name: "x", Type: "webhook", URL: "http://h", Purpose: "marketing_email", Mode: "upsert", Segments: []string{"rfm:loyal"}}}
		}, "secret_env"},
		{"one audience", func(c *Config) {
			c.Activation.Destinations = []Destination{{Name: "m", Type: "meta_ads", URL: "http://h", SecretEnv: "T", AudienceID: "1",
				Purpose: "marketing_ads", Mode: "mirror", Segments: []string{"rfm:loyal", "rfm:champions"}}}
		}, "one destination per segment"},
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

// TestValidateDestinations checks each connector type's own rules, one
// destination at a time.
func TestValidateDestinations(t *testing.T) {
	dm := Destination{Name: "g", Type: "google_data_manager", URL: "https://datamanager.googleapis.com", SecretEnv: "T",
		CustomerID: "1234567890", AudienceID: "42", Purpose: "marketing_ads", Mode: "mirror", Segments: []string{"rfm:loyal"}}
	mc := Destination{Name: "m", Type: "email_list", SecretEnv: "T", AudienceID: "a1b2", Purpose: "marketing_email",
		Mode: "mirror", Segments: []string{"rfm:loyal"}}
	tests := []struct {
		name   string
		mutate func(*Destination)
		base   Destination
		want   string // "" for valid
	}{
		{"data manager ok", func(*Destination) {}, dm, ""},
		{"data manager with a manager account", func(d *Destination) { d.LoginAccountID, d.LoginAccountType = "999", "GOOGLE_ADS" }, dm, ""},
		{"google_ads removed", func(d *Destination) { d.Type = "google_ads" }, dm, "use type google_data_manager"},
		{"customer id with dashes", func(d *Destination) { d.CustomerID = "123-456-7890" }, dm, "customer_id"},
		{"customer id missing", func(d *Destination) { d.CustomerID = "" }, dm, "customer_id: required"},
		{"list id not digits", func(d *Destination) { d.AudienceID = "abc" }, dm, "audience_id: the user list id"},
		{"developer token left over", func(d *Destination) { d.DeveloperTokenEnv = "DEV" }, dm, "developer_token_env"},
		{"login type without id", func(d *Destination) { d.LoginAccountType = "GOOGLE_ADS" }, dm, "login_account_type: set without login_account_id"},
		{"unknown account type", func(d *Destination) { d.AccountType = "ADWORDS" }, dm, "account type ADWORDS"},
		{"negative status wait", func(d *Destination) { d.StatusWaitSeconds = -1 }, dm, "status_wait_seconds"},
		{"app secret outside meta", func(d *Destination) { d.AppSecretEnv = "S" }, dm, "app_secret_env: only for meta_ads"},
		{"mailchimp api key without url", func(*Destination) {}, mc, ""},
		{"mailchimp oauth needs url", func(d *Destination) { d.Auth = "oauth" }, mc, "url: required for email_list"},
		{"mailchimp unknown auth", func(d *Destination) { d.Auth = "basic" }, mc, "auth: api_key | oauth"},
		{"auth outside mailchimp", func(d *Destination) { d.Auth = "oauth" }, dm, "auth: api_key | oauth, only for email_list"},
		{"meta needs url", func(d *Destination) { d.Type = "meta_ads"; d.URL = "" }, dm, "url: required for meta_ads"},
		{"world-writable files", func(d *Destination) { d.FileMode = "0666" }, mc, "world-writable"},
		{"unreadable files", func(d *Destination) { d.FileMode = "0240" }, mc, "owner must be able to read"},
		{"file mode not octal", func(d *Destination) { d.FileMode = "rw-r-----" }, mc, "octal"},
	}
	for _, tt := range tests {
		c := Default()
		d := tt.base
		tt.mutate(&d)
		c.Activation.Destinations = []Destination{d}
		err := c.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
