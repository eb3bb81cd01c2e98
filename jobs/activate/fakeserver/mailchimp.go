package fakeserver

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Mailchimp Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/),
// the calls parcours makes:
//
//	POST /mailchimp/3.0/lists/{list_id}                     batch subscribe or unsubscribe
//	POST /mailchimp/3.0/lists/{list_id}/members/{hash}/tags add or remove member tags -> 204
//	GET  /mailchimp/3.0/lists/{list_id}                     get list info
//	POST /mailchimp/3.0/lists/{list_id}/members/{hash}/actions/delete-permanent -> 204
//
// A member is known by its subscriber hash, the MD5 of the lowercased
// email ("Lists/Audiences > List members": subscriber_hash). The list's
// contacts are the audience named by the list id (Active: subscribed);
// the members holding a tag are the audience TaggedAudience(list, tag).
// Credentials: mailchimpAuth (mailchimp_options.go).

// "Batch subscribe or unsubscribe" request body: members (at most 500),
// each with email_address, email_type, status (changes an existing
// member's status only with update_existing), status_if_new (the status a
// new member gets), merge_fields, tags (added to new and, since the
// 2022-01-24 release note "Added ability to sync tags to existing
// members", existing members; sync_tags replaces a member's tags).
type mailchimpBatchBody struct {
	Members []struct {
		EmailAddress string            `json:"email_address"`
		EmailType    string            `json:"email_type"`
		Status       string            `json:"status"`
		StatusIfNew  string            `json:"status_if_new"`
		MergeFields  map[string]string `json:"merge_fields"`
		Tags         []string          `json:"tags"`
	} `json:"members"`
	UpdateExisting bool `json:"update_existing"`
	SyncTags       bool `json:"sync_tags"`
}

