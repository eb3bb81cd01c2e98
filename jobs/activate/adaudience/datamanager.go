package adaudience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// DataManagerConfig is one Google Customer Match list reached through the
// Data Manager API (https://developers.google.com/data-manager/api).
type DataManagerConfig struct {
	Name string
	// BaseURL is the API root (https://datamanager.googleapis.com).
	BaseURL string
	// APIVersion is the path version (default v1).
	APIVersion string
	// AccountID is the operating account (the Google Ads customer that
	// owns the list), digits; AccountType defaults to GOOGLE_ADS.
	AccountID   string
	AccountType string
	// UserListID is the Customer Match list (productDestinationId).
	UserListID string
	// LoginAccountID is the manager account the credentials act through,
	// when they are not a user of the operating account itself;
	// LinkedAccountID an account reached through a product link (data
	// partners). Types default to GOOGLE_ADS.
	LoginAccountID    string
	LoginAccountType  string
	LinkedAccountID   string
	LinkedAccountType string
	// Token is the OAuth bearer token (scope
	// https://www.googleapis.com/auth/datamanager); no developer token.
	Token string
	// DefaultCountry reads phone numbers of members without a country.
	DefaultCountry string
	// MaxPerRequest caps members per request (at most 10,000).
	MaxPerRequest int
	// StatusWait is how long Send polls requestStatus:retrieve while the
	// upload is PROCESSING (0: read it once). Google processes uploads
	// asynchronously, often for longer than a run should wait.
	StatusWait time.Duration
	Delivery   delivery.Config
}

// Account types of Data Manager's ProductAccount.
var dmAccountTypes = []string{"GOOGLE_ADS", "DISPLAY_VIDEO_ADVERTISER", "DISPLAY_VIDEO_PARTNER", "DATA_PARTNER"}

// DataManager is a Customer Match destination: a request is one
// audienceMembers:ingest (upserts) or audienceMembers:remove call.
type DataManager struct {
	cfg    DataManagerConfig
	client *delivery.Client
}

