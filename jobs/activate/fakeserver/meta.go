package fakeserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Meta Marketing API, Customer File Custom Audiences:
//
//	POST   /meta/{ver}/{audience_id}/users   add
//	DELETE /meta/{ver}/{audience_id}/users   remove
//	{"payload":{"schema":["EMAIL","PHONE",…],"is_raw":true,"data":[[hash,hash,…],…]},
//	 "session":{"session_id":…,"batch_seq":…,"last_batch_flag":…,"estimated_num_total":…}}
//	-> {"audience_id","session_id","num_received","num_invalid_entries","invalid_entry_samples"}
//
// Sources: the Marketing API reference "Custom Audience Users"
// (developers.facebook.com/docs/marketing-api/reference/custom-audience/users,
// "Updating" parameters, "Return Type" and "Error Codes"), the guide
// "Customer File Custom Audiences" (…/audiences/guides/custom-audiences),
// and "Securing Graph API Requests" (…/graph-api/guides/secure-requests).
// Errors come as {"error":{"message","type","code","error_subcode","fbtrace_id"}}
// with HTTP 400; Meta never names the record that broke a whole request.
type metaBody struct {
	Payload struct {
		Schema []string   `json:"schema"`
		IsRaw  bool       `json:"is_raw"`
		Data   [][]string `json:"data"`
	} `json:"payload"`
	Session *struct {
		SessionID     int64 `json:"session_id"`
		BatchSeq      int   `json:"batch_seq"`
		LastBatchFlag bool  `json:"last_batch_flag"`
	} `json:"session"`
}

// MetaSamples is the form invalid_entry_samples takes in a reply.
type MetaSamples string

// Sample forms.
const (
	// MetaSamplesMap is the documented form ("Return Type":
	// invalid_entry_samples: Map {string: string}), value -> reason.
	MetaSamplesMap MetaSamples = ""
	// MetaSamplesArray lists the sampled values without reasons, the form
	// an empty or reason-less sample set takes on the wire ([] is how an
	// empty map serialises).
	MetaSamplesArray MetaSamples = "array"
)

// MetaRefusal is a request-level error every Meta call gets while set.
type MetaRefusal string

// Request-level refusals, each as Meta words it.
const (
	MetaAccept MetaRefusal = ""
	// MetaUploadBlocked: "Flagged custom and lookalike audiences" in the
	// Users reference: code 100, subcode 1713230, "Audience Upload Blocked".
	MetaUploadBlocked MetaRefusal = "upload_blocked"
	// MetaTermsNotAccepted: the Custom Audience terms of service are not
	// accepted for the ad account (code 2663, "Terms of service has not
	// been accepted").
	MetaTermsNotAccepted MetaRefusal = "terms_not_accepted"
	// MetaUpdateFailed: Users reference "Error Codes", 2650 "Failed to
	// update the custom audience".
	MetaUpdateFailed MetaRefusal = "update_failed"
	// MetaNoPermission: Users reference "Error Codes", 200 "Permissions
	// error".
	MetaNoPermission MetaRefusal = "permission"
	// MetaUnknownAudience: Graph's "Unsupported post request. Object with
	// ID … does not exist" (code 100, subcode 33).
	MetaUnknownAudience MetaRefusal = "unknown_audience"
)

// MetaOptions tunes the Meta emulation; the zero value is Meta's
// documented behaviour.
type MetaOptions struct {
	Samples MetaSamples
	Refuse  MetaRefusal
}

// metaState is the Meta emulation's part of a Server, under s.mu.
type metaState struct {
	opts MetaOptions
	// sessions are the upload sessions seen, by audience and session id.
	sessions map[string]*metaUpload
}

// metaUpload is one upload session.
type metaUpload struct {
	lastSeq int
	closed  bool
}

// SetMeta sets the Meta emulation's options.
func (s *Server) SetMeta(o MetaOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta.opts = o
}

// metaKnown says whether a multi-key schema field is one Meta knows
// (Users reference, payload.schema "Supported key types").
func metaKnown(field string) bool {
	return slices.Contains([]string{"EMAIL", "PHONE", "GEN", "DOBY", "DOBM", "DOBD", "LN", "FN", "FI", "CT", "ST", "ZIP", "MADID", "COUNTRY", "EXTERN_ID"}, field)
}

