package clv

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cdnowDir finds the CDNOW reference data: $PARCOURS_CDNOW_DIR, else the
// copy committed under fixtures/testdata/cdnow (so the published results
// are checked on every clone).
func cdnowDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PARCOURS_CDNOW_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "fixtures", "testdata", "cdnow")
	}
	if _, err := os.Stat(filepath.Join(dir, "cdnow_customers_summary.csv")); err != nil {
		t.Fatalf("CDNOW reference data missing at %s: %v", dir, err)
	}
	return dir
}

// readCSV returns the records of a headed CSV file, header first.
func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return recs
}

func parseFloats(t testing.TB, rec []string, idx ...int) []float64 {
	t.Helper()
	out := make([]float64, len(idx))
	for i, j := range idx {
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64)
		if err != nil {
			t.Fatalf("parse %q: %v", rec[j], err)
		}
		out[i] = v
	}
	return out
}

// loadCDNOWSummary reads cdnow_customers_summary.csv (ID, frequency,
// recency, T in weeks).
func loadCDNOWSummary(t testing.TB) []Customer {
	t.Helper()
	recs := readCSV(t, filepath.Join(cdnowDir(t), "cdnow_customers_summary.csv"))
	out := make([]Customer, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		v := parseFloats(t, rec, 1, 2, 3)
		out = append(out, Customer{ID: rec[0], X: v[0], TX: v[1], T: v[2]})
	}
	return out
}

// loadCDNOWWithSpend reads cdnow_customers_summary_with_transactions.csv
// (ID, x, t_x, T, zbar).
func loadCDNOWWithSpend(t testing.TB) []Customer {
	t.Helper()
	recs := readCSV(t, filepath.Join(cdnowDir(t), "cdnow_customers_summary_with_transactions.csv"))
	out := make([]Customer, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		v := parseFloats(t, rec, 1, 2, 3, 4)
		out = append(out, Customer{ID: rec[0], X: v[0], TX: v[1], T: v[2], MeanValue: v[3]})
	}
	return out
}

// loadCDNOWTransactions reads CDNOW_sample.txt: whitespace-separated
// master_id, sample_id, YYYYMMDD, cds, dollar_value, no header. Customers are
// identified by sample_id, as the published summaries are.
func loadCDNOWTransactions(t testing.TB) []Transaction {
	t.Helper()
	f, err := os.Open(filepath.Join(cdnowDir(t), "CDNOW_sample.txt"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var out []Transaction
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 5 {
			t.Fatalf("CDNOW_sample.txt:%d: %d fields", line, len(fields))
		}
		day, err := time.Parse("20060102", fields[2])
		if err != nil {
			t.Fatalf("CDNOW_sample.txt:%d: %v", line, err)
		}
		amount, err := strconv.ParseFloat(fields[4], 64)
		if err != nil {
			t.Fatalf("CDNOW_sample.txt:%d: %v", line, err)
		}
		id, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("CDNOW_sample.txt:%d: %v", line, err)
		}
		out = append(out, Transaction{Customer: fmt.Sprint(id), Time: day, Amount: amount})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read CDNOW_sample.txt: %v", err)
	}
	return out
}
