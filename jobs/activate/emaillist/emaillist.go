// Package emaillist keeps a segment's membership in a Mailchimp audience
// (list), through the Marketing API 3.0 (https://mailchimp.com/developer/
// marketing/api/).
//
// Segment membership is a tag named after the segment, not the member's
// subscription status: leaving a segment is not an unsubscribe.
//
//   - Joining: "Batch subscribe or unsubscribe" (POST /3.0/lists/{list_id},
//     at most 500 members, update_existing) with status_if_new subscribed
//     (the plan only sends members whose consent for the destination's
//     purpose is valid) and the segment's tag. No status is sent, so an
//     existing member's status — an opt-out made in Mailchimp, a pending
//     double opt-in — is never overwritten.
//   - Leaving: "Add or remove member tags" (POST /3.0/lists/{list_id}/
//     members/{subscriber_hash}/tags) with the tag inactive. The member
//     stays on the list with its status; nobody is unsubscribed or deleted.
//
// Why tags rather than a static segment (POST /lists/{id}/segments/{id}
// with members_to_add/members_to_remove): a tag is named, so Encode stays
// pure (a static segment needs its numeric id, known only by calling the
// API); adding a tag rides in the batch subscribe call (500 members, one
// change per member); removing it is keyed by subscriber hash, which still
// works for a member whose email parcours erased (members_to_remove takes
// emails); and setting a tag active or inactive twice changes nothing, so
// a replayed call is harmless. The cost is one call per leaver.
//
// Opt-outs: the connector has no opt-out operation, because delivery.Batch
// has none (a removal does not say why the member left). A real opt-out
// would be a third op sending {"status":"unsubscribed"} for the member
// (PUT /lists/{list_id}/members/{hash}), never a segment removal.
package emaillist

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// MaxBatch is Mailchimp's limit of members per batch call.
const MaxBatch = 500

// Authentication kinds (Marketing API "Fundamentals", authentication).
const (
	// AuthAPIKey sends the API key as the HTTP Basic password.
	AuthAPIKey = "api_key"
	// AuthOAuth sends an OAuth 2 access token as a Bearer token.
	AuthOAuth = "oauth"
)

// basicUser is the Basic user name: Mailchimp accepts any string.
const basicUser = "parcours"

// statusIfNew is what a member new to the list becomes: the plan only
// sends members holding a valid consent for the destination's purpose.
const statusIfNew = "subscribed"

// Config is one list.
type Config struct {
	Name string
	// BaseURL is the API root (https://<dc>.api.mailchimp.com); empty, it
	// is taken from an API key's datacenter suffix (…-us6).
	BaseURL string
	// ListID is the audience (list) id.
	ListID string
	// Token is the API key or, with Auth oauth, the OAuth access token.
	Token string
	// Auth is AuthAPIKey (default) or AuthOAuth.
	Auth string
	// BatchSize caps members per call (default and maximum 500).
	BatchSize int
	Delivery  delivery.Config
}

// Connector is an email-list destination.
type Connector struct {
	cfg    Config
	client *delivery.Client
}

var dcSuffix = regexp.MustCompile(`-([a-z]+[0-9]+)$`)

// Datacenter is the datacenter an API key names in its suffix ("us6" for
// "…-us6"), "" when it names none.
func Datacenter(apiKey string) string {
	if m := dcSuffix.FindStringSubmatch(apiKey); m != nil {
		return m[1]
	}
	return ""
}

