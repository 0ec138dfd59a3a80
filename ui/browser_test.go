package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// Browser tests run the pages in a real headless Chromium, through
// internal/browsertest. They skip when no browser is installed, unless
// APPSTATS_REQUIRE_BROWSER=1. (The screenshots in docs/ are taken from the
// running demo: see scripts/screenshots.sh.)

type browser struct {
	*browsertest.Browser
	srv *httptest.Server
}

// newBrowser starts Chromium with one tab for pages served by h at /stats/.
func newBrowser(t *testing.T, h http.Handler) *browser {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/stats/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &browser{Browser: browsertest.New(t, srv.URL, browsertest.Options{}), srv: srv}
}

// traceStore returns demoStore's store with the two records of a trace
// (traceRecords) written to it, and a recorder whose sink it is, closed
// when the test ends.
func traceStore(t *testing.T) (st *memstore.Store, rec *recording.Recorder, caller, callee *recording.Record) {
	t.Helper()
	st, _ = demoStore(t)
	caller, callee = traceRecords(time.Now())
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	rec = recording.New(recording.WithSinks(st))
	t.Cleanup(func() { rec.Close(context.Background()) })
	return st, rec, caller, callee
}

// tracePages lists the pages of traceStore's records: the dashboard, the
// caller's record, its trace, the two compared, and the active requests.
func tracePages(caller, callee *recording.Record) []string {
	return []string{
		"/stats/",
		"/stats/records/" + caller.ID.String(),
		"/stats/traces/" + caller.TraceID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(),
		"/stats/active",
	}
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

	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)

	// The histogram's categories are the store's buckets, one bar each.
	hist := b.Eval(t, `(function () {
		var o = echarts.getInstanceByDom(document.getElementById("chartHistogram")).getOption();
		return [o.xAxis[0].data.length, o.series[0].data.length, o.xAxis[0].data[0], o.xAxis[0].data[o.xAxis[0].data.length - 1]].join("|");
	})()`).(string)
	if hist != "14|14|≤ 1ms|> 10s" {
		t.Errorf("histogram categories|bars|first|last = %s, want 14|14|≤ 1ms|> 10s", hist)
	}

	// Expanding a row of each table shows its breakdown.
	if err := chromedp.Do(b.Ctx,
		chromedp.Click(chromedp.CSS(".rpc-table button.toggle")),
		chromedp.Click(chromedp.CSS(".path-table button.toggle")),
	); err != nil {
		t.Fatal(err)
	}
	if n := b.Eval(t, `document.querySelectorAll("tr.sub:not([hidden])").length`).(float64); n == 0 {
		t.Error("expanding rows showed nothing")
	}
	if n := b.Eval(t, `document.querySelectorAll(".history-table tbody tr").length`).(float64); n != 50 {
		t.Errorf("history shows %v rows, want 50", n)
	}
	// Filters and paging are plain links and forms.
	b.Navigate(t, "/stats/?window=6h&route=POST+%2Forders&error=true#history")
	b.WaitPainted(t, "chartRequests")
	routes := b.Eval(t, `Array.from(document.querySelectorAll(".history-table td.path .route")).map(e => e.textContent)`).([]any)
	for _, r := range routes {
		if r != "POST /orders" {
			t.Errorf("filtered history shows route %v", r)
		}
	}

	// The buttons post same-origin forms, which CrossOriginProtection admits.
	b.Navigate(t, "/stats/")
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`form[action="pause"] button`))); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "the resume button", `document.querySelector('form[action="resume"] button') !== null`)
	if !rec.Paused() {
		t.Error("the pause button did not pause the recorder")
	}
	// Paused shows at a glance: a badge in the header, an amber live dot;
	// requests skipped now are counted as such, not as sampled out.
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	if v := b.Eval(t, `!document.getElementById("paused-badge").hidden && document.getElementById("live-status").classList.contains("paused")`); v != true {
		t.Error("a paused recorder does not show in the header")
	}
	rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/skipped"})
	if st := rec.Stats(); st.PausedOut != 1 || st.SampledOut != 0 {
		t.Errorf("paused out %d, sampled out %d; want 1, 0", st.PausedOut, st.SampledOut)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`form[action="resume"] button`))); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "the pause button", `document.querySelector('form[action="pause"] button') !== null`)
	if rec.Paused() {
		t.Error("the resume button did not resume the recorder")
	}
	if v := b.Eval(t, `document.getElementById("paused-badge").hidden`); v != true {
		t.Error("the paused badge stays after resuming")
	}
	// Clearing takes two clicks.
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`.clear-form button`))); err != nil {
		t.Fatal(err)
	}
	if st.Len() == 0 {
		t.Fatal("one click cleared the store")
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`.clear-form button`))); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "an empty history", `document.querySelector("#history-section .empty") !== null`)
	if n := st.Len(); n != 0 {
		t.Errorf("%d records left after clearing", n)
	}
	b.Check(t)
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
		if v := b.Eval(t, `window.__xss === undefined && document.querySelectorAll("img[src=x], svg[onload]").length === 0`); v != true {
			t.Errorf("%s: a payload ran or was parsed as markup", where)
		}
	}
	b.Navigate(t, "/stats/?route="+url.QueryEscape(flag.Route))
	b.WaitPainted(t, "chartRequests")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	noXSS("dashboard")

	// A live refresh inserts fragments: still inert.
	evil2 := xssRecord(time.Now(), 3)
	if err := st.Write(context.Background(), []*recording.Record{evil2}); err != nil {
		t.Fatal(err)
	}
	live.Write(context.Background(), []*recording.Record{evil2})
	b.Navigate(t, "/stats/")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	evil3 := xssRecord(time.Now(), 4)
	st.Write(context.Background(), []*recording.Record{evil3})
	live.Write(context.Background(), []*recording.Record{evil3})
	b.WaitFor(t, "the new record", `document.querySelector('tr[data-id="`+evil3.ID.String()+`"]') !== null`, browsertest.Patience)
	noXSS("dashboard after a live refresh")

	for _, r := range []*recording.Record{evil, flag} {
		b.Navigate(t, "/stats/records/"+r.ID.String())
		b.WaitPainted(t, "chartGantt")
		b.Eval(t, `document.querySelectorAll("details").forEach(d => d.open = true), true`)
		for i := range 6 {
			b.Eval(t, fmt.Sprintf(`echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: %d}), true`, i))
			b.WaitFor(t, "tooltip", `Array.from(document.querySelectorAll("#chartGantt div")).some(d => d.textContent.includes("offset"))`, browsertest.Patience)
		}
		noXSS("details of " + r.Path)
		if n := b.Eval(t, `document.querySelectorAll('a[href^="javascript:"]').length`).(float64); n != 0 {
			t.Errorf("%v javascript: links", n)
		}
	}
	b.Check(t)
}

