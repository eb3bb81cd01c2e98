package adaudience

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// MetaConfig is one Meta customer-list Custom Audience.
type MetaConfig struct {
	Name string
	// BaseURL is the Graph API root (https://graph.facebook.com).
	BaseURL string
	// APIVersion is the path version (default DefaultMetaAPIVersion).
	APIVersion string
	// AudienceID is the Custom Audience.
	AudienceID string
	// Token is the access token, sent as a bearer token.
	Token string
	// AppSecret, when set, adds appsecret_proof (HMAC-SHA256 of Token
	// keyed by it, hex) to every call, as apps that "Require App Secret"
	// demand. Added by Send: a planned request never holds it.
	AppSecret string
	// DefaultCountry reads phone numbers of members without a country.
	DefaultCountry string
	// MaxPerRequest caps rows per request (at most 10,000).
	MaxPerRequest int
	Delivery      delivery.Config
}

// DefaultMetaAPIVersion is the Graph API version used unless configured
// (the one Meta's Custom Audience Users reference shows, Oct 2025).
const DefaultMetaAPIVersion = "v25.0"

// Meta is a Custom Audience destination: POST /{audience_id}/users adds,
// DELETE removes, with a multi-key schema of hashed fields.
type Meta struct {
	cfg    MetaConfig
	client *delivery.Client
}

// metaSchema is the multi-key schema every request uses; a missing field
// is an empty string.
func metaSchema() []string { return []string{"EMAIL", "PHONE", "FN", "LN", "COUNTRY", "ZIP"} }

// NewMeta validates cfg and builds the connector.
func NewMeta(cfg MetaConfig) (*Meta, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("base url is required"))
	}
	if cfg.AudienceID == "" {
		errs = append(errs, errors.New("audience id is required"))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if cfg.MaxPerRequest < 0 || cfg.MaxPerRequest > MaxPerRequest {
		errs = append(errs, fmt.Errorf("max per request %d: want 1 to %d", cfg.MaxPerRequest, MaxPerRequest))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("meta %s: %w", cfg.Name, err)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultMetaAPIVersion
	}
	if strings.ContainsAny(cfg.APIVersion+cfg.AudienceID, "/?#") {
		return nil, fmt.Errorf("meta %s: api version and audience id must not hold '/', '?' or '#'", cfg.Name)
	}
	if cfg.MaxPerRequest == 0 {
		cfg.MaxPerRequest = MaxPerRequest
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("meta %s: %w", cfg.Name, err)
	}
	return &Meta{cfg: cfg, client: client}, nil
}

// Name implements delivery.Connector.
func (mt *Meta) Name() string { return mt.cfg.Name }

// row hashes a member's fields by Meta's rules, in metaSchema order. Every
// field is hashed, COUNTRY and ZIP included; a field that fails its rule is
// left empty, but a row needs an EMAIL or a PHONE.
func (mt *Meta) row(m delivery.Member) ([]string, string, error) {
	row := make([]string, len(metaSchema()))
	if m.Email == "" && m.Phone == "" && m.RemoteID != "" {
		p, d, err := parseRemoteID(m.RemoteID)
		if err != nil {
			return nil, "", err
		}
		if p == emailPrefix {
			row[0] = d
		} else {
			row[1] = d
		}
		return row, p + d, nil
	}
	m = withCountry(m, mt.cfg.DefaultCountry) // COUNTRY and ZIP read in it too
	country := m.CountryCode
	var errs []error
	hash := func(i int, raw string, rule func(string) (string, error)) {
		if raw == "" {
			return
		}
		h, err := normalize.Hash(raw, rule)
		if err != nil {
			errs = append(errs, err)
			return
		}
		row[i] = h
	}
	hash(0, m.Email, normalize.MetaEmail)
	hash(1, m.Phone, func(s string) (string, error) { return normalize.MetaPhone(s, country) })
	if row[0] == "" && row[1] == "" {
		errs = append(errs, errors.New("no usable email or phone"))
		return nil, "", errors.Join(errs...)
	}
	// Secondary fields only sharpen the match: one that fails its rule is
	// left out rather than costing the member.
	secondary := func(i int, raw string, rule func(string) (string, error)) {
		if raw == "" {
			return
		}
		if h, err := normalize.Hash(raw, rule); err == nil {
			row[i] = h
		}
	}
	secondary(2, m.FirstName, metaName)
	secondary(3, m.LastName, metaName)
	secondary(4, m.CountryCode, normalize.MetaCountry)
	secondary(5, m.PostalCode, func(s string) (string, error) { return normalize.MetaZip(s, m.CountryCode) })
	return row, remoteID(row[0], row[1]), nil
}