// New validates cfg and builds the connector.
func New(cfg Config) (*Connector, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthAPIKey
	}
	if cfg.Auth != AuthAPIKey && cfg.Auth != AuthOAuth {
		errs = append(errs, fmt.Errorf("auth %q: want %s or %s", cfg.Auth, AuthAPIKey, AuthOAuth))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if cfg.BaseURL == "" && cfg.Auth == AuthAPIKey && cfg.Token != "" {
		if dc := Datacenter(cfg.Token); dc != "" {
			cfg.BaseURL = "https://" + dc + ".api.mailchimp.com"
		}
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base url is required (or an API key ending in its datacenter, -us6)"))
	}
	if cfg.ListID == "" || strings.ContainsAny(cfg.ListID, "/?# ") {
		errs = append(errs, fmt.Errorf("list id %q: required, one path segment", cfg.ListID))
	}
	if cfg.BatchSize < 0 || cfg.BatchSize > MaxBatch {
		errs = append(errs, fmt.Errorf("batch size %d: want 1 to %d", cfg.BatchSize, MaxBatch))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("emaillist %s: %w", cfg.Name, err)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = MaxBatch
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("emaillist %s: %w", cfg.Name, err)
	}
	return &Connector{cfg: cfg, client: client}, nil
}

// Name implements delivery.Connector.
func (c *Connector) Name() string { return c.cfg.Name }

// SubscriberHash is Mailchimp's member id: the MD5 hex of the lowercased
// email address.
func SubscriberHash(email string) string {
	h := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:])
}

func isMD5Hex(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// RemoteID implements delivery.Connector: the subscriber hash.
func (c *Connector) RemoteID(m delivery.Member) (string, error) {
	if m.Email == "" && isMD5Hex(m.RemoteID) {
		return m.RemoteID, nil
	}
	e, err := normalize.Email(m.Email)
	if err != nil {
		return "", fmt.Errorf("emaillist %s: member %s: %w", c.cfg.Name, m.Key, err)
	}
	return SubscriberHash(e), nil
}

// Tag is the Mailchimp tag that stands for membership of segment.
func Tag(segment string) string { return segment }

// The batch call's body.
type (
	listMember struct {
		EmailAddress string `json:"email_address"`
		EmailType    string `json:"email_type,omitempty"`
		// Status is set only for an opt-out (unsubscribed): a join
		// leaves an existing member's status alone (status_if_new).
		Status      string            `json:"status,omitempty"`
		StatusIfNew string            `json:"status_if_new,omitempty"`
		MergeFields map[string]string `json:"merge_fields,omitempty"`
		Tags        []string          `json:"tags,omitempty"`
	}
	batchBody struct {
		Members        []listMember `json:"members"`
		UpdateExisting bool         `json:"update_existing"`
	}
	tagChange struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	tagsBody struct {
		Tags []tagChange `json:"tags"`
	}
)

// mergeFields maps a member to Mailchimp's default merge tags (FNAME,
// LNAME, PHONE) and its attributes, upper-cased as merge tags are.
func mergeFields(m delivery.Member) map[string]string {
	f := map[string]string{}
	for k, v := range m.Attributes {
		if v != "" {
			f[strings.ToUpper(k)] = v
		}
	}
	for k, v := range map[string]string{"FNAME": m.FirstName, "LNAME": m.LastName, "PHONE": m.Phone} {
		if v != "" {
			f[k] = v
		}
	}
	if len(f) == 0 {
		return nil
	}
	return f
}

func (c *Connector) listPath() string { return "3.0/lists/" + c.cfg.ListID }

// Encode implements delivery.Connector: an upsert is batch calls of up to
// BatchSize members carrying the segment's tag; a removal is one tag call
// per member, by subscriber hash, setting the tag inactive.
func (c *Connector) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("emaillist %s: %w", c.cfg.Name, err)
	}
	key := delivery.IdempotencyKey(b)
	tag := Tag(b.Segment)
	var skipped []delivery.Rejection
	if b.Op == delivery.OpRemove {
		return c.encodeRemovals(b, key, tag)
	}
	var members []listMember
	var keys []string
	for _, m := range b.Members {
		e, err := normalize.Email(m.Email)
		if err != nil {
			skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
			continue
		}
		members = append(members, listMember{EmailAddress: e, EmailType: "html", StatusIfNew: statusIfNew,
			MergeFields: mergeFields(m), Tags: []string{tag}})
		keys = append(keys, m.Key)
	}
	n := (len(members) + c.cfg.BatchSize - 1) / c.cfg.BatchSize
	reqs := make([]delivery.Request, 0, n)
	for i := range n {
		lo, hi := i*c.cfg.BatchSize, min((i+1)*c.cfg.BatchSize, len(members))
		r, err := c.batchRequest(delivery.PartKey(key, i, n), batchBody{Members: members[lo:hi], UpdateExisting: true}, keys[lo:hi])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	return reqs, skipped, nil
}

