package webhook

import (
	"github.com/parcours/parcours/jobs/activate/delivery"
)

// Type is this connector's destination type in parcours.yaml.
const Type = "webhook"

// Options are a webhook destination's own keys in parcours.yaml, written
// beside the keys every destination has.
type Options struct {
	// URL is the receiver's endpoint: each batch is POSTed to it.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the secret that
	// signs each request (Standard Webhooks: "whsec_" + base64, or any
	// other string used as its bytes); never in the file.
	SecretEnv string `yaml:"secret_env"`
	// MaxRequestBytes caps a request body (default 1 MiB): larger batches
	// are sent in parts; a member alone over it is skipped.
	MaxRequestBytes int `yaml:"max_request_bytes"`
}

// Check lists the problems of the options, each naming its key.
func (o *Options) Check() []string {
	var errs []string
	if o.URL == "" {
		errs = append(errs, "url: required for "+Type)
	}
	if o.SecretEnv == "" {
		errs = append(errs, "secret_env: required for "+Type+" (the variable holding the signing secret)")
	}
	if o.MaxRequestBytes < 0 {
		errs = append(errs, "max_request_bytes: must not be negative")
	}
	return errs
}

// Connect builds the connector, reading the secret from getenv.
func (o *Options) Connect(s delivery.Settings, getenv func(string) string) (delivery.Connector, error) {
	secret, err := delivery.Secret(getenv, "secret_env", o.SecretEnv)
	if err != nil {
		return nil, err
	}
	return New(Config{Name: s.Delivery.Destination, URL: o.URL, Secret: secret, BatchSize: s.BatchSize,
		MaxRequestBytes: o.MaxRequestBytes, Delivery: s.Delivery})
}
