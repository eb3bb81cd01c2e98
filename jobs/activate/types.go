package activate

import (
	"embed"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/jobs/activate/adaudience"
	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/emaillist"
	"github.com/parcours/parcours/jobs/activate/filedrop"
	"github.com/parcours/parcours/jobs/activate/webhook"
)

// options are a connector type's own keys of a destination, decoded by
// the connector package's Options type: it checks them and builds the
// connector (as a Telegraf plugin owns its table of the config).
type options interface {
	// Check lists the problems of the keys, each naming its key.
	Check() []string
	// Connect builds the connector from its options and the common
	// settings; getenv reads the secrets the options name.
	Connect(s delivery.Settings, getenv func(string) string) (delivery.Connector, error)
}

// optionSources are the connectors' declarations of their options, whose
// field comments are the reference of each type's keys.
//
//go:embed webhook/options.go filedrop/options.go adaudience/options.go emaillist/options.go
var optionSources embed.FS

// destType is one connector type as the activate jobs see it.
type destType struct {
	name string
	// source declares the options type, in optionSources.
	source string
	// options returns a pointer to the type's zero Options.
	options func() options
	// fields are the vault fields sent by default (data minimisation:
	// what the type matches or greets on).
	fields []string
	// oneAudience: the remote holds one audience per destination, so one
	// segment (a second would share it, and one's removal would take out
	// a member the other still holds).
	oneAudience bool
}

// destTypes lists the connector types, in the order the reference shows.
func destTypes() []destType {
	matchKeys := []string{"email", "phone", "first_name", "last_name", "postcode"}
	return []destType{
		{name: webhook.Type, source: "webhook/options.go", options: func() options { return &webhook.Options{} }, fields: []string{"email"}},
		{name: filedrop.Type, source: "filedrop/options.go", options: func() options { return &filedrop.Options{} }, fields: []string{"email"}},
		{name: adaudience.TypeDataManager, source: "adaudience/options.go", options: func() options { return &adaudience.DataManagerOptions{} }, fields: matchKeys, oneAudience: true},
		{name: adaudience.TypeMeta, source: "adaudience/options.go", options: func() options { return &adaudience.MetaOptions{} }, fields: matchKeys, oneAudience: true},
		{name: emaillist.Type, source: "emaillist/options.go", options: func() options { return &emaillist.Options{} }, fields: []string{"email", "first_name", "last_name"}, oneAudience: true},
	}
}

// removedTypes are types a config may still name, with what replaced them.
func removedTypes() map[string]string {
	return map[string]string{
		"google_ads": "type google_ads (Google Ads API OfflineUserDataJobService) was removed: since 1 April 2026 Google refuses Customer Match uploads" +
			" from developer tokens not allowlisted; use type google_data_manager with url https://datamanager.googleapis.com (same customer_id and audience_id; no developer_token_env)",
	}
}

// typeOf finds a destination's type.
func typeOf(d config.Destination) (destType, error) {
	var names []string
	for _, t := range destTypes() {
		if t.name == d.Type {
			return t, nil
		}
		names = append(names, t.name)
	}
	if msg, ok := removedTypes()[d.Type]; ok {
		return destType{}, fmt.Errorf("%s", msg)
	}
	return destType{}, fmt.Errorf("type: want %s", strings.Join(names, " | "))
}

// decode reads a destination's own keys into its type's options: an
// unknown key, or a value of the wrong kind, is an error naming the key.
func decode(d config.Destination) (destType, options, []string) {
	t, err := typeOf(d)
	if err != nil {
		return t, nil, []string{err.Error()}
	}
	o := t.options()
	v := reflect.ValueOf(o).Elem()
	fields := map[string]reflect.Value{}
	var known []string
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		fields[name] = v.Field(i)
		known = append(known, name)
	}
	keys := make([]string, 0, len(d.Options))
	for k := range d.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []string
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: not a key of a %s destination (its own keys: %s; every destination's: %s)",
				k, t.name, strings.Join(known, ", "), strings.Join(config.DestinationKeys(), ", ")))
			continue
		}
		var err error
		switch v := d.Options[k].(type) {
		case yaml.Node: // from a file: decoded from the text as written
			err = v.Decode(f.Addr().Interface())
		default: // set in Go
			var b []byte
			if b, err = yaml.Marshal(v); err == nil {
				err = yaml.Unmarshal(b, f.Addr().Interface())
			}
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: want %s", k, kindOf(f.Type())))
		}
	}
	return t, o, append(errs, o.Check()...)
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return "a string"
}

// checkDestinations checks every destination's type and own keys; the
// errors name the destination and the key.
func checkDestinations(cfg *config.Config) error {
	var errs []string
	for i, d := range cfg.Activation.Destinations {
		at := fmt.Sprintf("activation.destinations[%d] (%s)", i, d.Name)
		t, _, problems := decode(d)
		for _, p := range problems {
			errs = append(errs, at+": "+p)
		}
		if t.oneAudience && len(d.Segments) > 1 {
			errs = append(errs, at+": segments: "+d.Type+" holds one audience: configure one destination per segment")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n  "))
	}
	return nil
}

// CheckConfig implements orchestration.ConfigChecker: the destinations'
// types and their own keys, which only the connectors know.
func (j *PlanJob) CheckConfig(cfg *config.Config) error { return checkDestinations(cfg) }

// TypeInfo describes one destination type: its own keys and the fields it
// sends by default.
type TypeInfo struct {
	Name   string       `json:"type"`
	Keys   []config.Key `json:"keys"`
	Fields []string     `json:"default_fields"`
}

// Types lists the destination types with their own keys, from the field
// comments of each connector's Options.
func Types() ([]TypeInfo, error) {
	var out []TypeInfo
	for _, t := range destTypes() {
		src, err := optionSources.ReadFile(t.source)
		if err != nil {
			return nil, err
		}
		keys, err := config.StructKeys(t.source, string(src), t.options())
		if err != nil {
			return nil, err
		}
		out = append(out, TypeInfo{Name: t.name, Keys: keys, Fields: t.fields})
	}
	return out, nil
}

// WriteReference prints each type's own keys as Markdown tables (the
// destination types section of jobs/activate/README.md).
func WriteReference(w io.Writer) error {
	types, err := Types()
	if err != nil {
		return err
	}
	for i, t := range types {
		if i > 0 {
			fmt.Fprintln(w)
		}
		config.WriteKeys(w, "`type: "+t.Name+"`", t.Keys)
		fmt.Fprintf(w, "\nSent by default (`fields`): %s.\n", strings.Join(t.Fields, ", "))
	}
	return nil
}
