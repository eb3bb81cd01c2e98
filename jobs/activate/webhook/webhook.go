// Package webhook pushes segment batches to an HTTP endpoint the customer
// runs, as JSON signed the Standard Webhooks way (signature.go):
//
//	POST <url>
//	Content-Type: application/json
//	Idempotency-Key: <destination>/<segment>/<date>/<op>/<batch>[/pN]
//	webhook-id: msg_<32 hex: SHA-256 of the idempotency key>
//	webhook-timestamp: <unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
//	{"destination":…,"segment":…,"date":…,"op":"upsert"|"remove","batch":N,
//	 "members":[{"key":…,"email":…,"phone":…,"first_name":…,…,"attributes":{…}}]}
//
// Encode writes no signature: a plan is sent later, and a signature made at
// plan time would be past the receiver's 5-minute window. Send signs each
// attempt with its own timestamp.
//
// The receiver answers 2xx, optionally with {"rejected":[{"key","reason"}]}
// for records it refused (the others count as accepted), or 400/422 with
// {"error":…,"rejected":[…]} to refuse the whole batch, naming the bad
// records if it can (parcours then re-sends the rest, or bisects).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// DefaultBatchSize is the members per request when Config.BatchSize is 0.
const DefaultBatchSize = 1000

// DefaultMaxRequestBytes caps a request body when Config.MaxRequestBytes
// is 0: 1 MiB, under the usual default body limits of receivers' proxies
// and frameworks, and about 6,000 typical members.
const DefaultMaxRequestBytes = 1 << 20

// legacySignatureHeader is the body-only HMAC earlier versions wrote into
// plans. It is no longer sent (it can be replayed forever); Send drops it
// from plans written before.
const legacySignatureHeader = "X-Parcours-Signature"

// Config is one webhook destination.
type Config struct {
	Name string
	// URL is the endpoint batches are POSTed to.
	URL string
	// Secret keys the HMAC signature (from the environment, never the
	// config file): "whsec_" + base64 as Standard Webhooks issues them, or
	// any other string used as its own bytes (see Key).
	Secret string
	// BatchSize caps members per request; a larger batch is sent in parts.
	BatchSize int
	// MaxRequestBytes caps a request body (default DefaultMaxRequestBytes):
	// Encode cuts parts by bytes as well as by BatchSize, and skips a
	// member that alone would exceed it.
	MaxRequestBytes int
	// Delivery tunes timeouts, retries and the request rate.
	Delivery delivery.Config
}

// Connector is a webhook destination.
type Connector struct {
	cfg    Config
	key    []byte
	client *delivery.Client
	// now stamps signatures (tests move it).
	now func() time.Time
}

