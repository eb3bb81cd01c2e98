package main

// `sources init` drafts, `sources check` accepts: from a folder of exports
// to a mapping that loads every clean row, with no hand edit.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parcours/parcours/jobs/ingest"
)

// handExports are exports as a small French shop has them, written by
// hand: a CRM export saved by a spreadsheet on Windows (Latin-1,
// semicolons, US dates), an e-commerce order export (UTF-8 with a BOM,
// semicolons, decimal commas, day-first times), a newsletter platform's
// activity export (no id column), and a UK retailer's invoice lines
// (the shape of the UCI Online Retail data set: month-first times, a
// cancelled line with a negative quantity).
func handExports(t *testing.T) map[string]string {
	crm := "Numéro client;Courriel;Prénom;Nom;Né(e) le;Code postal;Ville;Canal;Inscrit le\r\n" +
		"C-001;anna.martin@example.fr;Anna;Martin;03/14/1985;75011;Paris;Site web;11/21/2026 03:04 PM\r\n" +
		"C-002;ben.dupuis@example.com;Benoît;Dupuis;12/01/1990;69003;Lyon;Magasin;11/22/2026 09:30 AM\r\n" +
		"C-003;chloe@example.org;Chloé;Lefèvre;07/04/1976;13001;Marseille;Site web;11/22/2026 11:00 AM\r\n"
	orders := "\ufeffOrder Number;Order Date;Order Status;Customer Email;Billing Phone;Billing First Name;Order Total;Discount Amount;Currency;Payment Method\r\n" +
		"10231;22/11/2026 10:15;Terminé;anna.martin@example.fr;06 11 22 33 44;Anna;49,90;0,00;EUR;Carte\r\n" +
		"10232;22/11/2026 11:02;Terminé;ben.dupuis@example.com;+33 7 88 99 00 11;Benoît;120,00;12,00;EUR;PayPal\r\n" +
		"10233;22/11/2026 13:47;Remboursé;chloe@example.org;;Chloé;15,50;0,00;EUR;Carte\r\n" +
		"10234;22/11/2026 18:20;En cours;anna.martin@example.fr;06 11 22 33 44;Anna;8,99;0,00;EUR;Carte\r\n"
	newsletter := `"Email","Campaign","Action","Date"` + "\n" +
		`"anna.martin@example.fr","Black Friday 2026","Sent","2026-11-22 08:00:00"` + "\n" +
		`"anna.martin@example.fr","Black Friday 2026","Opened","2026-11-22 09:12:33"` + "\n" +
		`"anna.martin@example.fr","Black Friday 2026","Clicked","2026-11-22 09:13:02"` + "\n" +
		`"ben.dupuis@example.com","Black Friday 2026","Sent","2026-11-22 08:00:00"` + "\n" +
		`"ben.dupuis@example.com","Black Friday 2026","Bounced","2026-11-22 08:00:05"` + "\n" +
		`"chloe@example.org","Black Friday 2026","Unsubscribed","2026-11-22 10:30:00"` + "\n"
	retail := "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
		"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,11/22/2026 8:26,2.55,17850,United Kingdom\n" +
		"536365,71053,WHITE METAL LANTERN,6,11/22/2026 8:26,3.39,17850,United Kingdom\n" +
		"536366,22633,HAND WARMER UNION JACK,6,11/22/2026 8:28,1.85,17850,United Kingdom\n" +
		"536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,11/22/2026 8:34,1.69,13047,United Kingdom\n" +
		"C536379,22632,HAND WARMER RED POLKA DOT,-1,11/22/2026 9:41,1.85,14527,United Kingdom\n" +
		"536370,22728,ALARM CLOCK BAKELIKE PINK,24,11/22/2026 8:45,3.75,12583,France\n"
	return map[string]string{
		"Clients_export.csv":                 latin1(t, crm),
		"commandes_2026-11-22.csv":           orders,
		"newsletter_activity_2026-11-22.csv": newsletter,
		"online_retail_2026-11-22.csv.gz":    gzipped(t, retail),
	}
}

// initAndCheck drafts sources for every file of a date folder, checks
// the draft on them and returns the draft and the report.
func initAndCheck(t *testing.T, data, day string) (string, ingest.CheckReport) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, day))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"sources", "init"}
	for _, e := range entries {
		args = append(args, filepath.Join(data, day, e.Name()))
	}
	draft := mustCLI(t, args...).stdout
	cfg := writeFile(t, draft)
	r := cli(t, nil, "sources", "check", "--config", cfg, "--input", data, "--date", day, "--json")
	if r.code != 0 {
		t.Fatalf("check of the draft: exit %d\n%s\ndraft:\n%s\nreport:\n%s", r.code, tail(r.stderr, 10), draft, r.stdout)
	}
	var rep ingest.CheckReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return draft, rep
}

