package draft

import (
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/parcours/parcours/internal/sources"
)

// Draft is a guessed source and what a reader should know about it.
type Draft struct {
	Sample Sample
	Source sources.Source
	// Notes are comment lines above the entry: what was found, how sure.
	Notes []string
	// Todo are comment lines below it: what is unmapped or missing.
	Todo []string
}

// names are the column names (folded) each canonical field goes by in
// exports, English first, then French, German, Spanish.
var names = map[string][]string{
	"customer_id":    {"customerid", "customer", "customerref", "customernumber", "customerno", "custid", "clientid", "client", "clientnumber", "numeroclient", "idclient", "codeclient", "kundennummer", "kundenid", "crmid", "memberid", "userid", "contactid", "accountid"},
	"email":          {"email", "emailaddress", "mail", "courriel", "adresseemail", "adressemail", "emailadresse", "correo", "customeremail", "useremail"},
	"phone":          {"phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cellphone", "portable", "telefon", "telefono", "msisdn", "customerphone"},
	"first_name":     {"firstname", "givenname", "prenom", "fname", "vorname", "nombre", "first"},
	"last_name":      {"lastname", "surname", "familyname", "nom", "lname", "nachname", "apellido", "last", "nomdefamille"},
	"birth_date":     {"birthdate", "dateofbirth", "dob", "birthday", "datenaissance", "datedenaissance", "nele", "neele", "geburtsdatum", "fechanacimiento"},
	"postcode":       {"postcode", "postalcode", "zip", "zipcode", "codepostal", "cp", "plz", "customerzipcodeprefix", "billingzip"},
	"city":           {"city", "town", "ville", "ort", "stadt", "ciudad", "customercity"},
	"loyalty_card":   {"loyaltycard", "loyaltynumber", "loyaltyid", "cardnumber", "fidelitycard", "cartefidelite", "numerocarte", "membercard", "kundenkarte"},
	"signup_channel": {"signupchannel", "acquisitionchannel", "channel", "source", "canal", "signupsource"},
	"created_at":     {"createdat", "created", "signupdate", "signedup", "registrationdate", "registeredat", "creationdate", "datecreation", "datedecreation", "inscritle", "dateinscription", "customersince", "createddate", "erstelltam"},
	"updated_at":     {"updatedat", "updated", "modifiedat", "modified", "lastmodified", "lastupdate", "lastupdated", "datemodification", "datemaj"},
	"order_id":       {"orderid", "order", "ordernumber", "orderno", "ordernum", "orderref", "invoiceno", "invoice", "invoiceid", "invoicenumber", "receiptid", "receipt", "receiptno", "transactionid", "commande", "numerocommande", "idcommande", "bestellnummer", "pedido"},
	"ts":             {"ts", "timestamp", "datetime", "date", "time", "eventtime", "eventdate", "occurredat", "createdat", "created", "orderdate", "invoicedate", "purchasedate", "orderpurchasetimestamp", "transactiondate", "dateachat", "datecommande", "soldat", "sentat", "contactdate", "calldate", "respondedat", "submittedat", "requestedat", "updatedat"},
	"amount":         {"amount", "total", "totalprice", "totalamount", "ordertotal", "orderamount", "grandtotal", "revenue", "value", "totalpaid", "amountpaid", "paymentvalue", "montant", "montantttc", "totalttc", "betrag", "importe", "sales"},
	"currency":       {"currency", "currencycode", "devise", "wahrung", "moneda"},
	"discount":       {"discount", "discountamount", "discounts", "reduction", "remise", "rabatt", "descuento"},
	"channel":        {"channel", "saleschannel", "source", "canal", "ordersource"},
	"store_id":       {"storeid", "store", "storecode", "shopid", "shop", "location", "locationid", "magasin", "idmagasin", "filiale", "tienda"},
	"payment":        {"payment", "paymentmethod", "paymenttype", "paymentmode", "moyenpaiement", "zahlungsart"},
	"items":          {"items"},
	"product_id":     {"productid", "product", "sku", "stockcode", "itemid", "item", "articleid", "article", "productcode", "ean", "gtin", "reference", "ref", "artikelnummer"},
	"quantity":       {"quantity", "qty", "quantite", "qte", "units", "menge", "cantidad"},
	"unit_price":     {"unitprice", "price", "itemprice", "priceeach", "prixunitaire", "prix", "unitcost", "preis", "precio", "lineitemprice"},
	"event_id":       {"eventid", "id", "messageid", "hitid", "uuid"},
	"event":          {"event", "eventname", "eventtype", "type", "action", "name"},
	"platform":       {"platform"},
	"session_id":     {"sessionid", "session", "visitid", "gasessionid"},
	"anonymous_id":   {"anonymousid", "cookieid", "cookie", "visitorid", "deviceid", "userpseudoid", "clientid", "anonid", "installid"},
	"page":           {"page", "url", "pageurl", "path", "pagepath", "pagelocation", "pagename"},
	"screen":         {"screen", "screenname"},
	"category":       {"category", "productcategory", "categorie", "kategorie", "itemcategory"},
	"utm_source":     {"utmsource", "source", "trafficsource"},
	"utm_medium":     {"utmmedium", "medium"},
	"utm_campaign":   {"utmcampaign", "campaign", "campaignname"},
	"referrer":       {"referrer", "referer", "pagereferrer"},
	"device":         {"device", "devicecategory", "devicetype"},
	"campaign_id":    {"campaignid", "campaign", "mailingid", "newsletterid", "messageid", "campaigncode"},
	"os":             {"os", "operatingsystem", "platformos"},
	"app_version":    {"appversion", "version"},
	"contact_id":     {"contactid", "callid", "ticketid", "caseid", "interactionid", "conversationid"},
	"reason":         {"reason", "motif", "topic", "subject", "category", "contactreason"},
	"duration_s":     {"durations", "duration", "durationseconds", "callduration", "durationsec", "duree"},
	"resolved":       {"resolved", "isresolved", "solved", "resolu", "firstcontactresolution"},
	"ces":            {"ces", "effortscore", "customereffortscore"},
	"agent_id":       {"agentid", "agent", "advisor", "conseiller"},
	"consent_id":     {"consentid", "id", "recordid"},
	"subject_id":     {"subjectid", "subject"},
	"subject_type":   {"subjecttype"},
	"purpose":        {"purpose", "finalite", "zweck", "consenttype", "consentpurpose"},
	"status":         {"status", "state", "statut", "choice", "consentstatus", "optin"},
	"expires_at":     {"expiresat", "expires", "expiry", "expirationdate", "validuntil"},
	"tc_string":      {"tcstring", "consentstring", "tcfstring", "euconsent", "euconsentv2"},
	"response_id":    {"responseid", "id", "submissionid", "answerid"},
	"nps":            {"nps", "npsscore", "recommend", "likelihoodtorecommend", "score"},
	"csat":           {"csat", "satisfaction", "csatscore", "rating"},
	"verbatim":       {"verbatim", "comment", "comments", "feedback", "text", "answer", "commentaire"},
	"request_id":     {"requestid", "id", "ticketid", "caseid"},
	"objection_id":   {"objectionid", "id"},
	"scope":          {"scope"},
	"optout_id":      {"optoutid", "id"},
	"trigger":        {"trigger", "journey", "scenario"},
	"name":           {"name", "productname", "title", "label", "storename", "campaignname", "libelle", "nom"},
	"brand":          {"brand", "vendor", "marque", "marke", "manufacturer"},
	"price":          {"price", "unitprice", "prix", "listprice", "preis"},
	"region":         {"region", "state", "province"},
	"start_date":     {"startdate", "start", "startsat", "datedebut"},
	"end_date":       {"enddate", "end", "endsat", "datefin"},
	"date":           {"date", "day", "jour", "spenddate"},
	"spend":          {"spend", "cost", "amount", "amountspent", "depense", "budget"},
}

