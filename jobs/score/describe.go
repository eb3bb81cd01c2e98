package score

import (
	"fmt"
	"math"

	"github.com/parcours/parcours/models/churn"
)

// Describe words a feature's value the way a customer-service agent would
// read it: "no purchase for 142 days", "2 unresolved calls".
func Describe(feature string, v float64) string {
	if math.IsNaN(v) {
		return churn.DescribeValue(feature, v)
	}
	n := int(math.Round(v))
	plural := func(one, many string) string {
		if n == 1 {
			return one
		}
		return many
	}
	switch feature {
	case "recency_days":
		return fmt.Sprintf("no purchase for %d days", n)
	case "frequency_90d":
		return fmt.Sprintf("%d %s in the last 90 days", n, plural("purchase", "purchases"))
	case "interpurchase_days":
		return fmt.Sprintf("buys every %d days on average", n)
	case "recency_ratio":
		return fmt.Sprintf("%.1f times their usual gap since the last purchase", v)
	case "days_since_last_visit":
		return fmt.Sprintf("no visit to the site or app for %d days", n)
	case "days_since_email_open":
		return fmt.Sprintf("last opened an email %d days ago", n)
	case "frequency_365d":
		return fmt.Sprintf("%d %s in the last year", n, plural("purchase", "purchases"))
	case "monetary_365d":
		return fmt.Sprintf("spent %.0f in the last year", v)
	case "orders_total":
		return fmt.Sprintf("%d %s in all", n, plural("purchase", "purchases"))
	case "tenure_days":
		return fmt.Sprintf("customer for %d days", n)
	case "avg_basket":
		return fmt.Sprintf("average basket %.0f", v)
	case "discount_share":
		return fmt.Sprintf("%.0f%% of store spend on discount", 100*v)
	case "share_web", "share_app", "share_store":
		return fmt.Sprintf("%.0f%% of purchases %s", 100*v, map[string]string{"share_web": "on the web", "share_app": "in the app", "share_store": "in store"}[feature])
	case "sessions_30d", "sessions_90d":
		return fmt.Sprintf("%d web %s in %s days", n, plural("visit", "visits"), feature[len(feature)-3:len(feature)-1])
	case "app_days_30d", "app_days_90d":
		return fmt.Sprintf("used the app on %d %s in %s days", n, plural("day", "days"), feature[len(feature)-3:len(feature)-1])
	case "product_views_30d", "product_views_90d":
		return fmt.Sprintf("%d product %s in %s days", n, plural("view", "views"), feature[len(feature)-3:len(feature)-1])
	case "cart_abandons_30d", "cart_abandons_90d":
		return fmt.Sprintf("%d abandoned %s in %s days", n, plural("cart", "carts"), feature[len(feature)-3:len(feature)-1])
	case "email_sends_90d":
		return fmt.Sprintf("%d marketing %s in 90 days", n, plural("email", "emails"))
	case "email_open_rate_90d":
		return fmt.Sprintf("opened %.0f%% of emails", 100*v)
	case "email_click_rate_90d":
		return fmt.Sprintf("clicked %.0f%% of emails", 100*v)
	case "unsubscribes_90d":
		if n > 0 {
			return "unsubscribed from emails"
		}
		return "still subscribed to emails"
	case "contacts_90d":
		return fmt.Sprintf("%d %s to customer service in 90 days", n, plural("call", "calls"))
	case "unresolved_contacts_90d":
		return fmt.Sprintf("%d unresolved %s", n, plural("call", "calls"))
	case "days_since_last_contact":
		return fmt.Sprintf("last call %d days ago", n)
	case "last_nps":
		return fmt.Sprintf("last NPS %d", n)
	case "last_csat":
		return fmt.Sprintf("last satisfaction %d/5", n)
	case "last_ces":
		return fmt.Sprintf("last effort score %d/7", n)
	}
	return churn.DescribeValue(feature, v)
}
