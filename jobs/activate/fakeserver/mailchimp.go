package fakeserver

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Mailchimp Marketing API 3.0, batch subscribe or unsubscribe:
//
//	POST /mailchimp/3.0/lists/{list_id}
//	{"members":[{"email_address","email_type","status","merge_fields":{…}}],"update_existing":true}
//	-> {"new_members":[…],"updated_members":[…],"errors":[{"email_address","error","error_code"}],
//	    "total_created","total_updated","error_count"}
//	POST /mailchimp/3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent -> 204
//
// A member is known by its subscriber hash, the MD5 of the lowercased
// email. At most 500 members per batch call.
type mailchimpBatchBody struct {
	Members []struct {
		EmailAddress string            `json:"email_address"`
		EmailType    string            `json:"email_type"`
		Status       string            `json:"status"`
		MergeFields  map[string]string `json:"merge_fields"`
	} `json:"members"`
	UpdateExisting bool `json:"update_existing"`
}

func subscriberHash(email string) string {
	h := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:])
}

func mailchimpProblem(status int, title, detail string, errs []map[string]string) reply {
	p := map[string]any{"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
		"status": status, "detail": detail, "instance": "fake"}
	if errs != nil {
		p["errors"] = errs
	}
	return jsonReply(status, p)
}

func (s *Server) mailchimpBatch(r *http.Request, body []byte) reply {
	var b mailchimpBatchBody
	if err := json.Unmarshal(body, &b); err != nil {
		return mailchimpProblem(http.StatusBadRequest, "JSON Parse Error", err.Error(), nil)
	}
	if len(b.Members) == 0 || len(b.Members) > 500 {
		return mailchimpProblem(http.StatusBadRequest, "Invalid Resource", "members: want 1 to 500", nil)
	}
	type result struct {
		ID     string `json:"id"`
		Email  string `json:"email_address"`
		Status string `json:"status"`
	}
	var fieldErrs []map[string]string
	var recErrs []map[string]string
	bad := make([]bool, len(b.Members))
	for i, m := range b.Members {
		why, no := s.refused(true, m.EmailAddress)
		switch {
		case !strings.Contains(m.EmailAddress, "@"):
			why, no = "Please provide a valid email address.", true
		case m.Status != "subscribed" && m.Status != "unsubscribed":
			why, no = "status: want subscribed or unsubscribed", true
		}
		if no {
			bad[i] = true
			fieldErrs = append(fieldErrs, map[string]string{"field": fmt.Sprintf("members.%d.email_address", i), "message": why})
			recErrs = append(recErrs, map[string]string{"email_address": m.EmailAddress, "error": why, "error_code": "ERROR_GENERIC"})
		}
	}
	if len(recErrs) > 0 {
		switch s.faults.RejectMode {
		case WholeNamed:
			return mailchimpProblem(http.StatusBadRequest, "Invalid Resource",
				"The resource submitted could not be validated. For field-specific details, see the 'errors' array.", fieldErrs)
		case WholeUnnamed:
			return mailchimpProblem(http.StatusBadRequest, "Invalid Resource", "The resource submitted could not be validated.", nil)
		}
	}
	a := s.list(Mailchimp, r.PathValue("list"))
	created, updated := []result{}, []result{}
	for i, m := range b.Members {
		if bad[i] {
			continue
		}
		h := subscriberHash(m.EmailAddress)
		old, exists := a.entries[h]
		if exists && !b.UpdateExisting {
			recErrs = append(recErrs, map[string]string{"email_address": m.EmailAddress,
				"error": m.EmailAddress + " is already a list member", "error_code": "ERROR_CONTACT_EXISTS"})
			continue
		}
		f := map[string]string{"email_address": strings.ToLower(m.EmailAddress), "status": m.Status}
		for k, v := range m.MergeFields {
			f["merge."+k] = v
		}
		a.put(h, f)
		a.entries[h].Active = m.Status == "subscribed"
		if exists && old != nil {
			updated = append(updated, result{h, m.EmailAddress, m.Status})
		} else {
			created = append(created, result{h, m.EmailAddress, m.Status})
		}
	}
	if recErrs == nil {
		recErrs = []map[string]string{}
	}
	return jsonReply(http.StatusOK, map[string]any{
		"new_members": created, "updated_members": updated, "errors": recErrs,
		"total_created": len(created), "total_updated": len(updated), "error_count": len(recErrs),
	})
}

func (s *Server) mailchimpDelete(r *http.Request, _ []byte) reply {
	a := s.list(Mailchimp, r.PathValue("list"))
	if !a.remove(r.PathValue("hash")) {
		return mailchimpProblem(http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.", nil)
	}
	return reply{status: http.StatusNoContent}
}
