// Package config holds parcours' configuration: defaults, the YAML file,
// environment overrides and validation. Everything a job can tune lives here,
// so `parcours config` can print the effective values.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/phone"
	"github.com/parcours/parcours/internal/sources"
)

// Config is the effective configuration of one parcours invocation.
type Config struct {
	// Warehouse is the folder holding hot.duckdb, cold.duckdb and the key store.
	Warehouse string `yaml:"warehouse" json:"warehouse"`
	// Input is the folder holding one sub-folder of extracts per date (YYYY-MM-DD).
	Input string `yaml:"input" json:"input"`
	// Timezone is the business time zone: naive timestamps in extracts are
	// read in it, and event dates are calendar days in it.
	Timezone string `yaml:"timezone" json:"timezone"`
	// Region is the default phone region (ISO 3166 alpha-2) for numbers
	// written without a country code.
	Region string `yaml:"region" json:"region"`
	// Currency is the ISO 4217 code amounts are in (EUR, USD...), shown
	// with every amount in the report; empty, the report takes the one the
	// orders carry. parcours converts nothing: extracts in several
	// currencies are summed as they are, and the report says so.
	Currency string `yaml:"currency" json:"currency,omitempty"`
	// SQLDir, when set, loads the SQL transforms from this folder instead of
	// the copies embedded in the binary (to iterate on SQL without rebuilding).
	SQLDir string `yaml:"sql_dir" json:"sql_dir,omitempty"`
	// FullRecompute recomputes identity stitching, consent intervals and
	// the split's orders whole every night rather than what the night
	// changed: the same result, slower (the test that the two agree runs
	// both).
	FullRecompute bool `yaml:"full_recompute" json:"full_recompute"`

	DuckDB   DuckDB   `yaml:"duckdb" json:"duckdb"`
	Log      Log      `yaml:"log" json:"log"`
	Keys     Keys     `yaml:"keys" json:"keys"`
	Ingest   Ingest   `yaml:"ingest" json:"ingest"`
	Identity Identity `yaml:"identity" json:"identity"`
	Privacy  Privacy  `yaml:"privacy" json:"privacy"`
	// Attribution tunes conversion paths (cold) and attribution models.
	Attribution Attribution `yaml:"attribution" json:"attribution"`
	Models      Models      `yaml:"models" json:"models"`
	// Segments and Triggers tune the segments and triggers jobs.
	Segments Segments `yaml:"segments" json:"segments"`
	Triggers Triggers `yaml:"triggers" json:"triggers"`
	// Activation configures the marketing destinations segments and
	// triggers are pushed to.
	Activation Activation `yaml:"activation" json:"activation"`
	// ExportDir receives what leaves the warehouse: cold tables as Parquet
	// under cold/ (after the privacy audit passed).
	ExportDir string `yaml:"export_dir" json:"export_dir"`
	// Sources describe the extracts: they replace the built-in sources of
	// the same name and add others (see internal/sources/README.md).
	Sources SourceList `yaml:"sources" json:"sources,omitempty"`
}

// SourceList is the `sources:` list, each entry decoded strictly so an
// error names the source and the key.
type SourceList []sources.Source

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *SourceList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("sources: want a list of sources")
	}
	out := make(SourceList, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := sources.DecodeNode(e)
		if err != nil {
			return fmt.Errorf("sources[%d]: %w", i, err)
		}
		out = append(out, s)
	}
	*l = out
	return nil
}