// NewDataManager validates cfg and builds the connector.
func NewDataManager(cfg DataManagerConfig) (*DataManager, error) {
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base url is required"))
	}
	if !digits(cfg.AccountID) {
		errs = append(errs, fmt.Errorf("account id %q: want digits", cfg.AccountID))
	}
	if !digits(cfg.UserListID) {
		errs = append(errs, fmt.Errorf("user list id %q: want digits", cfg.UserListID))
	}
	for _, a := range []struct{ what, id, typ string }{{"login", cfg.LoginAccountID, cfg.LoginAccountType}, {"linked", cfg.LinkedAccountID, cfg.LinkedAccountType}} {
		if a.id != "" && !digits(a.id) {
			errs = append(errs, fmt.Errorf("%s account id %q: want digits", a.what, a.id))
		}
		if a.id == "" && a.typ != "" {
			errs = append(errs, fmt.Errorf("%s account type without an id", a.what))
		}
	}
	for _, t := range []string{cfg.AccountType, cfg.LoginAccountType, cfg.LinkedAccountType} {
		if t != "" && !slices.Contains(dmAccountTypes, t) {
			errs = append(errs, fmt.Errorf("account type %q: want one of %s", t, strings.Join(dmAccountTypes, ", ")))
		}
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if cfg.MaxPerRequest < 0 || cfg.MaxPerRequest > MaxPerRequest {
		errs = append(errs, fmt.Errorf("max per request %d: want 1 to %d", cfg.MaxPerRequest, MaxPerRequest))
	}
	if cfg.StatusWait < 0 {
		errs = append(errs, errors.New("status wait must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("google data manager %s: %w", cfg.Name, err)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = "v1"
	}
	for _, t := range []*string{&cfg.AccountType, &cfg.LoginAccountType, &cfg.LinkedAccountType} {
		if *t == "" {
			*t = "GOOGLE_ADS"
		}
	}
	if cfg.MaxPerRequest == 0 {
		cfg.MaxPerRequest = MaxPerRequest
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("google data manager %s: %w", cfg.Name, err)
	}
	return &DataManager{cfg: cfg, client: client}, nil
}

// Name implements delivery.Connector.
func (g *DataManager) Name() string { return g.cfg.Name }

// The JSON shapes of the Data Manager REST interface
// (IngestAudienceMembersRequest, RemoveAudienceMembersRequest,
// Destination, ProductAccount, AudienceMember, Consent, TermsOfService).
type (
	dmAccount struct {
		AccountType string `json:"accountType"`
		AccountID   string `json:"accountId"`
	}
	dmDestination struct {
		OperatingAccount     dmAccount  `json:"operatingAccount"`
		LoginAccount         *dmAccount `json:"loginAccount,omitempty"`
		LinkedAccount        *dmAccount `json:"linkedAccount,omitempty"`
		ProductDestinationID string     `json:"productDestinationId"`
	}
	dmConsent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	}
	dmMember struct {
		UserData dmUserData `json:"userData"`
		// Consent is per member (it overrides a request-level one); a
		// removal carries none.
		Consent *dmConsent `json:"consent,omitempty"`
	}
	dmTerms struct {
		CustomerMatchTermsOfServiceStatus string `json:"customerMatchTermsOfServiceStatus"`
	}
	// dmBody is the body of ingest and remove (remove has no terms).
	dmBody struct {
		Destinations    []dmDestination `json:"destinations"`
		AudienceMembers []dmMember      `json:"audienceMembers"`
		Encoding        string          `json:"encoding"`
		TermsOfService  *dmTerms        `json:"termsOfService,omitempty"`
	}
)

// RemoteID implements delivery.Connector: "em:<hashed email>", or
// "ph:<hashed phone>" for a member without a usable email.
func (g *DataManager) RemoteID(m delivery.Member) (string, error) {
	_, id, err := googleUserData(m, g.cfg.DefaultCountry)
	if err != nil {
		return "", fmt.Errorf("google data manager %s: member %s: %w", g.cfg.Name, m.Key, err)
	}
	return id, nil
}

func (g *DataManager) destination() dmDestination {
	d := dmDestination{OperatingAccount: dmAccount{g.cfg.AccountType, g.cfg.AccountID}, ProductDestinationID: g.cfg.UserListID}
	if g.cfg.LoginAccountID != "" {
		d.LoginAccount = &dmAccount{g.cfg.LoginAccountType, g.cfg.LoginAccountID}
	}
	if g.cfg.LinkedAccountID != "" {
		d.LinkedAccount = &dmAccount{g.cfg.LinkedAccountType, g.cfg.LinkedAccountID}
	}
	return d
}

// Encode implements delivery.Connector. An upserted member needs
// ad_user_data and ad_personalization consent GRANTED: one without is
// excluded here, at plan time, with the missing signal as the reason, and
// never leaves. Members go in batch order, MaxPerRequest per request.
func (g *DataManager) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("google data manager %s: %w", g.cfg.Name, err)
	}
	var members []dmMember
	var keys []string
	var skipped []delivery.Rejection
	for _, m := range b.Members {
		if b.Op == delivery.OpUpsert {
			if why := consentRefusal(m); why != "" {
				skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: why})
				continue
			}
		}
		ud, _, err := googleUserData(m, g.cfg.DefaultCountry)
		if err != nil {
			skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
			continue
		}
		dm := dmMember{UserData: ud}
		if b.Op == delivery.OpUpsert {
			dm.Consent = &dmConsent{AdUserData: consentGranted, AdPersonalization: consentGranted}
		}
		members = append(members, dm)
		keys = append(keys, m.Key)
	}
	n := (len(members) + g.cfg.MaxPerRequest - 1) / g.cfg.MaxPerRequest
	key := delivery.IdempotencyKey(b)
	reqs := make([]delivery.Request, 0, n)
	for i := range n {
		lo, hi := i*g.cfg.MaxPerRequest, min((i+1)*g.cfg.MaxPerRequest, len(members))
		r, err := g.request(delivery.PartKey(key, i, n), b.Op, members[lo:hi], keys[lo:hi])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	return reqs, skipped, nil
}