func metaErr(code, subcode int, typ, msg, title string) reply {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AfakeTrace"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if title != "" {
		e["error_user_title"] = title
	}
	return jsonReply(http.StatusBadRequest, map[string]any{"error": e})
}

// metaUnauthorized answers a token error with 401, as Graph does for an
// OAuthException on a bad or missing token (the body stays Graph's).
func metaUnauthorized(rep reply) reply { rep.status = http.StatusUnauthorized; return rep }

func metaError(code int, msg string) reply { return metaErr(code, 0, "OAuthException", msg, "") }

// metaAuth checks the access token (Authorization: Bearer, or the
// access_token parameter) and, when the server has an app secret, the
// appsecret_proof parameter ("Securing Graph API Requests": the hex
// HMAC-SHA256 of the access token keyed by the app secret). It reports
// whether it refused the call. It runs before idempotency: Meta checks
// credentials on every call.
func (s *Server) metaAuth(r *http.Request) (reply, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = r.URL.Query().Get("access_token")
	}
	if token == "" {
		// Graph API: a call without a token is an OAuthException, code 2500
		// "An active access token must be used".
		return metaUnauthorized(metaError(2500, "An active access token must be used to query information about the current user.")), true
	}
	if s.opts.Token != "" && token != s.opts.Token {
		// Users reference / Graph errors: 190 "Invalid OAuth 2.0 Access Token".
		return metaUnauthorized(metaError(190, "Invalid OAuth access token - Cannot parse access token")), true
	}
	if s.opts.MetaAppSecret == "" {
		return reply{}, false
	}
	proof := r.URL.Query().Get("appsecret_proof")
	if proof == "" {
		// "Securing Graph API Requests", Require App Secret: calls without a
		// proof fail.
		return metaErr(100, 0, "GraphMethodException", "API calls from the server require an appsecret_proof argument", ""), true
	}
	mac := hmac.New(sha256.New, []byte(s.opts.MetaAppSecret))
	mac.Write([]byte(token))
	if !hmac.Equal([]byte(proof), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return metaErr(100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument", ""), true
	}
	return reply{}, false
}

