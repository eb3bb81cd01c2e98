package filedrop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

func batch(n int) delivery.Batch {
	b := delivery.Batch{Destination: "crm", Segment: "rfm:champions", Date: "2024-03-01", Number: 2, Op: delivery.OpUpsert}
	for i := range n {
		b.Members = append(b.Members, delivery.Member{Key: fmt.Sprintf("ck%06d", i), Email: fmt.Sprintf("user%06d@example.com", i),
			FirstName: "Zoë", LastName: "O'Neil, Jr", CountryCode: "FR", Attributes: map[string]string{"tier": "gold"}})
	}
	return b
}

func small() delivery.Batch {
	return delivery.Batch{Destination: "crm", Segment: "rfm:champions", Date: "2024-03-01", Number: 2, Op: delivery.OpUpsert,
		Members: []delivery.Member{
			{Key: "k1", Email: "a@example.com", FirstName: "Zoë", LastName: "O'Neil, Jr", Attributes: map[string]string{"tier": "gold", "email": "alt@example.com"}},
			{Key: "k2", Phone: "+33612345678", Attributes: map[string]string{"score": "42"}},
		}}
}

func conn(t *testing.T, format string) *Connector {
	t.Helper()
	c, err := New(Config{Name: "crm", Outbox: filepath.Join(t.TempDir(), "outbox"), Format: format})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncodeTextFormats(t *testing.T) {
	tests := []struct {
		format, want string
	}{
		{CSV, "key,email,phone,first_name,last_name,country_code,postal_code,attr_email,score,tier\n" +
			"k1,a@example.com,,Zoë,\"O'Neil, Jr\",,,alt@example.com,,gold\n" +
			"k2,,+33612345678,,,,,,42,\n"},
		{JSONL, `{"key":"k1","email":"a@example.com","first_name":"Zoë","last_name":"O'Neil, Jr","attr_email":"alt@example.com","tier":"gold"}` + "\n" +
			`{"key":"k2","phone":"+33612345678","score":"42"}` + "\n"},
	}
	for _, tt := range tests {
		c := conn(t, tt.format)
		reqs, skipped, err := c.Encode(small())
		if err != nil || len(skipped) != 0 || len(reqs) != 1 {
			t.Fatal(err, skipped, len(reqs))
		}
		r := reqs[0]
		if string(r.Body) != tt.want {
			t.Errorf("%s body\n%s\nwant\n%s", tt.format, r.Body, tt.want)
		}
		if r.Path != "crm_rfm-champions_2024-03-01_upsert_00002."+tt.format || r.Key != "crm/rfm:champions/2024-03-01/upsert/2" {
			t.Errorf("%s path %s key %s", tt.format, r.Path, r.Key)
		}
		if !reflect.DeepEqual(r.Members, []string{"k1", "k2"}) {
			t.Errorf("members %v", r.Members)
		}
	}
}

// Names and attributes come from customers: a CSV cell a spreadsheet would
// run as a formula is neutralised; JSON lines, read by programs, are not
// touched; E.164 phones and numbers stay as they are.
func TestCSVNeutralisesFormulas(t *testing.T) {
	b := delivery.Batch{Destination: "crm", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "k1", Phone: "+33612345678",
			FirstName: `=HYPERLINK("http://evil.example","click")`, LastName: "+cmd|' /C calc'!A0",
			Attributes: map[string]string{"note": "@SUM(A1)", "score": "-3.5"}}}}
	reqs, _, err := conn(t, CSV).Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := "key,email,phone,first_name,last_name,country_code,postal_code,note,score\n" +
		`k1,,+33612345678,"'=HYPERLINK(""http://evil.example"",""click"")",'+cmd|' /C calc'!A0,,,'@SUM(A1),-3.5` + "\n"
	if got := string(reqs[0].Body); got != want {
		t.Errorf("CSV body\n%s\nwant\n%s", got, want)
	}
	reqs, _, err = conn(t, JSONL).Encode(b)
	if err != nil || !strings.Contains(string(reqs[0].Body), `"first_name":"=HYPERLINK`) {
		t.Errorf("JSON lines changed: %s %v", reqs[0].Body, err)
	}
}