// RemoteID implements delivery.Connector: "em:<hashed email>", or
// "ph:<hashed phone>" for a member without a usable email.
func (mt *Meta) RemoteID(m delivery.Member) (string, error) {
	_, id, err := mt.row(m)
	if err != nil {
		return "", fmt.Errorf("meta %s: member %s: %w", mt.cfg.Name, m.Key, err)
	}
	return id, nil
}

// metaName is Meta's FN/LN rule: "Use a-z only. Lowercase only, no
// punctuation. Special characters in UTF-8 format." — letters only, so
// digits go too (normalize.MetaName keeps them; see the report on moving
// this rule there).
func metaName(raw string) (string, error) {
	return normalize.MetaName(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, raw))
}

// The request body of /{audience_id}/users.
type (
	metaSession struct {
		SessionID         int64 `json:"session_id"`
		BatchSeq          int   `json:"batch_seq"`
		LastBatchFlag     bool  `json:"last_batch_flag"`
		EstimatedNumTotal int   `json:"estimated_num_total"`
	}
	metaPayload struct {
		Schema []string `json:"schema"`
		// IsRaw is true: Meta's reference reads it as "Is the key raw?
		// If the keys are combinational keys like LN_FN_ZIP, set this to
		// false, otherwise set this to true. Default to false". It says
		// how the schema's keys are built, not whether values are hashed
		// (they always are); our keys are single keys, so true.
		IsRaw bool       `json:"is_raw"`
		Data  [][]string `json:"data"`
	}
	metaBody struct {
		Payload metaPayload `json:"payload"`
		Session metaSession `json:"session"`
	}
)

// sessionID derives an upload session from a request key: stable across
// plan and apply, positive, distinct between requests (parts and subsets
// have keys of their own).
func sessionID(key string) int64 {
	h := sha256.Sum256([]byte(key))
	if id := int64(binary.BigEndian.Uint64(h[:8]) >> 1); id > 0 {
		return id
	}
	return 1
}

// oneSession is the session of a request sent on its own: each request is
// a complete session (batch_seq 1, last batch), so a part that fails, is
// dead-lettered or split never leaves a later part numbered after a batch
// Meta did not take.
func oneSession(key string, rows int) metaSession {
	return metaSession{SessionID: sessionID(key), BatchSeq: 1, LastBatchFlag: true, EstimatedNumTotal: rows}
}

// Encode implements delivery.Connector: rows of hashed fields, at most
// MaxPerRequest per request, each request its own upload session.
func (mt *Meta) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("meta %s: %w", mt.cfg.Name, err)
	}
	var rows [][]string
	var keys []string
	var skipped []delivery.Rejection
	for _, m := range b.Members {
		row, _, err := mt.row(m)
		if err != nil {
			skipped = append(skipped, delivery.Rejection{Key: m.Key, Reason: "no_identifier: " + err.Error()})
			continue
		}
		rows = append(rows, row)
		keys = append(keys, m.Key)
	}
	key := delivery.IdempotencyKey(b)
	method := http.MethodPost
	if b.Op == delivery.OpRemove {
		method = http.MethodDelete
	}
	n := (len(rows) + mt.cfg.MaxPerRequest - 1) / mt.cfg.MaxPerRequest
	reqs := make([]delivery.Request, 0, n)
	for i := range n {
		lo, hi := i*mt.cfg.MaxPerRequest, min((i+1)*mt.cfg.MaxPerRequest, len(rows))
		pk := delivery.PartKey(key, i, n)
		body := metaBody{Payload: metaPayload{Schema: metaSchema(), IsRaw: true, Data: rows[lo:hi]}, Session: oneSession(pk, hi-lo)}
		r, err := mt.request(pk, method, body, keys[lo:hi])
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	return reqs, skipped, nil
}

func (mt *Meta) request(key, method string, body metaBody, members []string) (delivery.Request, error) {
	raw, err := marshal(body)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("meta %s: encode %s: %w", mt.cfg.Name, key, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return delivery.Request{Key: key, Method: method, Path: mt.cfg.APIVersion + "/" + mt.cfg.AudienceID + "/users",
		Header: h, Body: raw, Members: slices.Clone(members)}, nil
}

// Subset implements delivery.Splitter: the rows of the listed members, in
// a session of their own (the parent's may be closed, or its batch_seq
// taken).
func (mt *Meta) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	var body metaBody
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return delivery.Request{}, fmt.Errorf("meta %s: decode %s: %w", mt.cfg.Name, r.Key, err)
	}
	if len(body.Payload.Data) != len(r.Members) {
		return delivery.Request{}, fmt.Errorf("meta %s: %s: %d rows for %d members", mt.cfg.Name, r.Key, len(body.Payload.Data), len(r.Members))
	}
	idx := make([]int, len(r.Members))
	for i := range idx {
		idx[i] = i
	}
	kept, err := delivery.Keep(idx, func(i int) string { return r.Members[i] }, keys)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("meta %s: %s: %w", mt.cfg.Name, r.Key, err)
	}
	data := make([][]string, len(kept))
	members := make([]string, len(kept))
	for j, i := range kept {
		data[j], members[j] = body.Payload.Data[i], r.Members[i]
	}
	body.Payload.Data = data
	key := delivery.SubsetKey(r.Key, keys)
	body.Session = oneSession(key, len(data))
	return mt.request(key, r.Method, body, members)
}