// encodeRemovals decides by why each member leaves (delivery.Member.Reason):
//   - erased: delete-permanent, so the erasure reaches the list too (GDPR
//     Art. 17(2) and 19: recipients are told); by hash, the email is gone;
//   - no_consent, suppressed, objected: the person opted out of marketing,
//     so the list unsubscribes them (batch call, status unsubscribed) and
//     no other campaign of the list mails them;
//   - anything else (left_segment, identifier_changed): the segment's tag
//     is set inactive and the member stays subscribed, since leaving a
//     segment is not an unsubscribe.
func (c *Connector) encodeRemovals(b delivery.Batch, key, tag string) ([]delivery.Request, []delivery.Rejection, error) {
	var skipped []delivery.Rejection
	type call struct{ key, hash string }
	var untag, erase []call
	var outMembers []listMember
	var outKeys []string
	for _, m := range b.Members {
		if optOut(m.Reason) {
			if e, err := normalize.Email(m.Email); err == nil {
				outMembers = append(outMembers, listMember{EmailAddress: e, EmailType: "html", Status: "unsubscribed"})
				outKeys = append(outKeys, m.Key)
				continue
			}
		}
		// The remote id is the hash the list holds the member under,
		// even when the email changed since.
		h := m.RemoteID
		if !isMD5Hex(h) {
			e, err := normalize.Email(m.Email)
			if err != nil {
				skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
				continue
			}
			h = SubscriberHash(e)
		}
		if m.Reason == "erased" {
			erase = append(erase, call{m.Key, h})
		} else {
			untag = append(untag, call{m.Key, h})
		}
	}
	nOut := (len(outMembers) + c.cfg.BatchSize - 1) / c.cfg.BatchSize
	total := nOut + len(erase) + len(untag)
	reqs := make([]delivery.Request, 0, total)
	for i := range nOut {
		lo, hi := i*c.cfg.BatchSize, min((i+1)*c.cfg.BatchSize, len(outMembers))
		r, err := c.batchRequest(delivery.PartKey(key, len(reqs), total), batchBody{Members: outMembers[lo:hi], UpdateExisting: true}, outKeys[lo:hi])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	for _, e := range erase {
		reqs = append(reqs, delivery.Request{Key: delivery.PartKey(key, len(reqs), total), Method: http.MethodPost,
			Path: c.listPath() + "/members/" + e.hash + "/actions/delete-permanent", Header: http.Header{}, Members: []string{e.key}})
	}
	body, err := json.Marshal(tagsBody{Tags: []tagChange{{Name: tag, Status: "inactive"}}})
	if err != nil {
		return nil, nil, fmt.Errorf("emaillist %s: encode %s: %w", c.cfg.Name, key, err)
	}
	for _, u := range untag {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		reqs = append(reqs, delivery.Request{Key: delivery.PartKey(key, len(reqs), total), Method: http.MethodPost,
			Path: c.listPath() + "/members/" + u.hash + "/tags", Header: h, Body: body, Members: []string{u.key}})
	}
	return reqs, skipped, nil
}

// optOut tells the removal reasons that are the person's own choice.
func optOut(reason string) bool {
	return reason == "no_consent" || reason == "suppressed" || reason == "objected"
}

func (c *Connector) batchRequest(key string, body batchBody, keys []string) (delivery.Request, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return delivery.Request{}, fmt.Errorf("emaillist %s: encode %s: %w", c.cfg.Name, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return delivery.Request{Key: key, Method: http.MethodPost, Path: c.listPath(), Header: h,
		Body: bytes.TrimRight(buf.Bytes(), "\n"), Members: slices.Clone(keys)}, nil
}

func isTagCall(r delivery.Request) bool { return strings.HasSuffix(r.Path, "/tags") }

// isDelete recognises delete-permanent requests planned by earlier
// versions, still sendable by apply.
func isDelete(r delivery.Request) bool { return strings.HasSuffix(r.Path, "/actions/delete-permanent") }

// Subset implements delivery.Splitter.
func (c *Connector) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	if isTagCall(r) || isDelete(r) {
		if !slices.Equal(keys, r.Members) {
			return delivery.Request{}, fmt.Errorf("emaillist %s: %s: a tag call holds one member", c.cfg.Name, r.Key)
		}
		return r, nil
	}
	var body batchBody
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Members) != len(r.Members) {
		return delivery.Request{}, fmt.Errorf("emaillist %s: decode %s: %d members for %d keys (%v)", c.cfg.Name, r.Key, len(body.Members), len(r.Members), err)
	}
	idx := make([]int, len(r.Members))
	for i := range idx {
		idx[i] = i
	}
	kept, err := delivery.Keep(idx, func(i int) string { return r.Members[i] }, keys)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("emaillist %s: %s: %w", c.cfg.Name, r.Key, err)
	}
	sub := batchBody{UpdateExisting: body.UpdateExisting, Members: make([]listMember, len(kept))}
	members := make([]string, len(kept))
	for j, i := range kept {
		sub.Members[j], members[j] = body.Members[i], r.Members[i]
	}
	return c.batchRequest(delivery.SubsetKey(r.Key, keys), sub, members)
}

