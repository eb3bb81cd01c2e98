package ingest

import (
	"fmt"
	"strings"
	"time"
)

// typedSelect renders the SELECT that turns raw text columns (the relation
// `raw`, one VARCHAR column per contract column plus _file, _line, _raw,
// _struct, _extra) into typed columns plus _reasons (every contract
// violation of the row, '; '-joined) and _field (the first failing field).
// It is generated from the contract so every source reports violations the
// same way. Three levels keep each cast evaluated once per row: cleaned
// text (c__x), typed value (x), then the reasons comparing the two.
func typedSelect(c Contract, w window) string {
	var cleaned, typed, reasons, fields, oks, out, nulled []string
	for _, col := range c.Columns {
		q := ident(col.Name)
		cq := ident("c__" + col.Name)
		cleaned = append(cleaned, fmt.Sprintf("clean(CAST(%s AS VARCHAR)) AS %s", q, cq))
		typed = append(typed, fmt.Sprintf("%s AS %s", typedExpr(col, cq), q))
		r := reasonExpr(col, cq, q, w)
		reasons = append(reasons, r)
		fields = append(fields, fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s END", r, lit(col.Name)))
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
	// Reasons are sentences, costly to build: they are only built for rows
	// that fail the cheap boolean test (DuckDB evaluates a CASE branch only
	// for the rows that take it).
	return fmt.Sprintf(`SELECT %s,
  _file, _line, _extra, _struct, _raw,
  CASE WHEN _struct IS NOT NULL THEN _struct
       WHEN %s THEN NULL
       ELSE nullif(concat_ws('; ',
    %s), '') END AS _reasons_cols,
  CASE WHEN _struct IS NOT NULL THEN NULL ELSE coalesce(%s) END AS _field,
  %s AS _nulled
FROM (
  SELECT %s, t.* FROM (
    SELECT %s, _file, _line, _extra, _struct, _raw FROM raw
  ) AS t
) AS v`,
		strings.Join(out, ", "), strings.Join(oks, "\n        AND "), strings.Join(reasons, ",\n    "), strings.Join(fields, ", "),
		nulledExpr, strings.Join(typed, ", "), strings.Join(cleaned, ", "))
}

// checkedSelect wraps typedSelect with the contract's cross-field checks,
// which read typed values.
func checkedSelect(c Contract, w window) string {
	var checks []string
	var fields []string
	for _, ch := range c.Checks {
		r := fmt.Sprintf("CASE WHEN _struct IS NULL AND _reasons_cols IS NULL AND NOT coalesce((%s), false) THEN %s END",
			ch.SQL, lit(ch.Field+": "+ch.Reason))
		checks = append(checks, r)
		fields = append(fields, fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s END", r, lit(ch.Field)))
	}
	reasons := "_reasons_cols"
	field := "_field"
	if len(checks) > 0 {
		reasons = fmt.Sprintf("coalesce(_reasons_cols, %s)", strings.Join(checks, ", "))
		field = fmt.Sprintf("coalesce(_field, %s)", strings.Join(fields, ", "))
	}
	return fmt.Sprintf("SELECT * EXCLUDE (_reasons_cols, _field, _raw, _struct), %s AS _reasons, %s AS _field, "+
		"CASE WHEN %s IS NOT NULL THEN _raw END AS _raw\nFROM (%s)", reasons, field, reasons, typedSelect(c, w))
}

func typedExpr(col Column, v string) string {
	if col.Email {
		return fmt.Sprintf("CASE WHEN valid_email(norm_email(%s)) THEN %s END", v, v)
	}
	switch col.Type {
	case Int:
		return fmt.Sprintf("try_cast(%s AS BIGINT)", v)
	case Decimal:
		return fmt.Sprintf("try_cast(%s AS DECIMAL(18,2))", v)
	case Bool:
		return fmt.Sprintf("CASE lower(%s) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true WHEN 'y' THEN true "+
			"WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false WHEN 'n' THEN false END", v)
	case Timestamp:
		return fmt.Sprintf("parse_ts(%s)", v)
	case LocalTime:
		return fmt.Sprintf("local_ts(%s, %s)", v, lit(col.Layout))
	case Date:
		return fmt.Sprintf("try_cast(%s AS DATE)", v)
	case Enum:
		return fmt.Sprintf("CASE WHEN lower(%s) IN (%s) THEN lower(%s) END", v, litList(col.Values), v)
	default:
		return v
	}
}

// window is the range of plausible event times, [From, To).
type window struct{ From, To time.Time }

// bounds is the SQL test that a typed event time lies in the window.
func (w window) bounds(col Column, te string) string {
	if !col.EventTime || w.From.IsZero() {
		return ""
	}
	if col.Type == Date {
		return fmt.Sprintf("%s >= DATE '%s' AND %s < DATE '%s'", te, w.From.Format(time.DateOnly), te, w.To.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s >= TIMESTAMPTZ '%s' AND %s < TIMESTAMPTZ '%s'", te, w.From.Format("2006-01-02 15:04:05Z07:00"),
		te, w.To.Format("2006-01-02 15:04:05Z07:00"))
}

// okExpr is true when the column's value satisfies the contract: the
// cheap twin of reasonExpr.
func okExpr(col Column, v, te string, w window) string {
	var conds []string
	if col.Required {
		conds = append(conds, fmt.Sprintf("%s IS NOT NULL", v))
	}
	if col.Type != Text || (col.Email && col.Required) {
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

// reasonExpr is NULL when the column's value satisfies the contract, else
// a sentence naming the field and the offending value.
func reasonExpr(col Column, v, te string, w window) string {
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
	case col.Type == Enum:
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s || %s", te,
			lit(name+": not one of "+strings.Join(col.Values, ", ")+": "), shown))
	case col.Type == Text:
	default:
		whens = append(whens, fmt.Sprintf("WHEN %s IS NULL THEN %s || %s", te, lit(name+": not a valid "+string(col.Type)+": "), shown))
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

// ident quotes an identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// lit quotes a string literal.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func litList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = lit(strings.ToLower(v))
	}
	return strings.Join(out, ", ")
}
