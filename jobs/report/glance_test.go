package report

import (
	htmlpkg "html"
	"strings"
	"testing"
)

// TestGlance: the first screen on hand-built figures. D = 2026-06-10.
//   - Revenue 1,100 against 1,000 the day before (+10%, coloured good) and
//     1,080 a week before (+1.9%, under 5%: grey).
//   - Conversion 60 of 1,000 sessions against 40 of 1,000 (+2 pt: z = 2.05,
//     good) and 55 of 1,000 a week before (+0.5 pt: chance, grey).
//   - Orders 65 against 48 (+17, beyond 2 * sqrt(48) = 13.9: good) and 72
//     a week before (-7, within 2 * sqrt(72) = 17: grey, although -9.7%).
//   - Segments computed on 06-10, 06-09 and 06-03: champions 500 against
//     400 (+100: 5% and beyond 2 * sqrt(400) = 40, notable) and 495 (+5:
//     grey); at_risk is new since 06-09.
func TestGlance(t *testing.T) {
	wh := openWH(t)
	exec(t, wh,
		`INSERT INTO cold.kpis VALUES
  ('day', '2026-06-10', 'all', 'all', 'revenue', 1100, NULL, NULL, 40),
  ('day', '2026-06-09', 'all', 'all', 'revenue', 1000, NULL, NULL, 40),
  ('day', '2026-06-03', 'all', 'all', 'revenue', 1080, NULL, NULL, 40),
  ('day', '2026-06-10', 'all', 'all', 'conversion_rate', 0.06, 60, 1000, 40),
  ('day', '2026-06-09', 'all', 'all', 'conversion_rate', 0.04, 40, 1000, 40),
  ('day', '2026-06-03', 'all', 'all', 'conversion_rate', 0.055, 55, 1000, 40),
  ('day', '2026-06-10', 'all', 'all', 'orders', 65, NULL, NULL, 40),
  ('day', '2026-06-09', 'all', 'all', 'orders', 48, NULL, NULL, 40),
  ('day', '2026-06-03', 'all', 'all', 'orders', 72, NULL, NULL, 40),
  ('day', '2026-06-10', 'all', 'all', 'cart_abandonment_rate', 1, 0, 0, 40)`,
		`INSERT INTO cold.segment_profiles (computed_on, family, segment, customers, description, profile) VALUES
  ('2026-06-10', 'rfm', 'champions', 500, '', NULL),
  ('2026-06-09', 'rfm', 'champions', 400, '', NULL),
  ('2026-06-03', 'rfm', 'champions', 495, '', NULL),
  ('2026-06-10', 'rfm', 'at_risk', 120, '', NULL),
  ('2026-06-11', 'rfm', 'champions', 9999, '', NULL)`,
	)
	// Risk mix: high 300 of 1,000 scored against 200 of 1,000 the day
	// before (+10 pt, z = 5.2: bad) and 290 of 1,000 a week before (+1 pt:
	// chance); low 500 against 600 (-10 pt: bad) and 505 (grey).
	exec(t, wh, `INSERT INTO cold.churn_risk_mix VALUES
  ('2026-06-10', 'high', 300, 0.3, 0.8), ('2026-06-10', 'medium', 200, 0.2, 0.5), ('2026-06-10', 'low', 500, 0.5, 0.1),
  ('2026-06-09', 'high', 200, 0.2, 0.8), ('2026-06-09', 'medium', 200, 0.2, 0.5), ('2026-06-09', 'low', 600, 0.6, 0.1),
  ('2026-06-03', 'high', 290, 0.29, 0.8), ('2026-06-03', 'medium', 205, 0.205, 0.5), ('2026-06-03', 'low', 505, 0.505, 0.1)`)
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	g := htmlpkg.UnescapeString(sectionHTML(t, html, "glance"))
	if i, k := strings.Index(html, `<section id="glance"`), strings.Index(html, `<section id="kpis"`); i < 0 || i > k {
		t.Error("the glance section is not the first one")
	}
	cell := func(class, text string) string { return `<td class="n` + class + `">` + text + `</td>` }
	for _, want := range []string{
		cell("", "€1,100.00") + cell("", "€1,000.00") + cell(" good", "+10.0%") + cell("", "€1,080.00") + cell("", "+1.9%"),
		cell("", "6.00%") + cell("", "4.00%") + cell(" good", "+2.00 pt") + cell("", "5.50%") + cell("", "+0.50 pt"),
		cell("", "65") + cell("", "48") + cell(" good", "+35.4%") + cell("", "72") + cell("", "-9.7%"),
		// no cart on D: no rate, not 100%
		`<td class="">Cart abandonment</td>` + cell("", "n/a"),
		cell("", "500") + cell(" notable", "+100 (+25.0%)") + cell("", "+5 (+1.0%)"),
		cell("", "120") + cell("", "new") + cell("", "new"),
		"against 2026-06-09 and 2026-06-03",
		cell("", "30.0%") + cell("", "20.0%") + cell(" bad", "+10.0 pt") + cell("", "29.0%") + cell("", "+1.0 pt"),
		cell("", "50.0%") + cell("", "60.0%") + cell(" bad", "-10.0 pt") + cell("", "50.5%") + cell("", "-0.5 pt"),
	} {
		if !strings.Contains(g, want) {
			t.Errorf("glance lacks %s", want)
		}
	}
	if strings.Contains(g, "9,999") {
		t.Error("a computation after D is shown")
	}
}