// metaSamples is invalid_entry_samples. The reference types it as
// "Map {string: string}" (value -> reason), but an empty or reason-less
// sample list comes as a JSON array ([] is how an empty map serialises),
// which must not fail the reply.
type metaSamples map[string]string

// UnmarshalJSON implements json.Unmarshaler: an object of reasons, or an
// array of sampled values (strings; anything else is skipped).
func (ms *metaSamples) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	out := metaSamples{}
	switch {
	case bytes.Equal(b, []byte("null")):
	case len(b) > 0 && b[0] == '[':
		var vs []json.RawMessage
		if err := json.Unmarshal(b, &vs); err != nil {
			return fmt.Errorf("invalid_entry_samples: %w", err)
		}
		for _, v := range vs {
			var s string
			if json.Unmarshal(v, &s) == nil && s != "" {
				out[s] = "invalid entry (Meta gave no reason)"
			}
		}
	default:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("invalid_entry_samples: %w", err)
		}
		for k, v := range m {
			var why string
			if json.Unmarshal(v, &why) != nil || why == "" {
				why = "invalid entry"
			}
			out[k] = why
		}
	}
	*ms = out
	return nil
}

// metaGraphError is the Graph API's error object.
type metaGraphError struct {
	Message        string `json:"message"`
	Type           string `json:"type"`
	Code           int    `json:"code"`
	ErrorSubcode   int    `json:"error_subcode"`
	ErrorUserTitle string `json:"error_user_title"`
}

// metaAnswer is the reply: counts, samples of invalid entries, or an error.
type metaAnswer struct {
	NumReceived         int             `json:"num_received"`
	NumInvalidEntries   int             `json:"num_invalid_entries"`
	InvalidEntrySamples metaSamples     `json:"invalid_entry_samples"`
	Error               *metaGraphError `json:"error"`
}

// Graph error codes and subcodes the connector tells apart.
const (
	// metaSubcodeUploadBlocked: code 100, "Audience Upload Blocked" — the
	// audience is flagged (operation_status 471) until appealed.
	metaSubcodeUploadBlocked = 1713230
	// metaSubcodeNoObject: code 100, "Unsupported post request. Object
	// with ID … does not exist" — an unknown or inaccessible audience.
	metaSubcodeNoObject = 33
)

// metaErrorKind classifies a Graph API error, which Meta returns with
// HTTP 400 even for throttling. 4, 17, 32, 613, 80003 and 80004 are rate
// limits and 1, 2 transient service errors (try again later). Meta names
// bad records only as invalid entries of a 200, so a refusal is split only
// when it can be about content: code 100 without a request-level subcode or
// message (upload blocked, unknown audience, appsecret_proof, session,
// schema, is_raw). Everything else — 190 token, 200/10/294 permissions,
// 2650 audience update failed, 2655/2663 terms of service not accepted,
// 368 blocked as abusive — will not fix itself and must not cost thousands
// of bisected calls: Permanent.
func metaErrorKind(e *metaGraphError) delivery.Kind {
	switch e.Code {
	case 1, 2, 4, 17, 32, 613, 80003, 80004:
		return delivery.Temporary
	case 100:
		if e.ErrorSubcode == metaSubcodeUploadBlocked || e.ErrorSubcode == metaSubcodeNoObject || metaSessionError(e) {
			return delivery.Permanent
		}
		msg := strings.ToLower(e.Message)
		for _, w := range []string{"appsecret_proof", "is_raw", "schema", "does not exist", "access token"} {
			if strings.Contains(msg, w) {
				return delivery.Permanent
			}
		}
		return delivery.Rejected
	}
	return delivery.Permanent
}

// metaSessionError says whether Meta refused the upload session (closed,
// reused, or batch_seq out of order) rather than the data. The reference
// gives no subcode for it, so the message is read.
func metaSessionError(e *metaGraphError) bool {
	return e.Code == 100 && strings.Contains(strings.ToLower(e.Message), "session")
}

