package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// Browser tests run the pages in a real headless Chromium. They skip when no
// browser is installed, unless APPSTATS_REQUIRE_BROWSER=1. With
// APPSTATS_SCREENSHOTS=1 they also write docs/dashboard.png and
// docs/timeline.png.

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("APPSTATS_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found, and APPSTATS_REQUIRE_BROWSER=1: install chromium (apt-get install chromium)")
	}
	t.Skip("no Chromium found: browser tests skipped (install chromium, or set APPSTATS_REQUIRE_BROWSER=1 to make this a failure)")
	return ""
}

// pageEvents collects what the page did that a test must check.
type pageEvents struct {
	mu       sync.Mutex
	host     string
	errors   []string // exceptions, console errors, error log entries
	foreign  []string // requests to another host
	dialogs  []string
	requests int
}

func (e *pageEvents) check(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.errors {
		t.Errorf("page error: %s", s)
	}
	for _, s := range e.foreign {
		t.Errorf("request to another host: %s", s)
	}
	for _, s := range e.dialogs {
		t.Errorf("a dialog opened: %s", s)
	}
	if e.requests == 0 {
		t.Error("no network requests seen: the listener does not work")
	}
}

type browser struct {
	ctx context.Context
	ev  *pageEvents
	srv *httptest.Server
}

