package fakeserver

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
)

// MailchimpOptions makes the Mailchimp endpoints behave like one account.
// The zero value: Options.Token is an API key, every list id exists and no
// address is in compliance state.
type MailchimpOptions struct {
	// OAuth says Options.Token is an OAuth 2 access token (sent as
	// Bearer) rather than an API key (sent as HTTP Basic password).
	OAuth bool
	// Lists, when set, are the only list ids that exist; others answer
	// 404 Resource Not Found.
	Lists []string
	// Compliance are addresses Mailchimp holds in compliance state
	// (unsubscribed, bounced or under compliance review): the API refuses
	// to subscribe them, whatever list they are sent to.
	Compliance []string
}

// SetMailchimp replaces the Mailchimp account settings.
func (s *Server) SetMailchimp(o MailchimpOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o.Lists = slices.Clone(o.Lists)
	o.Compliance = slices.Clone(o.Compliance)
	s.mailchimp = o
}

// TaggedAudience is the id Audience, Member and Applications take for the
// members of Mailchimp list listID holding tag: "listID#tag" (list ids are
// alphanumeric, so the first '#' splits).
func TaggedAudience(listID, tag string) string { return listID + "#" + tag }

// mailchimpAuth checks credentials the way the Marketing API documents
// them (https://mailchimp.com/developer/marketing/docs/fundamentals/ and
// the "Marketing API Conventions" guide, "Authentication methods"):
//
//   - "Authenticate with an API key": HTTP Basic, any string as the user
//     name, the API key as the password.
//   - "Authenticate with OAuth 2": the access token as a Bearer token.
//
// The glossary (https://mailchimp.com/developer/marketing/docs/errors/,
// "Error glossary") answers 401 APIKeyMissing when no credential is sent and
// 401 APIKeyInvalid for a wrong one. The docs show each credential in one
// form only; the fake refuses the other form (an API key as Bearer, an
// OAuth token as Basic) so a connector never relies on an undocumented one.
// An empty Options.Token accepts any credential. It returns the 401 reply
// and true when refused.
func (s *Server) mailchimpAuth(r *http.Request) (reply, bool) {
	s.mu.Lock()
	oauth := s.mailchimp.OAuth
	s.mu.Unlock()
	token := s.opts.Token
	if token == "" {
		return reply{}, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return mailchimpProblem(http.StatusUnauthorized, "API Key Missing",
			"Your request did not include an API key.", nil), true
	}
	scheme, cred, _ := strings.Cut(h, " ")
	ok := false
	switch {
	case oauth && strings.EqualFold(scheme, "Bearer"):
		ok = cred == token
	case !oauth && strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		_, pass, found := strings.Cut(string(raw), ":")
		ok = err == nil && found && pass == token
	}
	if !ok {
		detail := "Your API key may be invalid, or you've attempted to access the wrong datacenter."
		if !oauth && strings.EqualFold(scheme, "Bearer") {
			detail = "API keys are sent with HTTP Basic authentication, not as a Bearer token."
		}
		if oauth && strings.EqualFold(scheme, "Basic") {
			detail = "OAuth access tokens are sent as a Bearer token."
		}
		return mailchimpProblem(http.StatusUnauthorized, "API Key Invalid", detail, nil), true
	}
	return reply{}, false
}

// mailchimpListExists reports whether list id exists; the caller holds s.mu.
func (s *Server) mailchimpListExists(id string) bool {
	return len(s.mailchimp.Lists) == 0 || slices.Contains(s.mailchimp.Lists, id)
}

// inCompliance reports whether Mailchimp refuses to subscribe email; the
// caller holds s.mu.
func (s *Server) inCompliance(email string) bool {
	return slices.ContainsFunc(s.mailchimp.Compliance, func(e string) bool { return strings.EqualFold(e, email) })
}