// answer is a batch call's reply (errors[] per member: email_address,
// error, error_code), or a problem document on error (errors[] of field
// and message for a 400's field errors).
type answer struct {
	Errors []struct {
		EmailAddress string `json:"email_address"`
		Error        string `json:"error"`
		ErrorCode    string `json:"error_code"`
		Field        string `json:"field"`
		Message      string `json:"message"`
	} `json:"errors"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// fieldIndex reads "members.3.email_address" as 3.
func fieldIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "members.")
	if !ok {
		return 0, false
	}
	n, _, _ := strings.Cut(rest, ".")
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0
}

// anEmail finds what looks like an email address in the destination's
// messages ("x@y.z is already a list member"), which must not reach logs
// or the sync log.
var anEmail = regexp.MustCompile(`[^\s"'<>(),;:]+@[^\s"'<>(),;:]+`)

func scrub(s string) string { return anEmail.ReplaceAllString(s, "<email>") }

// ReasonCompliance is the rejection reason of a member Mailchimp holds in
// compliance state (unsubscribed, bounced, under compliance review): it
// cannot be subscribed through the API, so the rejection is final.
const ReasonCompliance = "member_in_compliance_state: unsubscribed, bounced or under compliance review; only the person can re-subscribe"

// memberReason is the rejection reason of one errors[] entry.
func memberReason(code, msg string) string {
	if strings.Contains(strings.ToLower(msg), "compliance state") {
		return ReasonCompliance
	}
	return strings.TrimSpace(code + " " + scrub(msg))
}

// problem turns a non-2xx answer into an error: 400s about content are
// Rejected (naming members when field errors say which), a 400 that is
// not about content (a JSON parse error) and 401/403/404 (credentials,
// wrong datacenter, unknown list) are Permanent for the whole request and
// never split, 429 and 5xx Temporary. Reasons never quote an email.
func (c *Connector) problem(op string, r delivery.Request, resp *delivery.Response) error {
	var a answer
	_ = json.Unmarshal(resp.Body, &a)
	reason := strings.TrimSpace(scrub(strings.TrimSpace(a.Title + ": " + a.Detail)))
	if a.Title == "" {
		reason = scrub(delivery.Excerpt(resp.Body, 300))
	}
	if resp.Status == http.StatusBadRequest && a.Title != "JSON Parse Error" && !isTagCall(r) {
		var bad []delivery.Rejection
		for _, e := range a.Errors {
			if i, ok := fieldIndex(e.Field); ok && i < len(r.Members) {
				bad = append(bad, delivery.Rejection{Key: r.Members[i], Reason: memberReason("", e.Message)})
			}
		}
		return &delivery.Error{Kind: delivery.Rejected, Op: op, Status: resp.Status, Reason: reason, Bad: bad}
	}
	e := delivery.StatusError(op, resp)
	e.Reason = reason
	if resp.Status == http.StatusBadRequest {
		e.Kind = delivery.Permanent
	}
	return e
}

// authorize adds the credential: an API key as HTTP Basic password ("any
// string" as user), an OAuth token as Bearer.
func (c *Connector) authorize(h http.Header) {
	if c.cfg.Auth == AuthOAuth {
		h.Set("Authorization", "Bearer "+c.cfg.Token)
		return
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basicUser+":"+c.cfg.Token)))
}

