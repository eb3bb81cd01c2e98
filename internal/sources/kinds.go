package sources

import "fmt"

// Kind is the canonical role of a source: its canonical fields (the
// contract every row is checked against), how deliveries combine, and
// what its rows feed downstream. A source maps its files onto a kind.
type Kind struct {
	Name     string
	Doc      string
	Delivery Delivery
	Columns  []Column
	Checks   []Check
	// Key identifies a row across deliveries (re-deliveries load once).
	Key []string
	// Time is the field occurred_at sets ("" for reference data).
	Time string
	// IDs are the identifiers the kind carries in its own fields (a CRM
	// record's email); a source adds others with ids:.
	IDs []ID
	// Fact marks kinds whose rows are facts about a customer: resolved
	// through their identifiers, split into hot and cold.
	Fact bool
	// Subject marks kinds naming their subject by subject_id and
	// subject_type (consents, erasure requests, objections).
	Subject bool
	// Feeds says, for people, what the rows become.
	Feeds string
}

// Identifier types parcours knows. Sources may declare others (account_id,
// member_number): stitching treats them as strong identifiers, just after
// the CRM customer id.
const (
	CustomerID  = "customer_id"
	Email       = "email"
	Phone       = "phone"
	LoyaltyCard = "loyalty_card"
	CookieID    = "cookie_id"
	DeviceID    = "device_id"
)

// BuiltinIDTypes lists the identifier types parcours knows, best first.
func BuiltinIDTypes() []string {
	return []string{CustomerID, Email, Phone, LoyaltyCard, DeviceID, CookieID}
}

var (
	purposes     = []string{"analytics", "personalization", "marketing_email", "marketing_sms", "marketing_ads"}
	subjectTypes = []string{CustomerID, Email, Phone}
	events       = []string{"page_view", "product_view", "add_to_cart", "checkout_start", "purchase", "push_open", "identify"}
	channels     = []string{"email", "push", "sms", "paid_search", "social", "display", "affiliate"}
	emailSubject = Check{Field: "subject_id", SQL: "subject_type <> 'email' OR valid_email(norm_email(subject_id))",
		Reason: "not an email address (subject_type is email)"}
	purchase = Check{Field: "amount", SQL: "event <> 'purchase' OR (order_id IS NOT NULL AND amount IS NOT NULL)",
		Reason: "a purchase needs order_id and amount"}
)