// newBrowser starts Chromium with one tab, listening to its events, for
// pages served by h at /stats/.
func newBrowser(t *testing.T, h http.Handler) *browser {
	t.Helper()
	exe := findChromium(t)
	mux := http.NewServeMux()
	mux.Handle("/stats/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)

	ev := &pageEvents{host: u.Host}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(e any) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		switch e := e.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			ev.errors = append(ev.errors, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				ev.errors = append(ev.errors, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				ev.errors = append(ev.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			ev.requests++
			ru, err := url.Parse(e.Request.URL)
			if err != nil || (ru.Scheme != "data" && ru.Host != ev.host) {
				ev.foreign = append(ev.foreign, e.Request.URL)
			}
		case *page.EventJavascriptDialogOpening:
			ev.dialogs = append(ev.dialogs, string(e.Type)+": "+e.Message)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A dialog stops the page until handled: dismiss each one (the test has
	// already failed by then).
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	return &browser{ctx: ctx, ev: ev, srv: srv}
}

func (b *browser) navigate(t *testing.T, path string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.srv.URL+path)); err != nil {
		t.Fatalf("navigate %s: %v", path, err)
	}
}

func (b *browser) eval(t *testing.T, expr string) any {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true or timeout passes.
func (b *browser) waitFor(t *testing.T, what, predicate string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
	}
}

// waitAfterNav is waitFor across a navigation the page started itself (a
// form post): evaluation errors while the old page goes away are retried.
func (b *browser) waitAfterNav(t *testing.T, what, predicate string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](predicate))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// paintedJS counts the painted (not blank, not white) pixels of the canvas
// in the element with the given id.
const paintedJS = `(function (id) {
  var el = document.getElementById(id);
  var cv = el && el.querySelector('canvas');
  if (!cv || !cv.width || !cv.height) return 0;
  var d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, n = 0;
  for (var i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245)) n++;
  }
  return n;
})`

func (b *browser) waitPainted(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		b.waitFor(t, "chart "+id+" painted", paintedJS+"("+jsString(id)+") > 500", 20*time.Second)
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("APPSTATS_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join("..", "docs", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", p)
}

func demoStore(t *testing.T) (*memstore.Store, []*recording.Record) {
	t.Helper()
	st := memstore.New(0)
	t.Cleanup(func() { st.Close() })
	recs := demoRecords(time.Now(), time.Hour, 900, 1)
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return st, recs
}

func TestBrowserDashboard(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	rec := recording.New(recording.WithSinks(recording.Sequence(st, live)))
	defer rec.Close(context.Background())
	// A few requests through a real recorder: its health counters move, and
	// they reach the store and the live stream through its sinks.
	for i := range 4 {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET",
			Path: fmt.Sprintf("/healthz/%d", i), Start: time.Now().Add(-1200 * time.Microsecond)})
		ar.Record().Route = "GET /healthz/{n}"
		ar.Record().Status = 200
		c := recording.StartCall(ctx, "sql", "SELECT 1")
		c.End(nil)
		ar.Finish()
	}
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live), ui.WithRecorder(rec)))

	b.navigate(t, "/stats/")
	b.waitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
	b.waitFor(t, "live connection", `document.body.dataset.liveState === "live"`, 10*time.Second)

	// The histogram's categories are the store's buckets, one bar each.
	hist := b.eval(t, `(function () {
		var o = echarts.getInstanceByDom(document.getElementById("chartHistogram")).getOption();
		return [o.xAxis[0].data.length, o.series[0].data.length, o.xAxis[0].data[0], o.xAxis[0].data[o.xAxis[0].data.length - 1]].join("|");
	})()`).(string)
	if hist != "14|14|≤ 1ms|> 10s" {
		t.Errorf("histogram categories|bars|first|last = %s, want 14|14|≤ 1ms|> 10s", hist)
	}

	// Expanding a row of each table shows its breakdown.
	if err := chromedp.Do(b.ctx,
		chromedp.Click(chromedp.CSS(".rpc-table button.toggle")),
		chromedp.Click(chromedp.CSS(".path-table button.toggle")),
	); err != nil {
		t.Fatal(err)
	}
	if n := b.eval(t, `document.querySelectorAll("tr.sub:not([hidden])").length`).(float64); n == 0 {
		t.Error("expanding rows showed nothing")
	}
	if n := b.eval(t, `document.querySelectorAll(".history-table tbody tr").length`).(float64); n != 50 {
		t.Errorf("history shows %v rows, want 50", n)
	}
	if os.Getenv("APPSTATS_SCREENSHOTS") == "1" {
		b.navigate(t, "/stats/?limit=20")
		b.waitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(".path-table button.toggle"))); err != nil {
			t.Fatal(err)
		}
		b.screenshot(t, "dashboard.png")
	}

	// Filters and paging are plain links and forms.
	b.navigate(t, "/stats/?window=6h&route=POST+%2Forders&error=true#history")
	b.waitPainted(t, "chartRequests")
	routes := b.eval(t, `Array.from(document.querySelectorAll(".history-table td.path .route")).map(e => e.textContent)`).([]any)
	for _, r := range routes {
		if r != "POST /orders" {
			t.Errorf("filtered history shows route %v", r)
		}
	}

	// The buttons post same-origin forms, which CrossOriginProtection admits.
	b.navigate(t, "/stats/")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`form[action="pause"] button`))); err != nil {
		t.Fatal(err)
	}
	b.waitAfterNav(t, "the resume button", `document.querySelector('form[action="resume"] button') !== null`)
	if !rec.Paused() {
		t.Error("the pause button did not pause the recorder")
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`form[action="resume"] button`))); err != nil {
		t.Fatal(err)
	}
	b.waitAfterNav(t, "the pause button", `document.querySelector('form[action="pause"] button') !== null`)
	if rec.Paused() {
		t.Error("the resume button did not resume the recorder")
	}
	// Clearing takes two clicks.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.clear-form button`))); err != nil {
		t.Fatal(err)
	}
	if st.Len() == 0 {
		t.Fatal("one click cleared the store")
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.clear-form button`))); err != nil {
		t.Fatal(err)
	}
	b.waitAfterNav(t, "an empty history", `document.querySelector("#history-section .empty") !== null`)
	if n := st.Len(); n != 0 {
		t.Errorf("%d records left after clearing", n)
	}
	b.ev.check(t)
}

func TestBrowserDetails(t *testing.T) {
	st, _ := demoStore(t)
	r := timelineRecord(time.Now().Add(-time.Minute))
	big := makeRecord(time.Now(), 5, "/big", 200, 1000)
	if err := st.Write(context.Background(), []*recording.Record{r, big}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st, ui.WithTraceLink("http://127.0.0.1:16686/trace/{trace_id}")))

	b.navigate(t, "/stats/records/"+r.ID.String())
	b.waitPainted(t, "chartGantt")
	rows := b.eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).getOption().series[0].data.length`).(float64)
	if int(rows) != len(r.Calls) {
		t.Errorf("Gantt chart has %v rows, want %d", rows, len(r.Calls))
	}
	// A tooltip renders (formatter runs on the record's strings).
	b.eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 2}), true`)
	b.waitFor(t, "tooltip", `Array.from(document.querySelectorAll("#chartGantt div")).some(d => d.textContent.includes("recs.internal"))`, 5*time.Second)
	b.eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "hideTip"}), true`)
	b.screenshot(t, "timeline.png")

	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#call-3 > summary"))); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "stack visible", `document.querySelector("#call-3 .stack").offsetHeight > 0`, 5*time.Second)

	// A record with 1,000 calls: the chart scrolls its rows.
	b.navigate(t, "/stats/records/"+big.ID.String())
	b.waitPainted(t, "chartGantt")
	zoom := b.eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).getOption().dataZoom[2].end`).(float64)
	if zoom >= 100 {
		t.Errorf("row zoom end = %v for 1,000 calls, want a window", zoom)
	}
	b.ev.check(t)
}

// xssFlagPayloads would set window.__xss if they ever ran.
var xssFlagPayloads = []string{
	`<script>window.__xss=1</script>`,
	`"><img src=x onerror="window.__xss=1">`,
	`</script><script>window.__xss=1</script>`,
	`javascript:window.__xss=1`,
	`<svg onload="window.__xss=1">`,
}

