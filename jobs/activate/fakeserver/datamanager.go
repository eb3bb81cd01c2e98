package fakeserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DataManager is Google's Data Manager API
// (https://developers.google.com/data-manager/api), REST form:
//
//	POST /datamanager/{ver}/audienceMembers:ingest  -> {"requestId": …}
//	POST /datamanager/{ver}/audienceMembers:remove  -> {"requestId": …}
//	GET  /datamanager/{ver}/requestStatus:retrieve?requestId=… -> {"requestStatusPerDestination":[…]}
//
// Audiences are named "customers/{operating account}/userLists/{productDestinationId}".
const DataManager Platform = "datamanager"

// dataManager is the emulated API's state (under Server.mu).
type dataManager struct {
	// lists, when set, are the only user lists that exist; otherwise
	// every list does.
	lists map[string]bool
	// status is what processing ends in for the next uploads
	// (SUCCESS unless a test says otherwise), and why.
	status, statusReason string
	requests             map[string]dmRequestStatus
	seq                  int
}

type dmRequestStatus struct {
	destination dmDestination
	status      string
	reason      string
	records     int
	removal     bool
}

// SetDataManagerLists makes only these user lists exist
// ("customers/1/userLists/2"); an upload to another is refused.
func (s *Server) SetDataManagerLists(lists ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dm.lists = map[string]bool{}
	for _, l := range lists {
		s.dm.lists[l] = true
	}
}

// SetDataManagerProcessing sets what processing of the next uploads ends
// in: "SUCCESS" (default), "PROCESSING" (applied, not finished),
// "PARTIAL_SUCCESS" (applied, errors counted), or "FAILURE" (nothing
// applied), with reason the ProcessingErrorReason reported.
func (s *Server) SetDataManagerProcessing(status, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dm.status, s.dm.statusReason = status, reason
}

type (
	dmAccount struct {
		AccountType string `json:"accountType"`
		AccountID   string `json:"accountId"`
	}
	dmDestination struct {
		OperatingAccount     dmAccount  `json:"operatingAccount"`
		LoginAccount         *dmAccount `json:"loginAccount,omitempty"`
		LinkedAccount        *dmAccount `json:"linkedAccount,omitempty"`
		ProductDestinationID string     `json:"productDestinationId"`
	}
	dmIdentifier struct {
		EmailAddress string `json:"emailAddress"`
		PhoneNumber  string `json:"phoneNumber"`
		Address      *struct {
			GivenName  string `json:"givenName"`
			FamilyName string `json:"familyName"`
			RegionCode string `json:"regionCode"`
			PostalCode string `json:"postalCode"`
		} `json:"address"`
	}
	dmMember struct {
		UserData *struct {
			UserIdentifiers []dmIdentifier `json:"userIdentifiers"`
		} `json:"userData"`
		Consent *struct {
			AdUserData        string `json:"adUserData"`
			AdPersonalization string `json:"adPersonalization"`
		} `json:"consent"`
	}
	dmBody struct {
		Destinations    []dmDestination `json:"destinations"`
		AudienceMembers []dmMember      `json:"audienceMembers"`
		Consent         *struct {
			AdUserData        string `json:"adUserData"`
			AdPersonalization string `json:"adPersonalization"`
		} `json:"consent"`
		ValidateOnly   bool   `json:"validateOnly"`
		Encoding       string `json:"encoding"`
		TermsOfService *struct {
			CustomerMatchTermsOfServiceStatus string `json:"customerMatchTermsOfServiceStatus"`
		} `json:"termsOfService"`
	}
	dmViolation struct {
		Field       string `json:"field"`
		Description string `json:"description,omitempty"`
		Reason      string `json:"reason"`
	}
)

// dmError is the standard error body ("Understand API errors"): HTTP and
// canonical status, an ErrorInfo with the ErrorReason, and a BadRequest
// whose fieldViolations locate the fault, as in the quickstart's example
// `"field":"audience_members.audience_members[0].user_data.user_identifiers"`.
func dmError(status int, canonical, reason, message string, violations []dmViolation) reply {
	details := []map[string]any{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "datamanager.googleapis.com"}}
	if len(violations) > 0 {
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations})
	}
	return jsonReply(status, map[string]any{"error": map[string]any{"code": status, "status": canonical, "message": message, "details": details}})
}

func dmInvalid(reason, message string, violations ...dmViolation) reply {
	return dmError(http.StatusBadRequest, "INVALID_ARGUMENT", reason, message, violations)
}

func (s *Server) dataManagerIngest(r *http.Request, body []byte) reply {
	return s.dataManagerUpload(body, false)
}

func (s *Server) dataManagerRemove(r *http.Request, body []byte) reply {
	return s.dataManagerUpload(body, true)
}

