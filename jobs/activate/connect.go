// Package activate pushes segments and triggers to marketing tools: the
// activate_plan job computes, without any network call, what each
// configured destination must gain and lose and writes the exact payloads;
// activate_apply sends exactly those payloads through the connectors below
// this folder and records what each destination accepted in ops.sync_state.
// See README.md in this folder for the connectors and the sync model.
package activate

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/jobs/activate/adaudience"
	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/emaillist"
	"github.com/parcours/parcours/jobs/activate/filedrop"
	"github.com/parcours/parcours/jobs/activate/webhook"
)

// Connect builds the connector of one configured destination. Secrets come
// from the environment variable the config names, never from the file.
func Connect(d config.Destination, log zerolog.Logger) (delivery.Connector, error) {
	secret := ""
	if d.SecretEnv != "" {
		secret = os.Getenv(d.SecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("destination %s: environment variable %s (secret_env) is empty or unset", d.Name, d.SecretEnv)
		}
	}
	dc := delivery.Config{
		Destination:   d.Name,
		Timeout:       seconds(d.TimeoutSeconds),
		MinBackoff:    seconds(d.MinBackoffSeconds),
		MaxBackoff:    seconds(d.MaxBackoffSeconds),
		MaxAttempts:   d.MaxAttempts,
		RatePerSecond: d.RatePerSecond,
		Logger:        log.With().Str("destination", d.Name).Logger(),
		Seed:          seedOf(d.Name),
	}
	var c delivery.Connector
	var err error
	switch d.Type {
	case config.DestWebhook:
		c, err = webhook.New(webhook.Config{Name: d.Name, URL: d.URL, Secret: secret, BatchSize: d.BatchSize,
			MaxRequestBytes: d.MaxRequestBytes, Delivery: dc})
	case config.DestFiledrop:
		var mode os.FileMode
		if mode, err = filedrop.ParseFileMode(d.FileMode); err == nil {
			c, err = filedrop.New(filedrop.Config{Name: d.Name, Outbox: d.Outbox, Format: d.Format, FileMode: mode, Logger: dc.Logger})
		}
	case config.DestGoogleDataManager:
		c, err = adaudience.NewDataManager(adaudience.DataManagerConfig{Name: d.Name, BaseURL: d.URL, APIVersion: d.APIVersion,
			AccountID: d.CustomerID, AccountType: d.AccountType, UserListID: d.AudienceID,
			LoginAccountID: d.LoginAccountID, LoginAccountType: d.LoginAccountType,
			LinkedAccountID: d.LinkedAccountID, LinkedAccountType: d.LinkedAccountType,
			Token: secret, DefaultCountry: d.DefaultCountry, MaxPerRequest: d.BatchSize,
			StatusWait: seconds(d.StatusWaitSeconds), Delivery: dc})
	case config.DestMetaAds:
		appSecret := ""
		if d.AppSecretEnv != "" {
			if appSecret = os.Getenv(d.AppSecretEnv); appSecret == "" {
				return nil, fmt.Errorf("destination %s: environment variable %s (app_secret_env) is empty or unset", d.Name, d.AppSecretEnv)
			}
		}
		c, err = adaudience.NewMeta(adaudience.MetaConfig{Name: d.Name, BaseURL: d.URL, AudienceID: d.AudienceID,
			Token: secret, AppSecret: appSecret, DefaultCountry: d.DefaultCountry, MaxPerRequest: d.BatchSize, Delivery: dc})
	case config.DestEmailList:
		c, err = emaillist.New(emaillist.Config{Name: d.Name, BaseURL: d.URL, ListID: d.AudienceID, Token: secret,
			Auth: d.Auth, BatchSize: d.BatchSize, Delivery: dc})
	default:
		return nil, fmt.Errorf("destination %s: unknown type %q", d.Name, d.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", d.Name, err)
	}
	return c, nil
}

// Fields are the vault fields a destination receives: the configured
// list, or the type's default (data minimisation: only what it matches or
// greets on).
func Fields(d config.Destination) []string {
	if len(d.Fields) > 0 {
		return d.Fields
	}
	switch d.Type {
	case config.DestGoogleDataManager, config.DestMetaAds:
		return []string{"email", "phone", "first_name", "last_name", "postcode"}
	case config.DestEmailList:
		return []string{"email", "first_name", "last_name"}
	}
	return []string{"email"}
}

// Dir is the folder planned payloads are written under.
func Dir(cfg *config.Config) string {
	if cfg.Activation.Dir != "" {
		return cfg.Activation.Dir
	}
	return filepath.Join(cfg.Warehouse, "activation")
}

// seedOf gives each destination its own, stable backoff jitter.
func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