func TestSourcesInitThenCheck(t *testing.T) {
	t.Run("hand-written exports", func(t *testing.T) {
		data := extracts(t, presetDay, handExports(t))
		draft, rep := initAndCheck(t, data, presetDay)
		kinds := map[string]string{}
		for _, s := range rep.Sources {
			kinds[s.Name] = s.Kind
			if s.Quarantined != 0 || s.Loaded+s.Filtered+s.Duplicates != s.Read || s.Read == 0 {
				t.Errorf("%s: %+v", s.Name, s)
			}
		}
		want := map[string]string{"clients_export": "customers", "commandes": "orders", "newsletter_activity": "email_events", "online_retail": "order_lines"}
		for name, kind := range want {
			if kinds[name] != kind {
				t.Errorf("%s: kind %q, want %s\n%s", name, kinds[name], kind, draft)
			}
		}
		// What the draft read: US layouts, decimal commas, French channel
		// names, email activity names, an id made of the row.
		for _, s := range []string{`timestamp_format: "%m/%d/%Y %I:%M %p"`, `date_format: "%m/%d/%Y"`, `timestamp_format: "%d/%m/%Y %H:%M"`,
			`amount: replace("Order Total", ',', '.')`, "Site web: web", "Magasin: store", "Opened: open", "event_id: md5(concat_ws(",
			`timestamp_format: "%m/%d/%Y %H:%M"`, "encoding: latin-1", "type: customer_id"} {
			if !strings.Contains(draft, s) {
				t.Errorf("draft lacks %q:\n%s", s, draft)
			}
		}
	})
	t.Run("preset samples", func(t *testing.T) {
		data := extracts(t, presetDay, map[string]string{
			"segment_2026-11-22.jsonl": segmentSample(),
			"ga4_20261122.jsonl":       ga4Sample(),
			"orders_export_1.csv":      shopifySample(),
			"cmp_log_2026-11-22.csv":   tcfSample(false),
		})
		draft, rep := initAndCheck(t, data, presetDay)
		for _, p := range []string{"preset: segment", "preset: ga4", "preset: shopify_orders", "preset: tcf_consents"} {
			if !strings.Contains(draft, p) {
				t.Errorf("draft lacks %q:\n%s", p, draft)
			}
		}
		if len(rep.Sources) != 4 {
			t.Errorf("%d sources checked, want 4", len(rep.Sources))
		}
		for _, s := range rep.Sources {
			if s.Quarantined != 0 || s.Loaded+s.Filtered+s.Duplicates != s.Read || s.Loaded == 0 {
				t.Errorf("%s: %+v", s.Name, s)
			}
		}
	})
	t.Run("fixture files", func(t *testing.T) {
		// A draft of the sample data's own files loads them exactly as the
		// built-in sources do, planted malformed rows included.
		src := dataset(t, 800, 30, 9)
		day := mostMalformed(t, src)
		data := filepath.Join(t.TempDir(), "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(src, day), filepath.Join(data, day)); err != nil {
			t.Fatal(err)
		}
		_, drafted := initAndCheck(t, data, day)
		r := mustCLI(t, "sources", "check", "--input", data, "--date", day, "--json")
		var builtin ingest.CheckReport
		if err := json.Unmarshal([]byte(r.stdout), &builtin); err != nil {
			t.Fatal(err)
		}
		counts := func(rep ingest.CheckReport) []string {
			var out []string
			for _, s := range rep.Sources {
				b, _ := json.Marshal([]any{s.Name, s.Kind, s.Read, s.Loaded, s.Filtered, s.Quarantined, s.Duplicates, s.IDs})
				out = append(out, string(b))
			}
			sort.Strings(out)
			return out
		}
		got, want := counts(drafted), counts(builtin)
		var planted int64
		for _, s := range builtin.Sources {
			planted += s.Quarantined
		}
		if len(want) < 12 || planted == 0 {
			t.Fatalf("the built-in check saw %d sources, %d planted rows", len(want), planted)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("drafted sources:\n%s\nbuilt-in sources:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// mostMalformed is the date folder of a data set with the most planted
// malformed rows.
func mostMalformed(t *testing.T, data string) string {
	t.Helper()
	m := readManifest(t, data)
	per := map[string]int64{}
	best := m.Last
	for _, f := range m.Files {
		d := strings.SplitN(f.Path, "/", 2)[0]
		per[d] += f.Malformed
		if per[d] > per[best] || per[d] == per[best] && d > best {
			best = d
		}
	}
	return best
}
