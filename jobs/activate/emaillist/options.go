package emaillist

import (
	"github.com/parcours/parcours/jobs/activate/delivery"
)

// Type is this connector's destination type in parcours.yaml.
const Type = "email_list"

// Options are an email_list destination's own keys in parcours.yaml,
// written beside the keys every destination has.
type Options struct {
	// URL is the API root (https://<dc>.api.mailchimp.com); optional with
	// an API key, whose suffix (…-us6) names its datacenter.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the API key or
	// the OAuth access token; never in the file.
	SecretEnv string `yaml:"secret_env"`
	// Auth is how the secret is sent: api_key (default; a Mailchimp API
	// key, as the HTTP Basic password) or oauth (an OAuth 2 access token,
	// as a Bearer token).
	Auth string `yaml:"auth"`
	// AudienceID is the list (Mailchimp audience) the members are tagged
	// in.
	AudienceID string `yaml:"audience_id"`
}

// Check lists the problems of the options, each naming its key.
func (o *Options) Check() []string {
	var errs []string
	if o.Auth != "" && o.Auth != AuthAPIKey && o.Auth != AuthOAuth {
		errs = append(errs, "auth: want api_key | oauth")
	}
	if o.URL == "" && o.Auth == AuthOAuth {
		errs = append(errs, "url: required for "+Type+" with auth oauth (an OAuth token names no datacenter)")
	}
	if o.SecretEnv == "" {
		errs = append(errs, "secret_env: required for "+Type+" (the variable holding its API key or token)")
	}
	if o.AudienceID == "" {
		errs = append(errs, "audience_id: required for "+Type)
	}
	return errs
}

// Connect builds the connector, reading the secret from getenv.
func (o *Options) Connect(s delivery.Settings, getenv func(string) string) (delivery.Connector, error) {
	secret, err := delivery.Secret(getenv, "secret_env", o.SecretEnv)
	if err != nil {
		return nil, err
	}
	return New(Config{Name: s.Delivery.Destination, BaseURL: o.URL, ListID: o.AudienceID, Token: secret,
		Auth: o.Auth, BatchSize: s.BatchSize, Delivery: s.Delivery})
}