// Kinds returns every kind, in load order.
func Kinds() []Kind {
	return []Kind{
		{
			Name: "customers", Delivery: Event, Key: []string{"customer_id", "updated_at"}, Time: "created_at",
			Doc: "Customer records (CRM): every version is kept, so an old email stays linked to its customer.",
			Feeds: "the identity graph (the customer id links to the record's email, phone and card) and the encrypted identity vault " +
				"(names, contact details, birth date, postcode), from which analytics sees only region and birth year",
			IDs: []ID{{Select: "customer_id", Type: CustomerID}, {Select: "email", Type: Email}, {Select: "phone", Type: Phone},
				{Select: "loyalty_card", Type: LoyaltyCard}},
			Fact: false,
			Columns: []Column{
				{Name: "customer_id", Type: Text, Required: true, Doc: "the CRM id"},
				{Name: "email", Type: Text, Email: true, Doc: "trimmed and lower-cased on load; not an email: dropped and counted", Personal: true},
				{Name: "phone", Type: Text, Doc: "to E.164 on load (libphonenumber, default region from config); unusable numbers become empty", Personal: true},
				{Name: "first_name", Type: Text, Personal: true},
				{Name: "last_name", Type: Text, Personal: true},
				{Name: "birth_date", Type: Date, Personal: true},
				{Name: "postcode", Type: Text, Personal: true},
				{Name: "city", Type: Text, Personal: true},
				{Name: "loyalty_card", Type: Text, Pattern: `[0-9]{8,19}`},
				{Name: "signup_channel", Type: Enum, Values: []string{"web", "app", "store"}},
				{Name: "created_at", Type: Timestamp, Required: true, EventTime: true},
				{Name: "updated_at", Type: Timestamp, EventTime: true, Doc: "the version's time; created_at when absent"},
			},
		},
		{
			Name: "events", Delivery: Event, Key: []string{"event_id"}, Time: "ts", Fact: true,
			Doc: "Behavioural events of websites and apps (page and screen views, product views, carts, checkouts, purchases, push opens).",
			Feeds: "hot analytics.web_events / analytics.app_events (by platform) for consented customers; cold activity, funnels, " +
				"journeys and attribution for everyone; purchase events are orders",
			Columns: []Column{
				{Name: "event_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "event", Type: Enum, Required: true, Values: events,
					Doc: "canonical event name (map others with values:); identify carries identifiers only (a login, a Segment identify or alias): it links them and is no activity"},
				{Name: "platform", Type: Enum, Values: []string{"web", "app"}, Doc: "web when not mapped"},
				{Name: "session_id", Type: Text},
				{Name: "anonymous_id", Type: Text, Doc: "the cookie or app install the event came from"},
				{Name: "page", Type: Text},
				{Name: "screen", Type: Text},
				{Name: "product_id", Type: Text},
				{Name: "category", Type: Text},
				{Name: "order_id", Type: Text},
				{Name: "amount", Type: Decimal, Min: num(0)},
				{Name: "currency", Type: Text},
				{Name: "utm_source", Type: Text},
				{Name: "utm_medium", Type: Text},
				{Name: "utm_campaign", Type: Text},
				{Name: "referrer", Type: Text},
				{Name: "device", Type: Enum, Values: []string{"desktop", "mobile", "tablet"}},
				{Name: "campaign_id", Type: Text, Doc: "the campaign of an app open or push"},
				{Name: "os", Type: Enum, Values: []string{"ios", "android"}},
				{Name: "app_version", Type: Text},
			},
			Checks: []Check{purchase},
		},
		{
			Name: "orders", Delivery: Event, Key: []string{"order_id"}, Time: "ts", Fact: true,
			Doc: "Orders and till receipts, one row per order.",
			Feeds: "analytics.orders (one row per order across every purchase source: an order also seen as a web purchase event counts once); " +
				"store receipts also feed cold activity and cohorts",
			Columns: []Column{
				{Name: "order_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "amount", Type: Decimal, Required: true, Min: num(0), Doc: "paid, after discount"},
				{Name: "currency", Type: Text},
				{Name: "discount", Type: Decimal, Min: num(0)},
				{Name: "channel", Type: Text, Doc: "store, web, app, marketplace…; store when a store_id is given, else web"},
				{Name: "store_id", Type: Text},
				{Name: "items", Type: Text, Pattern: `[^:|]+:-?[0-9]+:[0-9]+(\.[0-9]+)?(\|[^:|]+:-?[0-9]+:[0-9]+(\.[0-9]+)?)*`,
					Doc: "sku:qty:unit_price joined by |"},
				{Name: "payment", Type: Text},
			},
		},
		{
			Name: "order_lines", Delivery: Event, Key: []string{"order_id", "product_id", "quantity", "unit_price"}, Time: "ts", Fact: true,
			Doc:   "Order lines, one row per product of an order; a negative quantity is a return.",
			Feeds: "summed into one order per order_id (amount = quantity x unit price less discounts), then as orders",
			Columns: []Column{
				{Name: "order_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "product_id", Type: Text, Required: true},
				{Name: "quantity", Type: Int, Required: true},
				{Name: "unit_price", Type: Decimal, Required: true, Min: num(0)},
				{Name: "discount", Type: Decimal, Min: num(0), Doc: "on the line"},
				{Name: "currency", Type: Text},
				{Name: "channel", Type: Text},
				{Name: "store_id", Type: Text},
			},
		},
		{
			Name: "contacts", Delivery: Event, Key: []string{"contact_id"}, Time: "ts", Fact: true,
			IDs: []ID{{Select: "phone", Type: Phone}},
			Doc: "Call-centre contacts.", Feeds: "hot analytics.contacts; cold activity and effort scores (CES)",
			Columns: []Column{
				{Name: "contact_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "phone", Type: Text, Doc: "to E.164 on load; blank when withheld", Personal: true},
				{Name: "reason", Type: Enum, Values: []string{"delivery", "billing", "product", "return", "account", "complaint"}},
				{Name: "duration_s", Type: Int, Min: num(0)},
				{Name: "resolved", Type: Bool, Required: true},
				{Name: "ces", Type: Int, Min: num(1), Max: num(7), Doc: "customer effort score, 1 (easy) to 7"},
				{Name: "agent_id", Type: Text},
			},
		},
		{
			Name: "email_events", Delivery: Event, Key: []string{"event_id"}, Time: "ts", Fact: true,
			IDs: []ID{{Select: "email", Type: Email}},
			Doc: "Email platform activity (sends, opens, clicks, bounces, unsubscribes).", Feeds: "hot analytics.email_events; cold activity and journeys",
			Columns: []Column{
				{Name: "event_id", Type: Text, Required: true},
				{Name: "campaign_id", Type: Text, Required: true},
				{Name: "email", Type: Text, Required: true, Email: true, Personal: true},
				{Name: "event", Type: Enum, Required: true, Values: []string{"send", "open", "click", "bounce", "unsubscribe"}},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
			},
		},
		{
			Name: "consents", Delivery: Event, Key: []string{"consent_id"}, Time: "ts", Subject: true,
			Doc: "Consent grants and withdrawals per subject and purpose.", Feeds: "the consent gate (consent.intervals) every job asks",
			Columns: []Column{
				{Name: "consent_id", Type: Text, Required: true},
				{Name: "subject_id", Type: Text, Required: true, Doc: "normalised by subject_type", Personal: true},
				{Name: "subject_type", Type: Enum, Required: true, Values: subjectTypes},
				{Name: "purpose", Type: Enum, Values: purposes, Doc: "with status; or a tc_string"},
				{Name: "status", Type: Enum, Values: []string{"granted", "withdrawn"}},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "expires_at", Type: Timestamp},
				{Name: "source", Type: Text},
				{Name: "tc_string", Type: Text, Doc: "an IAB TCF v2 consent string: one record per purpose of privacy.tcf_purposes, " +
					"granted when the string consents to all its TCF purposes, else withdrawn"},
			},
			Checks: []Check{emailSubject,
				{Field: "purpose", SQL: "tc_string IS NOT NULL OR (purpose IS NOT NULL AND status IS NOT NULL)",
					Reason: "a consent needs a purpose and a status, or a TCF consent string"},
				{Field: "tc_string", SQL: "tc_string IS NULL OR tcf_purposes(tc_string) IS NOT NULL",
					Reason: "not a TCF v2 consent string"}},
		},
		{
			Name: "surveys", Delivery: Event, Key: []string{"response_id"}, Time: "ts", Fact: true,
			IDs: []ID{{Select: "customer_id", Type: CustomerID}, {Select: "email", Type: Email}},
			Doc: "Survey answers (NPS, CSAT) with free-text verbatims.", Feeds: "hot analytics.survey_responses; cold survey scores",
			Columns: []Column{
				{Name: "response_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "customer_id", Type: Text},
				{Name: "email", Type: Text, Email: true, Personal: true},
				{Name: "nps", Type: Int, Min: num(0), Max: num(10)},
				{Name: "csat", Type: Int, Min: num(1), Max: num(5)},
				{Name: "verbatim", Type: Text, Personal: true},
				{Name: "channel", Type: Enum, Values: []string{"web", "app", "store", "call_center", "email"}},
			},
			Checks: []Check{{Field: "customer_id", SQL: "customer_id IS NOT NULL OR email IS NOT NULL",
				Reason: "a response needs customer_id or email"}},
		},
		{
			Name: "erasure_requests", Delivery: Event, Key: []string{"request_id"}, Time: "ts", Subject: true,
			Doc: "GDPR erasure requests (right to be forgotten).", Feeds: "the purge: crypto-shredding, deletion, suppression",
			Columns: []Column{
				{Name: "request_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "subject_id", Type: Text, Required: true, Personal: true},
				{Name: "subject_type", Type: Enum, Required: true, Values: subjectTypes},
			},
			Checks: []Check{emailSubject},
		},
		{
			Name: "objections", Delivery: Event, Key: []string{"objection_id"}, Time: "ts", Subject: true,
			Doc: "Objections to processing (GDPR article 21) and their withdrawal: to profiling (no score, segment, trigger or activation) " +
				"or to direct marketing (no segment, trigger or activation). Honoured from the run that loads them.",
			Feeds: "consent.objections",
			Columns: []Column{
				{Name: "objection_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "subject_id", Type: Text, Required: true, Doc: "normalised by subject_type", Personal: true},
				{Name: "subject_type", Type: Enum, Required: true, Values: subjectTypes},
				{Name: "scope", Type: Enum, Required: true, Values: []string{"profiling", "marketing"}},
				{Name: "status", Type: Enum, Required: true, Values: []string{"objected", "withdrawn"}},
			},
			Checks: []Check{emailSubject},
		},
		{
			Name: "trigger_optouts", Delivery: Event, Key: []string{"optout_id"}, Time: "ts",
			Doc: "Per-trigger opt-outs (and opt-ins back) from the preference centre.", Feeds: "consent.trigger_optouts",
			Columns: []Column{
				{Name: "optout_id", Type: Text, Required: true},
				{Name: "ts", Type: Timestamp, Required: true, EventTime: true},
				{Name: "customer_id", Type: Text, Required: true},
				{Name: "trigger", Type: Enum, Required: true, Values: []string{"cart_abandonment", "browse_abandonment", "post_contact", "win_back"}},
				{Name: "status", Type: Enum, Required: true, Values: []string{"opt_out", "opt_in"}},
			},
		},
		{
			Name: "products", Delivery: Snapshot, Key: []string{"product_id"},
			Doc: "Product catalogue (full snapshot).", Feeds: "product categories for features and triggers",
			Columns: []Column{
				{Name: "product_id", Type: Text, Required: true},
				{Name: "name", Type: Text},
				{Name: "category", Type: Text, Required: true},
				{Name: "brand", Type: Text},
				{Name: "price", Type: Decimal, Min: num(0)},
			},
		},
		{
			Name: "stores", Delivery: Snapshot, Key: []string{"store_id"},
			Doc: "Stores and their catchment region (full snapshot).", Feeds: "store regions for cold activity",
			Columns: []Column{
				{Name: "store_id", Type: Text, Required: true},
				{Name: "name", Type: Text},
				{Name: "city", Type: Text},
				{Name: "postcode", Type: Text},
				{Name: "region", Type: Text, Required: true},
			},
		},
		{
			Name: "campaigns", Delivery: Snapshot, Key: []string{"campaign_id"},
			Doc: "Marketing campaigns (full snapshot).", Feeds: "campaign channels for attribution",
			Columns: []Column{
				{Name: "campaign_id", Type: Text, Required: true},
				{Name: "channel", Type: Enum, Required: true, Values: channels},
				{Name: "name", Type: Text},
				{Name: "utm_campaign", Type: Text},
				{Name: "start_date", Type: Date},
				{Name: "end_date", Type: Date},
			},
		},
		{
			Name: "marketing_spend", Delivery: Upsert, Key: []string{"date", "channel"}, Time: "date",
			Doc:   "Marketing spend per day and channel; a later delivery of a (date, channel) corrects it.",
			Feeds: "acquisition cost (CAC) in the KPIs",
			Columns: []Column{
				{Name: "date", Type: Date, Required: true, EventTime: true},
				{Name: "channel", Type: Enum, Required: true, Values: channels},
				{Name: "spend", Type: Decimal, Required: true, Min: num(0)},
			},
		},
	}
}

// KindByName returns a kind.
func KindByName(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// KindNames lists the kinds, in load order.
func KindNames() []string {
	var out []string
	for _, k := range Kinds() {
		out = append(out, k.Name)
	}
	return out
}

// Column returns a canonical field by name.
func (k Kind) Column(name string) (Column, bool) {
	for _, c := range k.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// validate checks a kind's own declaration (a test runs it on every kind).
func (k Kind) validate() error {
	seen := map[string]bool{}
	for _, col := range k.Columns {
		if seen[col.Name] {
			return fmt.Errorf("kind %s: field %s declared twice", k.Name, col.Name)
		}
		seen[col.Name] = true
		if col.Type == Enum && len(col.Values) == 0 {
			return fmt.Errorf("kind %s: enum field %s has no values", k.Name, col.Name)
		}
	}
	for _, f := range k.Key {
		if !seen[f] {
			return fmt.Errorf("kind %s: key field %s is not a field", k.Name, f)
		}
	}
	if k.Time != "" && !seen[k.Time] {
		return fmt.Errorf("kind %s: time field %s is not a field", k.Name, k.Time)
	}
	return nil
}
