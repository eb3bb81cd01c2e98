package fakeserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Google Ads API, OfflineUserDataJobService, REST form:
//
//	POST /google/{ver}/customers/{cid}/offlineUserDataJobs:create
//	     {"job":{"type":"CUSTOMER_MATCH_USER_LIST","customerMatchUserListMetadata":
//	             {"userList":"customers/{cid}/userLists/{id}","consent":{…}}}}
//	  -> {"resourceName":"customers/{cid}/offlineUserDataJobs/{n}"}
//	POST …/offlineUserDataJobs/{n}:addOperations {"enablePartialFailure":true,"operations":[…]}
//	  -> {} or {"partialFailureError":{…GoogleAdsFailure, errors located at operations[i]}}
//	POST …/offlineUserDataJobs/{n}:run -> {"name":"customers/{cid}/operations/{n}"}
//
// Operations take effect on the user list when the job runs.
type googleJob struct {
	userList          string
	adUserData        string
	adPersonalization string
	ops               []googleOperation
	ran               bool
}

type googleCreateBody struct {
	Job struct {
		Type string `json:"type"`
		Meta struct {
			UserList string `json:"userList"`
			Consent  *struct {
				AdUserData        string `json:"adUserData"`
				AdPersonalization string `json:"adPersonalization"`
			} `json:"consent"`
		} `json:"customerMatchUserListMetadata"`
	} `json:"job"`
}

type googleOperation struct {
	Create *googleUserData `json:"create"`
	Remove *googleUserData `json:"remove"`
}

type googleUserData struct {
	UserIdentifiers []googleIdentifier `json:"userIdentifiers"`
}

type googleIdentifier struct {
	HashedEmail       string `json:"hashedEmail"`
	HashedPhoneNumber string `json:"hashedPhoneNumber"`
	AddressInfo       *struct {
		HashedFirstName string `json:"hashedFirstName"`
		HashedLastName  string `json:"hashedLastName"`
		CountryCode     string `json:"countryCode"`
		PostalCode      string `json:"postalCode"`
	} `json:"addressInfo"`
}

type googleAddBody struct {
	EnablePartialFailure bool              `json:"enablePartialFailure"`
	Operations           []googleOperation `json:"operations"`
}

func googleError(status int, code, message string, failures []map[string]any) reply {
	e := map[string]any{"code": status, "message": message, "status": code}
	if len(failures) > 0 {
		e["details"] = []map[string]any{{
			"@type":  "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
			"errors": failures,
		}}
	}
	return jsonReply(status, map[string]any{"error": e})
}

// googleFailure is one GoogleAdsError located at operations[i].
func googleFailure(i int, code, message string) map[string]any {
	return map[string]any{
		"errorCode": map[string]string{"offlineUserDataJobError": code},
		"message":   message,
		"location":  map[string]any{"fieldPathElements": []map[string]any{{"fieldName": "operations", "index": i}}},
	}
}

func (s *Server) googleCreate(r *http.Request, body []byte) reply {
	var b googleCreateBody
	if err := json.Unmarshal(body, &b); err != nil {
		return googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "malformed JSON: "+err.Error(), nil)
	}
	cid := r.PathValue("cid")
	if b.Job.Type != "CUSTOMER_MATCH_USER_LIST" || !strings.HasPrefix(b.Job.Meta.UserList, "customers/"+cid+"/userLists/") {
		return googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "job type or userList invalid for customer "+cid, nil)
	}
	job := &googleJob{userList: b.Job.Meta.UserList, adUserData: "UNSPECIFIED", adPersonalization: "UNSPECIFIED"}
	if c := b.Job.Meta.Consent; c != nil {
		job.adUserData, job.adPersonalization = c.AdUserData, c.AdPersonalization
	}
	s.jobSeq++
	name := fmt.Sprintf("customers/%s/offlineUserDataJobs/%d", cid, s.jobSeq)
	s.jobs[name] = job
	return jsonReply(http.StatusOK, map[string]string{"resourceName": name})
}

