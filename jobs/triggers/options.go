package triggers

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
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

// Options tune the triggers job.
type Options struct {
	// Channels maps a trigger name to the channel it is sent on: email
	// (the default for a trigger not listed), sms, push, app or ads.
	Channels map[string]string
	// CooldownDays: a customer gets at most one fire of a trigger in any
	// span of this many days.
	CooldownDays int
	// PostContactDays is how many days back an unresolved call-centre
	// contact is followed up.
	PostContactDays int
}

// DefaultOptions returns the options used when nothing is configured:
// every trigger by email, a 7-day cooldown, contacts of the last 2 days.
func DefaultOptions() Options {
	return Options{CooldownDays: 7, PostContactDays: 2}
}

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

// Channel is the channel a trigger is sent on.
func (o Options) Channel(trigger string) string {
	if c, ok := o.Channels[trigger]; ok {
		return c
	}
	return ChannelEmail
}

// Validate checks the options before anything runs.
func (o Options) Validate() error {
	var errs []string
	if o.CooldownDays < 1 {
		errs = append(errs, "cooldown_days: must be at least 1")
	}
	if o.PostContactDays < 1 {
		errs = append(errs, "post_contact_days: must be at least 1")
	}
	names := make([]string, 0, len(o.Channels))
	for t := range o.Channels {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if !slices.Contains(Names(), t) {
			errs = append(errs, fmt.Sprintf("channels: %q is not a trigger (%s)", t, strings.Join(Names(), ", ")))
			continue
		}
		if _, err := ConsentPurpose(o.Channels[t]); err != nil {
			errs = append(errs, fmt.Sprintf("channels.%s: %v", t, err))
		}
	}
	if len(errs) > 0 {
		return errors.New("triggers options: " + strings.Join(errs, "; "))
	}
	return nil
}