func (g *DataManager) request(key, op string, members []dmMember, keys []string) (delivery.Request, error) {
	body := dmBody{Destinations: []dmDestination{g.destination()}, AudienceMembers: members, Encoding: "HEX"}
	method := "audienceMembers:remove"
	if op == delivery.OpUpsert {
		method = "audienceMembers:ingest"
		// The Customer Match terms must be accepted in the operating
		// account; the request says so (TermsOfService).
		body.TermsOfService = &dmTerms{CustomerMatchTermsOfServiceStatus: "ACCEPTED"}
	}
	raw, err := marshal(body)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("google data manager %s: encode %s: %w", g.cfg.Name, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return delivery.Request{Key: key, Method: http.MethodPost, Path: g.cfg.APIVersion + "/" + method,
		Header: h, Body: raw, Members: slices.Clone(keys)}, nil
}

// Subset implements delivery.Splitter.
func (g *DataManager) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	var b dmBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return delivery.Request{}, fmt.Errorf("google data manager %s: decode %s: %w", g.cfg.Name, r.Key, err)
	}
	if len(b.AudienceMembers) != len(r.Members) {
		return delivery.Request{}, fmt.Errorf("google data manager %s: %s: %d audience members for %d keys", g.cfg.Name, r.Key, len(b.AudienceMembers), len(r.Members))
	}
	type item struct {
		key string
		m   dmMember
	}
	items := make([]item, len(r.Members))
	for i := range items {
		items[i] = item{r.Members[i], b.AudienceMembers[i]}
	}
	kept, err := delivery.Keep(items, func(it item) string { return it.key }, keys)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("google data manager %s: %s: %w", g.cfg.Name, r.Key, err)
	}
	members := make([]dmMember, len(kept))
	ks := make([]string, len(kept))
	for i, it := range kept {
		members[i], ks[i] = it.m, it.key
	}
	op := delivery.OpRemove
	if b.TermsOfService != nil {
		op = delivery.OpUpsert
	}
	return g.request(delivery.SubsetKey(r.Key, keys), op, members, ks)
}

