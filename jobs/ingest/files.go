package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// inputFile is one extract file found under the input folder.
type inputFile struct {
	Path   string    // path as opened
	Rel    string    // path relative to the input folder: "2026-11-22/web_events.jsonl"
	Folder time.Time // the dated folder it came from
	Size   int64
	MTime  time.Time
	// Columns are the file's column names: the CSV header, the Parquet
	// schema, or the keys seen in a sample of JSON lines.
	Columns []string
	// Compression is the file's compression, told by its first bytes.
	Compression string
}

// folders lists the dated sub-folders (YYYY-MM-DD) of input, oldest first.
func folders(input string) ([]time.Time, error) {
	entries, err := os.ReadDir(input)
	if err != nil {
		return nil, fmt.Errorf("input folder %s: %w", input, err)
	}
	var out []time.Time
	for _, e := range entries {
		if !e.IsDir() {
			// Landing zones are often links to where files arrive: a
			// symlinked date folder is a folder.
			if e.Type()&os.ModeSymlink == 0 {
				continue
			}
			if fi, err := os.Stat(filepath.Join(input, e.Name())); err != nil || !fi.IsDir() {
				continue
			}
		}
		d, err := time.Parse(time.DateOnly, e.Name())
		if err != nil {
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

func stat(input string, folder time.Time, name string) (*inputFile, error) {
	rel := filepath.Join(folder.Format(time.DateOnly), name)
	p := filepath.Join(input, rel)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	return &inputFile{Path: p, Rel: filepath.ToSlash(rel), Folder: folder, Size: fi.Size(), MTime: fi.ModTime().UTC()}, nil
}

// csvHeader reads a CSV file's header line (a UTF-8 BOM is ignored).
func csvHeader(path, compression string) ([]string, error) {
	f, err := openText(path, compression)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file: no header line")
	}
	if err != nil {
		return nil, fmt.Errorf("header line: %w", err)
	}
	return rec, nil
}

// jsonKeys returns the keys seen in the first n parseable lines, in order
// of first appearance. JSON lines carry no header; a sample is how a
// required field missing from a whole file, or a new field, is noticed.
func jsonKeys(path, compression string, n int) ([]string, error) {
	f, err := openText(path, compression)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	seen := map[string]bool{}
	var keys []string
	for i := 0; i < n && sc.Scan(); i++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		// A map decode is ~10x faster than walking tokens; key order within
		// a line does not matter (columns are matched by name).
		var obj map[string]json.RawMessage
		if json.Unmarshal(line, &obj) != nil {
			continue
		}
		lineKeys := make([]string, 0, len(obj))
		for k := range obj {
			lineKeys = append(lineKeys, k)
		}
		sort.Strings(lineKeys)
		for _, k := range lineKeys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return keys, err
	}
	return keys, nil
}

// describeColumns says what a file's first row holds, for error texts
// that end in the run ledger: its column names when it looks like a
// header (it names at least one column of the contract and every field
// has the shape of a name), else only its number of fields, since a file
// without a header starts with a data row, and data rows hold personal
// data.
func describeColumns(c Contract, cols []string) string {
	known := false
	for _, fc := range cols {
		if !headerName.MatchString(fc) {
			return fmt.Sprintf("the first row does not look like a header (%d fields)", len(cols))
		}
		if _, ok := c.Column(strings.ToLower(strings.TrimSpace(fc))); ok {
			known = true
		}
	}
	if !known {
		return fmt.Sprintf("the first row does not look like a header (%d fields, none of them a column of %s)", len(cols), c.Source)
	}
	return "found: " + strings.Join(cols, ", ")
}

func looksLikeHeader(c Contract, cols []string) bool {
	return strings.HasPrefix(describeColumns(c, cols), "found: ")
}

// headerName is the shape of a column name: letters first, then letters,
// digits and the punctuation exports put in names; no @, no long digit runs.
var headerName = regexp.MustCompile(`^\s*[\p{L}_][\p{L}\p{N} _.\-/()#%]{0,63}\s*$`)

// matchColumns maps a file's columns onto the contract: which contract
// columns the file has (by its own spelling), which required ones are
// missing, and which of its columns the contract does not know.
func matchColumns(c Contract, cols []string) (have map[string]string, missing, extra []string, err error) {
	have = map[string]string{}
	seen := map[string]bool{}
	for _, fc := range cols {
		norm := strings.ToLower(strings.TrimSpace(fc))
		if seen[norm] {
			if !looksLikeHeader(c, cols) {
				continue // a data row: the missing columns will be reported
			}
			return nil, nil, nil, fmt.Errorf("the first row names a column twice (%s)", describeColumns(c, cols))
		}
		seen[norm] = true
		if _, ok := c.Column(norm); ok {
			have[norm] = fc
		} else {
			extra = append(extra, fc)
		}
	}
	for _, col := range c.Columns {
		if _, ok := have[col.Name]; !ok && col.Required {
			missing = append(missing, col.Name)
		}
	}
	return have, missing, extra, nil
}
