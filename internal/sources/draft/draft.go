package draft

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/parcours/parcours/internal/sources"
)

// monthFirstRegions write dates month first (01/02/2026 is January 2nd).
var monthFirstRegions = []string{"US", "PH", "FM", "MH", "PW", "BZ"}

// Guess drafts a source from a sampled file. region is the default phone
// region and says how to read ambiguous dates.
func Guess(s Sample, region string) Draft {
	file := filepath.Base(s.Path)
	d := Draft{Sample: s}
	name, glob := nameAndGlob(file)
	if b := builtinFor(file); b != "" {
		name = b
	}
	src := sources.Source{Name: name, Files: glob}
	monthFirst := slices.Contains(monthFirstRegions, strings.ToUpper(region))
	ps := make([]profile, len(s.Columns))
	for i, c := range s.Columns {
		ps[i] = profileOf(c, region, monthFirst)
	}
	d.Notes = append(d.Notes, describe(s, file))
	dialect(&src, s, glob)
	if len(s.Columns) == 0 {
		src.Kind = "events"
		d.Todo = append(d.Todo, "TODO: no row could be read from the sample; set kind and columns by hand.")
		d.Source = src
		return d
	}
	if p, notes := preset(s, ps); p != nil {
		p.Name, p.Files = src.Name, src.Files
		if s.Format == sources.Parquet {
			p.Format = sources.Parquet
		}
		d.Source, d.Notes = *p, append(d.Notes, notes...)
		return d
	}
	a, runnerUp := guessKind(file, ps)
	k := a.kind
	src.Kind = k.Name
	note := fmt.Sprintf("Looks like kind %s", k.Name)
	if runnerUp != "" {
		note += fmt.Sprintf(" (or %s: check the kind)", runnerUp)
	}
	d.Notes = append(d.Notes, note+".")

	m := mapping{src: &src, ps: ps, used: map[int]bool{}}
	for _, f := range k.Columns {
		ci, ok := a.cols[f.Name]
		if !ok {
			continue
		}
		m.field(f, ci)
	}
	m.constants(k, file)
	m.key(k)
	m.identifiers(k)
	m.statusHint(k)
	var byName []string
	for _, f := range k.Columns {
		if _, ok := a.cols[f.Name]; ok && src.Columns[f.Name] == "" {
			byName = append(byName, f.Name)
		}
	}
	if len(byName) > 0 {
		d.Notes = append(d.Notes, "Read by their own names: "+strings.Join(byName, ", ")+".")
	}
	d.Todo = append(d.Todo, m.todo...)
	for _, f := range k.Columns {
		if _, ok := a.cols[f.Name]; !ok && f.Required && src.Columns[f.Name] == "" {
			d.Todo = append(d.Todo, fmt.Sprintf("TODO: %s is required and no column looked like it: map it under columns (a column or a SQL expression).", f.Name))
		}
	}
	var unused []string
	for i, p := range ps {
		if !m.used[i] {
			unused = append(unused, p.Name)
		}
	}
	if len(unused) > 0 {
		d.Todo = append(d.Todo, "Not mapped (kept aside in _extra): "+strings.Join(unused, ", ")+".")
	}
	d.Source = src
	return d
}

func describe(s Sample, file string) string {
	parts := []string{string(s.Format)}
	if s.Compression != "" {
		parts = append(parts, s.Compression)
	}
	if s.Format != sources.Parquet && s.Encoding != "utf-8" {
		parts = append(parts, s.Encoding)
	}
	if s.Format == sources.CSV {
		parts = append(parts, fmt.Sprintf("delimiter %q", s.Delimiter))
		if !s.Header {
			parts = append(parts, "no header")
		}
	}
	return fmt.Sprintf("%s: %s; %d columns, %d rows sampled.", file, strings.Join(parts, ", "), len(s.Columns), s.Rows)
}