// New validates cfg and builds the connector.
func New(cfg Config) (*Connector, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.URL == "" {
		errs = append(errs, errors.New("url is required"))
	}
	key, err := Key(cfg.Secret)
	if err != nil {
		errs = append(errs, fmt.Errorf("%w (receivers verify the signature)", err))
	}
	if cfg.BatchSize < 0 {
		errs = append(errs, errors.New("batch size must not be negative"))
	}
	if cfg.MaxRequestBytes < 0 {
		errs = append(errs, errors.New("max request bytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	return &Connector{cfg: cfg, key: key, client: client, now: time.Now}, nil
}

// Name implements delivery.Connector.
func (c *Connector) Name() string { return c.cfg.Name }

// RemoteID implements delivery.Connector: the receiver knows members by
// their pseudonymous key.
func (c *Connector) RemoteID(m delivery.Member) (string, error) {
	if m.Key == "" {
		return "", errors.New("webhook: member without key")
	}
	return m.Key, nil
}

// payload is the JSON body. Field order is fixed by the struct and map keys
// are sorted by encoding/json, so the bytes are deterministic.
type payload struct {
	Destination string   `json:"destination"`
	Segment     string   `json:"segment"`
	Date        string   `json:"date"`
	Op          string   `json:"op"`
	Batch       int      `json:"batch"`
	Members     []member `json:"members"`
}

type member struct {
	Key         string            `json:"key"`
	Email       string            `json:"email,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	FirstName   string            `json:"first_name,omitempty"`
	LastName    string            `json:"last_name,omitempty"`
	CountryCode string            `json:"country_code,omitempty"`
	PostalCode  string            `json:"postal_code,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// Encode implements delivery.Connector: requests of at most BatchSize
// members and MaxRequestBytes bytes, unsigned (Send signs). Removals carry
// only the key (and the email when known), since a receiver needs no more
// to drop a member. A member whose encoding alone exceeds the cap is
// skipped with a reason; the others are sent.
func (c *Connector) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("webhook %s: %w", c.cfg.Name, err)
	}
	if len(b.Members) == 0 {
		return nil, nil, nil
	}
	key := delivery.IdempotencyKey(b)
	// Each member is encoded once into raw; a body is the payload's head,
	// members joined by commas, and tail: the bytes json.Encoder gives
	// for the whole payload, so Subset's re-encoding matches.
	head, err := encode(payload{Destination: b.Destination, Segment: b.Segment, Date: b.Date, Op: b.Op, Batch: b.Number, Members: []member{}})
	if err != nil {
		return nil, nil, fmt.Errorf("webhook %s: encode %s: %w", c.cfg.Name, key, err)
	}
	const tail = "]}"
	head = head[:len(head)-len(tail)]
	raw := rawPool.Get().(*bytes.Buffer)
	defer rawPool.Put(raw)
	raw.Reset()
	enc := json.NewEncoder(raw)
	enc.SetEscapeHTML(false)
	ends := make([]int, len(b.Members))
	for j, m := range b.Members {
		if err := enc.Encode(wire(b.Op, m)); err != nil {
			return nil, nil, fmt.Errorf("webhook %s: encode %s member %d: %w", c.cfg.Name, key, j, err)
		}
		raw.Truncate(raw.Len() - 1) // the encoder's newline
		ends[j] = raw.Len()
	}
	all := raw.Bytes()
	span := func(j int) []byte {
		from := 0
		if j > 0 {
			from = ends[j-1]
		}
		return all[from:ends[j]]
	}
	var parts [][]int
	var skipped []delivery.Rejection
	var cur []int
	size := 0
	for j := range b.Members {
		n := len(span(j))
		if len(head)+n+len(tail) > c.cfg.MaxRequestBytes {
			skipped = append(skipped, delivery.Rejection{Key: b.Members[j].Key,
				Reason: fmt.Sprintf("member encodes to %d bytes, more than a request may carry (max_request_bytes %d)", n, c.cfg.MaxRequestBytes)})
			continue
		}
		if len(cur) > 0 && (len(cur) == c.cfg.BatchSize || size+1+n > c.cfg.MaxRequestBytes) {
			parts = append(parts, cur)
			cur = nil
		}
		if len(cur) == 0 {
			size = len(head) + len(tail) + n
		} else {
			size += 1 + n
		}
		cur = append(cur, j)
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}
	reqs := make([]delivery.Request, len(parts))
	for i, part := range parts {
		body := make([]byte, 0, len(head)+len(tail)+ends[part[len(part)-1]]-ends[part[0]]+len(span(part[0]))+len(part))
		body = append(body, head...)
		keys := make([]string, len(part))
		for k, j := range part {
			if k > 0 {
				body = append(body, ',')
			}
			body = append(body, span(j)...)
			keys[k] = b.Members[j].Key
		}
		body = append(body, tail...)
		reqs[i] = request(delivery.PartKey(key, i, len(parts)), body, keys)
	}
	return reqs, skipped, nil
}

// rawPool keeps Encode's scratch buffer between batches: bodies are
// copied out of it, and regrowing it per batch doubled Encode's garbage.
var rawPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// wire is what a member of op carries.
func wire(op string, m delivery.Member) member {
	if op == delivery.OpRemove {
		return member{Key: m.Key, Email: m.Email}
	}
	return member{Key: m.Key, Email: m.Email, Phone: m.Phone, FirstName: m.FirstName, LastName: m.LastName,
		CountryCode: m.CountryCode, PostalCode: m.PostalCode, Attributes: m.Attributes}
}

// encode is v as compact JSON, HTML characters unescaped, no newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func request(key string, body []byte, members []string) delivery.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return delivery.Request{Key: key, Method: http.MethodPost, Header: h, Body: body, Members: members}
}

// Subset implements delivery.Splitter: the same batch with fewer members
// (so within the byte cap), under the subset's key.
func (c *Connector) Subset(r delivery.Request, keys []string) (delivery.Request, error) {
	var p payload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return delivery.Request{}, fmt.Errorf("webhook %s: decode %s: %w", c.cfg.Name, r.Key, err)
	}
	kept, err := delivery.Keep(p.Members, func(m member) string { return m.Key }, keys)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("webhook %s: %s: %w", c.cfg.Name, r.Key, err)
	}
	p.Members = kept
	body, err := encode(p)
	if err != nil {
		return delivery.Request{}, fmt.Errorf("webhook %s: encode %s: %w", c.cfg.Name, r.Key, err)
	}
	sub := make([]string, len(kept))
	for i, m := range kept {
		sub[i] = m.Key
	}
	return request(delivery.SubsetKey(r.Key, keys), body, sub), nil
}