func (s *Server) googleJobOp(r *http.Request, body []byte) reply {
	id, op, ok := strings.Cut(r.PathValue("jobop"), ":")
	name := "customers/" + r.PathValue("cid") + "/offlineUserDataJobs/" + id
	job := s.jobs[name]
	if !ok || job == nil {
		return googleError(http.StatusNotFound, "NOT_FOUND", "no job "+name, nil)
	}
	if job.ran {
		return googleError(http.StatusBadRequest, "FAILED_PRECONDITION", "job "+name+" already ran", []map[string]any{
			{"errorCode": map[string]string{"offlineUserDataJobError": "INVALID_JOB_STATUS"}, "message": "job is not pending"}})
	}
	switch op {
	case "addOperations":
		return s.googleAdd(job, body)
	case "run":
		s.googleRun(job)
		job.ran = true
		return jsonReply(http.StatusOK, map[string]string{"name": "customers/" + r.PathValue("cid") + "/operations/" + id})
	}
	return googleError(http.StatusNotFound, "NOT_FOUND", "unknown method "+op, nil)
}

func (s *Server) googleAdd(job *googleJob, body []byte) reply {
	var b googleAddBody
	if err := json.Unmarshal(body, &b); err != nil {
		return googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "malformed JSON: "+err.Error(), nil)
	}
	var failures []map[string]any
	var good []googleOperation
	for i, op := range b.Operations {
		if code, msg := s.googleCheck(op); code != "" {
			failures = append(failures, googleFailure(i, code, msg))
			continue
		}
		good = append(good, op)
	}
	if len(failures) > 0 {
		switch {
		case s.faults.RejectMode == WholeUnnamed:
			return googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", nil)
		case s.faults.RejectMode == WholeNamed || !b.EnablePartialFailure:
			return googleError(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", failures)
		}
	}
	job.ops = append(job.ops, good...)
	if len(failures) == 0 {
		return jsonReply(http.StatusOK, map[string]any{})
	}
	return jsonReply(http.StatusOK, map[string]any{"partialFailureError": map[string]any{
		"code":    3,
		"message": strconv.Itoa(len(failures)) + " operations failed",
		"details": []map[string]any{{
			"@type":  "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
			"errors": failures,
		}},
	}})
}

// googleCheck validates one operation as the API does: one of create or
// remove, at least one identifier, hashed values as 64 lowercase hex.
func (s *Server) googleCheck(op googleOperation) (code, msg string) {
	ud := op.Create
	if (op.Create == nil) == (op.Remove == nil) {
		return "INVALID_OPERATION", "want exactly one of create and remove"
	}
	if ud == nil {
		ud = op.Remove
	}
	if len(ud.UserIdentifiers) == 0 {
		return "MISSING_USER_IDENTIFIER", "no user identifier"
	}
	for _, id := range ud.UserIdentifiers {
		vals := []string{id.HashedEmail, id.HashedPhoneNumber}
		if a := id.AddressInfo; a != nil {
			vals = append(vals, a.HashedFirstName, a.HashedLastName)
		}
		for _, v := range vals {
			if v != "" && !isLowerHex64(v) {
				return "INVALID_SHA256_FORMAT", "not a SHA-256 hex digest: " + v
			}
		}
		if why, no := s.refused(false, vals...); no {
			return "USER_IDENTIFIER_REJECTED", why
		}
	}
	return "", ""
}

// googleRun applies a job's operations to its user list. A member is known
// by its first hashed email, else its first hashed phone; a removal takes
// out every member sharing any identifier with it.
func (s *Server) googleRun(job *googleJob) {
	a := s.list(Google, job.userList)
	for _, op := range job.ops {
		if op.Create != nil {
			ids := googleIDs(op.Create)
			if len(ids) == 0 {
				continue
			}
			a.put(ids[0], map[string]string{"ad_user_data": job.adUserData, "ad_personalization": job.adPersonalization,
				"identifiers": strings.Join(ids, ",")})
			continue
		}
		for _, id := range googleIDs(op.Remove) {
			for k, e := range a.entries {
				if strings.Contains(","+e.Fields["identifiers"]+",", ","+id+",") {
					a.remove(k)
				}
			}
		}
	}
}

func googleIDs(ud *googleUserData) []string {
	var em, ph []string
	for _, id := range ud.UserIdentifiers {
		if id.HashedEmail != "" {
			em = append(em, "em:"+id.HashedEmail)
		}
		if id.HashedPhoneNumber != "" {
			ph = append(ph, "ph:"+id.HashedPhoneNumber)
		}
	}
	return append(em, ph...)
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