func TestParquetDeterministicAndReadable(t *testing.T) {
	c := conn(t, Parquet)
	a, _, err := c.Encode(batch(1000))
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := c.Encode(batch(1000))
	if !bytes.Equal(a[0].Body, b[0].Body) {
		t.Fatal("parquet bytes differ between two encodings of one batch")
	}
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(a[0].Body), parquet.NewReaderProperties(memory.DefaultAllocator),
		pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 1000 || tbl.NumCols() != 8 {
		t.Fatalf("%d rows %d columns, want 1000 and 8", tbl.NumRows(), tbl.NumCols())
	}
	wantCols := []string{"key", "email", "phone", "first_name", "last_name", "country_code", "postal_code", "tier"}
	for i, w := range wantCols {
		if got := tbl.Schema().Field(i).Name; got != w {
			t.Errorf("column %d = %s, want %s", i, got, w)
		}
	}
	key := tbl.Column(0).Data().Chunk(0).(*array.String)
	last := tbl.Column(4).Data().Chunk(0).(*array.String)
	if key.Value(999) != "ck000999" || last.Value(0) != "O'Neil, Jr" {
		t.Fatalf("read back key %q last name %q", key.Value(999), last.Value(0))
	}
}

// readManifest checks a dropped file against its manifest with figures
// computed here: the file's SHA-256 and size, and its rows counted by
// format.
func readManifest(t *testing.T, dir, file, format string) Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName(file)))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	rows := 0
	switch format {
	case CSV, JSONL:
		rows = bytes.Count(data, []byte("\n"))
		if format == CSV {
			rows-- // header
		}
	case Parquet:
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), parquet.NewReaderProperties(memory.DefaultAllocator),
			pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		rows = int(tbl.NumRows())
		tbl.Release()
	}
	if m.File != file || m.SHA256 != hex.EncodeToString(sum[:]) || m.Bytes != len(data) || m.Rows != rows || m.Format != format {
		t.Fatalf("manifest %+v does not match file (sha256 %x, %d bytes, %d rows)", m, sum, len(data), rows)
	}
	return m
}

func TestSendWritesFileAndManifest(t *testing.T) {
	for _, format := range []string{CSV, JSONL, Parquet} {
		t.Run(format, func(t *testing.T) {
			c := conn(t, format)
			reqs, _, _ := c.Encode(batch(250))
			res, err := c.Send(context.Background(), reqs[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Accepted) != 250 || res.Attempts != 1 {
				t.Fatalf("accepted %d attempts %d", len(res.Accepted), res.Attempts)
			}
			m := readManifest(t, c.cfg.Outbox, reqs[0].Path, format)
			if m.Rows != 250 || m.Segment != "rfm:champions" || m.Op != "upsert" || m.Date != "2024-03-01" || m.Batch != 2 || m.Destination != "crm" {
				t.Fatalf("manifest %+v", m)
			}
			entries, _ := os.ReadDir(c.cfg.Outbox)
			if len(entries) != 2 {
				t.Fatalf("outbox holds %d entries, want the file and its manifest", len(entries))
			}
		})
	}
}

func TestResendIsNoOp(t *testing.T) {
	c := conn(t, CSV)
	reqs, _, _ := c.Encode(batch(10))
	if _, err := c.Send(context.Background(), reqs[0]); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.cfg.Outbox, reqs[0].Path)
	before, _ := os.Stat(path)
	res, err := c.Send(context.Background(), reqs[0])
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if res.Attempts != 0 || len(res.Accepted) != 10 || !os.SameFile(before, after) {
		t.Fatalf("re-send: attempts %d accepted %d same file %v; want a no-op", res.Attempts, len(res.Accepted), os.SameFile(before, after))
	}
	// A changed plan for the same batch replaces the file (new inode, new manifest).
	changed, _, _ := c.Encode(batch(11))
	if _, err := c.Send(context.Background(), changed[0]); err != nil {
		t.Fatal(err)
	}
	now, _ := os.Stat(path)
	if os.SameFile(before, now) || readManifest(t, c.cfg.Outbox, reqs[0].Path, CSV).Rows != 11 {
		t.Fatal("changed batch not rewritten")
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	c := conn(t, CSV)
	reqs, _, _ := c.Encode(batch(20000)) // ~1.5 MB, several chunks
	c.failAfter = 600 << 10
	_, err := c.Send(context.Background(), reqs[0])
	if delivery.KindOf(err) != delivery.Temporary {
		t.Fatalf("injected failure: %v, want temporary", err)
	}
	entries, _ := os.ReadDir(c.cfg.Outbox)
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("outbox after a failed write holds %v, want nothing", names)
	}
	// Cancelled mid-run: same.
	c.failAfter = 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, reqs[0]); delivery.KindOf(err) != delivery.Temporary {
		t.Fatalf("cancelled: %v, want temporary", err)
	}
	if entries, _ := os.ReadDir(c.cfg.Outbox); len(entries) != 0 {
		t.Fatalf("outbox after a cancelled write holds %d entries", len(entries))
	}
}