// Send implements delivery.Connector.
func (c *Connector) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("emaillist %s send %s", c.cfg.Name, r.Key)
	h := delivery.CloneHeader(r.Header)
	c.authorize(h)
	resp, err := c.client.Do(ctx, delivery.Call{Method: r.Method, URL: delivery.JoinURL(c.cfg.BaseURL, r.Path),
		Header: h, Body: r.Body, IdempotencyKey: r.Key})
	res := delivery.Result{Status: resp.Status, Attempts: resp.Attempts, Retries: resp.Retries}
	if err != nil {
		return res, err
	}
	if isTagCall(r) || isDelete(r) {
		switch resp.Status {
		case http.StatusNoContent, http.StatusOK:
			res.Accepted = r.Members
			return res, nil
		case http.StatusNotFound:
			// Not on the list: it holds no tag, which a removal wants;
			// unless the list itself is unknown.
			return c.checkList(ctx, op, r, res)
		}
		return res, c.problem(op, r, resp)
	}
	if resp.Status != http.StatusOK {
		return res, c.problem(op, r, resp)
	}
	var a answer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		return res, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Err: fmt.Errorf("read answer: %w", err)}
	}
	var body batchBody
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Members) != len(r.Members) {
		return res, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: fmt.Errorf("decode request: %d members for %d keys (%v)", len(body.Members), len(r.Members), err)}
	}
	byEmail := map[string]string{}
	for i, m := range body.Members {
		byEmail[strings.ToLower(m.EmailAddress)] = r.Members[i]
	}
	// errors[] names members; only they are taken out, the rest went in.
	// None is retried or split: Mailchimp refused that member, not the call.
	refused := map[string]string{}
	for _, e := range a.Errors {
		if k, ok := byEmail[strings.ToLower(e.EmailAddress)]; ok {
			refused[k] = memberReason(e.ErrorCode, e.Error)
		}
	}
	for _, k := range r.Members {
		if why, bad := refused[k]; bad {
			res.Rejected = append(res.Rejected, delivery.Rejection{Key: k, Reason: why})
		} else {
			res.Accepted = append(res.Accepted, k)
		}
	}
	return res, nil
}

// checkList tells a member absent from the list (the tag call's goal is
// met) from an unknown list (Permanent), both 404 on the tag call, with
// "Get list info" (GET /3.0/lists/{list_id}).
func (c *Connector) checkList(ctx context.Context, op string, r delivery.Request, res delivery.Result) (delivery.Result, error) {
	h := http.Header{}
	c.authorize(h)
	resp, err := c.client.Do(ctx, delivery.Call{Method: http.MethodGet, URL: delivery.JoinURL(c.cfg.BaseURL, c.listPath()+"?fields=id"),
		Header: h, IdempotencyKey: r.Key + "/list"})
	res.Attempts += resp.Attempts
	res.Retries += resp.Retries
	if err != nil {
		return res, err
	}
	if resp.Status == http.StatusOK {
		res.Status = http.StatusNotFound
		res.Accepted = r.Members
		return res, nil
	}
	res.Status = resp.Status
	return res, c.problem(op, r, resp)
}
