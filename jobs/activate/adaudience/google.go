package adaudience

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// GoogleConfig is one Customer Match user list.
type GoogleConfig struct {
	Name string
	// BaseURL is the API root (https://googleads.googleapis.com).
	BaseURL string
	// APIVersion is the path version (default v21).
	APIVersion string
	// CustomerID is the Google Ads account, digits only.
	CustomerID string
	// UserListID is the Customer Match list in that account.
	UserListID string
	// Token is the OAuth bearer token; DeveloperToken, when set, goes in
	// the developer-token header the real API requires.
	Token          string
	DeveloperToken string
	// DefaultCountry reads phone numbers of members without a country.
	DefaultCountry string
	// MaxPerRequest caps operations per request (at most 10,000).
	MaxPerRequest int
	Delivery      delivery.Config
}

// Google is a Customer Match destination. A request carries one offline
// user data job: Send creates the job (with the consent of every member in
// it), adds the operations with partial failure enabled, and runs it.
type Google struct {
	cfg    GoogleConfig
	client *delivery.Client
}

// NewGoogle validates cfg and builds the connector.
func NewGoogle(cfg GoogleConfig) (*Google, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base url is required"))
	}
	if cfg.CustomerID == "" || strings.Trim(cfg.CustomerID, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("customer id %q: want digits", cfg.CustomerID))
	}
	if cfg.UserListID == "" || strings.Trim(cfg.UserListID, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("user list id %q: want digits", cfg.UserListID))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if cfg.MaxPerRequest < 0 || cfg.MaxPerRequest > MaxPerRequest {
		errs = append(errs, fmt.Errorf("max per request %d: want 1 to %d", cfg.MaxPerRequest, MaxPerRequest))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("google %s: %w", cfg.Name, err)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = "v21"
	}
	if cfg.MaxPerRequest == 0 {
		cfg.MaxPerRequest = MaxPerRequest
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("google %s: %w", cfg.Name, err)
	}
	return &Google{cfg: cfg, client: client}, nil
}

// Name implements delivery.Connector.
func (g *Google) Name() string { return g.cfg.Name }

// The JSON shapes of the Google Ads API REST interface
// (OfflineUserDataJob, CustomerMatchUserListMetadata, Consent,
// OfflineUserDataJobOperation, UserData, UserIdentifier,
// OfflineUserAddressInfo).
type (
	googleConsent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	}
	googleListMeta struct {
		UserList string         `json:"userList"`
		Consent  *googleConsent `json:"consent,omitempty"`
	}
	googleJob struct {
		Type string         `json:"type"`
		Meta googleListMeta `json:"customerMatchUserListMetadata"`
	}
	googleAddress struct {
		HashedFirstName string `json:"hashedFirstName"`
		HashedLastName  string `json:"hashedLastName"`
		CountryCode     string `json:"countryCode"`
		PostalCode      string `json:"postalCode"`
	}
	googleIdentifier struct {
		HashedEmail       string         `json:"hashedEmail,omitempty"`
		HashedPhoneNumber string         `json:"hashedPhoneNumber,omitempty"`
		AddressInfo       *googleAddress `json:"addressInfo,omitempty"`
	}
	googleUserData struct {
		UserIdentifiers []googleIdentifier `json:"userIdentifiers"`
	}
	googleOperation struct {
		Create *googleUserData `json:"create,omitempty"`
		Remove *googleUserData `json:"remove,omitempty"`
	}
	// googlePayload is a planned request: the job to create and the
	// operations to add to it (the bodies of the create and
	// addOperations calls).
	googlePayload struct {
		Job                  googleJob         `json:"job"`
		EnablePartialFailure bool              `json:"enablePartialFailure"`
		Operations           []googleOperation `json:"operations"`
	}
)