// dialect sets what reading the file needs beyond the defaults.
func dialect(src *sources.Source, s Sample, glob string) {
	ext := strings.ToLower(glob)
	for _, e := range []string{".gz", ".gzip", ".zst", ".zstd"} {
		ext = strings.TrimSuffix(ext, e)
	}
	byExt := sources.CSV
	switch {
	case strings.HasSuffix(ext, ".jsonl") || strings.HasSuffix(ext, ".ndjson") || strings.HasSuffix(ext, ".json"):
		byExt = sources.JSONL
	case strings.HasSuffix(ext, ".parquet"):
		byExt = sources.Parquet
	}
	if s.Format != byExt {
		src.Format = s.Format
	}
	if s.Format == sources.Parquet {
		return
	}
	if s.Encoding != "" && s.Encoding != "utf-8" {
		src.Encoding = s.Encoding
	}
	if s.Format != sources.CSV {
		return
	}
	if s.Delimiter != "," {
		src.Delimiter = s.Delimiter
		if s.Delimiter == "\t" {
			src.Delimiter = `\t`
		}
	}
	if s.Quote != `"` {
		src.Quote = s.Quote
	}
	if !s.Header {
		f := false
		src.Header = &f
		for _, c := range s.Columns {
			src.ColumnNames = append(src.ColumnNames, c.Name)
		}
	}
}

// mapping builds a source's columns, values, filter and identifiers.
type mapping struct {
	src      *sources.Source
	ps       []profile
	used     map[int]bool
	tsLayout string
	todo     []string
}

func (m *mapping) set(field, expr string) {
	if m.src.Columns == nil {
		m.src.Columns = map[string]string{}
	}
	m.src.Columns[field] = expr
}

// field maps one canonical field to a column, with what reading it needs.
func (m *mapping) field(f sources.Column, ci int) {
	p := m.ps[ci]
	m.used[ci] = true
	col := p.Name
	q := quoteIdent(col)
	expr := col
	switch f.Type {
	case sources.Timestamp:
		switch {
		case p.epoch == "s":
			expr = fmt.Sprintf("to_timestamp(CAST(%s AS BIGINT))", q)
		case p.epoch == "ms":
			expr = fmt.Sprintf("to_timestamp(CAST(%s AS BIGINT) / 1000)", q)
		case p.layout != "":
			if m.tsLayout == "" {
				m.tsLayout = p.layout
				m.src.TimestampFormat = p.layout
			} else if p.layout != m.tsLayout {
				expr = fmt.Sprintf("strftime(strptime(%s, '%s'), '%s')", q, p.layout, m.tsLayout)
			}
		case m.tsLayout != "":
			expr = fmt.Sprintf("strftime(CAST(%s AS TIMESTAMP), '%s')", q, m.tsLayout)
		}
	case sources.Date:
		if p.layout != "" {
			if m.src.DateFormat == "" || m.src.DateFormat == p.layout {
				m.src.DateFormat = p.layout
			} else {
				expr = fmt.Sprintf("CAST(strptime(%s, '%s') AS DATE)", q, p.layout)
			}
		}
	case sources.Decimal:
		if p.commaDecimal >= 0.9 {
			expr = fmt.Sprintf("replace(%s, ',', '.')", q) // decimal commas
		}
	case sources.Enum:
		values, unknown := enumValues(f.Values, p.distinct)
		for v, c := range values {
			if m.src.Values == nil {
				m.src.Values = map[string]map[string]string{}
			}
			if m.src.Values[f.Name] == nil {
				m.src.Values[f.Name] = map[string]string{}
			}
			m.src.Values[f.Name][v] = c
		}
		if len(unknown) > 0 {
			if f.Name == "event" {
				// Behavioural streams carry many events; parcours reads those
				// it knows, the others are filtered, not quarantined.
				keep := append([]string{}, f.Values...)
				for v := range values {
					keep = append(keep, v)
				}
				sort.Strings(keep)
				var lits []string
				for _, v := range slices.Compact(keep) {
					lits = append(lits, "'"+strings.ReplaceAll(v, "'", "''")+"'")
				}
				m.src.Where = fmt.Sprintf("%s IN (%s)", q, strings.Join(lits, ", "))
				m.todo = append(m.todo, fmt.Sprintf("Events filtered out (where:), map them under values: to keep them: %s.", strings.Join(first(unknown, 10), ", ")))
			} else {
				m.todo = append(m.todo, fmt.Sprintf("TODO: %s values %s are not among %s: map them under values: (else their rows are quarantined).",
					f.Name, strings.Join(first(unknown, 10), ", "), strings.Join(f.Values, ", ")))
			}
		}
	}
	if expr == col && strings.EqualFold(col, f.Name) {
		return // read by its own name
	}
	m.set(f.Name, expr)
}

