package report

import (
	"fmt"
	"strings"
)

// baseStyle is the report's style sheet: system fonts, a quiet palette,
// two columns of charts on a wide screen, one on a phone or on paper.
const baseStyle = `
:root { --ink:#222; --muted:#666; --line:#ddd; --bg:#fff; --soft:#f6f7f9; --accent:#2f4b7c; --good:#2e7d32; --bad:#c62828; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 28px 48px; color: var(--ink); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
h1 { font-size: 28px; margin: 0 0 4px; font-weight: 650; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 0 0 6px; font-weight: 620; }
h3 { font-size: 15px; margin: 0 0 6px; font-weight: 600; color: #333; }
a { color: var(--accent); }
header.top { display: grid; grid-template-columns: 1fr auto; gap: 8px 24px; align-items: end; border-bottom: 3px solid var(--accent); padding-bottom: 14px; }
header .kicker { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; }
header .meta { display: grid; grid-template-columns: auto auto; gap: 2px 12px; margin: 0; font-size: 13px; }
header .meta dt { color: var(--muted); }
header .meta dd { margin: 0; font-variant-numeric: tabular-nums; }
header .scope { grid-column: 1 / -1; margin: 4px 0 0; color: var(--muted); font-size: 13px; }
nav.toc { margin: 18px 0 8px; padding: 12px 18px; background: var(--soft); border-radius: 6px; }
nav.toc h2 { font-size: 14px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin-bottom: 4px; }
nav.toc ol { margin: 0; padding-left: 20px; columns: 2; column-gap: 32px; }
nav.toc li { margin: 2px 0; }
section { margin-top: 34px; padding-top: 8px; border-top: 1px solid var(--line); }
section h2 .num { display: inline-block; min-width: 1.6em; color: var(--accent); }
.window { margin: 0 0 14px; color: var(--muted); font-size: 13.5px; }
.stale, .stale-summary { margin: 0 0 14px; padding: 8px 12px; background: #fff6e0; border-left: 3px solid #c98a00; font-size: 13.5px; }
.parts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 18px 24px; }
.part { min-width: 0; }
.part.wide { grid-column: 1 / -1; }
.empty { margin: 0; padding: 10px 14px; background: var(--soft); border-left: 3px solid var(--line); color: var(--muted); }
.note { margin: 0; color: #444; }
figure { margin: 0; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { margin-top: 4px; font-size: 13px; color: var(--muted); }
ul.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 12.5px; }
ul.legend li { display: inline-flex; align-items: center; gap: 5px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: 12px; }
.tile { padding: 10px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; border-top: 3px solid var(--line); }
.tile.good { border-top-color: var(--good); }
.tile.bad { border-top-color: var(--bad); }
.tile .label { font-size: 12.5px; color: var(--muted); }
.tile .value { font-size: 23px; font-weight: 620; font-variant-numeric: tabular-nums; }
.tile .change { font-size: 12.5px; font-variant-numeric: tabular-nums; }
.tile.good .change { color: var(--good); }
.tile.bad .change { color: var(--bad); }
.tile .tnote { font-size: 11.5px; color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { font-weight: 600; border-bottom: 1px solid #ccc; background: var(--soft); }
td.n { text-align: right; white-space: nowrap; }
td.good { color: var(--good); font-weight: 600; }
td.bad { color: var(--bad); font-weight: 600; }
td.notable { color: var(--accent); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@media (max-width: 760px) { .parts { grid-template-columns: 1fr; } nav.toc ol { columns: 1; } header.top { grid-template-columns: 1fr; } }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav.toc { break-after: page; }
  section { break-before: page; border-top: none; margin-top: 0; }
  figure, table, .tiles, .part { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`

// styleSheet is baseStyle plus the colour classes: c0..c11 for series
// swatches (the Go palette) and h0..h8 for heat-shaded table cells.
func styleSheet() string {
	var b strings.Builder
	b.WriteString(baseStyle)
	for i, h := range paletteHex() {
		fmt.Fprintf(&b, ".sw.c%d { background: %s; }\n", i, h)
	}
	for i, c := range (blues{}).Colors() {
		r, g, bl, _ := c.RGBA()
		ink := "#222"
		if i >= darkHeat {
			ink = "#fff"
		}
		fmt.Fprintf(&b, "td.h%d { background: #%02x%02x%02x !important; color: %s; }\n", i, r>>8, g>>8, bl>>8, ink)
	}
	return b.String()
}