// userData hashes a member's identifiers by Google's rules: email
// (trimmed, lowercased, Gmail dots removed), phone (E.164), and the
// address (hashed first and last name, country and postal code in clear)
// when all four parts are there. A member needs an email or a phone.
func (g *Google) userData(m delivery.Member) (googleUserData, string, error) {
	if m.Email == "" && m.Phone == "" && m.RemoteID != "" {
		p, d, err := parseRemoteID(m.RemoteID)
		if err != nil {
			return googleUserData{}, "", err
		}
		if p == emailPrefix {
			return googleUserData{UserIdentifiers: []googleIdentifier{{HashedEmail: d}}}, p + d, nil
		}
		return googleUserData{UserIdentifiers: []googleIdentifier{{HashedPhoneNumber: d}}}, p + d, nil
	}
	var ud googleUserData
	var email, phone string
	var errs []error
	if m.Email != "" {
		h, err := normalize.Hash(m.Email, normalize.GoogleEmail)
		if err != nil {
			errs = append(errs, err)
		} else {
			email = h
			ud.UserIdentifiers = append(ud.UserIdentifiers, googleIdentifier{HashedEmail: h})
		}
	}
	if m.Phone != "" {
		country := phoneCountry(m.CountryCode, g.cfg.DefaultCountry)
		h, err := normalize.Hash(m.Phone, func(s string) (string, error) { return normalize.GooglePhone(s, country) })
		if err != nil {
			errs = append(errs, err)
		} else {
			phone = h
			ud.UserIdentifiers = append(ud.UserIdentifiers, googleIdentifier{HashedPhoneNumber: h})
		}
	}
	if email == "" && phone == "" {
		errs = append(errs, errors.New("no usable email or phone"))
		return googleUserData{}, "", errors.Join(errs...)
	}
	if a, ok := googleAddressOf(m); ok {
		ud.UserIdentifiers = append(ud.UserIdentifiers, googleIdentifier{AddressInfo: &a})
	}
	return ud, remoteID(email, phone), nil
}

// googleAddressOf is the member's address identifier, when complete and
// valid (Google matches an address only on all four parts).
func googleAddressOf(m delivery.Member) (googleAddress, bool) {
	if m.FirstName == "" || m.LastName == "" || m.CountryCode == "" || m.PostalCode == "" {
		return googleAddress{}, false
	}
	fn, err1 := normalize.Hash(m.FirstName, normalize.GoogleName)
	ln, err2 := normalize.Hash(m.LastName, normalize.GoogleName)
	cc, err3 := normalize.Country(m.CountryCode)
	pc, err4 := normalize.GooglePostal(m.PostalCode)
	if errors.Join(err1, err2, err3, err4) != nil {
		return googleAddress{}, false
	}
	return googleAddress{HashedFirstName: fn, HashedLastName: ln, CountryCode: cc, PostalCode: pc}, true
}

// RemoteID implements delivery.Connector: "em:<hashed email>", or
// "ph:<hashed phone>" for a member without a usable email.
func (g *Google) RemoteID(m delivery.Member) (string, error) {
	_, id, err := g.userData(m)
	if err != nil {
		return "", fmt.Errorf("google %s: member %s: %w", g.cfg.Name, m.Key, err)
	}
	return id, nil
}

func (g *Google) userList() string {
	return "customers/" + g.cfg.CustomerID + "/userLists/" + g.cfg.UserListID
}

