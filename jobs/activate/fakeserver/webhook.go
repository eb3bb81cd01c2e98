package fakeserver

import (
	"encoding/json"
	"net/http"
)

// The webhook receiver contract (what jobs/activate/webhook sends):
//
//	POST /webhook/{name}
//	X-Parcours-Signature: sha256=<hex HMAC-SHA256 of the body>
//	{"destination","segment","date","op","batch","members":[{"key",…}]}
//
// 200 {"accepted":[keys],"rejected":[{"key","reason"}]} applies the
// accepted members; 400 {"error","rejected":[…]} refuses the whole batch,
// naming the bad records when it can.
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