func first(vs []string, n int) []string {
	if len(vs) > n {
		return append(vs[:n:n], "...")
	}
	return vs
}

// constants sets fields the file implies (app events, a subject's type).
func (m *mapping) constants(k sources.Kind, file string) {
	has := func(field string) bool {
		if _, ok := m.src.Columns[field]; ok {
			return true
		}
		for i, p := range m.ps {
			if m.used[i] && strings.EqualFold(p.Name, field) {
				return true
			}
		}
		return false
	}
	switch {
	case k.Name == "events" && !has("platform"):
		app := strings.Contains(fold(file), "app")
		for _, p := range m.ps {
			switch p.norm {
			case "deviceid", "appversion", "os", "screen", "screenname":
				app = app || !has("page")
			}
		}
		if app {
			m.set("platform", "'app'")
		}
	case k.Subject:
		if !has("subject_id") {
			for _, want := range []string{"email", "customer_id", "phone"} {
				for i, p := range m.ps {
					if m.used[i] {
						continue
					}
					if want == "email" && p.email >= 0.9 || want == "phone" && p.phone >= 0.9 || want == "customer_id" && matchName("customer_id", p) >= 3 {
						m.used[i] = true
						m.set("subject_id", p.Name)
						m.set("subject_type", "'"+want+"'")
						return
					}
				}
			}
			return
		}
		if !has("subject_type") {
			typ := "customer_id"
			for i, p := range m.ps {
				if m.used[i] && (m.src.Columns["subject_id"] == p.Name || strings.EqualFold(p.Name, "subject_id")) {
					switch {
					case p.email >= 0.9:
						typ = "email"
					case p.phone >= 0.9:
						typ = "phone"
					}
				}
			}
			m.set("subject_type", "'"+typ+"'")
		}
	}
}

// identifiers adds the identifiers the file's other columns carry.
func (m *mapping) identifiers(k sources.Kind) {
	if k.Subject {
		return
	}
	own := map[string]bool{}
	for _, id := range k.IDs {
		own[id.Type] = true
	}
	add := func(sel, typ string) {
		for _, id := range m.src.IDs {
			if id.Select == sel {
				return
			}
		}
		m.src.IDs = append(m.src.IDs, sources.ID{Select: sel, Type: typ})
	}
	if k.Name == "events" {
		for i, p := range m.ps {
			if m.used[i] && (m.src.Columns["anonymous_id"] == p.Name || strings.EqualFold(p.Name, "anonymous_id")) {
				typ := sources.CookieID
				if strings.Contains(p.norm, "device") || strings.Contains(p.norm, "install") || m.src.Columns["platform"] == "'app'" {
					typ = sources.DeviceID
				}
				add(p.Name, typ)
			}
		}
	}
	for i, p := range m.ps {
		if m.used[i] || len(p.Values) == 0 {
			continue
		}
		typ := ""
		switch {
		case p.email >= 0.9 && !own[sources.Email]:
			typ = sources.Email
		case p.phone >= 0.9 && !own[sources.Phone]:
			typ = sources.Phone
		case matchName("loyalty_card", p) >= 3 && !own[sources.LoyaltyCard]:
			typ = sources.LoyaltyCard
		case matchName("customer_id", p) >= 3 && !own[sources.CustomerID] && !p.timeLike():
			typ = sources.CustomerID
		}
		if typ == "" {
			continue
		}
		m.used[i] = true
		sel := p.Name
		if typ == sources.Email {
			sel = fmt.Sprintf("lower(trim(%s))", quoteIdent(p.Name))
		}
		add(sel, typ)
	}
}