// fileHints are words in file names that say the kind.
var fileHints = map[string][]string{
	"customers":        {"customer", "client", "crm", "member", "contactlist", "subscriber", "kunden", "user"},
	"orders":           {"order", "sale", "transaction", "receipt", "invoice", "commande", "purchase", "pos"},
	"order_lines":      {"line", "item", "detail"},
	"events":           {"event", "track", "web", "app", "hit", "click", "page", "ga4", "segment", "analytics"},
	"contacts":         {"call", "contact", "ticket", "support", "callcenter", "case"},
	"email_events":     {"email", "newsletter", "mail", "campaignactivity", "sendgrid", "mailchimp", "brevo", "activity"},
	"consents":         {"consent", "optin", "cmp", "didomi", "tcf", "preference"},
	"surveys":          {"survey", "nps", "csat", "feedback", "review"},
	"erasure_requests": {"erasure", "gdpr", "forget", "deletion", "dsar"},
	"objections":       {"objection"},
	"trigger_optouts":  {"optout"},
	"products":         {"product", "catalog", "catalogue", "sku", "article"},
	"stores":           {"store", "shop", "location", "magasin"},
	"campaigns":        {"campaign"},
	"marketing_spend":  {"spend", "cost", "budget", "adspend"},
}

// matchName scores how well a column's name says a field: 4 for the
// field's own name, 3 for a known name, 1 when it contains one.
func matchName(field string, p profile) int {
	if p.norm == fold(field) {
		return 4
	}
	best := 0
	for i, n := range names[field] {
		if p.norm == n {
			if i < 3 {
				return 3
			}
			best = max(best, 3)
		} else if len(n) >= 4 && strings.Contains(p.norm, n) {
			best = max(best, 1)
		}
	}
	return best
}

