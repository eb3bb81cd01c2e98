package fakeserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The webhook receiver contract (what jobs/activate/webhook sends):
//
//	POST /webhook/{name}
//	webhook-id: <message id, the same on every attempt>
//	webhook-timestamp: <unix seconds of the attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
//	{"destination","segment","date","op","batch","members":[{"key",…}]}
//
// A missing or wrong signature, or a timestamp more than 5 minutes from
// the server's clock (a replay, or a plan signed long before it was sent),
// is refused with 401; a webhook-id seen before is answered with the
// stored reply and not applied again (applyOnce). A body over
// Options.WebhookMaxBytes is refused with 413. Otherwise 200
// {"accepted":[keys],"rejected":[{"key","reason"}]} applies the accepted
// members; 400 {"error","rejected":[…]} refuses the whole batch, naming
// the bad records when it can.
//
// The check is written here from the specification rather than calling
// webhook.Verify, so the connector's signing is tested against an
// independent implementation (and webhook's tests can import this package).

// webhookTolerance is the Standard Webhooks replay window.
const webhookTolerance = 5 * time.Minute

// webhookAuth says why a webhook request is refused, "" when it is not.
// The reasons name no header value: they end up in client logs.
func (s *Server) webhookAuth(r *http.Request, body []byte) string {
	if s.opts.WebhookSecret == "" {
		return ""
	}
	key := []byte(s.opts.WebhookSecret)
	if rest, ok := strings.CutPrefix(s.opts.WebhookSecret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "server secret is not valid whsec_ base64"
		}
		key = k
	}
	id, ts, sigs := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "missing webhook-id, webhook-timestamp or webhook-signature"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "webhook-timestamp is not unix seconds"
	}
	now := time.Now
	if s.opts.Now != nil {
		now = s.opts.Now
	}
	if d := now().Sub(time.Unix(sec, 0)); d > webhookTolerance {
		return fmt.Sprintf("webhook-timestamp %v old: replay refused", d.Round(time.Second))
	} else if d < -webhookTolerance {
		return "webhook-timestamp in the future"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(sigs) {
		b64, ok := strings.CutPrefix(sig, "v1,")
		if !ok {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return ""
		}
	}
	return "bad webhook-signature"
}

type webhookBatch struct {
	Destination string          `json:"destination"`
	Segment     string          `json:"segment"`
	Date        string          `json:"date"`
	Op          string          `json:"op"`
	Batch       int             `json:"batch"`
	Members     []webhookMember `json:"members"`
}

type webhookMember struct {
	Key         string            `json:"key"`
	Email       string            `json:"email"`
	Phone       string            `json:"phone"`
	FirstName   string            `json:"first_name"`
	LastName    string            `json:"last_name"`
	CountryCode string            `json:"country_code"`
	PostalCode  string            `json:"postal_code"`
	Attributes  map[string]string `json:"attributes"`
}

type webhookRejection struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

func (s *Server) webhook(r *http.Request, body []byte) reply {
	if s.opts.WebhookMaxBytes > 0 && len(body) > s.opts.WebhookMaxBytes {
		return jsonReply(http.StatusRequestEntityTooLarge, map[string]string{
			"error": fmt.Sprintf("body of %d bytes over the %d-byte limit", len(body), s.opts.WebhookMaxBytes)})
	}
	var b webhookBatch
	if err := json.Unmarshal(body, &b); err != nil {
		return jsonReply(http.StatusBadRequest, map[string]string{"error": "malformed JSON: " + err.Error()})
	}
	if b.Destination != r.PathValue("name") || b.Segment == "" || (b.Op != "upsert" && b.Op != "remove") {
		return jsonReply(http.StatusBadRequest, map[string]string{"error": "destination, segment or op missing or wrong"})
	}
	var rejected []webhookRejection
	bad := map[string]bool{}
	for _, m := range b.Members {
		why, no := s.refused(true, m.Key, m.Email)
		if m.Key == "" {
			why, no = "missing key", true
		}
		if no {
			rejected = append(rejected, webhookRejection{Key: m.Key, Reason: why})
			bad[m.Key] = true
		}
	}
	if len(rejected) > 0 {
		switch s.faults.RejectMode {
		case WholeNamed:
			return jsonReply(http.StatusBadRequest, map[string]any{"error": "batch refused", "rejected": rejected})
		case WholeUnnamed:
			return jsonReply(http.StatusBadRequest, map[string]string{"error": "batch refused"})
		}
	}
	a := s.list(Webhook, b.Destination+"/"+b.Segment)
	accepted := []string{}
	for _, m := range b.Members {
		if bad[m.Key] {
			continue
		}
		if b.Op == "upsert" {
			f := map[string]string{"email": m.Email, "phone": m.Phone, "first_name": m.FirstName,
				"last_name": m.LastName, "country_code": m.CountryCode, "postal_code": m.PostalCode}
			for k, v := range m.Attributes {
				f["attr."+k] = v
			}
			a.put(m.Key, f)
		} else {
			a.remove(m.Key)
		}
		accepted = append(accepted, m.Key)
	}
	if rejected == nil {
		rejected = []webhookRejection{}
	}
	return jsonReply(http.StatusOK, map[string]any{"accepted": accepted, "rejected": rejected})
}
