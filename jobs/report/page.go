package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"
)

// page is everything the template shows.
type page struct {
	Date      string
	Generated string
	Sections  []section
	// Stale lists the titles of the sections not up to date for the date.
	Stale []string
	// Currency is the code amounts are in, CurrencyNote how it was known
	// (and whether the orders mix several).
	Currency, CurrencyNote string
}

// section is one numbered part of the report. Window says which data it
// covers (dates, grain, filters) in words.
type section struct {
	ID, Title, Window string
	// Stale says why the section is not up to date (a job it reads failed
	// or had nothing to do tonight); "" when it is.
	Stale string
	Parts []part
}

// part is one block of a section: exactly one of Empty (a plain "no data
// yet" sentence), Text, Tiles, Figure or Table is set. Wide parts span the
// page width; the others share it two by two.
type part struct {
	Heading string
	Empty   string
	Text    string
	Tiles   []tile
	Figure  *figure
	Table   *table
	Wide    bool
}

// figure is a chart with its caption; Name is the data-chart attribute.
type figure struct {
	Name, Caption string
	Chart         chart
}

// table is a small data table; Num marks right-aligned numeric columns.
type table struct {
	Caption string
	Head    []string
	Rows    [][]cell
}

// cell is one table cell. Heat, when set, is a CSS class h0..h8 shading
// the cell by its value (the transition matrix).
type cell struct {
	Text  string
	Num   bool
	Heat  string
	Title string
	// Tone colours a change worth a look: good, bad, or notable (a move
	// that is neither good nor bad in itself, such as a segment's size).
	Tone string
}

// tile is one KPI of the day with its change against the previous week.
// Value, Prev and Change are the raw numbers behind the text, written into
// data-* attributes for scripts and tests.
type tile struct {
	KPI, Label, Text, ChangeText, Note string
	Value, Prev, Change                string
	// Tone is good, bad or flat: whether the change is welcome.
	Tone string
}

// textCell and numCell build table cells.
func textCell(s string) cell { return cell{Text: s} }
func numCell(s string) cell  { return cell{Text: s, Num: true} }

// nameCell shows a warehouse name (a source, a table, a purpose) in
// words, the name itself in its tooltip for whoever configures it.
func nameCell(name string) cell { return cell{Text: label(name), Title: name} }

// emptyPart says plainly that a block has no data yet, and why.
func emptyPart(heading, why string) part {
	return part{Heading: heading, Empty: "No data yet: " + why, Wide: true}
}

// figurePart draws a chart into a part, or says "no data yet" when the
// builder had nothing to draw.
func figurePart(name, caption string, c chart, err error, why string, wide bool) (part, error) {
	if errors.Is(err, errNoData) {
		return emptyPart(caption, why), nil
	}
	if err != nil {
		return part{}, fmt.Errorf("chart %s: %w", name, err)
	}
	return part{Figure: &figure{Name: name, Caption: caption, Chart: c}, Wide: wide}, nil
}

// charts counts the figures of a page: the number of <figure data-chart>
// elements the HTML holds.
func (p *page) charts() []string {
	var out []string
	for _, s := range p.Sections {
		for _, pt := range s.Parts {
			if pt.Figure != nil {
				out = append(out, pt.Figure.Name)
			}
		}
	}
	return out
}

// write executes the page template.
func (p *page) write(w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"css": func() template.CSS { return template.CSS(styleSheet()) },
		"inc": func(i int) int { return i + 1 },
	}).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("parse report template: %w", err)
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
