package triggers

// Trigger names, as stored in analytics.trigger_fires and
// consent.trigger_optouts and used in activation segments ("trigger:<name>").
const (
	CartAbandonment   = "cart_abandonment"
	BrowseAbandonment = "browse_abandonment"
	PostContact       = "post_contact"
	WinBack           = "win_back"
)

// Reasons a candidate is kept out, in the order they are checked: consent
// is the law, so is an objection (GDPR article 21), an opt-out is the
// customer's wish, the cooldown our restraint.
const (
	ReasonNoConsent = "no_consent"
	ReasonObjected  = "objected"
	ReasonOptedOut  = "opted_out"
	ReasonCooldown  = "cooldown"
)

// Definition is what every fire of a trigger carries besides its facts:
// the purpose stated to the customer and the content to send.
type Definition struct {
	Name    string
	Purpose string
	// Content names the message template. The browse trigger's is a buying
	// guide for the category, never a discount: browsing is not a signal
	// that a customer needs a price cut.
	Content string
}

// Definitions lists the triggers in the order the job evaluates them.
func Definitions() []Definition {
	return []Definition{
		{Name: CartAbandonment, Purpose: "remind of the cart", Content: "cart_reminder"},
		{Name: BrowseAbandonment, Purpose: "help choose in the category browsed", Content: "buying_guide"},
		{Name: PostContact, Purpose: "follow up on the unresolved issue", Content: "contact_follow_up"},
		{Name: WinBack, Purpose: "win back a valuable customer", Content: "win_back"},
	}
}

// Names lists the trigger names in evaluation order.
func Names() []string {
	defs := Definitions()
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Name
	}
	return out
}

// ExclusionReasons lists the exclusion reasons in the order they are checked.
func ExclusionReasons() []string {
	return []string{ReasonNoConsent, ReasonObjected, ReasonOptedOut, ReasonCooldown}
}
