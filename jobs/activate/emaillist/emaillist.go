// Package emaillist keeps an email platform's list in step with a segment,
// in the style of the Mailchimp Marketing API 3.0 "batch subscribe or
// unsubscribe" call (POST /3.0/lists/{list_id}, at most 500 members per
// call, per-record errors in the answer). Upserts subscribe members and set
// their merge fields; removals unsubscribe them, so the platform keeps the
// unsubscription (use one list per segment: unsubscribing leaves the whole
// list). A member erased from parcours is deleted permanently through its
// subscriber hash (POST /3.0/lists/{list_id}/members/{hash}/actions/
// delete-permanent), since its email is gone.
package emaillist

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// MaxBatch is Mailchimp's limit of members per batch call.
const MaxBatch = 500

// Config is one list.
type Config struct {
	Name string
	// BaseURL is the API root (https://<dc>.api.mailchimp.com).
	BaseURL string
	// ListID is the audience (list) id.
	ListID string
	// Token is the API key or OAuth token, sent as a bearer token.
	Token string
	// BatchSize caps members per call (default and maximum 500).
	BatchSize int
	Delivery  delivery.Config
}

// Connector is an email-list destination.
type Connector struct {
	cfg    Config
	client *delivery.Client
}

// New validates cfg and builds the connector.
func New(cfg Config) (*Connector, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base url is required"))
	}
	if cfg.ListID == "" || strings.ContainsAny(cfg.ListID, "/?# ") {
		errs = append(errs, fmt.Errorf("list id %q: required, one path segment", cfg.ListID))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is required"))
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

// The batch call's body.
type (
	listMember struct {
		EmailAddress string            `json:"email_address"`
		EmailType    string            `json:"email_type,omitempty"`
		Status       string            `json:"status"`
		MergeFields  map[string]string `json:"merge_fields,omitempty"`
	}
	batchBody struct {
		Members        []listMember `json:"members"`
		UpdateExisting bool         `json:"update_existing"`
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

// Encode implements delivery.Connector: batch calls of up to BatchSize
// members, then, for a removal, one delete-permanent call per member known
// only by its subscriber hash.
func (c *Connector) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("emaillist %s: %w", c.cfg.Name, err)
	}
	var members []listMember
	var keys, erased, hashes []string
	var skipped []delivery.Rejection
	status := "subscribed"
	if b.Op == delivery.OpRemove {
		status = "unsubscribed"
	}
	for _, m := range b.Members {
		if m.Email == "" && b.Op == delivery.OpRemove && isMD5Hex(m.RemoteID) {
			erased = append(erased, m.Key)
			hashes = append(hashes, m.RemoteID)
			continue
		}
		e, err := normalize.Email(m.Email)
		if err != nil {
			skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
			continue
		}
		lm := listMember{EmailAddress: e, Status: status}
		if b.Op == delivery.OpUpsert {
			lm.EmailType, lm.MergeFields = "html", mergeFields(m)
		}
		members = append(members, lm)
		keys = append(keys, m.Key)
	}
	key := delivery.IdempotencyKey(b)
	nBatch := (len(members) + c.cfg.BatchSize - 1) / c.cfg.BatchSize
	n := nBatch + len(erased)
	reqs := make([]delivery.Request, 0, n)
	for i := range nBatch {
		lo, hi := i*c.cfg.BatchSize, min((i+1)*c.cfg.BatchSize, len(members))
		r, err := c.batchRequest(delivery.PartKey(key, i, n), batchBody{Members: members[lo:hi], UpdateExisting: true}, keys[lo:hi])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	for j, k := range erased {
		reqs = append(reqs, delivery.Request{Key: delivery.PartKey(key, nBatch+j, n), Method: http.MethodPost,
			Path: c.listPath() + "/members/" + hashes[j] + "/actions/delete-permanent", Header: http.Header{}, Members: []string{k}})
	}
	return reqs, skipped, nil
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

func isDelete(r delivery.Request) bool { return strings.HasSuffix(r.Path, "/actions/delete-permanent") }

// Subset implements delivery.Splitter.
func (c *Connector) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	if isDelete(r) {
		if !slices.Equal(keys, r.Members) {
			return delivery.Request{}, fmt.Errorf("emaillist %s: %s: a delete holds one member", c.cfg.Name, r.Key)
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

// answer is a batch call's reply, or a problem document (RFC 7807 style)
// on error.
type answer struct {
	Errors []struct {
		EmailAddress string `json:"email_address"`
		Error        string `json:"error"`
		ErrorCode    string `json:"error_code"`
		// Field and Message are a 400's field errors.
		Field   string `json:"field"`
		Message string `json:"message"`
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

// Send implements delivery.Connector.
func (c *Connector) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("emaillist %s send %s", c.cfg.Name, r.Key)
	h := delivery.CloneHeader(r.Header)
	h.Set("Authorization", "Bearer "+c.cfg.Token)
	resp, err := c.client.Do(ctx, delivery.Call{Method: r.Method, URL: delivery.JoinURL(c.cfg.BaseURL, r.Path),
		Header: h, Body: r.Body, IdempotencyKey: r.Key})
	res := delivery.Result{Status: resp.Status, Attempts: resp.Attempts, Retries: resp.Retries}
	if err != nil {
		return res, err
	}
	if isDelete(r) {
		// 404: already gone, which is what a removal wants.
		if resp.Status == http.StatusNoContent || resp.Status == http.StatusOK || resp.Status == http.StatusNotFound {
			res.Accepted = r.Members
			return res, nil
		}
		return res, delivery.StatusError(op, resp)
	}
	var a answer
	jsonErr := json.Unmarshal(resp.Body, &a)
	switch {
	case resp.Status == http.StatusOK:
		if jsonErr != nil {
			return res, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Err: fmt.Errorf("read answer: %w", jsonErr)}
		}
		var body batchBody
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Members) != len(r.Members) {
			return res, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: fmt.Errorf("decode request: %d members for %d keys (%v)", len(body.Members), len(r.Members), err)}
		}
		byEmail := map[string]string{}
		for i, m := range body.Members {
			byEmail[strings.ToLower(m.EmailAddress)] = r.Members[i]
		}
		refused := map[string]string{}
		for _, e := range a.Errors {
			if k, ok := byEmail[strings.ToLower(e.EmailAddress)]; ok {
				refused[k] = strings.TrimSpace(e.ErrorCode + " " + e.Error)
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
	case resp.Status == http.StatusBadRequest:
		var bad []delivery.Rejection
		for _, e := range a.Errors {
			if i, ok := fieldIndex(e.Field); ok && i < len(r.Members) {
				bad = append(bad, delivery.Rejection{Key: r.Members[i], Reason: e.Message})
			}
		}
		reason := strings.TrimSpace(a.Title + ": " + a.Detail)
		if a.Title == "" {
			reason = delivery.Excerpt(resp.Body, 300)
		}
		return res, &delivery.Error{Kind: delivery.Rejected, Op: op, Status: resp.Status, Reason: reason, Bad: bad}
	}
	return res, delivery.StatusError(op, resp)
}
