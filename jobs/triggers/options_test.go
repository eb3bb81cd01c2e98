package triggers

import (
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
)

// The triggers section is checked by the job, before anything runs.
func TestCheckConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string // substring; "" means valid
	}{
		{"defaults", DefaultOptions(), ""},
		{"sms and push", Options{CooldownDays: 1, PostContactDays: 1,
			Channels: map[string]string{PostContact: "sms", CartAbandonment: "push", WinBack: "app", BrowseAbandonment: "ads"}}, ""},
		{"zero cooldown", Options{CooldownDays: 0, PostContactDays: 2}, "cooldown_days"},
		{"zero contact days", Options{CooldownDays: 7, PostContactDays: 0}, "post_contact_days"},
		{"unknown trigger", Options{CooldownDays: 7, PostContactDays: 2, Channels: map[string]string{"birthday": "email"}}, `"birthday" is not a trigger`},
		{"unknown channel", Options{CooldownDays: 7, PostContactDays: 2, Channels: map[string]string{WinBack: "fax"}}, `channels.win_back: channel "fax"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Triggers = tc.opts
			err := New().CheckConfig(&cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestChannelPurpose(t *testing.T) {
	opts := Options{Channels: map[string]string{PostContact: ChannelSMS}}
	for _, tc := range []struct {
		trigger, channel, purpose string
	}{
		{CartAbandonment, ChannelEmail, "marketing_email"},
		{PostContact, ChannelSMS, "marketing_sms"},
	} {
		ch := opts.Channel(tc.trigger)
		p, err := ConsentPurpose(ch)
		if ch != tc.channel || p != tc.purpose || err != nil {
			t.Errorf("%s: channel %q purpose %q (%v), want %q %q", tc.trigger, ch, p, err, tc.channel, tc.purpose)
		}
	}
	for ch, want := range map[string]string{ChannelPush: "personalization", ChannelApp: "personalization", ChannelAds: "marketing_ads"} {
		if p, err := ConsentPurpose(ch); p != want || err != nil {
			t.Errorf("ConsentPurpose(%s) = %q, %v; want %q", ch, p, err, want)
		}
	}
	if _, err := ConsentPurpose("pigeon"); err == nil {
		t.Error("an unknown channel has a purpose")
	}
}
