package report

import (
	"context"
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
	charts, err := writeFile(context.Background(), wh.DB, day(reportDay), time.Now(), path, options{})
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
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt="">`+
		`<script>console.error("control error"); throw new Error("control exception");</script><footer></footer></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := browse(bctx, (&url.URL{Scheme: "file", Path: control}).String(), 3)
	if err != nil {
		t.Fatalf("drive chromium: %v", err)
	}
	for _, want := range []string{"exception", "console.error", "request to http://127.0.0.1:9/x.png"} {
		if !slices.ContainsFunc(cp, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("negative control: no %q reported (got %q)", want, cp)
		}
	}

	probs, boxes, shot, err := browse(bctx, fileURL, 0)
	if err != nil {
		t.Fatalf("drive chromium: %v", err)
	}
	for _, p := range probs {
		t.Error(p)
	}
	if len(boxes) != len(charts) || len(charts) != len(wantCharts()) {
		t.Errorf("%d figures in the browser, %d rendered by Go, want %d", len(boxes), len(charts), len(wantCharts()))
	}
	for i, b := range boxes {
		if !b.HasSVG || b.Width <= 0 || b.Height <= 0 {
			t.Errorf("figure %s: svg %v, box %.0fx%.0f", b.Name, b.HasSVG, b.Width, b.Height)
		}
		if i < len(charts) && b.Name != charts[i] {
			t.Errorf("figure %d is %s in the browser, %s in Go", i, b.Name, charts[i])
		}
	}
	dir := artifactsDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 8 || string(shot[1:4]) != "PNG" {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(shot))
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))
}

// browse opens pageURL in a new tab of the browser and returns what went
// wrong (script exceptions, console and log errors, failed loads, requests
// to any other URL), the figures' SVG boxes and a full-page PNG. It waits
// until at least wantProblems problems arrived (at most 5 s), for the
// negative control whose events may trail the load.
func browse(browser context.Context, pageURL string, wantProblems int) ([]string, []figureBox, []byte, error) {
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
		chromedp.Evaluate(`Array.from(document.querySelectorAll('figure[data-chart]')).map(f => {
  const s = f.querySelector('svg');
  const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
  return {name: f.dataset.chart, hasSVG: !!s, width: r.width, height: r.height};
})`, &boxes),
		chromedp.FullScreenshot(&shot, 100),
	)
	for deadline := time.Now().Add(5 * time.Second); len(pr.all()) < wantProblems && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	return pr.all(), boxes, shot, err
}