// Privacy tunes the hot/cold split, retention and the k-anonymity rule.
type Privacy struct {
	// K is the smallest number of distinct customers a cold row may stand for.
	K int `yaml:"k" json:"k"`
	// LateDays is how many days late an event may arrive and still be counted
	// exactly in cold distinct-customer counts.
	LateDays int `yaml:"late_days" json:"late_days"`
	// RetentionMonths is how long hot facts are kept, per hot table (by the
	// fact's time); a table not listed is kept while consent lasts.
	RetentionMonths map[string]int `yaml:"retention_months" json:"retention_months"`
	// QuarantineDays is how long rejected rows (which may hold PII in their
	// raw text) are kept in ops.quarantine.
	QuarantineDays int `yaml:"quarantine_days" json:"quarantine_days"`
	// HistoryDays is how many nights of per-customer derived history the
	// hot store keeps: features, churn and CLV scores, segment membership
	// (the night's own and the HistoryDays-1 before it; 0 keeps them all).
	// Each night adds a row per customer to each of these tables, so kept
	// for ever they grow without bound and slow every night that scans
	// them; the facts they come from stay, features are rebuilt when a
	// model or an export asks for an older cut-off, and cold keeps the
	// segment profiles and risk mix.
	HistoryDays int `yaml:"history_days" json:"history_days"`
	// AnalyticsBasis is the lawful basis of analytics: consent (a fact
	// enters hot only under a valid analytics consent) or
	// legitimate_interest (every customer's facts enter hot unless they
	// withdrew or objected). Marketing purposes always need consent.
	AnalyticsBasis string `yaml:"analytics_basis" json:"analytics_basis"`
	// TCFPurposes says which IAB TCF v2 purposes a consent string must
	// grant for each parcours purpose (all of them): a consents source's
	// tc_string becomes one consent record per purpose listed here.
	TCFPurposes map[string][]int `yaml:"tcf_purposes" json:"tcf_purposes"`
}