// appSecretProof is Meta's appsecret_proof: the hex HMAC-SHA256 of the
// access token keyed by the app secret.
func appSecretProof(token, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// Send implements delivery.Connector. A request whose session Meta refuses
// (already closed by an earlier send whose answer was lost, say) is sent
// once more under a fresh session and idempotency key: adding or removing
// a member twice leaves the audience the same.
func (mt *Meta) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	res, a, err := mt.send(ctx, r, r.Body, r.Key)
	var de *delivery.Error
	if err == nil || !errors.As(err, &de) || a.Error == nil || !metaSessionError(a.Error) {
		return res, err
	}
	var body metaBody
	if json.Unmarshal(r.Body, &body) != nil {
		return res, err
	}
	key := r.Key + "/session2"
	body.Session = oneSession(key, len(body.Payload.Data))
	raw, merr := marshal(body)
	if merr != nil {
		return res, err
	}
	res2, _, err := mt.send(ctx, r, raw, key)
	res2.Attempts += res.Attempts
	res2.Retries += res.Retries
	return res2, err
}

// send makes one call of r with body under idempotency key and reads the
// answer.
func (mt *Meta) send(ctx context.Context, r delivery.Request, body []byte, key string) (delivery.Result, metaAnswer, error) {
	op := fmt.Sprintf("meta %s send %s", mt.cfg.Name, key)
	h := delivery.CloneHeader(r.Header)
	h.Set("Authorization", "Bearer "+mt.cfg.Token)
	u := delivery.JoinURL(mt.cfg.BaseURL, r.Path)
	if mt.cfg.AppSecret != "" {
		u += "?" + url.Values{"appsecret_proof": {appSecretProof(mt.cfg.Token, mt.cfg.AppSecret)}}.Encode()
	}
	resp, err := mt.client.Do(ctx, delivery.Call{Method: r.Method, URL: u, Header: h, Body: body, IdempotencyKey: key})
	res := delivery.Result{Status: resp.Status, Attempts: resp.Attempts, Retries: resp.Retries}
	var a metaAnswer
	if err != nil {
		return res, a, err
	}
	jsonErr := json.Unmarshal(resp.Body, &a)
	if resp.Status >= 400 && resp.Status < 500 && a.Error != nil && a.Error.Code != 0 {
		e := &delivery.Error{Kind: metaErrorKind(a.Error), Op: op, Status: resp.Status,
			Reason: fmt.Sprintf("(#%d/%d) %s", a.Error.Code, a.Error.ErrorSubcode, delivery.Excerpt([]byte(a.Error.Message), 200))}
		if a.Error.ErrorUserTitle != "" {
			e.Reason += " [" + a.Error.ErrorUserTitle + "]"
		}
		if e.Kind == delivery.Temporary {
			e.RetryAfter = delivery.StatusError(op, resp).RetryAfter
		}
		return res, a, e
	}
	if resp.Status != http.StatusOK {
		return res, a, delivery.StatusError(op, resp)
	}
	if jsonErr != nil {
		return res, a, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Err: fmt.Errorf("read answer: %w", jsonErr)}
	}
	var sent metaBody
	if err := json.Unmarshal(body, &sent); err != nil || len(sent.Payload.Data) != len(r.Members) {
		return res, a, &delivery.Error{Kind: delivery.Permanent, Op: op, Err: errors.New("request body does not hold one row per member")}
	}
	if a.NumReceived != len(sent.Payload.Data) {
		mt.cfg.Delivery.Logger.Warn().Str("destination", mt.cfg.Name).Str("key", key).Int64("session", sent.Session.SessionID).
			Int("sent", len(sent.Payload.Data)).Int("received", a.NumReceived).Msg("Meta received another number of rows than sent")
	}
	// Samples are keyed by an identifying value of the bad row; map them
	// back through the rows' EMAIL and PHONE hashes.
	refused := map[string]string{}
	if len(a.InvalidEntrySamples) > 0 {
		for i, row := range sent.Payload.Data {
			for _, v := range row[:min(2, len(row))] {
				if why, bad := a.InvalidEntrySamples[v]; bad && v != "" {
					refused[r.Members[i]] = why
				}
			}
		}
	}
	if a.NumInvalidEntries > len(refused) {
		mt.cfg.Delivery.Logger.Warn().Str("destination", mt.cfg.Name).Str("key", key).Int("invalid", a.NumInvalidEntries).
			Int("identified", len(refused)).Msg("Meta reported invalid entries it did not sample; they count as accepted")
	}
	for _, k := range r.Members {
		if why, bad := refused[k]; bad {
			res.Rejected = append(res.Rejected, delivery.Rejection{Key: k, Reason: why})
		} else {
			res.Accepted = append(res.Accepted, k)
		}
	}
	return res, a, nil
}
