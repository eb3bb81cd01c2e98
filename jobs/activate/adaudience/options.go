package adaudience

import (
	"slices"
	"strings"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// The destination types of this package in parcours.yaml.
const (
	TypeDataManager = "google_data_manager"
	TypeMeta        = "meta_ads"
)

// DataManagerOptions are a google_data_manager destination's own keys in
// parcours.yaml (Customer Match through the Data Manager API), written
// beside the keys every destination has.
type DataManagerOptions struct {
	// URL is the API root: https://datamanager.googleapis.com.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the OAuth access
	// token (scope datamanager); never in the file.
	SecretEnv string `yaml:"secret_env"`
	// CustomerID is the operating account, the Google Ads customer that
	// owns the list (digits, without dashes).
	CustomerID string `yaml:"customer_id"`
	// AudienceID is the Customer Match user list (digits).
	AudienceID string `yaml:"audience_id"`
	// AccountType is the operating account's type: GOOGLE_ADS (default),
	// DISPLAY_VIDEO_ADVERTISER, DISPLAY_VIDEO_PARTNER or DATA_PARTNER.
	AccountType string `yaml:"account_type"`
	// LoginAccountID is the manager account the OAuth user acts through,
	// when not a user of the operating account; LoginAccountType its type
	// (default GOOGLE_ADS).
	LoginAccountID   string `yaml:"login_account_id"`
	LoginAccountType string `yaml:"login_account_type"`
	// LinkedAccountID is an account reached through a product link (data
	// partners); LinkedAccountType its type (default GOOGLE_ADS).
	LinkedAccountID   string `yaml:"linked_account_id"`
	LinkedAccountType string `yaml:"linked_account_type"`
	// StatusWaitSeconds is how long apply polls an upload's processing
	// status (default 0: read it once; Google processes uploads
	// asynchronously).
	StatusWaitSeconds float64 `yaml:"status_wait_seconds"`
	// APIVersion overrides the API's path version (default v1).
	APIVersion string `yaml:"api_version"`
	// DeveloperTokenEnv is read only to refuse it: the Data Manager API
	// takes OAuth alone, and a config still carrying it was written for
	// the removed google_ads type.
	DeveloperTokenEnv string `yaml:"developer_token_env"`
}

// Check lists the problems of the options, each naming its key: the
// accounts and the list are digits, account types are Data Manager's, and
// no developer token.
func (o *DataManagerOptions) Check() []string {
	var errs []string
	if o.URL == "" {
		errs = append(errs, "url: required for "+TypeDataManager)
	}
	if o.SecretEnv == "" {
		errs = append(errs, "secret_env: required for "+TypeDataManager+" (the variable holding the OAuth access token)")
	}
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	if !digits(o.CustomerID) {
		errs = append(errs, "customer_id: required for "+TypeDataManager+" (the operating account, digits without dashes)")
	}
	switch {
	case o.AudienceID == "":
		errs = append(errs, "audience_id: required for "+TypeDataManager)
	case !digits(o.AudienceID):
		errs = append(errs, "audience_id: the user list id, digits")
	}
	for _, a := range []struct{ key, id, typ string }{
		{"login_account", o.LoginAccountID, o.LoginAccountType}, {"linked_account", o.LinkedAccountID, o.LinkedAccountType},
	} {
		if a.id != "" && !digits(a.id) {
			errs = append(errs, a.key+"_id: digits without dashes")
		}
		if a.id == "" && a.typ != "" {
			errs = append(errs, a.key+"_type: set without "+a.key+"_id")
		}
	}
	for _, t := range []string{o.AccountType, o.LoginAccountType, o.LinkedAccountType} {
		if t != "" && !slices.Contains(dmAccountTypes, t) {
			errs = append(errs, "account type "+t+": want "+strings.Join(dmAccountTypes, " | "))
		}
	}
	if o.DeveloperTokenEnv != "" {
		errs = append(errs, "developer_token_env: not used by the Data Manager API (OAuth only); remove it")
	}
	if o.StatusWaitSeconds < 0 {
		errs = append(errs, "status_wait_seconds: must not be negative")
	}
	return errs
}

// Connect builds the connector, reading the token from getenv.
func (o *DataManagerOptions) Connect(s delivery.Settings, getenv func(string) string) (delivery.Connector, error) {
	token, err := delivery.Secret(getenv, "secret_env", o.SecretEnv)
	if err != nil {
		return nil, err
	}
	return NewDataManager(DataManagerConfig{Name: s.Delivery.Destination, BaseURL: o.URL, APIVersion: o.APIVersion,
		AccountID: o.CustomerID, AccountType: o.AccountType, UserListID: o.AudienceID,
		LoginAccountID: o.LoginAccountID, LoginAccountType: o.LoginAccountType,
		LinkedAccountID: o.LinkedAccountID, LinkedAccountType: o.LinkedAccountType,
		Token: token, DefaultCountry: s.DefaultCountry, MaxPerRequest: s.BatchSize,
		StatusWait: time.Duration(o.StatusWaitSeconds * float64(time.Second)), Delivery: s.Delivery})
}

// MetaOptions are a meta_ads destination's own keys in parcours.yaml (a
// Custom Audience through the Marketing API), written beside the keys
// every destination has.
type MetaOptions struct {
	// URL is the Graph API root: https://graph.facebook.com.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the access token;
	// never in the file.
	SecretEnv string `yaml:"secret_env"`
	// AudienceID is the Custom Audience.
	AudienceID string `yaml:"audience_id"`
	// AppSecretEnv names the variable holding the Meta app secret, from
	// which each call's appsecret_proof is made (needed when the app
	// requires it).
	AppSecretEnv string `yaml:"app_secret_env"`
	// APIVersion overrides the Graph API's path version (default v25.0).
	APIVersion string `yaml:"api_version"`
}

// Check lists the problems of the options, each naming its key.
func (o *MetaOptions) Check() []string {
	var errs []string
	if o.URL == "" {
		errs = append(errs, "url: required for "+TypeMeta)
	}
	if o.SecretEnv == "" {
		errs = append(errs, "secret_env: required for "+TypeMeta+" (the variable holding the access token)")
	}
	if o.AudienceID == "" {
		errs = append(errs, "audience_id: required for "+TypeMeta)
	}
	return errs
}

// Connect builds the connector, reading the token and the app secret
// from getenv.
func (o *MetaOptions) Connect(s delivery.Settings, getenv func(string) string) (delivery.Connector, error) {
	token, err := delivery.Secret(getenv, "secret_env", o.SecretEnv)
	if err != nil {
		return nil, err
	}
	appSecret, err := delivery.Secret(getenv, "app_secret_env", o.AppSecretEnv)
	if err != nil {
		return nil, err
	}
	return NewMeta(MetaConfig{Name: s.Delivery.Destination, BaseURL: o.URL, APIVersion: o.APIVersion, AudienceID: o.AudienceID,
		Token: token, AppSecret: appSecret, DefaultCountry: s.DefaultCountry, MaxPerRequest: s.BatchSize, Delivery: s.Delivery})
}