// Models tunes training and scoring of the churn and CLV models.
type Models struct {
	// ChurnHorizonDays: a customer churned at a cut-off when they made no
	// purchase in this many days after it.
	ChurnHorizonDays int `yaml:"churn_horizon_days" json:"churn_horizon_days"`
	// ChurnAlgorithm is the learner the nightly training uses: auto (logreg
	// or xgboost, chosen by cross-validation on the training cut-off),
	// logreg, xgboost, forest or recency.
	ChurnAlgorithm string `yaml:"churn_algorithm" json:"churn_algorithm"`
	// RetrainDays: the train job retrains when the promoted model is older.
	RetrainDays int `yaml:"retrain_days" json:"retrain_days"`
	// ChurnTrainSample: at most this many customers per churn cut-off are
	// trained and evaluated on (0: all), those with the smallest
	// customer_key. Keys are HMAC outputs, so that is a uniform sample, and
	// the same one on a single node and across shards: each shard sends
	// its smallest keys and the merge keeps the smallest of all.
	ChurnTrainSample int `yaml:"churn_train_sample" json:"churn_train_sample"`
	// PromoteTolerance: a new churn model is promoted when its holdout ROC
	// AUC is at least the promoted one's minus this.
	PromoteTolerance float64 `yaml:"promote_tolerance" json:"promote_tolerance"`
	// CLVHorizonDays and CLVDiscountRate (annual) define the CLV figure.
	CLVHorizonDays  int     `yaml:"clv_horizon_days" json:"clv_horizon_days"`
	CLVDiscountRate float64 `yaml:"clv_discount_rate" json:"clv_discount_rate"`
	// RiskMedium and RiskHigh are the churn probabilities where the medium
	// and high risk bands start.
	RiskMedium float64 `yaml:"risk_medium" json:"risk_medium"`
	RiskHigh   float64 `yaml:"risk_high" json:"risk_high"`
	// Seed makes training reproducible.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// Segments tunes the segments job (jobs/segments takes it as its Options,
// and checks it before anything runs).
type Segments struct {
	// ValueQuantile is the quantile of the day's CLV from which a customer
	// is high value in the value x risk segments (0.5: the median).
	ValueQuantile float64 `yaml:"value_quantile" json:"value_quantile"`
	// MinPurchases30d: expected purchases in the next 30 days from which a
	// customer is "likely to buy".
	MinPurchases30d float64 `yaml:"min_purchases_30d" json:"min_purchases_30d"`
	// KMin and KMax bound the number of micro-segments (the silhouette
	// chooses within them).
	KMin int `yaml:"k_min" json:"k_min"`
	KMax int `yaml:"k_max" json:"k_max"`
	// FitSample is the most customers k-means is fitted on (and k chosen
	// on), drawn uniformly with the seed; every customer is then assigned
	// to the nearest centre. Centres from 50,000 points are as good as
	// from millions, at a fraction of the cost.
	FitSample int `yaml:"fit_sample" json:"fit_sample"`
	// SilhouetteSample is the most points the silhouette of each k is
	// computed on (exactly, over all pairs of the sample).
	SilhouetteSample int `yaml:"silhouette_sample" json:"silhouette_sample"`
	// MatchMaxDistance is the farthest (Euclidean, in standard deviations
	// of the standardised features) a micro-segment's centre may lie from
	// the previous computation's centre of an id to keep that id; farther,
	// it is a new segment with a fresh id. 0: no limit.
	MatchMaxDistance float64 `yaml:"match_max_distance" json:"match_max_distance"`
	// ChooseKEveryDays is how often the silhouette chooses the number of
	// micro-segments: on the first computation, when the features change,
	// when the previous computation is this many days old or more, and on
	// every day whose number since 1970-01-01 is a multiple of it. Other
	// nights keep the previous number and fit it afresh (the same fit the
	// silhouette's search makes for that number), so segments do not come
	// and go with the silhouette's hesitation between two close numbers,
	// at a seventh of the cost. 1: every night.
	ChooseKEveryDays int `yaml:"choose_k_every_days" json:"choose_k_every_days"`
}

// Triggers tunes the triggers job (jobs/triggers takes it as its Options,
// and checks the trigger and channel names before anything runs).
type Triggers struct {
	// CooldownDays: at most one fire of a trigger per customer in any span
	// of this many days.
	CooldownDays int `yaml:"cooldown_days" json:"cooldown_days"`
	// PostContactDays: how many days back an unresolved call is followed up.
	PostContactDays int `yaml:"post_contact_days" json:"post_contact_days"`
	// Channels maps a trigger to the channel it is sent on (email, the
	// default, sms, push, app or ads); the channel decides the consent
	// purpose the trigger needs.
	Channels map[string]string `yaml:"channels" json:"channels,omitempty"`
}

// Channel is the channel a trigger is sent on: email unless Channels
// names another.
func (t Triggers) Channel(trigger string) string {
	if c, ok := t.Channels[trigger]; ok {
		return c
	}
	return "email"
}

// Activation configures pushes to marketing tools.
type Activation struct {
	// FrequencyCap is the most marketing messages (members added to a
	// destination, trigger sends) a customer gets per FrequencyWindowDays,
	// across destinations: marketing pressure.
	FrequencyCap        int `yaml:"frequency_cap" json:"frequency_cap"`
	FrequencyWindowDays int `yaml:"frequency_window_days" json:"frequency_window_days"`
	// SizeAlertShare: a segment whose audience moves by more than this
	// share from its last run is reported (warn log, summary field).
	SizeAlertShare float64 `yaml:"size_alert_share" json:"size_alert_share"`
	// Dir holds the planned payload files (default <warehouse>/activation).
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Destinations are the marketing tools (none by default); see
	// jobs/activate/README.md for each type.
	Destinations []Destination `yaml:"destinations" json:"destinations"`
}

// Destination is one marketing tool segments are pushed to.
type Destination struct {
	// Name identifies the destination in plans, logs and ops.sync_state
	// (what was sent where is kept by this name).
	Name string `yaml:"name" json:"name"`
	// Type is the connector: webhook | filedrop | google_data_manager |
	// meta_ads | email_list. Each type has keys of its own (url,
	// secret_env, audience_id, outbox, ...), written beside these and
	// listed in jobs/activate/README.md.
	Type string `yaml:"type" json:"type"`
	// DefaultCountry (ISO 3166 alpha-2) reads phone numbers written
	// without an international prefix and fills a member's country.
	DefaultCountry string `yaml:"default_country" json:"default_country,omitempty"`
	// Fields are the vault fields sent for each member (data
	// minimisation): email, phone, first_name, last_name, postcode. The
	// default depends on the type: email for webhook and filedrop; email,
	// phone, names and postcode for ad audiences (match keys); email and
	// names for an email list.
	Fields []string `yaml:"fields" json:"fields,omitempty"`
	// Purpose is the consent purpose a member needs (marketing_email,
	// marketing_sms, marketing_ads, personalization).
	Purpose string `yaml:"purpose" json:"purpose"`
	// Mode is upsert (adds and updates) or mirror (also removes members
	// this tool sent that left the segment).
	Mode string `yaml:"mode" json:"mode"`
	// Segments are "family:segment" (e.g. rfm:champions) or
	// "trigger:name" (today's fires of a trigger).
	Segments []string `yaml:"segments" json:"segments"`
	// BatchSize is the most members per request (default: the
	// connector's, see jobs/activate/README.md).
	BatchSize int `yaml:"batch_size" json:"batch_size,omitempty"`
	// RatePerSecond caps attempts per second (default 0: no cap).
	RatePerSecond float64 `yaml:"rate_per_second" json:"rate_per_second,omitempty"`
	// TimeoutSeconds bounds each attempt (default 30); MinBackoffSeconds
	// and MaxBackoffSeconds bound the exponential backoff between
	// attempts (default 0.5 and 30).
	TimeoutSeconds    float64 `yaml:"timeout_seconds" json:"timeout_seconds,omitempty"`
	MinBackoffSeconds float64 `yaml:"min_backoff_seconds" json:"min_backoff_seconds,omitempty"`
	MaxBackoffSeconds float64 `yaml:"max_backoff_seconds" json:"max_backoff_seconds,omitempty"`
	// MaxAttempts is the most attempts per request, the first included
	// (default 5).
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts,omitempty"`
	// Options are the type's own keys: from a file, each value's
	// yaml.Node as written (file_mode: 0640 stays the text 0640); set in
	// Go, plain values. The connector's package decodes and checks them
	// (the activate jobs' config check).
	Options map[string]any `yaml:"-" json:"-"`
}

// DestinationKeys are the keys every destination has (Destination's
// fields), in declaration order; any other key is its type's own.
func DestinationKeys() []string {
	t := reflect.TypeOf(Destination{})
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// UnmarshalYAML reads the common keys into the fields and keeps every
// other key's node in Options, for the type's connector to decode.
func (d *Destination) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a destination is a mapping of keys", n.Line)
	}
	known := map[string]bool{}
	for _, k := range DestinationKeys() {
		known[k] = true
	}
	common := &yaml.Node{Kind: yaml.MappingNode, Tag: n.Tag, Line: n.Line, Column: n.Column}
	opts := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if known[k.Value] {
			common.Content = append(common.Content, k, v)
			continue
		}
		if _, dup := opts[k.Value]; dup {
			return fmt.Errorf("line %d: key %q set twice", k.Line, k.Value)
		}
		opts[k.Value] = *v
	}
	type plain Destination // without this method
	p := plain(*d)
	if err := common.Decode(&p); err != nil {
		return err
	}
	*d = Destination(p)
	d.Options = nil
	if len(opts) > 0 {
		d.Options = opts
	}
	return nil
}