// answer is the receiver's reply, 2xx or 4xx.
type answer struct {
	Error    string               `json:"error"`
	Rejected []delivery.Rejection `json:"rejected"`
}

// Send implements delivery.Connector. Every attempt is signed as it goes
// out (webhook-timestamp is the attempt's time), under a webhook-id that
// stays the same across attempts and runs.
func (c *Connector) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("webhook %s send %s", c.cfg.Name, r.Key)
	h := delivery.CloneHeader(r.Header)
	// Signing is Send's alone: nothing from the plan file may pin a
	// timestamp or carry the old replayable signature.
	for _, k := range []string{legacySignatureHeader, HeaderID, HeaderTimestamp, HeaderSignature} {
		h.Del(k)
	}
	id := MessageID(r.Key)
	h.Set(HeaderID, id)
	resp, err := c.client.Do(ctx, delivery.Call{Method: r.Method, URL: delivery.JoinURL(c.cfg.URL, r.Path),
		Header: h, Body: r.Body, IdempotencyKey: r.Key, Prepare: func(h http.Header) {
			ts := c.now().Unix()
			h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
			h.Set(HeaderSignature, Sign(c.key, id, ts, r.Body))
		}})
	res := delivery.Result{Status: resp.Status, Attempts: resp.Attempts, Retries: resp.Retries}
	if err != nil {
		return res, err
	}
	var a answer
	if len(bytes.TrimSpace(resp.Body)) > 0 {
		// A receiver may answer 2xx with any body; only a JSON object
		// with "rejected" says something per record.
		_ = json.Unmarshal(resp.Body, &a)
	}
	inReq := make(map[string]bool, len(r.Members))
	for _, k := range r.Members {
		inReq[k] = true
	}
	switch {
	case resp.Status >= 200 && resp.Status < 300:
		refused := map[string]bool{}
		for _, rj := range a.Rejected {
			if inReq[rj.Key] && !refused[rj.Key] {
				refused[rj.Key] = true
				res.Rejected = append(res.Rejected, rj)
			}
		}
		for _, k := range r.Members {
			if !refused[k] {
				res.Accepted = append(res.Accepted, k)
			}
		}
		return res, nil
	case resp.Status == http.StatusBadRequest || resp.Status == http.StatusUnprocessableEntity:
		reason := a.Error
		if reason == "" {
			reason = delivery.Excerpt(resp.Body, 300)
		}
		return res, &delivery.Error{Kind: delivery.Rejected, Op: op, Status: resp.Status, Reason: reason, Bad: a.Rejected}
	}
	return res, delivery.StatusError(op, resp)
}