// TestReaderNeverSeesPartialFile polls the final name while large files
// are written and rewritten: every read must be one complete version.
func TestReaderNeverSeesPartialFile(t *testing.T) {
	c := conn(t, CSV)
	v1, _, _ := c.Encode(batch(60000))
	v2, _, _ := c.Encode(batch(90000))
	path := filepath.Join(c.cfg.Outbox, v1[0].Path)
	var stop atomic.Bool
	var reads, partial, badMode atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm() != DefaultFileMode {
				badMode.Add(1)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			reads.Add(1)
			if !bytes.Equal(data, v1[0].Body) && !bytes.Equal(data, v2[0].Body) {
				partial.Add(1)
			}
		}
	}()
	for i := range 6 {
		r := v1[0]
		if i%2 == 1 {
			r = v2[0]
		}
		if _, err := c.Send(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("the reader never saw the file")
	}
	if partial.Load() != 0 {
		t.Fatalf("%d of %d reads saw an incomplete file", partial.Load(), reads.Load())
	}
	if badMode.Load() != 0 {
		t.Fatalf("%d looks saw the file with a mode other than %#o", badMode.Load(), DefaultFileMode)
	}
}

func TestSendRefusesUnsafeNames(t *testing.T) {
	c := conn(t, CSV)
	reqs, _, _ := c.Encode(batch(1))
	for _, p := range []string{"../escape.csv", "sub/x.csv", ".hidden.csv", ""} {
		r := reqs[0]
		r.Path = p
		if _, err := c.Send(context.Background(), r); delivery.KindOf(err) != delivery.Permanent {
			t.Errorf("path %q: %v, want permanent", p, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{{Name: "x", Outbox: "o", Format: "xml"}, {Name: "", Outbox: "o", Format: CSV}, {Name: "x", Format: CSV}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if !strings.HasSuffix(FileName(small(), CSV), ".csv") {
		t.Error("FileName extension")
	}
}

// TestFileMode: files and manifests get the configured mode (0640 by
// default; the temporary file starts 0600), a changed mode is applied on re-send, and
// unsafe modes are refused.
func TestFileMode(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want os.FileMode
	}{{"", 0o640}, {"0640", 0o640}, {"600", 0o600}, {"0644", 0o644}, {"0440", 0o440}} {
		mode, err := ParseFileMode(tc.conf)
		if err != nil || mode != tc.want {
			t.Fatalf("ParseFileMode(%q) = %#o %v, want %#o", tc.conf, mode, err, tc.want)
		}
		c, err := New(Config{Name: "crm", Outbox: filepath.Join(t.TempDir(), "outbox"), Format: CSV, FileMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		reqs, _, _ := c.Encode(batch(3))
		if _, err := c.Send(context.Background(), reqs[0]); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{reqs[0].Path, ManifestName(reqs[0].Path)} {
			st, err := os.Stat(filepath.Join(c.cfg.Outbox, name))
			if err != nil || st.Mode().Perm() != tc.want {
				t.Errorf("mode %q: %s has %v (%v), want %#o", tc.conf, name, st.Mode().Perm(), err, tc.want)
			}
		}
	}
	// parcours runs under umask 077: the outbox it creates still lets the
	// group the file mode names reach the files; one that exists keeps
	// the operator's mode.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, tc := range []struct{ file, dir os.FileMode }{{0o640, 0o750}, {0o600, 0o700}, {0o644, 0o755}, {0o440, 0o550}} {
		outbox := filepath.Join(t.TempDir(), "new", "outbox")
		c, err := New(Config{Name: "crm", Outbox: outbox, Format: CSV, FileMode: tc.file})
		if err != nil {
			t.Fatal(err)
		}
		reqs, _, _ := c.Encode(batch(3))
		if _, err := c.Send(context.Background(), reqs[0]); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(outbox); err != nil || st.Mode().Perm() != tc.dir {
			t.Errorf("file mode %#o: new outbox has %v (%v), want %#o", tc.file, st.Mode().Perm(), err, tc.dir)
		}
	}
	mine := filepath.Join(t.TempDir(), "mine")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	c2, err := New(Config{Name: "crm", Outbox: mine, Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	reqs2, _, _ := c2.Encode(batch(3))
	if _, err := c2.Send(context.Background(), reqs2[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(mine); st.Mode().Perm() != 0o700 {
		t.Errorf("an existing outbox changed mode to %v", st.Mode().Perm())
	}
	// A mode changed in the config reaches files already dropped.
	c := conn(t, CSV)
	reqs, _, _ := c.Encode(batch(3))
	c.Send(context.Background(), reqs[0])
	c.cfg.FileMode = 0o600
	if _, err := c.Send(context.Background(), reqs[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(c.cfg.Outbox, reqs[0].Path)); st.Mode().Perm() != 0o600 {
		t.Errorf("after a mode change the file has %v, want 0600", st.Mode().Perm())
	}
	for _, bad := range []string{"0666", "0777", "0602", "0240", "1777", "0o640", "rw-r-----", "-1", "0x1a0"} {
		if m, err := ParseFileMode(bad); err == nil {
			t.Errorf("ParseFileMode(%q) = %#o, want an error", bad, m)
		}
	}
	if _, err := New(Config{Name: "x", Outbox: "o", Format: CSV, FileMode: 0o666}); err == nil {
		t.Error("New accepted a world-writable mode")
	}
}

// TestCSVNeutralisesEveryCell: data cells and header cells (attribute names
// come from customers too) that a spreadsheet would run are quoted as
// text; plain numbers such as +1 or an E.164 phone are not formulas and
// stay as they are.
func TestCSVNeutralisesEveryCell(t *testing.T) {
	b := delivery.Batch{Destination: "crm", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "k1", Email: "@SUM(A1:A9)", FirstName: "=HYPERLINK(\"http://evil.example\",\"x\")",
			LastName: "\tTAB", CountryCode: "\rCR", PostalCode: "-2+3",
			Attributes: map[string]string{"=cmd|' /C calc'!A0": "+1", "plus": "+2*cmd", "neg": "-1e3"}}}}
	reqs, _, err := conn(t, CSV).Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(reqs[0].Body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%q %v", rows, err)
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	want := map[string]string{
		"key": "k1", "email": "'@SUM(A1:A9)", "phone": "", "first_name": "'=HYPERLINK(\"http://evil.example\",\"x\")",
		"last_name": "'\tTAB", "country_code": "'\rCR", "postal_code": "'-2+3",
		"'=cmd|' /C calc'!A0": "+1", "plus": "'+2*cmd", "neg": "-1e3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells\n%q\nwant\n%q", got, want)
	}
}