// MarshalYAML writes the type's own keys after the common ones, as the
// file has them.
func (d Destination) MarshalYAML() (any, error) {
	type plain Destination // without this method
	var n yaml.Node
	if err := n.Encode(plain(d)); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(d.Options)) {
		v, ok := d.Options[k].(yaml.Node)
		if !ok {
			if err := v.Encode(d.Options[k]); err != nil {
				return nil, err
			}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &v)
	}
	return &n, nil
}

// jsonValue is a YAML value for JSON output: a scalar as its text (a
// number that is a JSON number as one: 0640 stays "0640"), anything else
// as YAML reads it.
func jsonValue(n yaml.Node) (any, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				return json.Number(n.Value), nil
			}
		case "!!bool", "!!null":
			var v any
			err := n.Decode(&v)
			return v, err
		}
		return n.Value, nil
	}
	var v any
	err := n.Decode(&v)
	return v, err
}

// MarshalJSON writes the type's own keys beside the common ones, as the
// file has them.
func (d Destination) MarshalJSON() ([]byte, error) {
	type common Destination // without this method
	b, err := json.Marshal(common(d))
	if err != nil || len(d.Options) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range d.Options {
		if _, taken := m[k]; taken {
			continue
		}
		if n, ok := v.(yaml.Node); ok {
			if v, err = jsonValue(n); err != nil {
				return nil, err
			}
		}
		m[k] = v
	}
	return json.Marshal(m)
}

// Attribution tunes conversion paths.
type Attribution struct {
	// LookbackDays is how far before a purchase touchpoints count.
	LookbackDays int `yaml:"lookback_days" json:"lookback_days"`
	// MaxTouches truncates a path to its last touchpoints.
	MaxTouches int `yaml:"max_touches" json:"max_touches"`
	// HalfLifeTouches is the time-decay model's half-life, in touches:
	// cold paths keep the order of touches, not their times.
	HalfLifeTouches float64 `yaml:"half_life_touches" json:"half_life_touches"`
}

