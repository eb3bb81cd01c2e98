package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is the browser the test drives: $PARCOURS_CHROMIUM (a path
// or a command name, as the Makefile reads it), or Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("PARCOURS_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// artifactsDir is where the screenshot goes: $PARCOURS_ARTIFACTS, or
// .artifacts/ at the repository root (the folder holding go.mod).
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("PARCOURS_ARTIFACTS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".artifacts")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test folder")
		}
		dir = parent
	}
}

// problems collects what the browser reports going wrong, from its event
// goroutine.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// figureBox is what the page says of one figure's SVG.
type figureBox struct {
	Name   string  `json:"name"`
	HasSVG bool    `json:"hasSVG"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Overflows are the texts drawn outside the svg's box, with their box.
	Overflows []string `json:"overflows"`
	// Marks counts the data marks: paths, rects and circles filled or
	// stroked in a series or heat-map colour, with a size.
	Marks int `json:"marks"`
}

// dataColors are the colours data marks are drawn in (series palette and
// heat-map blues), as vgsvg writes them in style attributes.
func dataColors() []string {
	var out []string
	for _, h := range paletteHex() {
		out = append(out, strings.ToUpper(h))
	}
	for _, c := range (blues{}).Colors() {
		r, g, b, _ := c.RGBA()
		out = append(out, fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8))
	}
	return out
}

// figuresJS measures every figure in the page: its svg's box, the texts
// whose box (getBoundingClientRect, which follows rotations) leaves the
// svg's by more than half a pixel, and its data marks.
func figuresJS() string {
	cols, _ := json.Marshal(dataColors())
	return `(() => {
  const cols = ` + string(cols) + `;
  const isData = el => {
    const st = (el.getAttribute('style') || '') + ' fill:' + (el.getAttribute('fill') || '') + ' stroke:' + (el.getAttribute('stroke') || '');
    return cols.some(c => st.toUpperCase().includes('FILL:' + c) || st.toUpperCase().includes('STROKE:' + c));
  };
  return Array.from(document.querySelectorAll('figure[data-chart]')).map(f => {
    const s = f.querySelector('svg');
    const r = s ? s.getBoundingClientRect() : {left: 0, top: 0, right: 0, bottom: 0, width: 0, height: 0};
    const overflows = [];
    let marks = 0;
    if (s) {
      for (const t of s.querySelectorAll('text')) {
        const b = t.getBoundingClientRect();
        if (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5) {
          overflows.push(JSON.stringify(t.textContent) + ' at [' + [b.left - r.left, b.right - r.left, b.top - r.top, b.bottom - r.top].map(v => v.toFixed(1)).join(', ') +
            '] in ' + r.width.toFixed(1) + 'x' + r.height.toFixed(1));
        }
      }
      for (const m of s.querySelectorAll('path, rect, circle')) {
        const b = m.getBBox();
        if (isData(m) && (b.width > 0 || b.height > 0)) marks++;
      }
    }
    return {name: f.dataset.chart, hasSVG: !!s, width: r.width, height: r.height, overflows: overflows, marks: marks};
  });
})()`
}

// checkFigures reports what is wrong with the figures of a page: no svg,
// no size, a text outside its svg, no data mark.
func checkFigures(boxes []figureBox) []string {
	var out []string
	for _, b := range boxes {
		if !b.HasSVG || b.Width <= 0 || b.Height <= 0 {
			out = append(out, fmt.Sprintf("figure %s: svg %v, box %.0fx%.0f", b.Name, b.HasSVG, b.Width, b.Height))
		}
		for _, o := range b.Overflows {
			out = append(out, fmt.Sprintf("figure %s: text %s overflows its svg", b.Name, o))
		}
		if b.Marks == 0 {
			out = append(out, fmt.Sprintf("figure %s: no data mark (an empty chart)", b.Name))
		}
	}
	return out
}

// TestBrowser opens the rendered report in headless Chromium with every
// network feature off: no script error, no console error, no request but
// the file itself, no failed load, and every chart drawn with a size.
func TestBrowser(t *testing.T) {
	// Like the Makefile, any value but empty or 0 opts out.
	if v := os.Getenv("PARCOURS_SKIP_BROWSER"); v != "" && v != "0" {
		t.Skip("PARCOURS_SKIP_BROWSER=" + v)
	}
	exe, err := osexec.LookPath(chromiumPath())
	if err != nil {
		t.Fatalf("chromium not found (%v): `make test` installs it (Debian package chromium); "+
			"set PARCOURS_CHROMIUM to another binary, or PARCOURS_SKIP_BROWSER=1 to skip this test", err)
	}
	wh := openWH(t)
	plant(t, wh)
	path := filepath.Join(t.TempDir(), "report.html")
	charts, err := writeFile(context.Background(), wh.DB, wh.SQL, day(reportDay), time.Now(), path, options{})
	if err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: path}).String()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// Start the browser on its own context, so the pages below are tabs of
	// it and closing one does not close the browser.
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}

	// Negative control first: a page that throws, logs an error and asks
	// the network for an image must trip every listener, or the checks
	// below would pass on a deaf browser.
	control := filepath.Join(t.TempDir(), "control.html")
	// Its figures: one whose text runs past the svg's right edge and that
	// draws no data, one whose rotated label runs past the top, and one
	// good chart (a bar in a series colour, text inside).
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt="">`+
		`<figure data-chart="overflow"><svg width="100" height="50" viewBox="0 0 100 50"><path d="M0,0L100,0" style="fill:none;stroke:#9A9A9A"/>`+
		`<text x="80" y="20" style="font-size:9px">overflowing</text></svg></figure>`+
		`<figure data-chart="rotated"><svg width="100" height="50" viewBox="0 0 100 50"><path d="M10,10L20,10L20,40L10,40Z" style="fill:#4E79A7"/>`+
		`<g transform="rotate(90)"><text x="-30" y="-20" transform="scale(1, -1)" style="font-size:9px">rotated label</text></g></svg></figure>`+
		`<figure data-chart="good"><svg width="100" height="50" viewBox="0 0 100 50"><path d="M10,10L20,10L20,40L10,40Z" style="fill:#4E79A7"/>`+
		`<text x="30" y="20" style="font-size:9px">fits</text></svg></figure>`+
		`<section id="control"><h2>control</h2></section>`+
		`<script>console.error("control error"); throw new Error("control exception");</script><footer></footer></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, cboxes, _, _, err := browse(bctx, (&url.URL{Scheme: "file", Path: control}).String(), 3)
	if err != nil {
		t.Fatalf("drive chromium: %v", err)
	}
	for _, want := range []string{"exception", "console.error", "request to http://127.0.0.1:9/x.png"} {
		if !slices.ContainsFunc(cp, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("negative control: no %q reported (got %q)", want, cp)
		}
	}
	cf := checkFigures(cboxes)
	for _, want := range []string{`figure overflow: text "overflowing"`, "figure overflow: no data mark", `figure rotated: text "rotated label"`} {
		if !slices.ContainsFunc(cf, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("negative control: no %q reported (got %q)", want, cf)
		}
	}
	if slices.ContainsFunc(cf, func(p string) bool { return strings.HasPrefix(p, "figure good") }) {
		t.Errorf("negative control: the good figure is reported: %q", cf)
	}

	probs, boxes, shot, sections, err := browse(bctx, fileURL, 0)
	if err != nil {
		t.Fatalf("drive chromium: %v", err)
	}
	for _, p := range probs {
		t.Error(p)
	}
	if len(boxes) != len(charts) || len(charts) != len(wantCharts()) {
		t.Errorf("%d figures in the browser, %d rendered by Go, want %d", len(boxes), len(charts), len(wantCharts()))
	}
	for _, p := range checkFigures(boxes) {
		t.Error(p)
	}
	for i, b := range boxes {
		if i < len(charts) && b.Name != charts[i] {
			t.Errorf("figure %d is %s in the browser, %s in Go", i, b.Name, charts[i])
		}
	}
	// The screenshots, the whole page and one per section, are kept for a
	// person to look at (not committed: .artifacts/ is ignored).
	dir := artifactsDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shots := []namedShot{{"report", shot}}
	for i, sh := range sections {
		shots = append(shots, namedShot{fmt.Sprintf("report-%d-%s", i+1, sh.Name), sh.PNG})
	}
	for _, id := range sectionIDs() {
		if !slices.ContainsFunc(sections, func(sh namedShot) bool { return sh.Name == id }) {
			t.Errorf("no screenshot of section %s", id)
		}
	}
	for _, sh := range shots {
		out := filepath.Join(dir, sh.Name+".png")
		if len(sh.PNG) < 8 || string(sh.PNG[1:4]) != "PNG" {
			t.Errorf("screenshot %s is not a PNG (%d bytes)", sh.Name, len(sh.PNG))
			continue
		}
		if err := os.WriteFile(out, sh.PNG, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots: %s/report.png and report-<n>-<section>.png, %d files", dir, len(shots))
}

// namedShot is one screenshot: the whole page or a section.
type namedShot struct {
	Name string
	PNG  []byte
}

// browse opens pageURL in a new tab of the browser and returns what went
// wrong (script exceptions, console and log errors, failed loads, requests
// to any other URL), the figures' SVG boxes, a full-page PNG and one PNG
// per section (by its id). It waits until at least wantProblems problems
// arrived (at most 5 s), for the negative control whose events may trail
// the load.
func browse(browser context.Context, pageURL string, wantProblems int) ([]string, []figureBox, []byte, []namedShot, error) {
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	var pr problems
	chromedp.ListenTarget(tab, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			pr.add("exception: %s", e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				pr.add("console.error: %v", args)
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				pr.add("log error (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		case *network.EventLoadingFailed:
			pr.add("loading failed: %s (%s)", e.ErrorText, e.Type)
		case *network.EventRequestWillBeSent:
			if e.Request.URL != pageURL {
				pr.add("request to %s", e.Request.URL)
			}
		}
	})
	var boxes []figureBox
	var shot []byte
	err := chromedp.Run(tab,
		network.Enable(),
		log.Enable(),
		runtime.Enable(),
		chromedp.Navigate(pageURL),
		chromedp.WaitReady("footer", chromedp.ByQuery),
		chromedp.Evaluate(figuresJS(), &boxes),
		chromedp.FullScreenshot(&shot, 100),
	)
	var sections []namedShot
	if err == nil {
		var ids []string
		err = chromedp.Run(tab, chromedp.Evaluate(`Array.from(document.querySelectorAll('section[id]')).map(s => s.id)`, &ids))
		for _, id := range ids {
			if err != nil {
				break
			}
			var png []byte
			err = chromedp.Run(tab, chromedp.Screenshot("section#"+id, &png, chromedp.ByQuery))
			sections = append(sections, namedShot{id, png})
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(pr.all()) < wantProblems && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	return pr.all(), boxes, shot, sections, err
}
