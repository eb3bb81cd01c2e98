package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Pseudonyms are secrets, not data: fresh warehouses built from the same
// extracts with different peppers and thread counts train the same
// models, make the same promotion decisions, score the same distribution,
// fill the same segment sizes and write the same report figures; with the
// same pepper, the keyed tables are identical.
func TestSameDataSameModels(t *testing.T) {
	data := dataset(t, 1500, 210, 11)
	date := lastDate(t, data)
	const (
		master = "bWFzdGVyLW1hc3Rlci1tYXN0ZXItbWFzdGVyLW1hc3Q="
		pepA   = "cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHA="
		pepB   = "YW5vdGhlci1wZXBwZXItYW5vdGhlci1wZXBwZXItISE="
	)
	type variant struct {
		name    string
		pepper  string
		threads int
	}
	variants := []variant{{"pepper A, 1 thread", pepA, 1}, {"pepper A, 2 threads", pepA, 2}, {"pepper B, 2 threads", pepB, 2}}
	type outcome struct {
		models, scores, segments, report string
		params                           []map[string]float64
		keyed                            map[string]string
	}
	results := make([]outcome, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wh, exports := t.TempDir(), t.TempDir()
			cfg := writeFile(t, fmt.Sprintf("duckdb:\n  threads: %d\n", v.threads))
			r := cli(t, []string{"PARCOURS_PEPPER=" + v.pepper, "PARCOURS_MASTER_KEY=" + master, "PARCOURS_EXPORT_DIR=" + exports},
				"run", "nightly", "--config", cfg, "--date", date, "--input", data, "--warehouse", wh)
			if r.code != 0 {
				t.Errorf("%s: exit %d\n%s", v.name, r.code, tail(r.stdout, 25))
				return
			}
			o := outcome{keyed: map[string]string{}}
			o.models = csvText(queryCSV(t, wh, `SELECT kind, algorithm, status, CAST(train_cutoff AS VARCHAR)
FROM ops.models ORDER BY kind, algorithm`))
			for _, row := range queryCSV(t, wh, `SELECT CAST(metrics AS VARCHAR) FROM ops.models ORDER BY kind, algorithm`) {
				o.params = append(o.params, numbers(t, row[0]))
			}
			o.scores = csvText(queryCSV(t, wh, `SELECT 'churn', count(*), round(avg(probability), 9), round(quantile_cont(probability, [0.1, 0.5, 0.9])[2], 9),
  count(*) FILTER (WHERE risk_band = 'high') FROM analytics.churn_scores
UNION ALL SELECT 'clv', count(*), round(avg(clv), 6), round(quantile_cont(clv, 0.5), 6), count(*) FILTER (WHERE p_alive > 0.5) FROM analytics.clv_scores
ORDER BY 1`))
			o.segments = csvText(queryCSV(t, wh, `SELECT family, segment, count(*) FROM analytics.segment_members GROUP BY ALL ORDER BY ALL`))
			html, err := os.ReadFile(filepath.Join(exports, "reports", "report-"+date+".html"))
			if err != nil {
				t.Error(err)
				return
			}
			o.report = reportFigures(string(html))
			sums := tableChecksums(t, wh, "model_id")
			for _, tbl := range []string{"analytics.churn_scores", "analytics.clv_scores", "analytics.segment_members"} {
				o.keyed[tbl] = fmt.Sprintf("%+v", sums[tbl])
			}
			results[i] = o
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	base := results[0]
	if !strings.Contains(base.models, "churn") || !strings.Contains(base.models, "clv") {
		t.Fatalf("the sample trains no churn or no CLV model:\n%s", base.models)
	}
	for i, o := range results[1:] {
		v := variants[i+1]
		if o.models != base.models {
			t.Errorf("%s: models differ:\n%s\nvs %s:\n%s", v.name, o.models, variants[0].name, base.models)
		}
		for m := range base.params {
			for k, want := range base.params[m] {
				got, ok := o.params[m][k]
				if !ok || math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: model %d metric %s = %v, want %v", v.name, m, k, got, want)
				}
			}
		}
		if o.scores != base.scores {
			t.Errorf("%s: score distributions differ:\n%s\nvs\n%s", v.name, o.scores, base.scores)
		}
		if o.segments != base.segments {
			t.Errorf("%s: segment sizes differ:\n%s\nvs\n%s", v.name, o.segments, base.segments)
		}
		if o.report != base.report {
			t.Errorf("%s: the report's figures differ: %s", v.name, firstDiff(o.report, base.report))
		}
	}
	// Same pepper, one thread or two: the keyed tables are identical.
	for tbl, sum := range base.keyed {
		if results[1].keyed[tbl] != sum {
			t.Errorf("%s differs between 1 and 2 threads: %s vs %s", tbl, sum, results[1].keyed[tbl])
		}
	}
}

func csvText(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// numbers flattens a JSON document's numbers by path.
func numbers(t *testing.T, doc string) map[string]float64 {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("metrics %q: %v", doc, err)
	}
	out := map[string]float64{}
	var walk func(string, any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case float64:
			out[path] = x
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", v)
	return out
}

// reportFigures is the report's text without what names a run (the time
// it was generated, model ids, which carry their training time).
func reportFigures(html string) string {
	html = regexp.MustCompile(`<time datetime="[^"]*UTC">[^<]*</time>`).ReplaceAllString(html, "")
	return regexp.MustCompile(`(churn|clv)-[^-\s<]+-\d{8}T\d{6}\.\d{3}`).ReplaceAllString(html, "$1-model")
}

// firstDiff shows where two texts first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("at byte %d:\n%q\nvs\n%q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
}