// DuckDB tunes the embedded engine.
type DuckDB struct {
	// Threads is the engine's worker threads; 0 means one per core.
	Threads int `yaml:"threads" json:"threads"`
	// MemoryLimit is DuckDB's memory_limit (e.g. "8GB"). Empty: a night
	// (run, merge) gets 2 GiB plus 8 times the bytes of input it loads, at
	// most 40% of the machine's memory (or of the container's limit when
	// lower), leaving the rest to parcours' Go side; other commands get the
	// 40%. Past it DuckDB spills to the warehouse's tmp folder.
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit,omitempty"`
}

// Log configures logging.
type Log struct {
	// Format is auto (console on a terminal, JSON lines otherwise), json or console.
	Format string `yaml:"format" json:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level" json:"level"`
}

// Keys locates the secrets. Environment variables win over the key file.
type Keys struct {
	// File holds the master key and the pepper when PARCOURS_MASTER_KEY /
	// PARCOURS_PEPPER are not set; created with mode 0600 on first run.
	// Default: <warehouse>/parcours.key.
	File string `yaml:"file" json:"file"`
}

// Ingest tunes the ingest job.
type Ingest struct {
	// RejectThreshold is the share of a source's rows that may be quarantined
	// before the job fails (0.05 = 5%).
	RejectThreshold float64 `yaml:"reject_threshold" json:"reject_threshold"`
	// CatchUp loads every earlier dated folder whose files were never loaded
	// (or changed since), not only the run date's folder.
	CatchUp bool `yaml:"catch_up" json:"catch_up"`
	// PlausibleFrom and PlausibleDaysAhead bound event times: a row dated
	// before PlausibleFrom (YYYY-MM-DD) or more than PlausibleDaysAhead
	// days after the run date is quarantined (a clock reset to 1970, a
	// year typed 2206), never loaded into hot or cold.
	PlausibleFrom      string `yaml:"plausible_from" json:"plausible_from"`
	PlausibleDaysAhead int    `yaml:"plausible_days_ahead" json:"plausible_days_ahead"`
	// Unmatched says what a file no source matches is: warn (recorded in
	// ops.ingest_files and logged) or error (the ingest job fails).
	Unmatched string `yaml:"unmatched" json:"unmatched"`
}

// PlausibleWindow is the range of event times ingest accepts for a run
// date: [from, to), to being midnight after the run date plus
// PlausibleDaysAhead days, in UTC.
func (i Ingest) PlausibleWindow(runDate time.Time) (from, to time.Time) {
	from, _ = time.Parse(time.DateOnly, i.PlausibleFrom)
	d := time.Date(runDate.Year(), runDate.Month(), runDate.Day(), 0, 0, 0, 0, time.UTC)
	return from, d.AddDate(0, 0, i.PlausibleDaysAhead+1)
}

// Identity tunes identity stitching.
type Identity struct {
	// MaxCustomerIDs blocks an email, phone or loyalty card linked to more
	// distinct CRM customer ids than this (shared mailboxes, placeholders).
	MaxCustomerIDs int `yaml:"max_customer_ids" json:"max_customer_ids"`
	// MaxCustomersPerDevice blocks a cookie or app device seen logged in as
	// more distinct customers than this (shared family computers).
	MaxCustomersPerDevice int `yaml:"max_customers_per_device" json:"max_customers_per_device"`
	// MaxReceiptsPerCardDay blocks a loyalty card scanned on more receipts in
	// one day than this (a store's generic card kept at the till).
	MaxReceiptsPerCardDay int `yaml:"max_receipts_per_card_day" json:"max_receipts_per_card_day"`
	// MaxStoresPerCardDay blocks a loyalty card scanned in this many
	// different stores on one day.
	MaxStoresPerCardDay int `yaml:"max_stores_per_card_day" json:"max_stores_per_card_day"`
}

