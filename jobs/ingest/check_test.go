package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The dry run on a hand-written folder: what would load, be quarantined
// (with the line), the identifiers, a masked sample, an unmatched file;
// the warehouse of the harness is not touched.
func TestCheck(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "pos_transactions.csv", "receipt_id,store_id,ts,loyalty_card,items,amount,discount,payment\n"+
		"R1,S01,2026-11-22 14:03:11,4000123412341234,P001:1:1.00,1.00,0,card\n"+
		"R2,S01,2026-11-22 14:05:00,,P001:1:2.00,2.00,0,card\n"+
		"R3,S01,bad,,P001:1:3.00,3.00,0,card\n")
	h.write("2026-11-22", "notes.txt", "not an extract\n")
	h.cfg.Ingest.RejectThreshold = 0.9
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	rep, err := Check(context.Background(), h.cfg, h.wh.SQL, day, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Date != "2026-11-22" || len(rep.Unmatched) != 1 || !strings.HasSuffix(rep.Unmatched[0], "notes.txt") {
		t.Errorf("report %+v", rep)
	}
	var pos *SourceCheck
	for i := range rep.Sources {
		if rep.Sources[i].Name == "pos_transactions" {
			pos = &rep.Sources[i]
		}
	}
	if pos == nil {
		t.Fatalf("no pos_transactions in %+v", rep.Sources)
	}
	if pos.Read != 3 || pos.Loaded != 2 || pos.Quarantined != 1 {
		t.Errorf("rows read %d, loaded %d, quarantined %d; want 3, 2, 1", pos.Read, pos.Loaded, pos.Quarantined)
	}
	if len(pos.Reasons) != 1 || pos.Reasons[0].Field != "ts" || len(pos.Reasons[0].Examples) != 1 ||
		pos.Reasons[0].Examples[0] != "2026-11-22/pos_transactions.csv:4" {
		t.Errorf("quarantine %+v", pos.Reasons)
	}
	if len(pos.IDs) != 1 || pos.IDs[0].Type != "loyalty_card" || pos.IDs[0].Values != 1 {
		t.Errorf("identifiers %+v", pos.IDs)
	}
	// The sample shows mapped rows, never an identifier in clear.
	if len(pos.Sample) != 2 || pos.Sample[0]["order_id"] != "R1" {
		t.Errorf("sample %v", pos.Sample)
	}
	for _, row := range pos.Sample {
		for k, v := range row {
			if strings.Contains(fmt.Sprint(v), "4000123412341234") {
				t.Errorf("sample shows the card number in clear in %s", k)
			}
		}
	}
	if n := h.one("SELECT count(*) FROM ops.ingest_files"); n != "0" {
		t.Errorf("the dry run wrote %s rows to the real warehouse's ledger", n)
	}
}
