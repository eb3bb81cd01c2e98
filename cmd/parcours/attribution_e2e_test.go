package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// `parcours attribution --paths` on a ChannelAttribution-format file: the
// heuristics equal the hand computation, every model credits all
// conversions, and a bad number names its line and column.
func TestAttributionCommand(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "paths.csv")
	// A > B > C converts once (value 4), A > C once (4), B once (4) and once not, C never (1 null).
	// linear: A = 1/3 + 1/2 = 5/6, B = 1/3 + 1 = 4/3, C = 1/3 + 1/2 = 5/6.
	// first touch: A 2, B 1; last touch: C 2, B 1.
	body := "path;total_conversions;total_conversion_value;total_null\nA > B > C;1;4;0\nA > C;1;4;0\nB;1;4;1\nC;0;0;1\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "attribution", "--paths", p, "--delim", ";", "--json").stdout
	var res struct {
		Total  float64                                  `json:"total_conversions"`
		Models map[string]map[string]map[string]float64 `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]map[string]float64{
		"linear":      {"A": 5.0 / 6, "B": 4.0 / 3, "C": 5.0 / 6},
		"first_touch": {"A": 2, "B": 1, "C": 0},
		"last_touch":  {"A": 0, "B": 1, "C": 2},
	}
	for m, chans := range want {
		for ch, v := range chans {
			if got := res.Models[m][ch]["conversions"]; math.Abs(got-v) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", m, ch, got, v)
			}
		}
	}
	if len(res.Models) != 10 {
		t.Errorf("%d models, want heuristics, Markov 1-3, the additive Shapley and the touch hazard", len(res.Models))
	}
	for m, chans := range res.Models {
		sum := 0.0
		for _, c := range chans {
			sum += c["conversions"]
		}
		if math.Abs(sum-res.Total) > 1e-9 {
			t.Errorf("%s credits %v conversions of %v", m, sum, res.Total)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("path,total_conversions\nA > B,1\nB,many\n"), 0o644)
	r := cli(t, nil, "attribution", "--paths", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, "total_conversions") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// On generated data the data-driven models rank the online channels in
// the planted order of effect (truth/channel_effects.csv: conversions lost
// when the channel is removed from the simulation). Store and call centre
// are left out: a store visit is itself a purchase and calls convert no
// one. Path models credit presence on a path, so 'direct', on most paths,
// is over-credited against its counterfactual effect: pairs with direct
// are reported, not asserted. Spearman was 0.63-0.68 while a session's
// later pages counted as touches of their own ('direct' on the web, 'app'
// after a push); one touch per session gives them 0.67-0.70, hence a
// floor of 0.65. The touch-hazard model, which weighs per-touch effects
// as the simulation does, ranks them all in order (1.00) once a store
// purchase's own visit is its last touch: 0.95 is its floor.
func TestAttributionRanksPlantedChannels(t *testing.T) {
	data := dataset(t, 10000, 120, 5)
	wh := filepath.Join(t.TempDir(), "wh")
	exports := filepath.Join(t.TempDir(), "exports")
	mustCLIEnv(t, []string{"PARCOURS_EXPORT_DIR=" + exports}, "run", "nightly", "--date", lastDate(t, data), "--input", data, "--warehouse", wh)
	truth := map[string]float64{}
	for i, rec := range readCSVFile(t, filepath.Join(data, "truth", "channel_effects.csv")) {
		if i > 0 && rec[0] != "store" && rec[0] != "call_center" {
			truth[rec[0]] = atof(t, rec[2])
		}
	}
	credit := map[string]map[string]float64{}
	for _, rec := range queryCSV(t, wh, `SELECT model, channel, sum(conversions) FROM cold.attribution GROUP BY ALL`) {
		if credit[rec[0]] == nil {
			credit[rec[0]] = map[string]float64{}
		}
		credit[rec[0]][rec[1]] = atof(t, rec[2])
	}
	checkSegmentsTriggersReport(t, wh, exports, lastDate(t, data))
	// Every conversion has at least the visit it happened in as a touch:
	// almost nothing is left unattributed.
	if share := atof(t, queryCSV(t, wh, `SELECT coalesce(sum(conversions) FILTER (WHERE channel = '(unattributed)'), 0) / sum(conversions)
FROM cold.attribution WHERE model = 'last_touch'`)[0][0]); share >= 0.05 {
		t.Errorf("%.1f%% of conversions unattributed, want under 5%%", 100*share)
	}
	for _, model := range []string{"markov_order_1", "markov_order_2", "markov_order_3", "shapley_additive", "touch_hazard"} {
		got := credit[model]
		if len(got) == 0 {
			t.Fatalf("no %s credits", model)
		}
		rho := spearman(truth, got)
		var bad []string
		ok, pairs := 0, 0
		for a := range truth {
			for b := range truth {
				if truth[a] < 2*truth[b] || a == "direct" || b == "direct" {
					continue
				}
				pairs++
				if got[a] > got[b] {
					ok++
				} else {
					bad = append(bad, a+" < "+b)
				}
			}
		}
		t.Logf("%s: spearman %.2f vs planted, %d/%d clearly separated pairs in order %v", model, rho, ok, pairs, bad)
		// The touch-hazard model weighs each channel's per-touch effect and
		// its touches as occasions, as the simulation does: it must rank
		// them as planted; presence models keep a lower floor.
		floor := 0.65
		if model == "touch_hazard" {
			floor = 0.95
		}
		if rho < floor || ok < pairs {
			t.Errorf("%s does not rank channels in the planted order: spearman %.2f, out of order: %v", model, rho, bad)
		}
	}
}

// spearman is the rank correlation of two scores over truth's keys.
func spearman(truth, got map[string]float64) float64 {
	keys := make([]string, 0, len(truth))
	for k := range truth {
		keys = append(keys, k)
	}
	// Ranks with ties given their average rank, as Spearman's coefficient
	// defines them (the planted file ties channels that lose as many
	// conversions).
	rank := func(m map[string]float64) map[string]float64 {
		s := append([]string(nil), keys...)
		sort.Slice(s, func(i, j int) bool { return m[s[i]] > m[s[j]] || m[s[i]] == m[s[j]] && s[i] < s[j] })
		r := map[string]float64{}
		for i := 0; i < len(s); {
			j := i
			for j+1 < len(s) && m[s[j+1]] == m[s[i]] {
				j++
			}
			for _, k := range s[i : j+1] {
				r[k] = float64(i+j) / 2
			}
			i = j + 1
		}
		return r
	}
	ra, rb := rank(truth), rank(got)
	var d2 float64
	for _, k := range keys {
		d2 += (ra[k] - rb[k]) * (ra[k] - rb[k])
	}
	n := float64(len(keys))
	return 1 - 6*d2/(n*(n*n-1))
}

// checkSegmentsTriggersReport checks, on a nightly warehouse, that the
// issue-5 outputs exist and hold to their gates: every segment member and
// every trigger fire had the consent it needs at the end of the date, no
// fire went to a customer whose latest record for that trigger is an
// opt-out, and the report was written.
func checkSegmentsTriggersReport(t *testing.T, wh, exports, date string) {
	t.Helper()
	got := queryCSV(t, wh, `SELECT
  (SELECT count(*) FROM analytics.segment_members WHERE family = 'rfm') AS rfm,
  (SELECT count(*) FROM cold.kpis) AS kpis,
  (SELECT count(*) FROM analytics.segment_members m WHERE NOT EXISTS (
      SELECT 1 FROM consent.intervals i WHERE i.customer_key = m.customer_key AND i.purpose = 'analytics'
        AND i.valid_from <= m.computed_on + INTERVAL 1 DAY AND coalesce(i.valid_to, TIMESTAMPTZ '9999-01-01') > m.computed_on)) AS unconsented_members,
  (SELECT count(*) FROM analytics.trigger_fires f WHERE NOT EXISTS (
      SELECT 1 FROM consent.intervals i WHERE i.customer_key = f.customer_key
        AND i.purpose = CASE f.channel WHEN 'email' THEN 'marketing_email' WHEN 'sms' THEN 'marketing_sms'
                                       WHEN 'ads' THEN 'marketing_ads' ELSE 'personalization' END
        AND i.valid_from <= f.fired_on + INTERVAL 1 DAY AND coalesce(i.valid_to, TIMESTAMPTZ '9999-01-01') > f.fired_on)) AS unconsented_fires,
  (SELECT count(*) FROM analytics.trigger_fires f JOIN (
      SELECT m.customer_key, o."trigger", arg_max(o.status, o.ts) AS status
      FROM consent.trigger_optouts o JOIN identity.customer_map m ON m.id_token = o.subject_token AND NOT m.blocked
      GROUP BY ALL) o ON o.customer_key = f.customer_key AND o."trigger" = f."trigger"
   WHERE o.status = 'opt_out') AS opted_out_fires,
  (SELECT count(*) FROM consent.trigger_optouts) AS optouts`)[0]
	if atoi(t, got[0]) == 0 || atoi(t, got[1]) == 0 || atoi(t, got[5]) == 0 {
		t.Errorf("rfm members %s, kpi rows %s, trigger opt-outs %s: want some of each", got[0], got[1], got[5])
	}
	if got[2] != "0" || got[3] != "0" || got[4] != "0" {
		t.Errorf("segment members without analytics consent %s, fires without channel consent %s, fires to opted-out customers %s: want 0",
			got[2], got[3], got[4])
	}
	b, err := os.ReadFile(filepath.Join(exports, "reports", "report-"+date+".html"))
	if err != nil {
		t.Fatalf("the nightly run wrote no report: %v", err)
	}
	if n := strings.Count(string(b), "<figure data-chart="); n < 10 || strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
		t.Errorf("report: %d charts (want 10+), or an external URL", n)
	}
}