// Default returns the configuration used when nothing else is set.
func Default() Config {
	return Config{
		Warehouse: "warehouse",
		Input:     "data",
		Timezone:  "Europe/Paris",
		Region:    "FR",
		Log:       Log{Format: "auto", Level: "info"},
		Ingest:    Ingest{RejectThreshold: 0.05, CatchUp: true, PlausibleFrom: "1990-01-01", PlausibleDaysAhead: 2, Unmatched: "warn"},
		Identity:  Identity{MaxCustomerIDs: 2, MaxCustomersPerDevice: 1, MaxReceiptsPerCardDay: 10, MaxStoresPerCardDay: 3},
		Privacy: Privacy{K: 10, LateDays: 3, QuarantineDays: 30, HistoryDays: 14, AnalyticsBasis: "consent",
			// TCF purposes: 1 store/access information on a device, 3-4 create and use
			// profiles for personalised advertising, 5-6 the same for content, 9
			// understand audiences through statistics.
			TCFPurposes: map[string][]int{"analytics": {1, 9}, "personalization": {1, 5, 6}, "marketing_ads": {1, 3, 4}},
			RetentionMonths: map[string]int{
				"web_events": 13, "app_events": 13, "email_events": 13, "contacts": 36,
				"survey_responses": 36, "store_receipts": 60, "order_records": 60,
			}},
		Attribution: Attribution{LookbackDays: 30, MaxTouches: 10, HalfLifeTouches: 2},
		Activation:  Activation{FrequencyCap: 3, FrequencyWindowDays: 7, SizeAlertShare: 0.5},
		Segments: Segments{ValueQuantile: 0.5, MinPurchases30d: 0.5, KMin: 2, KMax: 8, FitSample: 50_000, SilhouetteSample: 5_000,
			MatchMaxDistance: 2, ChooseKEveryDays: 7},
		Triggers: Triggers{CooldownDays: 7, PostContactDays: 2},
		Models: Models{ChurnHorizonDays: 90, ChurnAlgorithm: "auto", RetrainDays: 7, ChurnTrainSample: 500000, PromoteTolerance: 0.005,
			CLVHorizonDays: 365, CLVDiscountRate: 0.10, RiskMedium: 0.3, RiskHigh: 0.6, Seed: 1},
		ExportDir: "exports",
	}
}

// DefaultFile is the config file read when --config is not given and it exists.
const DefaultFile = "parcours.yaml"

