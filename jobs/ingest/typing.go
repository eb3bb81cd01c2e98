package ingest

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
)

// typedSelect renders the SELECT that turns the mapped text fields (the
// relation `mapped`: one VARCHAR column per canonical field plus _id*,
// _filtered, _file, _line, _raw, _struct, _extra) into typed fields plus
// _reasons (every contract violation of the row, '; '-joined), _field (the
// first failing field) and _nulled (values dropped as invalid). It is
// generated from the source's contract so every source reports violations
// the same way. Three levels keep each cast evaluated once per row: cleaned
// text (c__x), typed value (x), then the reasons comparing the two. Rows
// the source's where keeps out are not checked: they are counted as
// filtered.
func typedSelect(r sources.Resolved, ids int, w window) string {
	var cleaned, typed, reasons, fields, oks, out, nulled []string
	for _, col := range r.Contract {
		q := ident(col.Name)
		cq := ident("c__" + col.Name)
		cleaned = append(cleaned, fmt.Sprintf("clean(%s) AS %s", q, cq))
		typed = append(typed, fmt.Sprintf("%s AS %s", typedExpr(col, cq), q))
		rx := reasonExpr(col, cq, q, w)
		reasons = append(reasons, rx)
		fields = append(fields, fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s END", rx, lit(col.Name)))
		oks = append(oks, okExpr(col, cq, q, w))
		out = append(out, q)
		if col.Email && !col.Required {
			// An optional email that is not one is dropped, not the row
			// (CRMs hold "n/a" and "none"), and counted in _nulled.
			nulled = append(nulled, fmt.Sprintf("CASE WHEN %s IS NOT NULL AND %s IS NULL THEN %s END", cq, q,
				lit(col.Name+": not an email address")))
		}
	}
	nulledExpr := "NULL::VARCHAR"
	if len(nulled) > 0 {
		nulledExpr = fmt.Sprintf("nullif(concat_ws('; ', %s), '')", strings.Join(nulled, ", "))
	}
	var idCols []string
	for k := 0; k < ids; k++ {
		idCols = append(idCols, fmt.Sprintf("_id%d", k))
	}
	pass := strings.Join(append(idCols, "_filtered", "_file", "_line", "_extra", "_struct", "_raw"), ", ")
	// Reasons are sentences, costly to build: they are only built for rows
	// that fail the cheap boolean test (DuckDB evaluates a CASE branch only
	// for the rows that take it).
	return fmt.Sprintf(`SELECT %s,
  %s,
  CASE WHEN _struct IS NOT NULL THEN _struct
       WHEN _filtered THEN NULL
       WHEN %s THEN NULL
       ELSE nullif(concat_ws('; ',
    %s), '') END AS _reasons_cols,
  CASE WHEN _struct IS NOT NULL OR _filtered THEN NULL ELSE coalesce(%s) END AS _field,
  CASE WHEN NOT _filtered THEN %s END AS _nulled
FROM (
  SELECT %s, t.* FROM (
    SELECT %s, %s FROM mapped
  ) AS t
) AS v`,
		strings.Join(out, ", "), pass, strings.Join(oks, "\n        AND "), strings.Join(reasons, ",\n    "), strings.Join(fields, ", "),
		nulledExpr, strings.Join(typed, ", "), strings.Join(cleaned, ", "), pass)
}

// checkedSelect wraps typedSelect with the kind's cross-field checks,
// which read typed values.
func checkedSelect(r sources.Resolved, g group, w window) string {
	ids := len(g.ids)
	var checks []string
	var fields []string
	for _, ch := range r.Checks {
		x := fmt.Sprintf("CASE WHEN _struct IS NULL AND NOT _filtered AND _reasons_cols IS NULL AND NOT coalesce((%s), false) THEN %s END",
			ch.SQL, lit(ch.Field+": "+ch.Reason))
		checks = append(checks, x)
		fields = append(fields, fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s END", x, lit(ch.Field)))
	}
	reasons := "_reasons_cols"
	field := "_field"
	if len(checks) > 0 {
		reasons = fmt.Sprintf("coalesce(_reasons_cols, %s)", strings.Join(checks, ", "))
		field = fmt.Sprintf("coalesce(_field, %s)", strings.Join(fields, ", "))
	}
	// The row's text is rendered for the rejected rows only (DuckDB
	// evaluates a CASE branch only for the rows that take it).
	return fmt.Sprintf("SELECT * EXCLUDE (_reasons_cols, _field, _raw, _struct), %s AS _reasons, %s AS _field, "+
		"CASE WHEN %s IS NOT NULL THEN %s END AS _raw\nFROM (%s)", reasons, field, reasons, rawText(r, g), typedSelect(r, ids, w))
}

// typedExpr is a field's typed value: NULL when the text is not of the
// field's type.
func typedExpr(col sources.Column, v string) string {
	if col.Email {
		// The typed email is the normalised one, which the test needs
		// anyway (DuckDB computes the repeated norm_email once): normalising
		// again on load cost a trim and a lower per row, 0.4 s of 5.4M email
		// events.
		return fmt.Sprintf("CASE WHEN valid_email(norm_email(%s)) THEN norm_email(%s) END", v, v)
	}
	switch col.Type {
	case sources.Int:
		return fmt.Sprintf("try_cast(%s AS BIGINT)", v)
	case sources.Decimal:
		return fmt.Sprintf("try_cast(%s AS DECIMAL(18,2))", v)
	case sources.Bool:
		return fmt.Sprintf("CASE lower(%s) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true WHEN 'y' THEN true "+
			"WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false WHEN 'n' THEN false END", v)
	case sources.Timestamp:
		if col.Layout != "" {
			return fmt.Sprintf("local_ts(%s, %s)", v, lit(col.Layout))
		}
		return fmt.Sprintf("parse_ts(%s)", v)
	case sources.Date:
		if col.Layout != "" {
			return fmt.Sprintf("CAST(try_strptime(%s, %s) AS DATE)", v, lit(col.Layout))
		}
		return fmt.Sprintf("try_cast(%s AS DATE)", v)
	case sources.Enum:
		vals := litList(col.Values)
		if !asciiOnly(col.Values) {
			return fmt.Sprintf("CASE WHEN lower(%s) IN (%s) THEN lower(%s) END", v, vals, v)
		}
		// Most values are written as the contract spells them: those skip
		// lower(), which copies every string. An ASCII value equal to a
		// lower-case ASCII value is its own lower case, so the result is the
		// same.
		return fmt.Sprintf("CASE WHEN %s IN (%s) THEN %s WHEN lower(%s) IN (%s) THEN lower(%s) END", v, vals, v, v, vals, v)
	default:
		return v
	}
}

// typeName is how a reason names a field's type.
func typeName(col sources.Column) string {
	if col.Type == sources.Timestamp && col.Layout != "" {
		return "local timestamp"
	}
	return string(col.Type)
}

// window is the range of plausible event times, [From, To).
type window struct{ From, To time.Time }

// bounds is the SQL test that a typed event time lies in the window.
func (w window) bounds(col sources.Column, te string) string {
	if !col.EventTime || w.From.IsZero() {
		return ""
	}
	if col.Type == sources.Date {
		return fmt.Sprintf("%s >= DATE '%s' AND %s < DATE '%s'", te, w.From.Format(time.DateOnly), te, w.To.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s >= TIMESTAMPTZ '%s' AND %s < TIMESTAMPTZ '%s'", te, w.From.Format("2006-01-02 15:04:05Z07:00"),
		te, w.To.Format("2006-01-02 15:04:05Z07:00"))
}

// okExpr is true when the field's value satisfies the contract: the
// cheap twin of reasonExpr.
func okExpr(col sources.Column, v, te string, w window) string {
	var conds []string
	if col.Required {
		conds = append(conds, fmt.Sprintf("%s IS NOT NULL", v))
	}
	if col.Type != sources.Text || (col.Email && col.Required) {
		conds = append(conds, fmt.Sprintf("(%s IS NULL OR %s IS NOT NULL)", v, te))
	}
	if col.Min != nil {
		conds = append(conds, fmt.Sprintf("coalesce(%s >= %v, true)", te, *col.Min))
	}
	if col.Max != nil {
		conds = append(conds, fmt.Sprintf("coalesce(%s <= %v, true)", te, *col.Max))
	}
	if col.Pattern != "" {
		conds = append(conds, fmt.Sprintf("(%s IS NULL OR regexp_full_match(%s, %s))", v, v, lit(col.Pattern)))
	}
	if b := w.bounds(col, te); b != "" {
		conds = append(conds, fmt.Sprintf("coalesce(%s, true)", b))
	}
	if len(conds) == 0 {
		return "true"
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

// reasonExpr is NULL when the field's value satisfies the contract, else a
// sentence naming the field and the offending value (kept in quarantine
// only: error texts carry the reason without the value).
func reasonExpr(col sources.Column, v, te string, w window) string {
	name := col.Name
	shown := fmt.Sprintf("'''' || left(%s, 60) || ''''", v)
	var whens []string
	if col.Required {
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s", v, lit(name+": required field is missing")))
	} else {
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN NULL", v))
	}
	switch {
	case col.Email && col.Required:
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s || %s", te, lit(name+": not an email address: "), shown))
	case col.Email:
	case col.Type == sources.Enum:
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s || %s", te,
			lit(name+": not one of "+strings.Join(col.Values, ", ")+": "), shown))
	case col.Type == sources.Text:
	default:
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s || %s", te, lit(name+": not a valid "+typeName(col)+": "), shown))
	}
	if col.Min != nil {
		whens = append(whens, fmt.Sprintf("WHEN %s < %v THEN %s || %s", te, *col.Min,
			lit(fmt.Sprintf("%s: below the minimum %v: ", name, *col.Min)), shown))
	}
	if col.Max != nil {
		whens = append(whens, fmt.Sprintf("WHEN %s > %v THEN %s || %s", te, *col.Max,
			lit(fmt.Sprintf("%s: above the maximum %v: ", name, *col.Max)), shown))
	}
	if col.Pattern != "" {
		whens = append(whens, fmt.Sprintf("WHEN NOT regexp_full_match(%s, %s) THEN %s || %s", v, lit(col.Pattern),
			lit(name+": does not match the expected format: "), shown))
	}
	if b := w.bounds(col, te); b != "" {
		whens = append(whens, fmt.Sprintf("WHEN NOT (%s) THEN %s || %s", b,
			lit(fmt.Sprintf("%s: outside the plausible window %s to %s: ", name, w.From.Format(time.DateOnly),
				w.To.AddDate(0, 0, -1).Format(time.DateOnly))), shown))
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}

// ident quotes an identifier (the generated SQL's short name for it).
func ident(s string) string { return warehouse.QuoteIdent(s) }

// lit quotes a string literal (the generated SQL's short name for it).
func lit(s string) string { return warehouse.Quote(s) }

// asciiOnly says every value is ASCII text.
func asciiOnly(vs []string) bool {
	for _, v := range vs {
		for i := 0; i < len(v); i++ {
			if v[i] >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}

func litList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = lit(strings.ToLower(v))
	}
	return strings.Join(out, ", ")
}