// fits reports whether a column's values can fill a field.
func fits(col sources.Column, p profile) bool {
	if len(p.Values) == 0 {
		return true
	}
	switch col.Type {
	case sources.Timestamp:
		return p.timeLike() && !p.dateOnly || p.timeLike() && col.EventTime
	case sources.Date:
		return p.timeLike()
	case sources.Decimal:
		return p.money()
	case sources.Int:
		return p.integer >= 0.9
	case sources.Bool:
		return p.boolean >= 0.9
	}
	if col.Email {
		return p.email >= 0.5
	}
	switch col.Name {
	case "phone":
		return p.phone >= 0.5
	case "tc_string":
		return p.tc >= 0.5
	}
	if strings.HasSuffix(col.Name, "_id") || col.Name == "order_id" {
		return !p.timeLike() && !p.money() || p.integer >= 0.9
	}
	return !p.timeLike() || col.Type == sources.Text && p.iso < 0.9
}

// assignment maps fields to columns.
type assignment struct {
	kind   sources.Kind
	cols   map[string]int // field -> column index
	score  int
	filled int // required fields filled
}

// assign maps a kind's fields to the columns that best say them, each
// column once.
func assign(k sources.Kind, ps []profile) assignment {
	a := assignment{kind: k, cols: map[string]int{}}
	type cand struct{ field, col, score int }
	var cands []cand
	for fi, f := range k.Columns {
		for ci, p := range ps {
			// A column named as the field is the field, whatever a few odd
			// values say (the contract quarantines those).
			s := matchName(f.Name, p)
			if s == 0 || s < 4 && !fits(f, p) {
				continue
			}
			if f.Required {
				s += 2
			}
			cands = append(cands, cand{fi, ci, s})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	used := map[int]bool{}
	for _, c := range cands {
		f := k.Columns[c.field].Name
		if _, done := a.cols[f]; done || used[c.col] {
			continue
		}
		a.cols[f], used[c.col] = c.col, true
		a.score += c.score
	}
	// Required fields no name gave, by content: times, amounts, emails.
	for _, f := range k.Columns {
		if _, done := a.cols[f.Name]; done || !f.Required {
			continue
		}
		for ci, p := range ps {
			if used[ci] || len(p.Values) == 0 {
				continue
			}
			ok := false
			switch {
			case f.Type == sources.Timestamp || f.Type == sources.Date:
				ok = p.timeLike()
			case f.Email:
				ok = p.email >= 0.9
			case f.Type == sources.Decimal:
				ok = p.money() && !p.unique
			}
			if ok {
				a.cols[f.Name], used[ci] = ci, true
				a.score++
				break
			}
		}
	}
	for _, f := range k.Columns {
		if _, done := a.cols[f.Name]; done && f.Required {
			a.filled++
		} else if f.Required {
			a.score -= 3
		}
	}
	return a
}

// guessKind scores every kind on the columns and the file's name.
func guessKind(file string, ps []profile) (best assignment, runnerUp string) {
	base := fold(strings.TrimSuffix(file, filepath.Ext(file)))
	var all []assignment
	for _, k := range sources.Kinds() {
		a := assign(k, ps)
		for _, h := range fileHints[k.Name] {
			if strings.Contains(base, h) {
				a.score += 3
				break
			}
		}
		all = append(all, a)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score > all[j].score })
	if len(all) > 1 && all[1].score >= all[0].score-2 {
		runnerUp = all[1].kind.Name
	}
	return all[0], runnerUp
}

// eventNames maps values exports use onto canonical enum values: event
// names, email activity, consent statuses, channels and devices.
var eventNames = map[string]string{
	"pageview": "page_view", "page": "page_view", "screenview": "page_view", "screen": "page_view", "pageviewed": "page_view",
	"viewitem": "product_view", "productview": "product_view", "productviewed": "product_view", "viewproduct": "product_view", "detail": "product_view",
	"addtocart": "add_to_cart", "productadded": "add_to_cart", "addtobasket": "add_to_cart", "cartadd": "add_to_cart", "add": "add_to_cart",
	"begincheckout": "checkout_start", "checkoutstarted": "checkout_start", "checkout": "checkout_start", "initiatecheckout": "checkout_start",
	"purchase": "purchase", "ordercompleted": "purchase", "transaction": "purchase", "order": "purchase", "completedorder": "purchase",
	"pushopen": "push_open", "notificationopen": "push_open", "pushopened": "push_open",
	"identify": "identify", "login": "identify", "signin": "identify",
	// email platforms
	"sent": "send", "delivered": "send", "processed": "send", "opened": "open", "clicked": "click", "bounced": "bounce",
	"hardbounce": "bounce", "softbounce": "bounce", "dropped": "bounce", "unsubscribed": "unsubscribe", "optout": "unsubscribe",
	"spamreport": "unsubscribe",
	// consent statuses
	"optin": "granted", "yes": "granted", "true": "granted", "accepted": "granted", "accept": "granted", "given": "granted", "oui": "granted",
	"no": "withdrawn", "false": "withdrawn", "refused": "withdrawn", "denied": "withdrawn", "revoked": "withdrawn", "rejected": "withdrawn", "non": "withdrawn",
	// channels and devices
	"online": "web", "website": "web", "ecommerce": "web", "siteweb": "web", "internet": "web", "webshop": "web",
	"mobileapp": "app", "application": "app", "appli": "app",
	"instore": "store", "shop": "store", "retail": "store", "magasin": "store", "boutique": "store", "pos": "store",
	"phone": "mobile", "smartphone": "mobile", "computer": "desktop", "pc": "desktop",
}

// enumValues maps a column's values onto an enum's: those it knows, and
// those it does not.
func enumValues(accepted []string, distinct []string) (values map[string]string, unknown []string) {
	for _, v := range distinct {
		l := strings.ToLower(strings.TrimSpace(v))
		if slices.Contains(accepted, l) {
			continue
		}
		if c, ok := eventNames[fold(v)]; ok && slices.Contains(accepted, c) {
			if values == nil {
				values = map[string]string{}
			}
			values[v] = c
			continue
		}
		if slices.Contains(accepted, strings.ReplaceAll(l, " ", "_")) {
			if values == nil {
				values = map[string]string{}
			}
			values[v] = strings.ReplaceAll(l, " ", "_")
			continue
		}
		unknown = append(unknown, v)
	}
	return values, unknown
}

var underscores = regexp.MustCompile(`_+`)

var datePart = regexp.MustCompile(`[0-9]{4}[-_]?[0-9]{2}[-_]?[0-9]{2}([T_ -]?[0-9]{2}[-_:]?[0-9]{2}([-_:]?[0-9]{2})?)?`)

// nameAndGlob makes a source name and a files glob of a file name: dates
// in it become * ("orders_2026-11-22.csv" is orders_*.csv).
func nameAndGlob(file string) (string, string) {
	glob := datePart.ReplaceAllString(file, "*")
	base := file
	for {
		ext := filepath.Ext(base)
		if ext == "" || len(ext) > 8 {
			break
		}
		base = strings.TrimSuffix(base, ext)
	}
	base = datePart.ReplaceAllString(base, "")
	name := strings.Trim(underscores.ReplaceAllString(snake(base), "_"), "_")
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		name = "source_" + name
	}
	if len(name) > 60 {
		name = name[:60]
	}
	return name, glob
}

// snake folds a name to lower-case letters, digits and _.
func snake(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		f := fold(string(r))
		switch {
		case f != "":
			b.WriteString(f)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// builtinFor names the built-in source whose files the file is (a draft
// of our own sample files replaces the built-in, never doubles it).
func builtinFor(file string) string {
	for _, s := range sources.Defaults() {
		if ok, _ := path.Match(s.Files, file); ok {
			return s.Name
		}
	}
	return ""
}

func quoteIdent(c string) string { return `"` + strings.ReplaceAll(c, `"`, `""`) + `"` }