// Load builds the configuration: defaults, then the YAML file (path, or
// DefaultFile if it exists when path is empty), then environment overrides.
// Unknown keys in the file are errors, so a typo never silently falls back
// to a default.
func Load(path string) (Config, error) {
	cfg := Default()
	explicit := path != ""
	if path == "" {
		if env := os.Getenv("PARCOURS_CONFIG"); env != "" {
			path, explicit = env, true
		} else {
			path = DefaultFile
		}
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file decodes to io.EOF: it simply sets nothing.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	for _, o := range envOverrides() {
		if v := os.Getenv(o.env); v != "" {
			*o.field(&cfg) = v
		}
	}
	return cfg, nil
}

// Validate checks values that jobs would otherwise trip over mid-run.
func (c *Config) Validate() error {
	var errs []string
	if c.Warehouse == "" {
		errs = append(errs, "warehouse: must not be empty")
	}
	if c.Currency != "" && (len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		errs = append(errs, fmt.Sprintf("currency: %q is not an ISO 4217 code (three capital letters, e.g. EUR)", c.Currency))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Sprintf("timezone: %q is not a known time zone", c.Timezone))
	}
	if !phone.ValidRegion(c.Region) {
		errs = append(errs, fmt.Sprintf("region: %q is not an ISO 3166 country code libphonenumber knows (FR, DE, GB, US, BR, IN, JP, ...)", c.Region))
	}
	switch c.Log.Format {
	case "auto", "json", "console":
	default:
		errs = append(errs, fmt.Sprintf("log.format: %q is not one of auto, json, console", c.Log.Format))
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log.level: %q is not one of trace, debug, info, warn, error", c.Log.Level))
	}
	if c.Ingest.RejectThreshold < 0 || c.Ingest.RejectThreshold > 1 {
		errs = append(errs, fmt.Sprintf("ingest.reject_threshold: %v is not between 0 and 1", c.Ingest.RejectThreshold))
	}
	if _, err := time.Parse(time.DateOnly, c.Ingest.PlausibleFrom); err != nil {
		errs = append(errs, fmt.Sprintf("ingest.plausible_from: %q is not a date (YYYY-MM-DD)", c.Ingest.PlausibleFrom))
	}
	if c.Ingest.PlausibleDaysAhead < 0 {
		errs = append(errs, "ingest.plausible_days_ahead: must be 0 or more")
	}
	switch c.Ingest.Unmatched {
	case "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("ingest.unmatched: %q is not one of warn, error", c.Ingest.Unmatched))
	}
	for p, tcf := range c.Privacy.TCFPurposes {
		if !slices.Contains([]string{"analytics", "personalization", "marketing_email", "marketing_sms", "marketing_ads"}, p) {
			errs = append(errs, fmt.Sprintf("privacy.tcf_purposes: %q is not a purpose (analytics, personalization, marketing_email, marketing_sms, marketing_ads)", p))
		}
		for _, n := range tcf {
			if n < 1 || n > 24 {
				errs = append(errs, fmt.Sprintf("privacy.tcf_purposes.%s: %d is not a TCF purpose (1 to 24)", p, n))
			}
		}
		if len(tcf) == 0 {
			errs = append(errs, fmt.Sprintf("privacy.tcf_purposes.%s: empty list", p))
		}
	}
	switch c.Privacy.AnalyticsBasis {
	case "consent", "legitimate_interest":
	default:
		errs = append(errs, fmt.Sprintf("privacy.analytics_basis: %q is not one of consent, legitimate_interest", c.Privacy.AnalyticsBasis))
	}
	if _, err := sources.Effective(c.Sources); err != nil {
		errs = append(errs, err.Error())
	}
	if c.Identity.MaxCustomerIDs < 1 {
		errs = append(errs, "identity.max_customer_ids: must be at least 1")
	}
	if c.Identity.MaxReceiptsPerCardDay < 1 {
		errs = append(errs, "identity.max_receipts_per_card_day: must be at least 1")
	}
	if c.Identity.MaxStoresPerCardDay < 2 {
		errs = append(errs, "identity.max_stores_per_card_day: must be at least 2")
	}
	if c.Identity.MaxCustomersPerDevice < 1 {
		errs = append(errs, "identity.max_customers_per_device: must be at least 1")
	}
	if c.Privacy.K < 2 {
		errs = append(errs, "privacy.k: must be at least 2")
	}
	if c.Privacy.LateDays < 0 {
		errs = append(errs, "privacy.late_days: must not be negative")
	}
	if c.Privacy.QuarantineDays < 1 {
		errs = append(errs, "privacy.quarantine_days: must be at least 1")
	}
	if c.Privacy.HistoryDays < 0 || c.Privacy.HistoryDays == 1 {
		errs = append(errs, "privacy.history_days: must be 0 (keep all) or at least 2 (a segment's movers compare two nights)")
	}
	for t, m := range c.Privacy.RetentionMonths {
		if !slices.Contains(RetainableTables(), t) {
			errs = append(errs, fmt.Sprintf("privacy.retention_months: %q is not a hot fact table (%s)", t, strings.Join(RetainableTables(), ", ")))
		} else if m < 1 {
			errs = append(errs, fmt.Sprintf("privacy.retention_months.%s: must be at least 1", t))
		}
	}
	if c.Models.ChurnHorizonDays < 1 {
		errs = append(errs, "models.churn_horizon_days: must be at least 1")
	}
	switch c.Models.ChurnAlgorithm {
	case "auto", "logreg", "xgboost", "forest", "recency":
	default:
		errs = append(errs, fmt.Sprintf("models.churn_algorithm: %q is not one of auto, logreg, xgboost, forest, recency", c.Models.ChurnAlgorithm))
	}
	if c.Models.RetrainDays < 1 {
		errs = append(errs, "models.retrain_days: must be at least 1")
	}
	if c.Models.ChurnTrainSample < 0 {
		errs = append(errs, "models.churn_train_sample: must not be negative (0: every customer)")
	}
	if c.Models.CLVHorizonDays < 1 || c.Models.CLVDiscountRate < 0 {
		errs = append(errs, "models.clv_horizon_days must be at least 1 and models.clv_discount_rate not negative")
	}
	if !(0 < c.Models.RiskMedium && c.Models.RiskMedium < c.Models.RiskHigh && c.Models.RiskHigh < 1) {
		errs = append(errs, "models.risk_medium and risk_high: want 0 < medium < high < 1")
	}
	if c.Attribution.LookbackDays < 1 {
		errs = append(errs, "attribution.lookback_days: must be at least 1")
	}
	if c.Attribution.MaxTouches < 1 {
		errs = append(errs, "attribution.max_touches: must be at least 1")
	}
	errs = append(errs, c.Activation.validate()...)
	if !(c.Attribution.HalfLifeTouches > 0) {
		errs = append(errs, "attribution.half_life_touches: must be above 0")
	}
	if c.DuckDB.Threads < 0 {
		errs = append(errs, "duckdb.threads: must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// KeyFile is the key file path, defaulting to one inside the warehouse.
func (c *Config) KeyFile() string {
	if c.Keys.File != "" {
		return c.Keys.File
	}
	return filepath.Join(c.Warehouse, "parcours.key")
}

// Location is the business time zone; Validate has checked it loads.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// TCFMappingSQL renders privacy.tcf_purposes as SQL VALUES rows
// ('analytics', [1, 9]), in purpose order.
func (c *Config) TCFMappingSQL() string {
	var rows []string
	for _, p := range slices.Sorted(maps.Keys(c.Privacy.TCFPurposes)) {
		var ns []string
		for _, n := range c.Privacy.TCFPurposes[p] {
			ns = append(ns, strconv.Itoa(n))
		}
		rows = append(rows, fmt.Sprintf("('%s', [%s])", p, strings.Join(ns, ", ")))
	}
	if len(rows) == 0 {
		return "(NULL::VARCHAR, NULL::INTEGER[])"
	}
	return strings.Join(rows, ", ")
}

// RetainableTables lists the hot fact tables privacy.retention_months may
// name (each has a ts column).
func RetainableTables() []string {
	return []string{"app_events", "contacts", "email_events", "order_records", "store_receipts", "survey_responses", "web_events"}
}

func (a *Activation) validate() []string {
	var errs []string
	if a.FrequencyCap < 1 || a.FrequencyWindowDays < 1 {
		errs = append(errs, "activation.frequency_cap and frequency_window_days: must be at least 1")
	}
	if !(a.SizeAlertShare > 0) {
		errs = append(errs, "activation.size_alert_share: must be above 0")
	}
	seen := map[string]bool{}
	for i, d := range a.Destinations {
		at := fmt.Sprintf("activation.destinations[%d] (%s)", i, d.Name)
		switch {
		case d.Name == "" || strings.ContainsAny(d.Name, "/\\ "):
			errs = append(errs, at+": name: required, without spaces or slashes")
		case seen[d.Name]:
			errs = append(errs, at+": name: used twice")
		}
		seen[d.Name] = true
		if d.Type == "" {
			errs = append(errs, at+": type: required (webhook | filedrop | google_data_manager | meta_ads | email_list)")
		}
		if !slices.Contains([]string{"marketing_email", "marketing_sms", "marketing_ads", "personalization"}, d.Purpose) {
			errs = append(errs, at+": purpose: want marketing_email | marketing_sms | marketing_ads | personalization")
		}
		if d.Mode != "upsert" && d.Mode != "mirror" {
			errs = append(errs, at+": mode: want upsert | mirror")
		}
		if len(d.Segments) == 0 {
			errs = append(errs, at+": segments: at least one")
		}
		for _, s := range d.Segments {
			if f, n, ok := strings.Cut(s, ":"); !ok || f == "" || n == "" {
				errs = append(errs, at+": segment "+s+": want family:segment or trigger:name")
			}
		}
		for _, f := range d.Fields {
			if !slices.Contains([]string{"email", "phone", "first_name", "last_name", "postcode"}, f) {
				errs = append(errs, at+": fields: "+f+": want email | phone | first_name | last_name | postcode")
			}
		}
		if d.BatchSize < 0 || d.RatePerSecond < 0 || d.TimeoutSeconds < 0 || d.MaxAttempts < 0 || d.MinBackoffSeconds < 0 || d.MaxBackoffSeconds < 0 {
			errs = append(errs, at+": batch_size, rate_per_second, timeout_seconds, max_attempts, min/max_backoff_seconds: must not be negative")
		}
	}
	return errs
}