// Encode implements delivery.Connector. Consent is a property of a job,
// not of a member, so upserts are grouped by (ad_user_data,
// ad_personalization) into separate requests, each job carrying its
// state; removals need no consent and go in one group. Groups are cut at
// MaxPerRequest operations.
func (g *Google) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("google %s: %w", g.cfg.Name, err)
	}
	type item struct {
		key string
		ud  googleUserData
	}
	type group struct {
		consent *googleConsent
		items   []item
	}
	var groups []*group
	byConsent := map[[2]bool]*group{}
	var skipped []delivery.Rejection
	for _, m := range b.Members {
		ud, _, err := g.userData(m)
		if err != nil {
			skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
			continue
		}
		k := [2]bool{m.AdUserData, m.AdPersonalization}
		if b.Op == delivery.OpRemove {
			k = [2]bool{}
		}
		gr := byConsent[k]
		if gr == nil {
			gr = &group{}
			if b.Op == delivery.OpUpsert {
				gr.consent = &googleConsent{AdUserData: consentValue(k[0]), AdPersonalization: consentValue(k[1])}
			}
			byConsent[k] = gr
			groups = append(groups, gr)
		}
		gr.items = append(gr.items, item{m.Key, ud})
	}
	// Groups in a fixed order (granted first), whatever the members' order.
	order := func(gr *group) int {
		if gr.consent == nil {
			return 0
		}
		n := 0
		if gr.consent.AdUserData == "DENIED" {
			n += 2
		}
		if gr.consent.AdPersonalization == "DENIED" {
			n++
		}
		return n
	}
	for i := 1; i < len(groups); i++ {
		for j := i; j > 0 && order(groups[j]) < order(groups[j-1]); j-- {
			groups[j], groups[j-1] = groups[j-1], groups[j]
		}
	}
	var payloads []googlePayload
	var members [][]string
	for _, gr := range groups {
		for start := 0; start < len(gr.items); start += g.cfg.MaxPerRequest {
			chunk := gr.items[start:min(start+g.cfg.MaxPerRequest, len(gr.items))]
			p := googlePayload{Job: googleJob{Type: "CUSTOMER_MATCH_USER_LIST", Meta: googleListMeta{UserList: g.userList(), Consent: gr.consent}},
				EnablePartialFailure: true, Operations: make([]googleOperation, len(chunk))}
			keys := make([]string, len(chunk))
			for i, it := range chunk {
				ud := it.ud
				if b.Op == delivery.OpRemove {
					p.Operations[i] = googleOperation{Remove: &ud}
				} else {
					p.Operations[i] = googleOperation{Create: &ud}
				}
				keys[i] = it.key
			}
			payloads = append(payloads, p)
			members = append(members, keys)
		}
	}
	key := delivery.IdempotencyKey(b)
	reqs := make([]delivery.Request, len(payloads))
	for i, p := range payloads {
		r, err := g.request(delivery.PartKey(key, i, len(payloads)), p, members[i])
		if err != nil {
			return nil, nil, err
		}
		reqs[i] = r
	}
	return reqs, skipped, nil
}

func (g *Google) request(key string, p googlePayload, members []string) (delivery.Request, error) {
	body, err := marshal(p)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("google %s: encode %s: %w", g.cfg.Name, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return delivery.Request{Key: key, Method: http.MethodPost,
		Path:   g.cfg.APIVersion + "/customers/" + g.cfg.CustomerID + "/offlineUserDataJobs",
		Header: h, Body: body, Members: members}, nil
}

// Subset implements delivery.Splitter.
func (g *Google) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	var p googlePayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return delivery.Request{}, fmt.Errorf("google %s: decode %s: %w", g.cfg.Name, r.Key, err)
	}
	if len(p.Operations) != len(r.Members) {
		return delivery.Request{}, fmt.Errorf("google %s: %s: %d operations for %d members", g.cfg.Name, r.Key, len(p.Operations), len(r.Members))
	}
	type op struct {
		key string
		op  googleOperation
	}
	ops := make([]op, len(p.Operations))
	for i := range ops {
		ops[i] = op{r.Members[i], p.Operations[i]}
	}
	kept, err := delivery.Keep(ops, func(o op) string { return o.key }, keys)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("google %s: %s: %w", g.cfg.Name, r.Key, err)
	}
	p.Operations = make([]googleOperation, len(kept))
	members := make([]string, len(kept))
	for i, o := range kept {
		p.Operations[i], members[i] = o.op, o.key
	}
	return g.request(delivery.SubsetKey(r.Key, keys), p, members)
}

// googleFailure is the part of a GoogleAdsFailure read back: which
// operation failed and why.
type googleFailure struct {
	Details []struct {
		Errors []struct {
			ErrorCode map[string]string `json:"errorCode"`
			Message   string            `json:"message"`
			Location  struct {
				FieldPathElements []struct {
					FieldName string `json:"fieldName"`
					Index     *int   `json:"index"`
				} `json:"fieldPathElements"`
			} `json:"location"`
		} `json:"errors"`
	} `json:"details"`
	Message string `json:"message"`
}