// dmError is the standard Google API error body: error.status is the
// canonical code, details hold an ErrorInfo (reason) and a BadRequest
// whose fieldViolations locate problems ("audience_members.audience_members[3]…").
type dmError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			Reason          string `json:"reason"`
			FieldViolations []struct {
				Field  string `json:"field"`
				Reason string `json:"reason"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

var memberField = regexp.MustCompile(`^audience_members(?:\.audience_members)?\[(\d+)\]`)

// classify turns a refused call into an error. Only a 400 whose every
// field violation points at an audience member is the records' fault:
// those members are named (Rejected, Deliver takes them out and re-sends
// the rest). Anything else — terms not accepted, an unknown list, no
// permission, a bad encoding, an unnamed INVALID_ARGUMENT — fails the
// same way for any subset, so it is Permanent and never bisected.
func (g *DataManager) classify(op string, r delivery.Request, resp *delivery.Response) error {
	if delivery.StatusKind(resp.Status) == delivery.Temporary {
		return delivery.StatusError(op, resp)
	}
	var e dmError
	_ = json.Unmarshal(resp.Body, &e)
	var reasons []string
	var bad []delivery.Rejection
	otherField := false
	seen := map[int]bool{}
	for _, d := range e.Error.Details {
		if d.Reason != "" {
			reasons = append(reasons, d.Reason)
		}
		for _, v := range d.FieldViolations {
			m := memberField.FindStringSubmatch(v.Field)
			if m == nil {
				otherField = true
				continue
			}
			i, err := strconv.Atoi(m[1])
			if err != nil || i >= len(r.Members) {
				otherField = true
				continue
			}
			if !seen[i] {
				seen[i] = true
				why := v.Reason
				if why == "" {
					why = "INVALID_AUDIENCE_MEMBER"
				}
				bad = append(bad, delivery.Rejection{Key: r.Members[i], Reason: why})
			}
		}
	}
	// Google's messages describe the problem, not the data; the reasons
	// are enum names.
	reason := strings.TrimSpace(strings.Join(append([]string{e.Error.Status}, reasons...), " ") + ": " + e.Error.Message)
	if e.Error.Status == "" && e.Error.Message == "" {
		reason = delivery.Excerpt(resp.Body, 300)
	}
	if resp.Status == http.StatusBadRequest && len(bad) > 0 && !otherField {
		return &delivery.Error{Kind: delivery.Rejected, Op: op, Status: resp.Status, Reason: reason, Bad: bad}
	}
	return &delivery.Error{Kind: delivery.Permanent, Op: op, Status: resp.Status, Reason: reason}
}

// Send implements delivery.Connector: the ingest or remove call, then the
// request's status. Members count as delivered once the call succeeded
// (Google has taken the upload); requestStatus:retrieve then says whether
// processing failed for the destination, which rejects every member
// (FAILURE), or failed for some (PARTIAL_SUCCESS: Google gives counts by
// reason, not which members, so they stay delivered and the counts are
// logged).
func (g *DataManager) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("google data manager %s send %s", g.cfg.Name, r.Key)
	var res delivery.Result
	call := func(method, path, key string, body []byte) (*delivery.Response, error) {
		h := delivery.CloneHeader(r.Header)
		if body == nil {
			h.Del("Content-Type")
		}
		h.Set("Authorization", "Bearer "+g.cfg.Token)
		resp, err := g.client.Do(ctx, delivery.Call{Method: method, URL: delivery.JoinURL(g.cfg.BaseURL, path),
			Header: h, Body: body, IdempotencyKey: key})
		res.Attempts += resp.Attempts
		res.Retries += resp.Retries
		res.Status = resp.Status
		return resp, err
	}
	resp, err := call(r.Method, r.Path, r.Key, r.Body)
	if err != nil {
		return res, err
	}
	if resp.Status != http.StatusOK {
		return res, g.classify(op, r, resp)
	}
	var ok struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(resp.Body, &ok)
	res.Accepted = slices.Clone(r.Members)
	log := g.cfg.Delivery.Logger.With().Str("destination", g.cfg.Name).Str("key", r.Key).Str("request_id", ok.RequestID).Logger()
	if ok.RequestID == "" {
		log.Warn().Msg("data manager: upload taken without a request id; status not read")
		return res, nil
	}
	st, err := g.status(ctx, r.Key, ok.RequestID, call)
	switch {
	case err != nil:
		// The upload went through; a status we cannot read does not undo
		// it, and re-sending would upload it again.
		log.Warn().Err(err).Msg("data manager: request status not read")
	case st.RequestStatus == "FAILURE":
		why := "processing_failed: " + st.reasons()
		res.Accepted = nil
		res.Rejected = make([]delivery.Rejection, len(r.Members))
		for i, k := range r.Members {
			res.Rejected[i] = delivery.Rejection{Key: k, Reason: why}
		}
	case st.RequestStatus == "PARTIAL_SUCCESS":
		log.Warn().Str("errors", st.reasons()).Msg("data manager: some members failed processing (Google reports counts, not which)")
	case st.RequestStatus == "PROCESSING":
		log.Info().Msg("data manager: upload still processing; check requestStatus:retrieve with the request id")
	}
	return res, nil
}

// dmStatus is one RequestStatusPerDestination.
type dmStatus struct {
	RequestStatus string `json:"requestStatus"`
	ErrorInfo     struct {
		ErrorCounts []struct {
			RecordCount string `json:"recordCount"`
			Reason      string `json:"reason"`
		} `json:"errorCounts"`
	} `json:"errorInfo"`
}

func (s dmStatus) reasons() string {
	var out []string
	for _, c := range s.ErrorInfo.ErrorCounts {
		out = append(out, c.Reason+"="+c.RecordCount)
	}
	if len(out) == 0 {
		return "no reason given"
	}
	return strings.Join(out, " ")
}

// status reads requestStatus:retrieve, polling while PROCESSING for up to
// StatusWait.
func (g *DataManager) status(ctx context.Context, key, id string, call func(method, path, key string, body []byte) (*delivery.Response, error)) (dmStatus, error) {
	deadline := time.Now().Add(g.cfg.StatusWait)
	wait := time.Second
	for poll := 1; ; poll++ {
		resp, err := call(http.MethodGet, g.cfg.APIVersion+"/requestStatus:retrieve?requestId="+url.QueryEscape(id),
			fmt.Sprintf("%s/status%d", key, poll), nil)
		if err != nil {
			return dmStatus{}, err
		}
		if resp.Status != http.StatusOK {
			return dmStatus{}, delivery.StatusError("request status", resp)
		}
		var body struct {
			PerDestination []dmStatus `json:"requestStatusPerDestination"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.PerDestination) == 0 {
			return dmStatus{}, fmt.Errorf("request status: unreadable answer")
		}
		// One destination per request.
		st := body.PerDestination[0]
		if st.RequestStatus != "PROCESSING" || time.Until(deadline) <= 0 {
			return st, nil
		}
		t := time.NewTimer(min(wait, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return st, nil
		case <-t.C:
		}
		wait *= 2
	}
}