func (s *Server) dataManagerUpload(body []byte, removal bool) reply {
	var b dmBody
	if err := json.Unmarshal(body, &b); err != nil {
		return dmInvalid("INVALID_ARGUMENT", "Invalid JSON payload received.")
	}
	// Request-level checks: nothing is applied, no member is at fault.
	// audienceMembers:ingest "Request body": destinations required.
	if len(b.Destinations) == 0 {
		return dmInvalid("REQUIRED_FIELD_MISSING", "There was a problem with the request.", dmViolation{Field: "destinations", Reason: "REQUIRED_FIELD_MISSING"})
	}
	// ErrorReason TOO_MANY_DESTINATIONS: at most 10 per request.
	if len(b.Destinations) > 10 {
		return dmInvalid("TOO_MANY_DESTINATIONS", "There was a problem with the request.")
	}
	// audienceMembers[]: "At most 10000 AudienceMember resources can be
	// sent in a single request" (ErrorReason TOO_MANY_AUDIENCE_MEMBERS).
	if len(b.AudienceMembers) > 10000 {
		return dmInvalid("TOO_MANY_AUDIENCE_MEMBERS", "There was a problem with the request.", dmViolation{Field: "audience_members", Reason: "TOO_MANY_AUDIENCE_MEMBERS"})
	}
	// encoding: "Required for UserData uploads"; this fake takes HEX, the
	// encoding the connector declares.
	if b.Encoding != "HEX" {
		return dmInvalid("INVALID_ARGUMENT", "There was a problem with the request.", dmViolation{Field: "encoding", Reason: "INVALID_ENUM_VALUE"})
	}
	lists := make([]string, len(b.Destinations))
	for i, d := range b.Destinations {
		field := fmt.Sprintf("destinations[%d]", i)
		// Destination / ProductAccount: operatingAccount and
		// productDestinationId required; accountId digits for GOOGLE_ADS.
		if d.OperatingAccount.AccountType != "GOOGLE_ADS" || !isDigits(d.OperatingAccount.AccountID) || !isDigits(d.ProductDestinationID) {
			return dmInvalid("INVALID_DESTINATION", "This Destination is not valid.", dmViolation{Field: field, Reason: "INVALID_DESTINATION"})
		}
		lists[i] = "customers/" + d.OperatingAccount.AccountID + "/userLists/" + d.ProductDestinationID
		// ErrorReason INVALID_USER_LIST_ID "User list is not valid."
		if s.dm.lists != nil && !s.dm.lists[lists[i]] {
			return dmInvalid("INVALID_USER_LIST_ID", "User list is not valid.", dmViolation{Field: field + ".product_destination_id", Reason: "INVALID_USER_LIST_ID"})
		}
	}
	// Customer Match upload guide: termsOfService with
	// customerMatchTermsOfServiceStatus ACCEPTED (ErrorReason
	// TERMS_AND_CONDITIONS_NOT_SIGNED). Removal has no such field.
	if !removal && (b.TermsOfService == nil || b.TermsOfService.CustomerMatchTermsOfServiceStatus != "ACCEPTED") {
		return dmError(http.StatusBadRequest, "FAILED_PRECONDITION", "TERMS_AND_CONDITIONS_NOT_SIGNED", "Required terms and conditions are not accepted.", nil)
	}
	// Member-level checks, reported by index as BadRequest field
	// violations; the request is refused as a whole (the synchronous
	// call has no partial success: a refused request applies nothing).
	var violations []dmViolation
	for i, m := range b.AudienceMembers {
		if code, why := s.dmCheck(m, b.Consent != nil && b.Consent.AdUserData == "CONSENT_GRANTED" && b.Consent.AdPersonalization == "CONSENT_GRANTED", removal); code != "" {
			violations = append(violations, dmViolation{Field: fmt.Sprintf("audience_members.audience_members[%d]", i), Description: why, Reason: code})
		}
	}
	if len(violations) > 0 {
		if s.faults.RejectMode == WholeUnnamed {
			// An INVALID_ARGUMENT that names nothing.
			return dmInvalid("INVALID_ARGUMENT", "There was a problem with the request.")
		}
		return dmInvalid("INVALID_ARGUMENT", "There was a problem with the request.", violations...)
	}
	// validateOnly: "the request is validated but not executed".
	s.dm.seq++
	id := fmt.Sprintf("dm-%06d", s.dm.seq)
	if b.ValidateOnly {
		return jsonReply(http.StatusOK, map[string]string{"requestId": id})
	}
	status := s.dm.status
	if status == "" {
		status = "SUCCESS"
	}
	if s.dm.requests == nil {
		s.dm.requests = map[string]dmRequestStatus{}
	}
	s.dm.requests[id] = dmRequestStatus{destination: b.Destinations[0], status: status, reason: s.dm.statusReason, records: len(b.AudienceMembers), removal: removal}
	// Processing applies the members unless it fails for the destination.
	if status != "FAILURE" {
		for _, l := range lists {
			s.dmApply(s.list(DataManager, l), b.AudienceMembers, removal)
		}
	}
	// IngestAudienceMembersResponse / RemoveAudienceMembersResponse.
	return jsonReply(http.StatusOK, map[string]string{"requestId": id})
}