// rejections maps a failure's errors to the members of the operations
// they point at.
func (f googleFailure) rejections(members []string) []delivery.Rejection {
	var out []delivery.Rejection
	seen := map[int]bool{}
	for _, d := range f.Details {
		for _, e := range d.Errors {
			els := e.Location.FieldPathElements
			if len(els) == 0 || els[0].FieldName != "operations" || els[0].Index == nil {
				continue
			}
			i := *els[0].Index
			if i < 0 || i >= len(members) || seen[i] {
				continue
			}
			seen[i] = true
			// errorCode holds one field, named after the error's enum.
			var codes []string
			for _, v := range e.ErrorCode {
				codes = append(codes, v)
			}
			slices.Sort(codes)
			code := strings.Join(codes, " ")
			out = append(out, delivery.Rejection{Key: members[i], Reason: strings.TrimSpace(code + " " + e.Message)})
		}
	}
	return out
}

// Send implements delivery.Connector: create the job, add the operations,
// run the job. Each call has its own idempotency key derived from the
// request's, so a re-sent request replays the calls that went through.
func (g *Google) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("google %s send %s", g.cfg.Name, r.Key)
	var res delivery.Result
	var p googlePayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return res, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: fmt.Errorf("decode request: %w", err)}
	}
	call := func(path, suffix string, body any) (*delivery.Response, error) {
		raw, err := marshal(body)
		if err != nil {
			return &delivery.Response{}, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: err}
		}
		h := delivery.CloneHeader(r.Header)
		h.Set("Authorization", "Bearer "+g.cfg.Token)
		if g.cfg.DeveloperToken != "" {
			h.Set("developer-token", g.cfg.DeveloperToken)
		}
		resp, err := g.client.Do(ctx, delivery.Call{Method: http.MethodPost, URL: delivery.JoinURL(g.cfg.BaseURL, path),
			Header: h, Body: raw, IdempotencyKey: r.Key + "/" + suffix})
		res.Attempts += resp.Attempts
		res.Retries += resp.Retries
		res.Status = resp.Status
		return resp, err
	}

	resp, err := call(r.Path+":create", "create", map[string]any{"job": p.Job})
	if err != nil {
		return res, err
	}
	if resp.Status != http.StatusOK {
		return res, delivery.StatusError(op+" create job", resp)
	}
	var job struct {
		ResourceName string `json:"resourceName"`
	}
	if err := json.Unmarshal(resp.Body, &job); err != nil || job.ResourceName == "" {
		return res, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Reason: "create job: no resource name in " + delivery.Excerpt(resp.Body, 200)}
	}
	jobPath := g.cfg.APIVersion + "/" + job.ResourceName

	resp, err = call(jobPath+":addOperations", "add", map[string]any{"enablePartialFailure": p.EnablePartialFailure, "operations": p.Operations})
	if err != nil {
		return res, err
	}
	switch {
	case resp.Status == http.StatusOK:
		var ok struct {
			PartialFailureError *googleFailure `json:"partialFailureError"`
		}
		if err := json.Unmarshal(resp.Body, &ok); err != nil {
			return res, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Err: fmt.Errorf("add operations: read answer: %w", err)}
		}
		if ok.PartialFailureError != nil {
			res.Rejected = ok.PartialFailureError.rejections(r.Members)
		}
	case resp.Status == http.StatusBadRequest:
		// The whole call refused: nothing was added. The errors' locations
		// name the operations at fault when the API could tell.
		var bad struct {
			Error googleFailure `json:"error"`
		}
		_ = json.Unmarshal(resp.Body, &bad)
		reason := bad.Error.Message
		if reason == "" {
			reason = delivery.Excerpt(resp.Body, 300)
		}
		return res, &delivery.Error{Kind: delivery.Rejected, Op: op + " add operations", Status: resp.Status,
			Reason: reason, Bad: bad.Error.rejections(r.Members)}
	default:
		return res, delivery.StatusError(op+" add operations", resp)
	}

	resp, err = call(jobPath+":run", "run", map[string]any{})
	if err != nil {
		return res, err
	}
	if resp.Status != http.StatusOK {
		return res, delivery.StatusError(op+" run job", resp)
	}
	refused := map[string]bool{}
	for _, rj := range res.Rejected {
		refused[rj.Key] = true
	}
	for _, k := range r.Members {
		if !refused[k] {
			res.Accepted = append(res.Accepted, k)
		}
	}
	return res, nil
}

// marshal is json.Marshal without HTML escaping (the bytes are sent, not
// embedded in HTML) and without the trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