// "Add or remove member tags" body: tags [{name, status active|inactive}].
// An inactive tag is removed from the member, an active one added (and
// created on the list if new); doing either twice changes nothing.
type mailchimpTagsBody struct {
	Tags []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"tags"`
	IsSyncing bool `json:"is_syncing"`
}

// mailchimpStatuses are a member's possible statuses ("List members":
// status, status_if_new).
var mailchimpStatuses = []string{"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}

func subscriberHash(email string) string {
	h := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:])
}

// mailchimpProblem is an error in the documented format ("Errors > Error
// format": an application/problem+json document with type, title, status,
// detail, instance).
func mailchimpProblem(status int, title, detail string, errs []map[string]string) reply {
	p := map[string]any{"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
		"status": status, "detail": detail, "instance": "fake"}
	if errs != nil {
		p["errors"] = errs
	}
	return jsonReply(status, p)
}

// mailchimpNotFound is the glossary's 404 ResourceNotFound, which an
// unknown list id or member gets.
func mailchimpNotFound() reply {
	return mailchimpProblem(http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.", nil)
}

// tag adds (on) or removes a tag of member h on list; it counts a change
// only when membership changes, so a replayed tag call applies nothing.
// The caller holds s.mu.
func (s *Server) tag(list, name, h, email string, on bool) {
	t := s.list(Mailchimp, TaggedAudience(list, name))
	_, has := t.entries[h]
	switch {
	case on && !has:
		t.put(h, map[string]string{"email_address": email})
	case !on && has:
		t.remove(h)
	}
}

func (s *Server) mailchimpBatch(r *http.Request, body []byte) reply {
	list := r.PathValue("list")
	if !s.mailchimpListExists(list) {
		return mailchimpNotFound()
	}
	var b mailchimpBatchBody
	if err := json.Unmarshal(body, &b); err != nil {
		return mailchimpProblem(http.StatusBadRequest, "JSON Parse Error", "We encountered an unspecified JSON parsing error.", nil)
	}
	if len(b.Members) == 0 || len(b.Members) > 500 {
		return mailchimpProblem(http.StatusBadRequest, "Invalid Resource", "members: want 1 to 500", nil)
	}
	type result struct {
		ID     string `json:"id"`
		Email  string `json:"email_address"`
		Status string `json:"status"`
	}
	a := s.list(Mailchimp, list)
	var fieldErrs []map[string]string
	var recErrs []map[string]string
	bad := make([]bool, len(b.Members))
	for i, m := range b.Members {
		// Fault injection (Faults.RejectSubstring/RejectValues) stands for
		// content Mailchimp refuses, reported as its RejectMode says.
		why, no := s.refused(true, m.EmailAddress)
		switch {
		case !strings.Contains(m.EmailAddress, "@"):
			why, no = "Please provide a valid email address.", true
		case m.Status != "" && !slices.Contains(mailchimpStatuses, m.Status),
			m.StatusIfNew != "" && !slices.Contains(mailchimpStatuses, m.StatusIfNew):
			why, no = "status: want subscribed, unsubscribed, cleaned, pending or transactional", true
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
	created, updated := []result{}, []result{}
	for i, m := range b.Members {
		if bad[i] {
			continue
		}
		email := strings.ToLower(m.EmailAddress)
		h := subscriberHash(email)
		old, exists := a.entries[h]
		if exists && !b.UpdateExisting {
			recErrs = append(recErrs, map[string]string{"email_address": m.EmailAddress,
				"error": m.EmailAddress + " is already a list member. Use PUT to insert or update list members.", "error_code": "ERROR_CONTACT_EXISTS"})
			continue
		}
		status := m.Status
		switch {
		case !exists && status == "":
			status = m.StatusIfNew
		case exists && status == "":
			status = old.Fields["status"] // status_if_new leaves a member's status alone
		}
		if !exists && status == "" {
			recErrs = append(recErrs, map[string]string{"email_address": m.EmailAddress,
				"error": "status or status_if_new is required for a new member", "error_code": "ERROR_GENERIC"})
			continue
		}
		// "Member In Compliance State" (error glossary; the batch call
		// reports it per member in errors[]): an address that unsubscribed,
		// bounced or is under compliance review cannot be (re)subscribed
		// through the API, only by the person through a signup form.
		subscribing := status == "subscribed" || status == "pending"
		wasOut := exists && (old.Fields["status"] == "unsubscribed" || old.Fields["status"] == "cleaned")
		if subscribing && (s.inCompliance(email) || wasOut && m.Status != "") {
			recErrs = append(recErrs, map[string]string{"email_address": m.EmailAddress,
				"error":      m.EmailAddress + " is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.",
				"error_code": "ERROR_GENERIC"})
			continue
		}
		f := map[string]string{"email_address": email, "status": status}
		if exists {
			for k, v := range old.Fields {
				if strings.HasPrefix(k, "merge.") {
					f[k] = v
				}
			}
		}
		for k, v := range m.MergeFields {
			f["merge."+k] = v
		}
		a.put(h, f)
		a.entries[h].Active = status == "subscribed"
		if b.SyncTags {
			for _, name := range s.mailchimpTagsOf(list, h) {
				if !slices.Contains(m.Tags, name) {
					s.tag(list, name, h, email, false)
				}
			}
		}
		for _, name := range m.Tags {
			s.tag(list, name, h, email, true)
		}
		if exists {
			updated = append(updated, result{h, m.EmailAddress, status})
		} else {
			created = append(created, result{h, m.EmailAddress, status})
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

// mailchimpTagsOf lists the tags member h holds on list; the caller holds s.mu.
func (s *Server) mailchimpTagsOf(list, h string) []string {
	var out []string
	prefix := listKey(Mailchimp, TaggedAudience(list, ""))
	for k, a := range s.lists {
		if name, ok := strings.CutPrefix(k, prefix); ok && a.entries[h] != nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// mailchimpTags is "Add or remove member tags" (Lists/Audiences > List
// member tags): 204 No Content on success; 404 for an unknown list or a
// member the list does not hold.
func (s *Server) mailchimpTags(r *http.Request, body []byte) reply {
	list, h := r.PathValue("list"), r.PathValue("hash")
	if !s.mailchimpListExists(list) {
		return mailchimpNotFound()
	}
	var b mailchimpTagsBody
	if err := json.Unmarshal(body, &b); err != nil {
		return mailchimpProblem(http.StatusBadRequest, "JSON Parse Error", "We encountered an unspecified JSON parsing error.", nil)
	}
	if len(b.Tags) == 0 {
		return mailchimpProblem(http.StatusBadRequest, "Invalid Resource", "tags: at least one", nil)
	}
	for _, t := range b.Tags {
		if t.Name == "" || (t.Status != "active" && t.Status != "inactive") {
			return mailchimpProblem(http.StatusBadRequest, "Invalid Resource", "tags: each needs a name and status active or inactive", nil)
		}
	}
	m := s.list(Mailchimp, list).entries[h]
	if m == nil {
		return mailchimpNotFound()
	}
	for _, t := range b.Tags {
		s.tag(list, t.Name, h, m.Fields["email_address"], t.Status == "active")
	}
	return reply{status: http.StatusNoContent}
}

// mailchimpGetList is "Get list info": 200 with the list, 404 for an
// unknown list id.
func (s *Server) mailchimpGetList(r *http.Request, _ []byte) reply {
	list := r.PathValue("list")
	if !s.mailchimpListExists(list) {
		return mailchimpNotFound()
	}
	return jsonReply(http.StatusOK, map[string]any{"id": list, "name": "list " + list})
}

// mailchimpDelete is "Delete list member" permanently: 204, 404 when the
// list does not hold the member.
func (s *Server) mailchimpDelete(r *http.Request, _ []byte) reply {
	list := r.PathValue("list")
	if !s.mailchimpListExists(list) {
		return mailchimpNotFound()
	}
	a := s.list(Mailchimp, list)
	if !a.remove(r.PathValue("hash")) {
		return mailchimpNotFound()
	}
	for _, name := range s.mailchimpTagsOf(list, r.PathValue("hash")) {
		s.tag(list, name, r.PathValue("hash"), "", false)
	}
	return reply{status: http.StatusNoContent}
}
