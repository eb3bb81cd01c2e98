package triggers

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/config"
)

// Channels a trigger can be sent on.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelPush  = "push"
	ChannelApp   = "app"
	ChannelAds   = "ads"
)

// Fixed windows of the behavioural triggers: they define the triggers
// themselves, unlike the options below, which tune how often and where.
const (
	// CartWindow is how far back an add-to-cart counts as abandoned.
	CartWindow = 24 * time.Hour
	// BrowseDays is how many calendar days of product views count.
	BrowseDays = 7
	// BrowseMinViews is how many views of one category make an interest.
	BrowseMinViews = 3
)

// Options tune the triggers job: the configuration's triggers section,
// declared (with its defaults) in internal/config.
type Options = config.Triggers

// DefaultOptions returns the options used when nothing is configured:
// every trigger by email, a 7-day cooldown, contacts of the last 2 days.
func DefaultOptions() Options { return config.Default().Triggers }

// ConsentPurpose is the consent purpose a channel needs: a push or in-app
// message is personalisation of the customer's own app, the others are
// marketing on that medium.
func ConsentPurpose(channel string) (string, error) {
	switch channel {
	case ChannelEmail:
		return "marketing_email", nil
	case ChannelSMS:
		return "marketing_sms", nil
	case ChannelPush, ChannelApp:
		return "personalization", nil
	case ChannelAds:
		return "marketing_ads", nil
	}
	return "", fmt.Errorf("channel %q is not one of email, sms, push, app, ads", channel)
}

// CheckConfig implements orchestration.ConfigChecker.
func (j *Job) CheckConfig(cfg *config.Config) error { return validate(cfg.Triggers) }

// validate checks the options before anything runs; errors name the keys.
func validate(o Options) error {
	var errs []string
	if o.CooldownDays < 1 {
		errs = append(errs, "triggers.cooldown_days: must be at least 1")
	}
	if o.PostContactDays < 1 {
		errs = append(errs, "triggers.post_contact_days: must be at least 1")
	}
	names := make([]string, 0, len(o.Channels))
	for t := range o.Channels {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if !slices.Contains(Names(), t) {
			errs = append(errs, fmt.Sprintf("triggers.channels: %q is not a trigger (%s)", t, strings.Join(Names(), ", ")))
			continue
		}
		if _, err := ConsentPurpose(o.Channels[t]); err != nil {
			errs = append(errs, fmt.Sprintf("triggers.channels.%s: %v", t, err))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
