package triggers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

const (
	hour = time.Hour
	dayD = 24 * time.Hour
)

// outcome is what should happen to a planted customer for a trigger on
// runDay: fire, one of the exclusion reasons, or "" (not a candidate).
type outcome = string

const fires outcome = "fire"

// plant builds the test world: every customer has a marketing_email
// consent from January unless the case says otherwise. It returns the
// expected outcome per (trigger, customer); anything not listed must not
// fire.
func plant(w *world) map[[2]string]outcome {
	const since = "2026-01-01 00:00:00+00"
	want := map[[2]string]outcome{}
	c := func(trigger, cust string, o outcome) { want[[2]string{trigger, cust}] = o }
	email := func(custs ...string) {
		for _, cust := range custs {
			w.consent(cust, "marketing_email", since, "")
		}
	}

	// cart_abandonment: an add-to-cart in the last 24 h, nothing bought since.
	email("cart_hit", "cart_25h", "cart_bought", "cart_after_purchase", "cart_tomorrow",
		"cart_opted_out", "cart_opted_back_in", "cart_optout_later", "cart_optout_blocked",
		"cart_optout_other", "cart_cooldown", "cart_cooldown_over", "cart_cooldown_other")
	w.web("cart_hit", "add_to_cart", 23*hour, "p1", "shoes")
	w.app("cart_hit", "add_to_cart", 1*hour, "p2", "socks")
	w.web("cart_hit", "product_view", 2*hour, "p3", "shoes") // not a cart
	c(CartAbandonment, "cart_hit", fires)
	w.web("cart_25h", "add_to_cart", 25*hour, "p1", "shoes")
	c(CartAbandonment, "cart_25h", "")
	w.web("cart_bought", "add_to_cart", 5*hour, "p1", "shoes")
	w.order("cart_bought", 2*hour)
	c(CartAbandonment, "cart_bought", "")
	w.order("cart_after_purchase", 10*hour)
	w.web("cart_after_purchase", "add_to_cart", 3*hour, "p1", "shoes")
	c(CartAbandonment, "cart_after_purchase", fires)
	// 00:30 in Paris the next day, still 10 June in UTC: not yet.
	w.web("cart_tomorrow", "add_to_cart", -30*time.Minute, "p1", "shoes")
	c(CartAbandonment, "cart_tomorrow", "")

	// Consent for the channel's purpose, valid at the end of the day.
	w.web("cart_sms_only", "add_to_cart", 2*hour, "p1", "shoes")
	w.consent("cart_sms_only", "marketing_sms", since, "")
	w.consent("cart_sms_only", "analytics", since, "")
	c(CartAbandonment, "cart_sms_only", ReasonNoConsent)
	w.web("cart_consent_ended", "add_to_cart", 2*hour, "p1", "shoes")
	w.consent("cart_consent_ended", "marketing_email", since, "2026-06-09 12:00:00+00")
	c(CartAbandonment, "cart_consent_ended", ReasonNoConsent)
	// Ends at 21:00 UTC on the day, before the end of the Paris day.
	w.web("cart_consent_ends_today", "add_to_cart", 2*hour, "p1", "shoes")
	w.consent("cart_consent_ends_today", "marketing_email", since, w.ts(1*hour))
	c(CartAbandonment, "cart_consent_ends_today", ReasonNoConsent)
	// Consent is checked first: an opt-out does not change the reason.
	w.web("cart_no_consent_opted_out", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_no_consent_opted_out", CartAbandonment, "opt_out", 3*dayD, false)
	c(CartAbandonment, "cart_no_consent_opted_out", ReasonNoConsent)

	// An objection (to profiling or marketing, or a contested decision)
	// keeps the customer out whatever their consent; consent is checked first.
	email("cart_objects_marketing", "cart_contests")
	w.web("cart_objects_marketing", "add_to_cart", 2*hour, "p1", "shoes")
	w.objects("cart_objects_marketing", "marketing")
	c(CartAbandonment, "cart_objects_marketing", ReasonObjected)
	w.web("cart_contests", "add_to_cart", 2*hour, "p1", "shoes")
	w.objects("cart_contests", "contest")
	w.optout("cart_contests", CartAbandonment, "opt_out", 3*dayD, false)
	c(CartAbandonment, "cart_contests", ReasonObjected)

	// Opt-outs: the latest record before the end of the day decides.
	w.web("cart_opted_out", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_opted_out", CartAbandonment, "opt_out", 3*dayD, false)
	c(CartAbandonment, "cart_opted_out", ReasonOptedOut)
	w.web("cart_opted_back_in", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_opted_back_in", CartAbandonment, "opt_out", 5*dayD, false)
	w.optout("cart_opted_back_in", CartAbandonment, "opt_in", 1*dayD, false)
	c(CartAbandonment, "cart_opted_back_in", fires)
	w.web("cart_optout_later", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_optout_later", CartAbandonment, "opt_in", 5*dayD, false)
	w.optout("cart_optout_later", CartAbandonment, "opt_out", -1*hour, false)
	c(CartAbandonment, "cart_optout_later", fires)
	w.web("cart_optout_blocked", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_optout_blocked", CartAbandonment, "opt_out", 3*dayD, true)
	c(CartAbandonment, "cart_optout_blocked", fires)
	w.web("cart_optout_other", "add_to_cart", 2*hour, "p1", "shoes")
	w.optout("cart_optout_other", BrowseAbandonment, "opt_out", 3*dayD, false)
	c(CartAbandonment, "cart_optout_other", fires)

	// Cooldown: 7 days by default, per trigger.
	w.web("cart_cooldown", "add_to_cart", 2*hour, "p1", "shoes")
	w.fired("2026-06-04", CartAbandonment, "cart_cooldown")
	c(CartAbandonment, "cart_cooldown", ReasonCooldown)
	w.web("cart_cooldown_over", "add_to_cart", 2*hour, "p1", "shoes")
	w.fired("2026-06-03", CartAbandonment, "cart_cooldown_over")
	c(CartAbandonment, "cart_cooldown_over", fires)
	w.web("cart_cooldown_other", "add_to_cart", 2*hour, "p1", "shoes")
	w.fired("2026-06-09", WinBack, "cart_cooldown_other")
	c(CartAbandonment, "cart_cooldown_other", fires)

	// browse_abandonment: 3+ product views of one category in 7 days.
	email("browse_hit", "browse_two_views", "browse_two_categories", "browse_old_view",
		"browse_bought", "browse_bought_before", "browse_no_category", "browse_page_views")
	w.web("browse_hit", "product_view", 6*dayD+10*hour, "t1", "tents")
	w.web("browse_hit", "product_view", 3*dayD, "t2", "tents")
	w.app("browse_hit", "product_view", 2*hour, "t1", "tents")
	w.web("browse_hit", "product_view", 1*hour, "b1", "boots")
	c(BrowseAbandonment, "browse_hit", fires)
	w.web("browse_two_views", "product_view", 2*dayD, "t1", "tents")
	w.web("browse_two_views", "product_view", 1*dayD, "t2", "tents")
	c(BrowseAbandonment, "browse_two_views", "")
	w.web("browse_two_categories", "product_view", 3*dayD, "t1", "tents")
	w.web("browse_two_categories", "product_view", 2*dayD, "t2", "tents")
	w.web("browse_two_categories", "product_view", 2*dayD, "b1", "boots")
	w.app("browse_two_categories", "product_view", 1*dayD, "b2", "boots")
	c(BrowseAbandonment, "browse_two_categories", "")
	w.web("browse_old_view", "product_view", 7*dayD+1*hour, "t1", "tents") // 3 June 23:00 local: an hour before the 7 days
	w.web("browse_old_view", "product_view", 2*dayD, "t2", "tents")
	w.web("browse_old_view", "product_view", 1*dayD, "t3", "tents")
	c(BrowseAbandonment, "browse_old_view", "")
	w.web("browse_bought", "product_view", 4*dayD, "t1", "tents")
	w.order("browse_bought", 3*dayD)
	w.web("browse_bought", "product_view", 2*dayD, "t2", "tents")
	w.web("browse_bought", "product_view", 1*dayD, "t3", "tents")
	c(BrowseAbandonment, "browse_bought", "")
	w.order("browse_bought_before", 5*dayD)
	w.web("browse_bought_before", "product_view", 4*dayD, "t1", "tents")
	w.web("browse_bought_before", "product_view", 2*dayD, "t2", "tents")
	w.web("browse_bought_before", "product_view", 1*dayD, "t3", "tents")
	c(BrowseAbandonment, "browse_bought_before", fires)
	for i := 1; i <= 3; i++ {
		w.web("browse_no_category", "product_view", time.Duration(i)*dayD, "t1", "")
		w.web("browse_page_views", "page_view", time.Duration(i)*dayD, "", "tents")
	}
	c(BrowseAbandonment, "browse_no_category", "")
	c(BrowseAbandonment, "browse_page_views", "")

	// post_contact: unresolved in the last 2 days, no resolved contact after.
	email("contact_hit", "contact_resolved_later", "contact_old", "contact_resolved_before", "contact_resolved_tomorrow")
	w.contact("contact_hit", 20*hour, false)
	c(PostContact, "contact_hit", fires)
	w.contact("contact_resolved_later", 20*hour, false)
	w.contact("contact_resolved_later", 10*hour, true)
	c(PostContact, "contact_resolved_later", "")
	w.contact("contact_old", 2*dayD+1*hour, false) // 8 June 23:00 local: before the 2 days
	c(PostContact, "contact_old", "")
	w.contact("contact_resolved_before", 30*hour, true)
	w.contact("contact_resolved_before", 5*hour, false)
	c(PostContact, "contact_resolved_before", fires)
	w.contact("contact_resolved_tomorrow", 5*hour, false)
	w.contact("contact_resolved_tomorrow", -1*hour, true)
	c(PostContact, "contact_resolved_tomorrow", fires)

	// win_back: rfm at_risk/cant_lose_them and value_risk high_value_* on the
	// latest segment day on or before the run date (9 June here).
	email("win_at_risk", "win_cant_lose", "win_low_value", "win_champion", "win_stale", "win_future", "win_opted_out")
	for _, s := range []struct{ on, cust, rfm, value string }{
		{"2026-06-09", "win_at_risk", "at_risk", "high_value_high_risk"},
		{"2026-06-09", "win_cant_lose", "cant_lose_them", "high_value_low_risk"},
		{"2026-06-09", "win_low_value", "at_risk", "low_value_high_risk"},
		{"2026-06-09", "win_champion", "champions", "high_value_low_risk"},
		{"2026-06-02", "win_stale", "at_risk", "high_value_high_risk"},
		{"2026-06-09", "win_stale", "loyal", "high_value_high_risk"},
		{"2026-06-11", "win_future", "at_risk", "high_value_high_risk"},
		{"2026-06-09", "win_opted_out", "cant_lose_them", "high_value_high_risk"},
	} {
		w.segment(s.on, s.cust, "rfm", s.rfm)
		w.segment(s.on, s.cust, "value_risk", s.value)
	}
	c(WinBack, "win_at_risk", fires)
	c(WinBack, "win_cant_lose", fires)
	c(WinBack, "win_low_value", "")
	c(WinBack, "win_champion", "")
	c(WinBack, "win_stale", "")
	c(WinBack, "win_future", "")
	w.optout("win_opted_out", WinBack, "opt_out", 10*dayD, false)
	c(WinBack, "win_opted_out", ReasonOptedOut)
	return want
}

func TestTriggerOutcomes(t *testing.T) {
	w := newWorld(t)
	want := plant(w)
	res := w.evaluate(runDay, DefaultOptions())
	got := w.fires(runDay)
	for k, o := range want {
		_, fired := got[k]
		if fired != (o == fires) {
			t.Errorf("%s for %s: fired = %v, want %q", k[0], k[1], fired, o)
		}
	}
	for k := range got {
		if want[k] != fires {
			t.Errorf("%s fired for %s, unexpected (want %q)", k[0], k[1], want[k])
		}
	}

	// Exclusion counts and the job's counts, from the same expectations.
	wantFires := map[string]int64{}
	wantExcl := map[[2]string]int64{}
	for _, name := range Names() {
		for _, r := range ExclusionReasons() {
			wantExcl[[2]string{name, r}] = 0
		}
	}
	for k, o := range want {
		switch o {
		case fires:
			wantFires[k[0]]++
		case "":
		default:
			wantExcl[[2]string{k[0], o}]++
		}
	}
	gotExcl := w.exclusions(runDay)
	if len(gotExcl) != len(wantExcl) {
		t.Errorf("exclusion rows = %d, want %d (every trigger x reason)", len(gotExcl), len(wantExcl))
	}
	for k, n := range wantExcl {
		if gotExcl[k] != n {
			t.Errorf("exclusions %s/%s = %d, want %d", k[0], k[1], gotExcl[k], n)
		}
		if res.Excluded[k[0]][k[1]] != n {
			t.Errorf("Result.Excluded %s/%s = %d, want %d", k[0], k[1], res.Excluded[k[0]][k[1]], n)
		}
	}
	for _, name := range Names() {
		if res.Fires[name] != wantFires[name] {
			t.Errorf("Result.Fires[%s] = %d, want %d", name, res.Fires[name], wantFires[name])
		}
	}
	// Hand count: cart 4 no_consent, 1 opted out, 1 cooldown; win_back 1 opted out.
	if wantExcl[[2]string{CartAbandonment, ReasonNoConsent}] != 4 || wantExcl[[2]string{WinBack, ReasonOptedOut}] != 1 ||
		wantFires[CartAbandonment] != 8 || wantFires[BrowseAbandonment] != 2 || wantFires[PostContact] != 3 || wantFires[WinBack] != 2 {
		t.Fatalf("the planted world changed: fires %v, exclusions %v", wantFires, wantExcl)
	}
}

// What each fire carries: channel, stated purpose, content and the facts.
func TestFireContents(t *testing.T) {
	w := newWorld(t)
	plant(w)
	w.evaluate(runDay, DefaultOptions())
	got := w.fires(runDay)
	defs := map[string]Definition{}
	for _, d := range Definitions() {
		defs[d.Name] = d
	}
	for k, f := range got {
		if f.Channel != ChannelEmail || f.Purpose != defs[k[0]].Purpose || f.Content != defs[k[0]].Content {
			t.Errorf("%s/%s: channel %q purpose %q content %q", k[0], k[1], f.Channel, f.Purpose, f.Content)
		}
	}
	if c := got[[2]string{BrowseAbandonment, "browse_hit"}].Content; c != "buying_guide" {
		t.Errorf("browse content = %q, want buying_guide", c)
	}

	// now = 2026-06-10 22:00 UTC; the web cart 23 h before, the app cart 1 h before.
	cart := got[[2]string{CartAbandonment, "cart_hit"}].Reason
	items, _ := cart["items"].([]any)
	if cart["cart_at"] != "2026-06-10T21:00:00Z" || len(items) != 2 {
		t.Fatalf("cart reason %v", cart)
	}
	first, _ := items[0].(map[string]any)
	second, _ := items[1].(map[string]any)
	if first["product_id"] != "p1" || first["source"] != "web" || first["added_at"] != "2026-06-09T23:00:00Z" ||
		second["product_id"] != "p2" || second["source"] != "app" || second["category"] != "socks" {
		t.Errorf("cart items %v", items)
	}

	// 3 tent views (6 d 10 h, 3 d, 2 h before now) and 1 boots view.
	browse := got[[2]string{BrowseAbandonment, "browse_hit"}].Reason
	if browse["category"] != "tents" || browse["views"] != float64(3) ||
		browse["first_view_at"] != "2026-06-04T12:00:00Z" || browse["last_view_at"] != "2026-06-10T20:00:00Z" ||
		fmt.Sprint(browse["products"]) != "[t1 t2]" {
		t.Errorf("browse reason %v", browse)
	}

	contact := got[[2]string{PostContact, "contact_resolved_before"}].Reason
	if contact["contact_at"] != "2026-06-10T17:00:00Z" || contact["unresolved_contacts"] != float64(1) ||
		contact["contact_reason"] != "delivery" || contact["contact_id"] == nil {
		t.Errorf("contact reason %v", contact)
	}

	win := got[[2]string{WinBack, "win_cant_lose"}].Reason
	if win["computed_on"] != "2026-06-09" || win["rfm_segment"] != "cant_lose_them" || win["value_risk_segment"] != "high_value_low_risk" {
		t.Errorf("win_back reason %v", win)
	}
}

// The latest unresolved contact is the one followed up; all are counted.
func TestPostContactWindowOption(t *testing.T) {
	for _, tc := range []struct {
		days     int
		want     bool
		nContact float64
	}{
		{days: 2, want: false},
		{days: 3, want: true, nContact: 2},
	} {
		t.Run(fmt.Sprint(tc.days), func(t *testing.T) {
			w := newWorld(t)
			w.consent("k", "marketing_email", "2026-01-01 00:00:00+00", "")
			w.contact("k", 2*dayD+5*hour, false) // 8 June, 19:00 local
			w.contact("k", 2*dayD+3*hour, false)
			opts := DefaultOptions()
			opts.PostContactDays = tc.days
			w.evaluate(runDay, opts)
			f, ok := w.fires(runDay)[[2]string{PostContact, "k"}]
			if ok != tc.want {
				t.Fatalf("fired = %v, want %v", ok, tc.want)
			}
			if ok && (f.Reason["unresolved_contacts"] != tc.nContact || f.Reason["contact_at"] != "2026-06-08T19:00:00Z") {
				t.Errorf("reason %v", f.Reason)
			}
		})
	}
}

// A trigger sent by SMS needs marketing_sms consent, by push personalization.
func TestChannelOption(t *testing.T) {
	w := newWorld(t)
	since := "2026-01-01 00:00:00+00"
	for _, cust := range []string{"email_only", "sms_only", "push_only"} {
		w.contact(cust, 5*hour, false)
		w.web(cust, "add_to_cart", 5*hour, "p1", "shoes")
	}
	w.consent("email_only", "marketing_email", since, "")
	w.consent("sms_only", "marketing_sms", since, "")
	w.consent("push_only", "personalization", since, "")
	opts := DefaultOptions()
	opts.Channels = map[string]string{PostContact: ChannelSMS, CartAbandonment: ChannelPush}
	w.evaluate(runDay, opts)
	got := w.fires(runDay)
	for _, tc := range []struct {
		trigger, cust, channel string
	}{
		{PostContact, "sms_only", ChannelSMS},
		{CartAbandonment, "push_only", ChannelPush},
	} {
		f, ok := got[[2]string{tc.trigger, tc.cust}]
		if !ok || f.Channel != tc.channel {
			t.Errorf("%s for %s: %+v, want a fire by %s", tc.trigger, tc.cust, f, tc.channel)
		}
	}
	if len(got) != 2 {
		t.Errorf("fires %v, want only the two above", got)
	}
	excl := w.exclusions(runDay)
	if excl[[2]string{PostContact, ReasonNoConsent}] != 2 || excl[[2]string{CartAbandonment, ReasonNoConsent}] != 2 {
		t.Errorf("exclusions %v", excl)
	}
}

// Re-running a date changes nothing; a fire holds the trigger back for the
// cooldown on the following days; re-running an earlier date after later
// ones gives that date's rows again.
func TestRerunAndCooldownAcrossDays(t *testing.T) {
	w := newWorld(t)
	plant(w)
	ctx := context.Background()
	job := New()
	env := &orchestration.Env{Date: day(runDay), Config: &w.cfg, WH: w.wh, Log: zerolog.Nop()}
	checksums := func() [2]warehouse.Checksum {
		var out [2]warehouse.Checksum
		for i, tbl := range []string{"analytics.trigger_fires", "analytics.trigger_exclusions"} {
			c, err := warehouse.TableChecksum(ctx, w.wh.DB, tbl)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = c
		}
		return out
	}
	first, err := job.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// 15 fires (8 cart, 2 browse, 3 contact, 2 win-back) + 9 kept out.
	if first.Out != 15 || first.In != 24 || first.Detail[CartAbandonment] != 8 ||
		first.Detail[CartAbandonment+"."+ReasonNoConsent] != 4 || first.Detail[WinBack+"."+ReasonOptedOut] != 1 ||
		first.Detail[CartAbandonment+"."+ReasonObjected] != 2 {
		t.Errorf("counts %+v", first)
	}
	once := checksums()
	again, err := job.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if twice := checksums(); twice != once || fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("re-run changed the tables: %v -> %v, counts %+v -> %+v", once, twice, first, again)
	}

	// Next day: cart_hit carts again, and win_at_risk is still in its
	// segments on the 11th's segment day; the fires of the 10th hold both
	// back. win_future enters win-back on the 11th and fires.
	w.web("cart_hit", "add_to_cart", -20*hour, "p9", "shoes") // 11 June 20:00 local
	w.web("cart_new", "add_to_cart", -20*hour, "p9", "shoes")
	w.consent("cart_new", "marketing_email", "2026-01-01 00:00:00+00", "")
	w.segment("2026-06-11", "win_at_risk", "rfm", "at_risk")
	w.segment("2026-06-11", "win_at_risk", "value_risk", "high_value_high_risk")
	w.evaluate("2026-06-11", DefaultOptions())
	next := w.fires("2026-06-11")
	if _, ok := next[[2]string{CartAbandonment, "cart_hit"}]; ok {
		t.Error("cart_hit fired on consecutive days")
	}
	if _, ok := next[[2]string{CartAbandonment, "cart_new"}]; !ok {
		t.Error("cart_new did not fire on the 11th")
	}
	if _, ok := next[[2]string{WinBack, "win_at_risk"}]; ok {
		t.Error("win_back fired again within the cooldown")
	}
	if _, ok := next[[2]string{WinBack, "win_future"}]; !ok {
		t.Error("win_future did not fire on the 11th")
	}
	if n := w.exclusions("2026-06-11")[[2]string{CartAbandonment, ReasonCooldown}]; n != 1 {
		t.Errorf("cart cooldown exclusions on the 11th = %d, want 1", n)
	}
	if n := w.exclusions("2026-06-11")[[2]string{WinBack, ReasonCooldown}]; n != 1 {
		t.Errorf("win_back cooldown exclusions on the 11th = %d, want 1", n)
	}

	// The 10th again, after the 11th: the same rows as before.
	w.evaluate(runDay, DefaultOptions())
	fires10 := w.fires(runDay)
	if _, ok := fires10[[2]string{CartAbandonment, "cart_hit"}]; !ok || len(fires10) != 15 {
		t.Errorf("re-run of the 10th after the 11th: %d fires", len(fires10))
	}
	if _, ok := w.fires("2026-06-11")[[2]string{CartAbandonment, "cart_new"}]; !ok {
		t.Error("re-running the 10th touched the 11th")
	}
}