// preset recognises the formats parcours has presets for.
func preset(s Sample, ps []profile) (*sources.Source, []string) {
	has := func(names ...string) bool {
		for _, n := range names {
			if !slices.ContainsFunc(s.Columns, func(c Column) bool { return c.Name == n }) {
				return false
			}
		}
		return true
	}
	switch {
	case s.Format == sources.JSONL && has("type", "messageId") && (has("anonymousId") || has("userId")):
		return &sources.Source{Preset: "segment"}, []string{"Segment / RudderStack events: preset segment (parcours sources list --yaml shows its mapping)."}
	case s.Format != sources.CSV && has("event_name", "event_timestamp", "user_pseudo_id"):
		return &sources.Source{Preset: "ga4"}, []string{"Google Analytics 4 BigQuery export: preset ga4."}
	case s.Format == sources.CSV && has("Name", "Lineitem quantity", "Created at"):
		return &sources.Source{Preset: "shopify_orders"}, []string{"Shopify orders export: preset shopify_orders."}
	}
	for _, p := range ps {
		if p.tc < 0.8 || len(p.Values) == 0 {
			continue
		}
		src := &sources.Source{Preset: "tcf_consents"}
		notes := []string{fmt.Sprintf("Column %s holds IAB TCF v2 consent strings: preset tcf_consents (purposes mapped by privacy.tcf_purposes).", p.Name)}
		cols := map[string]string{}
		if !slices.Contains([]string{"tc_string", "consent_string", "tcf_string"}, strings.ToLower(p.Name)) {
			cols["tc_string"] = p.Name
		}
		if !has("email") && !has("user_id") {
			for _, q := range ps {
				if q.email >= 0.9 {
					cols["subject_id"], cols["subject_type"] = q.Name, "'email'"
					break
				}
			}
			if cols["subject_id"] == "" {
				for _, q := range ps {
					if matchName("customer_id", q) >= 3 {
						cols["subject_id"], cols["subject_type"] = q.Name, "'customer_id'"
						break
					}
				}
			}
		}
		if !has("updated_at") && !has("created_at") && !has("timestamp") {
			for _, q := range ps {
				if q.timeLike() {
					cols["ts"] = q.Name
					if q.layout != "" {
						src.TimestampFormat = q.layout
					}
					break
				}
			}
		}
		if len(cols) > 0 {
			src.Columns = cols
		}
		return src, notes
	}
	return nil, nil
}

// key makes an id of the row when the kind's key is one id field the
// file lacks (an email platform's activity export has none): a hash of
// the whole row, so a row delivered again loads once.
func (m *mapping) key(k sources.Kind) {
	if len(k.Key) != 1 || !strings.HasSuffix(k.Key[0], "_id") {
		return
	}
	f := k.Key[0]
	if _, ok := m.src.Columns[f]; ok {
		return
	}
	for i, p := range m.ps {
		if m.used[i] && strings.EqualFold(p.Name, f) {
			return
		}
	}
	var cols []string
	for _, p := range m.ps {
		cols = append(cols, quoteIdent(p.Name))
	}
	m.set(f, fmt.Sprintf("md5(concat_ws('|', %s))", strings.Join(cols, ", ")))
	m.todo = append(m.todo, fmt.Sprintf("No id column: %s is a hash of the row (a row delivered again loads once; "+
		"two identical rows are one).", f))
}

// statusHint points at a status column of orders: refunded, cancelled or
// test orders are not purchases, and only the engineer knows the values.
func (m *mapping) statusHint(k sources.Kind) {
	if k.Name != "orders" && k.Name != "order_lines" {
		return
	}
	for i, p := range m.ps {
		if m.used[i] || !strings.Contains(p.norm, "status") && !strings.Contains(p.norm, "statut") && !strings.Contains(p.norm, "state") {
			continue
		}
		m.todo = append(m.todo, fmt.Sprintf("TODO: %s has values %s: keep the orders that are purchases with where: (for example %s <> '%s').",
			p.Name, strings.Join(first(p.distinct, 8), ", "), quoteIdent(p.Name), firstOr(p.distinct, "cancelled")))
	}
}

func firstOr(vs []string, def string) string {
	if len(vs) == 0 {
		return def
	}
	return strings.ReplaceAll(vs[len(vs)-1], "'", "''")
}