func TestBrowserLive(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartRequests")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)

	appear := func(path string) {
		t.Helper()
		r := makeRecord(time.Now(), uint64(time.Now().UnixNano()), path, 200, 3)
		r.Route = "GET " + path
		if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		if err := live.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		b.WaitFor(t, path+" on the dashboard without a reload",
			`document.querySelector('tr[data-id="`+r.ID.String()+`"]') !== null`, browsertest.Patience)
		// The stats section of the same refresh (part/refresh) lists its route.
		b.WaitFor(t, path+" in the stats without a reload",
			`document.getElementById('stats-section').textContent.includes("GET `+path+`")`, browsertest.Patience)
	}
	b.Eval(t, `window.__sameDocument = true`)
	appear("/live/first")

	// Cut every stream; the page reconnects with backoff and carries on.
	// The page notes every state it shows, so that a test held up past the
	// reconnection still sees that the page noticed.
	b.Eval(t, `window.__states = [];
		new MutationObserver(() => window.__states.push(document.body.dataset.liveState))
			.observe(document.body, {attributes: true, attributeFilter: ["data-live-state"]}), true`)
	ui.Disconnect(live)
	b.WaitFor(t, "the page to notice", `window.__states.some(s => s !== "live")`, browsertest.Patience)
	b.WaitFor(t, "reconnection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	appear("/live/after-reconnect")
	if v := b.Eval(t, `window.__sameDocument === true`); v != true {
		t.Error("the page was reloaded")
	}
	if n := live.Subscribers(); n != 1 {
		t.Errorf("%d subscribers after reconnection, want 1", n)
	}
	b.Check(t)
}
