package activate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/jobs/activate/adaudience"
	"github.com/parcours/parcours/jobs/activate/emaillist"
)

// Each connector type's own rules, one destination at a time, written as
// a user writes them: the common keys and the type's own side by side.
func TestCheckDestinations(t *testing.T) {

	dm := "    type: google_data_manager\n    url: https://datamanager.googleapis.com\n    secret_env: T\n    customer_id: \"1234567890\"\n    audience_id: \"42\"\n"
	mc := "    type: email_list\n    secret_env: T\n    audience_id: a1b2\n"
	hook := "    type: webhook\n    url: http://h\n    secret_env: S\n"
	drop := "    type: filedrop\n    outbox: /tmp/out\n    format: csv\n"
	tests := []struct {
		name, keys, want string // want "" for valid
	}{
		{"data manager ok", dm, ""},
		{"customer id unquoted", strings.Replace(dm, `"1234567890"`, "1234567890", 1), ""},
		{"data manager with a manager account", dm + "    login_account_id: \"999\"\n    login_account_type: GOOGLE_ADS\n", ""},
		{"google_ads removed", strings.Replace(dm, "google_data_manager", "google_ads", 1), "use type google_data_manager"},
		{"unknown type", strings.Replace(dm, "google_data_manager", "tiktok", 1), "type: want webhook | filedrop"},
		{"customer id with dashes", strings.Replace(dm, `"1234567890"`, `"123-456-7890"`, 1), "customer_id"},
		{"list id not digits", strings.Replace(dm, `"42"`, "abc", 1), "audience_id: the user list id"},
		{"developer token left over", dm + "    developer_token_env: DEV\n", "developer_token_env: not used"},
		{"login type without id", dm + "    login_account_type: GOOGLE_ADS\n", "login_account_type: set without login_account_id"},
		{"unknown account type", dm + "    account_type: ADWORDS\n", "account type ADWORDS"},
		{"negative status wait", dm + "    status_wait_seconds: -1\n", "status_wait_seconds"},
		{"status wait not a number", dm + "    status_wait_seconds: soon\n", "status_wait_seconds: want a number"},
		{"app secret outside meta", dm + "    app_secret_env: S\n", "app_secret_env: not a key of a google_data_manager destination"},
		{"meta ok", "    type: meta_ads\n    url: http://h\n    secret_env: T\n    audience_id: \"1\"\n    app_secret_env: S\n", ""},
		{"meta needs url", "    type: meta_ads\n    secret_env: T\n    audience_id: \"1\"\n", "url: required for meta_ads"},
		{"mailchimp api key without url", mc, ""},
		{"mailchimp oauth needs url", mc + "    auth: oauth\n", "url: required for email_list"},
		{"mailchimp unknown auth", mc + "    auth: basic\n", "auth: want api_key | oauth"},
		{"auth outside mailchimp", dm + "    auth: oauth\n", "auth: not a key of a google_data_manager destination"},
		{"misspelt key", strings.Replace(hook, "secret_env", "secret_evn", 1), "secret_evn: not a key of a webhook destination"},
		{"webhook ok", hook, ""},
		{"webhook negative bytes", hook + "    max_request_bytes: -1\n", "max_request_bytes: must not be negative"},
		{"filedrop ok", drop + "    file_mode: \"0600\"\n", ""},
		{"filedrop format", strings.Replace(drop, "csv", "xlsx", 1), "format: want csv | jsonl | parquet"},
		{"world-writable files", drop + "    file_mode: \"0666\"\n", "world-writable"},
		{"unreadable files", drop + "    file_mode: \"0240\"\n", "owner must be able to read"},
		{"file mode not octal", drop + "    file_mode: rw-r-----\n", "octal"},
		{"file mode unquoted", drop + "    file_mode: 0640\n", ""},
		{"file mode unquoted, world-writable", drop + "    file_mode: 0666\n", "world-writable"},
		{"default country on a webhook", hook + "    default_country: FR\n", ""},
		{"file mode outside filedrop", mc + "    file_mode: \"0640\"\n", "file_mode: not a key of a email_list destination"},
		{"one audience", "    type: meta_ads\n    url: http://h\n    secret_env: T\n    audience_id: \"1\"\n    segments: [rfm:champions, rfm:loyal]\n", "one destination per segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if !strings.Contains(keys, "segments:") {
				keys += "    segments: [rfm:loyal]\n"
			}
			cfg := loadConfig(t, "activation:\n  destinations:\n  - name: d\n    purpose: marketing_ads\n    mode: mirror\n"+keys)
			err := (&PlanJob{}).CheckConfig(&cfg)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "activation.destinations[0] (d)") {
				t.Errorf("err %v does not name the destination", err)
			}
		})
	}
}

// loadConfig loads a parcours.yaml written with yml, as a user writes it.
func loadConfig(t *testing.T, yml string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parcours.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// A number written unquoted reaches the connector as the text it was:
// YAML would read 0000012345 as the octal 5349 and 0123456789 as a float.
func TestDecodeKeepsText(t *testing.T) {
	cfg := loadConfig(t, "activation:\n  destinations:\n  - name: m\n    type: meta_ads\n    url: http://h\n    secret_env: T\n"+
		"    audience_id: 0000012345\n    purpose: marketing_ads\n    mode: mirror\n    segments: [rfm:loyal]\n"+
		"  - name: e\n    type: email_list\n    secret_env: T\n    audience_id: 0123456789\n    purpose: marketing_email\n    mode: mirror\n    segments: [rfm:loyal]\n")
	_, o, problems := decode(cfg.Activation.Destinations[0])
	if len(problems) > 0 || o.(*adaudience.MetaOptions).AudienceID != "0000012345" {
		t.Errorf("meta audience = %+v, %v", o, problems)
	}
	_, o, problems = decode(cfg.Activation.Destinations[1])
	if len(problems) > 0 || o.(*emaillist.Options).AudienceID != "0123456789" {
		t.Errorf("email list = %+v, %v", o, problems)
	}
}

// Every type's own keys are documented, from its Options' field comments.
func TestTypesReference(t *testing.T) {
	types, err := Types()
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != len(destTypes()) {
		t.Fatalf("%d types, want %d", len(types), len(destTypes()))
	}
	for _, ty := range types {
		if len(ty.Keys) == 0 {
			t.Errorf("%s: no keys", ty.Name)
		}
		for _, k := range ty.Keys {
			if k.Doc == "" {
				t.Errorf("%s.%s has no description: give its Options field a doc comment", ty.Name, k.Path)
			}
		}
	}
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### `type: webhook`", "| `secret_env` | string |  | `secret_env` names the environment variable",
		"### `type: google_data_manager`", "| `login_account_type` | string |  | (with the key above) |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("reference lacks %q", want)
		}
	}
}