// metaRefusal is the request-level error o.Refuse stands for.
func metaRefusal(f MetaRefusal, audience string) (reply, bool) {
	switch f {
	case MetaUploadBlocked:
		return metaErr(100, 1713230, "OAuthException", "Invalid parameter", "Audience Upload Blocked"), true
	case MetaTermsNotAccepted:
		return metaErr(2663, 0, "OAuthException", "Terms of service has not been accepted. To accept, go to https://www.facebook.com/customaudiences/app/tos/", ""), true
	case MetaUpdateFailed:
		return metaErr(2650, 0, "OAuthException", "Failed to update the custom audience", ""), true
	case MetaNoPermission:
		return metaErr(200, 0, "OAuthException", "(#200) Permissions error", ""), true
	case MetaUnknownAudience:
		return metaErr(100, 33, "GraphMethodException", "Unsupported post request. Object with ID '"+audience+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation", ""), true
	}
	return reply{}, false
}

func (s *Server) metaUsers(r *http.Request, body []byte) reply {
	audienceID := r.PathValue("audience")
	if rep, bad := metaRefusal(s.meta.opts.Refuse, audienceID); bad {
		return rep
	}
	var b metaBody
	if err := json.Unmarshal(body, &b); err != nil {
		return metaError(100, "(#100) malformed payload: "+err.Error())
	}
	schema := b.Payload.Schema
	if len(schema) == 0 || len(b.Payload.Data) == 0 || len(b.Payload.Data) > 10000 {
		// Users reference: "only a maximum of 10000 at a time".
		return metaError(100, "(#100) payload needs a schema and 1 to 10000 rows")
	}
	for _, f := range schema {
		if !metaKnown(f) {
			return metaError(100, "(#100) unknown schema field "+f)
		}
	}
	if len(schema) > 1 && !b.Payload.IsRaw {
		// Users reference, payload.is_raw: "If the keys are combinational
		// keys like LN_FN_ZIP, set this to false, otherwise set this to
		// true. Default to false": without it, a multi-key schema is read
		// as one combinational key, which ours is not.
		return metaError(100, "(#100) is_raw must be true for a multi-key schema of single keys")
	}
	// Custom Audiences guide, "session … Required": track each batch of
	// an upload; the session reference (custom-audience-session) counts
	// num_received per session.
	if b.Session == nil || b.Session.SessionID <= 0 {
		return metaError(100, "(#100) session with a positive session_id is required")
	}
	if s.meta.sessions == nil {
		s.meta.sessions = map[string]*metaUpload{}
	}
	skey := fmt.Sprintf("%s|%d", audienceID, b.Session.SessionID)
	up := s.meta.sessions[skey]
	switch {
	case up == nil && b.Session.BatchSeq != 1:
		return metaError(100, fmt.Sprintf("(#100) session %d: batch_seq must start at 1, got %d", b.Session.SessionID, b.Session.BatchSeq))
	case up != nil && up.closed:
		return metaError(100, fmt.Sprintf("(#100) session %d already finished (last_batch_flag was sent)", b.Session.SessionID))
	case up != nil && b.Session.BatchSeq != up.lastSeq+1:
		return metaError(100, fmt.Sprintf("(#100) session %d: batch_seq %d out of sequence after %d", b.Session.SessionID, b.Session.BatchSeq, up.lastSeq))
	}
	col := func(name string) int { return slices.Index(schema, name) }
	em, ph := col("EMAIL"), col("PHONE")
	invalid := map[string]string{}
	var sampled []string
	bad := make([]bool, len(b.Payload.Data))
	for i, row := range b.Payload.Data {
		why := ""
		switch {
		case len(row) != len(schema):
			why = "row length differs from schema"
		case (em < 0 || row[em] == "") && (ph < 0 || row[ph] == ""):
			why = "no EMAIL or PHONE"
		}
		for _, v := range row {
			if why == "" && v != "" && !isLowerHex64(v) {
				why = "value not SHA-256 hashed"
			}
		}
		if why == "" {
			why, _ = s.refused(false, row...)
		}
		if why != "" {
			bad[i] = true
			key := strings.Join(row, ",")
			for _, v := range row {
				if v != "" {
					key = v
					break
				}
			}
			invalid[key] = why
			sampled = append(sampled, key)
		}
	}
	if len(invalid) > 0 && s.faults.RejectMode != PerRecord {
		return metaError(100, "(#100) Invalid parameter: the payload holds invalid entries")
	}
	if up == nil {
		up = &metaUpload{}
		s.meta.sessions[skey] = up
	}
	up.lastSeq = b.Session.BatchSeq
	up.closed = b.Session.LastBatchFlag
	a := s.list(Meta, audienceID)
	for i, row := range b.Payload.Data {
		if bad[i] {
			continue
		}
		id := ""
		if em >= 0 && row[em] != "" {
			id = "em:" + row[em]
		} else {
			id = "ph:" + row[ph]
		}
		if r.Method == http.MethodDelete {
			for k, e := range a.entries {
				if k == id || (em >= 0 && row[em] != "" && e.Fields["EMAIL"] == row[em]) || (ph >= 0 && row[ph] != "" && e.Fields["PHONE"] == row[ph]) {
					a.remove(k)
				}
			}
			continue
		}
		f := map[string]string{}
		for j, name := range schema {
			f[name] = row[j]
		}
		a.put(id, f)
	}
	// Users reference, "Return Type": session_id is a numeric string,
	// num_received and num_invalid_entries int32.
	var samples any = invalid
	if s.meta.opts.Samples == MetaSamplesArray {
		if sampled == nil {
			sampled = []string{}
		}
		samples = sampled
	}
	return jsonReply(http.StatusOK, map[string]any{
		"audience_id": audienceID, "session_id": fmt.Sprint(b.Session.SessionID),
		"num_received": len(b.Payload.Data), "num_invalid_entries": len(invalid), "invalid_entry_samples": samples,
	})
}
