package adaudience

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// MetaConfig is one Meta customer-list Custom Audience.
type MetaConfig struct {
	Name string
	// BaseURL is the Graph API root (https://graph.facebook.com).
	BaseURL string
	// APIVersion is the path version (default v21.0).
	APIVersion string
	// AudienceID is the Custom Audience.
	AudienceID string
	// Token is the access token, sent as a bearer token.
	Token string
	// DefaultCountry reads phone numbers of members without a country.
	DefaultCountry string
	// MaxPerRequest caps rows per request (at most 10,000).
	MaxPerRequest int
	Delivery      delivery.Config
}

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
		cfg.APIVersion = "v21.0"
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
	country := phoneCountry(m.CountryCode, mt.cfg.DefaultCountry)
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
	secondary(2, m.FirstName, normalize.MetaName)
	secondary(3, m.LastName, normalize.MetaName)
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

// The request body of /{audience_id}/users.
type (
	metaSession struct {
		SessionID         int64 `json:"session_id"`
		BatchSeq          int   `json:"batch_seq"`
		LastBatchFlag     bool  `json:"last_batch_flag"`
		EstimatedNumTotal int   `json:"estimated_num_total"`
	}
	metaPayload struct {
		Schema []string   `json:"schema"`
		Data   [][]string `json:"data"`
	}
	metaBody struct {
		Payload metaPayload `json:"payload"`
		Session metaSession `json:"session"`
	}
)

// sessionID derives a batch's upload session from its key: stable across
// plan and apply, distinct between batches.
func sessionID(batchKey string) int64 {
	h := sha256.Sum256([]byte(batchKey))
	return int64(binary.BigEndian.Uint64(h[:8]) >> 1)
}

// Encode implements delivery.Connector: rows of hashed fields, at most
// MaxPerRequest per request, the requests of one batch forming one upload
// session (batch_seq, last_batch_flag).
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
		body := metaBody{Payload: metaPayload{Schema: metaSchema(), Data: rows[lo:hi]},
			Session: metaSession{SessionID: sessionID(key), BatchSeq: i + 1, LastBatchFlag: i == n-1, EstimatedNumTotal: len(rows)}}
		r, err := mt.request(delivery.PartKey(key, i, n), method, body, keys[lo:hi])
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
// the same upload session.
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
	return mt.request(delivery.SubsetKey(r.Key, keys), r.Method, body, members)
}

// metaAnswer is the reply: counts, samples of invalid entries, or an error.
type metaAnswer struct {
	NumReceived         int               `json:"num_received"`
	NumInvalidEntries   int               `json:"num_invalid_entries"`
	InvalidEntrySamples map[string]string `json:"invalid_entry_samples"`
	Error               *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
	} `json:"error"`
}

// metaErrorKind classifies Graph API error codes, which Meta returns with
// HTTP 400 even for throttling: 4, 17, 32, 613 and 80003 are rate limits
// (try again later); 1 and 2 are transient service errors; 190 (token) and
// 200 (permission) will not fix themselves; 100 (invalid parameter) is the
// payload's content, so the request is split to find the bad rows.
func metaErrorKind(code int) delivery.Kind {
	switch code {
	case 1, 2, 4, 17, 32, 613, 80003:
		return delivery.Temporary
	case 100:
		return delivery.Rejected
	}
	return delivery.Permanent
}

// Send implements delivery.Connector.
func (mt *Meta) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("meta %s send %s", mt.cfg.Name, r.Key)
	h := delivery.CloneHeader(r.Header)
	h.Set("Authorization", "Bearer "+mt.cfg.Token)
	resp, err := mt.client.Do(ctx, delivery.Call{Method: r.Method, URL: delivery.JoinURL(mt.cfg.BaseURL, r.Path),
		Header: h, Body: r.Body, IdempotencyKey: r.Key})
	res := delivery.Result{Status: resp.Status, Attempts: resp.Attempts, Retries: resp.Retries}
	if err != nil {
		return res, err
	}
	var a metaAnswer
	jsonErr := json.Unmarshal(resp.Body, &a)
	if resp.Status == http.StatusBadRequest && a.Error != nil {
		return res, &delivery.Error{Kind: metaErrorKind(a.Error.Code), Op: op, Status: resp.Status,
			Reason: fmt.Sprintf("(#%d/%d) %s", a.Error.Code, a.Error.ErrorSubcode, a.Error.Message)}
	}
	if resp.Status != http.StatusOK {
		return res, delivery.StatusError(op, resp)
	}
	if jsonErr != nil {
		return res, &delivery.Error{Kind: delivery.Temporary, Op: op, Status: resp.Status, Err: fmt.Errorf("read answer: %w", jsonErr)}
	}
	// Samples are keyed by an identifying value of the bad row; map them
	// back through the rows' EMAIL and PHONE hashes.
	refused := map[string]string{}
	if len(a.InvalidEntrySamples) > 0 {
		var body metaBody
		if err := json.Unmarshal(r.Body, &body); err == nil && len(body.Payload.Data) == len(r.Members) {
			for i, row := range body.Payload.Data {
				for _, v := range row[:2] {
					if why, bad := a.InvalidEntrySamples[v]; bad && v != "" {
						refused[r.Members[i]] = why
					}
				}
			}
		}
	}
	if a.NumInvalidEntries > len(refused) {
		mt.cfg.Delivery.Logger.Warn().Str("destination", mt.cfg.Name).Str("key", r.Key).Int("invalid", a.NumInvalidEntries).
			Int("identified", len(refused)).Msg("Meta reported invalid entries it did not sample; they count as accepted")
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