// dmCheck validates one member as the API does: user data with at most 10
// identifiers (TOO_MANY_USER_IDENTIFIERS), hashes as hex SHA-256
// (INVALID_HEX_ENCODING, INVALID_SHA256_FORMAT), and for an upload
// consent GRANTED for ad_user_data and ad_personalization (a member whose
// consent is not granted must not be sent: refused here).
func (s *Server) dmCheck(m dmMember, requestConsent, removal bool) (code, why string) {
	if m.UserData == nil || len(m.UserData.UserIdentifiers) == 0 {
		return "REQUIRED_FIELD_MISSING", "no user identifier"
	}
	if len(m.UserData.UserIdentifiers) > 10 {
		return "TOO_MANY_USER_IDENTIFIERS", "more than 10 user identifiers"
	}
	var vals []string
	for _, id := range m.UserData.UserIdentifiers {
		vs := []string{id.EmailAddress, id.PhoneNumber}
		if a := id.Address; a != nil {
			vs = append(vs, a.GivenName, a.FamilyName)
		}
		for _, v := range vs {
			if v == "" {
				continue
			}
			if strings.Trim(strings.ToLower(v), "0123456789abcdef") != "" {
				return "INVALID_HEX_ENCODING", "value is not hex encoded"
			}
			if len(v) != 64 {
				return "INVALID_SHA256_FORMAT", "value is not a SHA-256 digest"
			}
		}
		vals = append(vals, vs...)
	}
	if !removal {
		granted := requestConsent
		if c := m.Consent; c != nil {
			granted = c.AdUserData == "CONSENT_GRANTED" && c.AdPersonalization == "CONSENT_GRANTED"
		}
		if !granted {
			return "INVALID_AUDIENCE_MEMBER", "consent not granted"
		}
	}
	if _, no := s.refused(false, vals...); no {
		return "INVALID_AUDIENCE_MEMBER", "member refused"
	}
	return "", ""
}

// dmApply adds or removes members. A member is known by its first hashed
// email, else its first hashed phone (lowercased: HEX is case-blind); a
// removal takes out every member sharing an identifier with it.
func (s *Server) dmApply(a *audience, members []dmMember, removal bool) {
	for _, m := range members {
		var em, ph []string
		for _, id := range m.UserData.UserIdentifiers {
			if id.EmailAddress != "" {
				em = append(em, "em:"+strings.ToLower(id.EmailAddress))
			}
			if id.PhoneNumber != "" {
				ph = append(ph, "ph:"+strings.ToLower(id.PhoneNumber))
			}
		}
		ids := append(em, ph...)
		if len(ids) == 0 {
			continue
		}
		if !removal {
			fields := map[string]string{"identifiers": strings.Join(ids, ",")}
			if c := m.Consent; c != nil {
				fields["ad_user_data"], fields["ad_personalization"] = c.AdUserData, c.AdPersonalization
			}
			a.put(ids[0], fields)
			continue
		}
		for _, id := range ids {
			for k, e := range a.entries {
				if strings.Contains(","+e.Fields["identifiers"]+",", ","+id+",") {
					a.remove(k)
				}
			}
		}
	}
}

// dataManagerStatus is requestStatus:retrieve: one
// RequestStatusPerDestination per destination of the original request,
// with errorInfo.errorCounts (reason and record count, never which
// records) for FAILURE and PARTIAL_SUCCESS.
func (s *Server) dataManagerStatus(r *http.Request, _ []byte) reply {
	id := r.URL.Query().Get("requestId")
	st, ok := s.dm.requests[id]
	if id == "" || !ok {
		return dmError(http.StatusNotFound, "NOT_FOUND", "NOT_FOUND", "Resource not found.", nil)
	}
	entry := map[string]any{"destination": st.destination, "requestStatus": st.status}
	counts := map[string]any{"recordCount": fmt.Sprint(st.records)}
	if st.removal {
		entry["audienceMembersRemovalStatus"] = map[string]any{"userDataRemovalStatus": counts}
	} else {
		entry["audienceMembersIngestionStatus"] = map[string]any{"userDataIngestionStatus": counts}
	}
	if st.status == "FAILURE" || st.status == "PARTIAL_SUCCESS" {
		n := st.records
		if st.status == "PARTIAL_SUCCESS" {
			n = 1
		}
		entry["errorInfo"] = map[string]any{"errorCounts": []map[string]string{{"recordCount": fmt.Sprint(n), "reason": st.reason}}}
	}
	return jsonReply(http.StatusOK, map[string]any{"requestStatusPerDestination": []any{entry}})
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
