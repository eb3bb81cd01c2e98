package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/orchestration"
)

// leaves lists every runnable command path under the root, and the
// command groups (commands with sub-commands).
func leaves() (cmds map[string]*cobra.Command, groups []string) {
	cmds = map[string]*cobra.Command{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() {
			groups = append(groups, strings.Join(path, " "))
			for _, s := range c.Commands() {
				walk(s, append(append([]string(nil), path...), s.Name()))
			}
			return
		}
		cmds[strings.Join(path, " ")] = c
	}
	walk((&app{}).rootCommand(), nil)
	return cmds, groups
}

// Every command refuses an unknown flag, and every group an unknown
// sub-command, with exit 2 (a usage error the scheduler must not retry).
func TestUnknownFlagsAndCommandsExit2(t *testing.T) {
	cmds, groups := leaves()
	if len(cmds) < 30 {
		t.Fatalf("only %d commands found", len(cmds))
	}
	for path := range cmds {
		args := append(strings.Fields(path), "--no-such-flag")
		var out, errb bytes.Buffer
		if code := execute(context.Background(), args, &out, &errb); code != orchestration.ExitUsage {
			t.Errorf("parcours %s: exit %d, want 2\n%s", strings.Join(args, " "), code, errb.String())
		}
	}
	for _, g := range groups {
		args := append(strings.Fields(g), "no-such-command")
		var out, errb bytes.Buffer
		if code := execute(context.Background(), args, &out, &errb); code != orchestration.ExitUsage {
			t.Errorf("parcours %s: exit %d, want 2\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
	}
}

// --json (and -o json) prints one JSON object on every command that has
// it; an identifier nobody holds exits 67 in every command that looks one
// up; unknown flags and commands exit 2.
func TestCLIContract(t *testing.T) {
	data := dataset(t, 300, 1, 3)
	date := lastDate(t, data)
	wh, tmp := t.TempDir(), t.TempDir()
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	crmID := firstCRMID(t, filepath.Join(data, date, "crm_customers.csv"))
	paths := filepath.Join(tmp, "paths.csv")
	if err := os.WriteFile(paths, []byte("path,total_conversions,total_conversion_value,total_null\nseo > email,3,90,10\nemail,1,20,5\nseo,2,50,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := []string{"--warehouse", wh}
	cases := map[string][]string{
		"run":               {"run", "nightly", "--date", date, "--input", data, "--warehouse", t.TempDir()},
		"status":            append([]string{"status", "--date", date}, w...),
		"jobs":              {"jobs"},
		"contracts":         {"contracts"},
		"config":            {"config"},
		"sources list":      {"sources", "list"},
		"sources check":     {"sources", "check", "--date", date, "--input", data},
		"model list":        append([]string{"model", "list"}, w...),
		"model features":    append([]string{"model", "features", "--cutoff", date, "--incomplete-labels", "--out", filepath.Join(tmp, "f.csv")}, w...),
		"report":            append([]string{"report", "--date", date, "--out", filepath.Join(tmp, "r.html")}, w...),
		"dag export":        {"dag", "export", "--out", filepath.Join(tmp, "dag.py")},
		"compact":           append([]string{"compact"}, w...),
		"migrate":           append([]string{"migrate"}, w...),
		"fixtures generate": {"fixtures", "generate", "--customers", "20", "--days", "1", "--out", filepath.Join(tmp, "fx")},
		"query":             append([]string{"query", "SELECT 1 AS one"}, w...),
		"attribution":       {"attribution", "--paths", paths},
		"activate plan":     append([]string{"activate", "plan", "--date", date}, w...),
		"activate apply":    append([]string{"activate", "apply", "--date", date}, w...),
		"activate types":    {"activate", "types"},
		"backfill":          append([]string{"backfill", "--from", date, "--to", date, "--input", data}, w...),
		"privacy object":    append([]string{"privacy", "object", crmID, "--to", "marketing"}, w...),
		"privacy contest":   append([]string{"privacy", "contest", crmID, "--reason", "a test"}, w...),
		"privacy resolve":   append([]string{"privacy", "resolve", crmID}, w...),
		"identity explain":  append([]string{"identity", "explain", crmID}, w...),
		"identity rebuild":  append([]string{"identity", "rebuild", "--check"}, w...),
		"privacy export":    append([]string{"privacy", "export", crmID}, w...),
	}
	// Commands with --json exercised by other tests, each for a reason.
	elsewhere := map[string]string{
		"merge":           "needs shard warehouses (shards_e2e_test.go)",
		"keys rotate":     "needs a second master key (privacy_e2e_test.go)",
		"model compare":   "needs two model ids (model_e2e_test.go)",
		"model promote":   "needs a model id (model_e2e_test.go)",
		"model explain":   "needs scores (model_e2e_test.go); its not-found exit is checked below",
		"model train":     "needs months of history (model_e2e_test.go)",
		"model fit churn": "needs a feature table (model_e2e_test.go)",
		"model fit clv":   "needs a transactions file (model_e2e_test.go)",
		"privacy forget":  "erases; its not-found exit is checked below",
		"model show":      "needs a model id (model_e2e_test.go)",
	}
	cmds, _ := leaves()
	var names []string
	for path, c := range cmds {
		if c.Flags().Lookup("json") != nil {
			names = append(names, path)
		}
	}
	sort.Strings(names)
	for _, path := range names {
		args, ok := cases[path]
		if _, skip := elsewhere[path]; skip {
			continue
		}
		if !ok {
			t.Errorf("parcours %s has --json but no case here", path)
			continue
		}
		for _, flag := range []string{"--json", "-o"} {
			a := append([]string(nil), args...)
			if flag == "-o" {
				if cmds[path].Flags().ShorthandLookup("o") == nil || path == "dag export" || path == "query" {
					continue // their -o names what they write (csv, airflow)
				}
				a = append(a, "-o", "json")
			} else {
				a = append(a, "--json")
			}
			r := cli(t, nil, a...)
			if r.code != 0 {
				t.Errorf("parcours %s: exit %d\n%s", strings.Join(a, " "), r.code, tail(r.stderr, 5))
				continue
			}
			var v map[string]any
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			if err := dec.Decode(&v); err != nil {
				t.Errorf("parcours %s: stdout is not one JSON object: %v\n%s", strings.Join(a, " "), err, tail(r.stdout, 5))
				continue
			}
			if dec.More() {
				t.Errorf("parcours %s: more than one JSON value on stdout", strings.Join(a, " "))
			}
		}
	}
	if r := cli(t, nil, append([]string{"status", "--date", "2020-01-01"}, w...)...); r.code != 0 || !strings.Contains(r.stdout, "no run recorded for 2020-01-01") {
		t.Errorf("status of a date without a run: exit %d\n%s", r.code, r.stdout)
	}
	if r := cli(t, nil, append([]string{"run", "nosuchjob", "--date", date}, w...)...); r.code != 2 || strings.Count(r.stdout+r.stderr, "nosuchjob") != 1 {
		t.Errorf("run nosuchjob: exit %d, want 2 and the error once:\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	// Labels that do not exist yet: one day of data has no complete 90-day
	// horizon, so model features refuses, or writes churned as null.
	feat := filepath.Join(tmp, "labels.csv")
	d, _ := time.Parse(time.DateOnly, date)
	next := d.AddDate(0, 0, 1).Format(time.DateOnly) // the day's purchases count
	r := cli(t, nil, append([]string{"model", "features", "--cutoff", next, "--out", feat}, w...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "last complete cut-off") {
		t.Errorf("model features on an incomplete horizon: exit %d, want 2 naming the last complete cut-off\n%s", r.code, r.stderr)
	}
	r = cli(t, nil, append([]string{"model", "features", "--cutoff", next, "--out", feat, "--incomplete-labels"}, w...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "have churned = null") {
		t.Errorf("model features --incomplete-labels: exit %d\n%s", r.code, r.stderr)
	}
	recs := readCSVFile(t, feat)
	if len(recs) < 2 || recs[0][0] != "cutoff" || recs[0][1] != "customer_key" || recs[0][len(recs[0])-1] != "churned" {
		t.Fatalf("feature file header %v", recs[0])
	}
	for _, rec := range recs[1:] {
		if rec[len(rec)-1] != "" {
			t.Fatalf("a label on an incomplete horizon: %v", rec)
		}
	}

	// Nobody holds this identifier: the same exit code everywhere.
	nobody := "nobody-at-all@example.org"
	for _, args := range [][]string{
		{"identity", "explain", nobody}, {"privacy", "export", nobody}, {"model", "explain", nobody}, {"privacy", "forget", nobody},
	} {
		r := cli(t, nil, append(args, w...)...)
		if r.code != orchestration.ExitNotFound {
			t.Errorf("parcours %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, orchestration.ExitNotFound, tail(r.stderr, 5))
		}
		if strings.Contains(r.stderr, "nobody-at-all") {
			t.Errorf("parcours %s quotes the identifier in its error: %s", strings.Join(args, " "), r.stderr)
		}
	}
}

// firstCRMID is the customer id of a CRM extract's first record.
func firstCRMID(t *testing.T, path string) string {
	t.Helper()
	recs := readCSVFile(t, path)
	col := slices.Index(recs[0], "customer_id")
	for _, r := range recs[1:] {
		if col >= 0 && r[col] != "" {
			return r[col]
		}
	}
	t.Fatal("no customer id in " + path)
	return ""
}
