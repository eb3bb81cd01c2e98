// Package webhook pushes segment batches to an HTTP endpoint the customer
// runs, as signed JSON:
//
//	POST <url>
//	Content-Type: application/json
//	Idempotency-Key: <destination>/<segment>/<date>/<op>/<batch>[/pN]
//	X-Parcours-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>
//	{"destination":…,"segment":…,"date":…,"op":"upsert"|"remove","batch":N,
//	 "members":[{"key":…,"email":…,"phone":…,"first_name":…,…,"attributes":{…}}]}
//
// The receiver answers 2xx, optionally with {"rejected":[{"key","reason"}]}
// for records it refused (the others count as accepted), or 400/422 with
// {"error":…,"rejected":[…]} to refuse the whole batch, naming the bad
// records if it can (parcours then re-sends the rest, or bisects).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// DefaultBatchSize is the members per request when Config.BatchSize is 0.
const DefaultBatchSize = 1000

// SignatureHeader carries the body's HMAC.
const SignatureHeader = "X-Parcours-Signature"

// Config is one webhook destination.
type Config struct {
	Name string
	// URL is the endpoint batches are POSTed to.
	URL string
	// Secret keys the HMAC signature (from the environment, never the
	// config file).
	Secret string
	// BatchSize caps members per request; a larger batch is sent in parts.
	BatchSize int
	// Delivery tunes timeouts, retries and the request rate.
	Delivery delivery.Config
}

// Connector is a webhook destination.
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
	if cfg.URL == "" {
		errs = append(errs, errors.New("url is required"))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("secret is required (receivers verify the signature)"))
	}
	if cfg.BatchSize < 0 {
		errs = append(errs, errors.New("batch size must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Delivery.Destination == "" {
		cfg.Delivery.Destination = cfg.Name
	}
	client, err := delivery.NewClient(cfg.Delivery)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	return &Connector{cfg: cfg, client: client}, nil
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

// Encode implements delivery.Connector: one signed request per BatchSize
// members. Removals carry only the key (and the email when known), since
// a receiver needs no more to drop a member.
func (c *Connector) Encode(b delivery.Batch) ([]delivery.Request, []delivery.Rejection, error) {
	if err := b.Validate(); err != nil {
		return nil, nil, fmt.Errorf("webhook %s: %w", c.cfg.Name, err)
	}
	chunks := delivery.Chunk(b.Members, c.cfg.BatchSize)
	key := delivery.IdempotencyKey(b)
	reqs := make([]delivery.Request, 0, len(chunks))
	for i, ch := range chunks {
		p := payload{Destination: b.Destination, Segment: b.Segment, Date: b.Date, Op: b.Op, Batch: b.Number,
			Members: make([]member, len(ch))}
		for j, m := range ch {
			if b.Op == delivery.OpRemove {
				p.Members[j] = member{Key: m.Key, Email: m.Email}
				continue
			}
			p.Members[j] = member{Key: m.Key, Email: m.Email, Phone: m.Phone, FirstName: m.FirstName, LastName: m.LastName,
				CountryCode: m.CountryCode, PostalCode: m.PostalCode, Attributes: m.Attributes}
		}
		r, err := c.request(delivery.PartKey(key, i, len(chunks)), p)
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	return reqs, nil, nil
}

func (c *Connector) request(key string, p payload) (delivery.Request, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return delivery.Request{}, fmt.Errorf("webhook %s: encode %s: %w", c.cfg.Name, key, err)
	}
	body := bytes.TrimRight(buf.Bytes(), "\n")
	keys := make([]string, len(p.Members))
	for i, m := range p.Members {
		keys[i] = m.Key
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(SignatureHeader, Sign([]byte(c.cfg.Secret), body))
	return delivery.Request{Key: key, Method: http.MethodPost, Header: h, Body: body, Members: keys}, nil
}

// Sign is the signature header value of body: "sha256=" and the hex
// HMAC-SHA256 under secret. Receivers recompute it over the raw body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Subset implements delivery.Splitter: the same batch with fewer members,
// signed again.
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
	return c.request(delivery.SubsetKey(r.Key, keys), p)
}

// answer is the receiver's reply, 2xx or 4xx.
type answer struct {
	Error    string               `json:"error"`
	Rejected []delivery.Rejection `json:"rejected"`
}

// Send implements delivery.Connector.
func (c *Connector) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	op := fmt.Sprintf("webhook %s send %s", c.cfg.Name, r.Key)
	resp, err := c.client.Do(ctx, delivery.Call{Method: r.Method, URL: delivery.JoinURL(c.cfg.URL, r.Path),
		Header: r.Header, Body: r.Body, IdempotencyKey: r.Key})
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