func TestBrowserXSS(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	live := ui.NewLive()
	defer live.Close()
	now := time.Now()
	evil := xssRecord(now.Add(-2*time.Second), 1)
	// The same with payloads that set a flag instead of opening a dialog.
	flag := xssRecord(now.Add(-time.Second), 2)
	p := strings.Join(xssFlagPayloads, "")
	flag.Path, flag.Route, flag.Query, flag.Error = "/f/"+p, "GET /f/"+p, p, p
	for i := range flag.Calls {
		flag.Calls[i].Service = xssFlagPayloads[i%len(xssFlagPayloads)]
		flag.Calls[i].Method, flag.Calls[i].Error, flag.Calls[i].Request = p, p, p
	}
	if err := st.Write(context.Background(), []*recording.Record{evil, flag}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live), ui.WithTraceLink("javascript:alert(1)//{trace_id}")))

	noXSS := func(where string) {
		t.Helper()
		if v := b.eval(t, `window.__xss === undefined && document.querySelectorAll("img[src=x], svg[onload]").length === 0`); v != true {
			t.Errorf("%s: a payload ran or was parsed as markup", where)
		}
	}
	b.navigate(t, "/stats/?route="+url.QueryEscape(flag.Route))
	b.waitPainted(t, "chartRequests")
	b.waitFor(t, "live connection", `document.body.dataset.liveState === "live"`, 10*time.Second)
	noXSS("dashboard")

	// A live refresh inserts fragments: still inert.
	evil2 := xssRecord(time.Now(), 3)
	if err := st.Write(context.Background(), []*recording.Record{evil2}); err != nil {
		t.Fatal(err)
	}
	live.Write(context.Background(), []*recording.Record{evil2})
	b.navigate(t, "/stats/")
	b.waitFor(t, "live connection", `document.body.dataset.liveState === "live"`, 10*time.Second)
	evil3 := xssRecord(time.Now(), 4)
	st.Write(context.Background(), []*recording.Record{evil3})
	live.Write(context.Background(), []*recording.Record{evil3})
	b.waitFor(t, "the new record", `document.querySelector('tr[data-id="`+evil3.ID.String()+`"]') !== null`, 5*time.Second)
	noXSS("dashboard after a live refresh")

	for _, r := range []*recording.Record{evil, flag} {
		b.navigate(t, "/stats/records/"+r.ID.String())
		b.waitPainted(t, "chartGantt")
		b.eval(t, `document.querySelectorAll("details").forEach(d => d.open = true), true`)
		for i := range 6 {
			b.eval(t, fmt.Sprintf(`echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: %d}), true`, i))
			b.waitFor(t, "tooltip", `Array.from(document.querySelectorAll("#chartGantt div")).some(d => d.textContent.includes("offset"))`, 5*time.Second)
		}
		noXSS("details of " + r.Path)
		if n := b.eval(t, `document.querySelectorAll('a[href^="javascript:"]').length`).(float64); n != 0 {
			t.Errorf("%v javascript: links", n)
		}
	}
	b.ev.check(t)
}

func TestBrowserLive(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.navigate(t, "/stats/")
	b.waitPainted(t, "chartRequests")
	b.waitFor(t, "live connection", `document.body.dataset.liveState === "live"`, 10*time.Second)

	appear := func(path string) {
		t.Helper()
		r := makeRecord(time.Now(), uint64(time.Now().UnixNano()), path, 200, 3)
		if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		if err := live.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		b.waitFor(t, path+" on the dashboard without a reload",
			`document.querySelector('tr[data-id="`+r.ID.String()+`"]') !== null`, 2*time.Second)
	}
	b.eval(t, `window.__sameDocument = true`)
	appear("/live/first")

	// Cut every stream; the page reconnects with backoff and carries on.
	ui.Disconnect(live)
	b.waitFor(t, "the page to notice", `document.body.dataset.liveState !== "live"`, 10*time.Second)
	b.waitFor(t, "reconnection", `document.body.dataset.liveState === "live"`, 15*time.Second)
	appear("/live/after-reconnect")
	if v := b.eval(t, `window.__sameDocument === true`); v != true {
		t.Error("the page was reloaded")
	}
	if n := live.Subscribers(); n != 1 {
		t.Errorf("%d subscribers after reconnection, want 1", n)
	}
	b.ev.check(t)
}
