package ui_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// chartPoint scrolls chart id into the middle of the window and returns
// the window's coordinates of the point (x, y) of its data.
func (b *browser) chartPoint(t *testing.T, id string, x, y any) []any {
	t.Helper()
	b.Eval(t, `document.getElementById(`+browsertest.JSString(id)+`).scrollIntoView({block: "center"}), true`)
	return b.Eval(t, fmt.Sprintf(`(function () {
		var el = document.getElementById(%s), c = echarts.getInstanceByDom(el);
		var p = c.convertToPixel({gridIndex: 0}, [%s, %s]), r = el.getBoundingClientRect();
		return [r.left + p[0], r.top + p[1]];
	})()`, browsertest.JSString(id), jsValue(x), jsValue(y))).([]any)
}

// clickChart clicks, with the mouse, the point (x, y) of chart id's data
// coordinates: a real click, as a user's.
func (b *browser) clickChart(t *testing.T, id string, x, y any) {
	t.Helper()
	xy := b.chartPoint(t, id, x, y)
	if err := chromedp.Do(b.Ctx, chromedp.MouseClickXY(xy[0].(float64), xy[1].(float64))); err != nil {
		t.Fatal(err)
	}
}

// waitNav waits, across a navigation, for the new page to have loaded and
// the predicate to hold.
func (b *browser) waitNav(t *testing.T, what, predicate string) {
	t.Helper()
	b.WaitAfterNav(t, what, `document.readyState === "complete" && (`+predicate+`)`)
}

func jsValue(v any) string {
	if s, ok := v.(string); ok {
		return browsertest.JSString(s)
	}
	return fmt.Sprint(v)
}

// click clicks the element sel with the mouse.
func (b *browser) click(t *testing.T, sel string) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func (b *browser) option(t *testing.T, id, expr string) any {
	t.Helper()
	return b.Eval(t, `(function (o) { return `+expr+`; })(echarts.getInstanceByDom(document.getElementById(`+browsertest.JSString(id)+`)).getOption())`)
}

// historyDurations reads the durations of the history's rows.
func (b *browser) historyDurations(t *testing.T) []time.Duration {
	t.Helper()
	cells := b.Eval(t, `Array.from(document.querySelectorAll(".history-table tbody tr td:nth-child(5)")).map(e => e.textContent.trim())`).([]any)
	var out []time.Duration
	for _, c := range cells {
		s := strings.ReplaceAll(strings.ReplaceAll(c.(string), " ", ""), "µs", "us")
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("duration cell %q: %v", c, err)
		}
		out = append(out, d)
	}
	return out
}

// TestBrowserCharts: sparse data draws points, the unfinished bucket is
// marked, the latency chart has a log scale, the histogram labels every
// bucket, and clicking a chart lists the requests behind the point.
func TestBrowserCharts(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	// Every record in one minute, half an hour ago: one bucket of the 1h
	// window's sixty.
	at := time.Now().Add(-30 * time.Minute).Truncate(time.Minute).Add(10 * time.Second)
	var recs []*recording.Record
	for i := range 12 {
		r := makeRecord(at.Add(time.Duration(i)*time.Second), uint64(i+1), fmt.Sprintf("/one/%d", i), 200, 3)
		r.Duration = time.Duration(1+i*4) * time.Millisecond
		recs = append(recs, r)
	}
	// And one long ago, outside the window.
	recs = append(recs, makeRecord(time.Now().Add(-3*time.Hour), 99, "/old", 200, 1))
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")

	if n := b.option(t, "chartLatency", `o.series[0].data.filter(d => d && d.symbolSize === 7).length`).(float64); n != 1 {
		t.Errorf("latency chart: %v single points drawn as dots, want 1", n)
	}
	marks := func() float64 { return b.option(t, "chartRequests", `o.series[0].markArea.data.length`).(float64) }
	n := marks()
	if n == 0 && b.Eval(t, `(function () {
		var sd = JSON.parse(document.getElementById("series-data").textContent), bs = sd.buckets;
		return bs[bs.length - 1].start_unix_ms + sd.step_ms <= Date.now();
	})()`) == true {
		// The minute turned since the page was drawn: its last bucket has
		// ended, rightly unmarked. A page drawn now has a new one.
		b.Navigate(t, "/stats/")
		b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
		n = marks()
	}
	if n != 1 {
		t.Errorf("requests chart: %v marks of the unfinished bucket, want 1", n)
	}
	if v := b.option(t, "chartRequests", `o.xAxis[0].min === Date.parse(JSON.parse(document.getElementById("series-data").textContent).window.since)`); v != true {
		t.Error("the time axis does not span the window")
	}
	if v := b.option(t, "chartHistogram", `o.xAxis[0].axisLabel.interval`); v != float64(0) {
		t.Errorf("histogram label interval %v, want 0 (every bucket)", v)
	}
	if n := b.Eval(t, `document.querySelectorAll(".history-table tbody tr").length`).(float64); n != 12 {
		t.Errorf("the 1h history lists %v records, want the 12 of the window (not the old one)", n)
	}

	// The log scale, kept across a reload.
	b.click(t, "#latency-log")
	b.WaitFor(t, "a log scale", `document.body.dataset.latencyScale === "log"`, browsertest.Patience)
	if v := b.option(t, "chartLatency", `o.yAxis[0].type`); v != "log" {
		t.Errorf("latency axis %v after the toggle, want log", v)
	}
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartLatency")
	if v := b.option(t, "chartLatency", `o.yAxis[0].type`); v != "log" {
		t.Errorf("latency axis %v after a reload, want log", v)
	}
	b.click(t, "#latency-log")
	b.WaitFor(t, "a linear scale", `document.body.dataset.latencyScale === "linear"`, browsertest.Patience)

	// A click on the requests chart's point lists its bucket's requests.
	bucket := at.Truncate(time.Minute).UnixMilli()
	b.clickChart(t, "chartRequests", bucket+30000, 6)
	b.waitNav(t, "the bucket's history", `location.search.includes("since=`+strconv.FormatInt(bucket, 10)+`")`)
	b.WaitPainted(t, "chartRequests")
	if n := b.Eval(t, `document.querySelectorAll(".history-table tbody tr").length`).(float64); n != 12 {
		t.Errorf("the bucket lists %v records, want 12", n)
	}
	// On the latency chart: the same, slowest first.
	b.clickChart(t, "chartLatency", bucket+30000, 10)
	b.waitNav(t, "the slowest of the bucket", `location.search.includes("sort=duration")`)
	ds := b.historyDurations(t)
	for i := 1; i < len(ds); i++ {
		if ds[i] > ds[i-1] {
			t.Fatalf("slowest first: %v", ds)
		}
	}
	// A histogram bar lists its requests.
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartHistogram")
	b.clickChart(t, "chartHistogram", 4, 1) // the "≤ 20ms" bucket: (10 ms, 20 ms]
	b.waitNav(t, "the bucket's requests", `location.search.includes("max_ms=20")`)
	ds = b.historyDurations(t)
	if len(ds) == 0 {
		t.Fatal("the histogram bucket lists nothing")
	}
	for _, d := range ds {
		if d < 10*time.Millisecond || d > 20*time.Millisecond {
			t.Errorf("histogram bucket (10 ms, 20 ms] lists a request of %v", d)
		}
	}
	b.Check(t)
}

// TestBrowserHistory: sorting by duration, searching, custom ranges and
// the call filter are links and forms.
func TestBrowserHistory(t *testing.T) {
	st, recs := demoStore(t)
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/#history")
	b.WaitPainted(t, "chartRequests")

	b.click(t, `.history-table th a[title="slowest first"]`)
	b.waitNav(t, "sorted by duration", `location.search.includes("sort=duration") && document.querySelector(".history-table") !== null`)
	ds := b.historyDurations(t)
	if len(ds) != 50 {
		t.Fatalf("%d rows sorted, want 50", len(ds))
	}
	for i := 1; i < len(ds); i++ {
		if ds[i] > ds[i-1] {
			t.Fatalf("not slowest first: %v", ds)
		}
	}
	var slowest time.Duration
	for _, r := range recs {
		slowest = max(slowest, r.Duration)
	}
	if d := slowest - ds[0]; d < 0 || d >= time.Millisecond { // the page shows whole milliseconds over 100 ms
		t.Errorf("first row %v, want the slowest record, %v", ds[0], slowest)
	}

	// Search: a record ID opens the record.
	id := recs[100].ID.String()
	if err := chromedp.Do(b.Ctx, chromedp.SetValue(chromedp.CSS(`input[name=q]`), id), chromedp.Submit(chromedp.CSS(`input[name=q]`))); err != nil {
		t.Fatal(err)
	}
	b.waitNav(t, "the record's page", `location.pathname.endsWith("/records/`+id+`")`)
	// Path text filters.
	b.Navigate(t, "/stats/?q=FRIENDS#history")
	paths := b.Eval(t, `Array.from(document.querySelectorAll(".history-table td.path a")).map(a => a.textContent)`).([]any)
	if len(paths) == 0 {
		t.Fatal("a path search lists nothing")
	}
	for _, p := range paths {
		if !strings.Contains(p.(string), "friends") {
			t.Errorf("search for FRIENDS lists %q", p)
		}
	}

	// The RPC table's "requests" link: the requests that made the call.
	b.Navigate(t, "/stats/")
	b.click(t, `.rpc-table a[href*="call_service=grpc"]`)
	b.waitNav(t, "the call filter", `document.querySelector(".chip") !== null`)
	if v := b.Eval(t, `document.querySelector(".chip").textContent`).(string); !strings.Contains(v, "made a call of grpc") {
		t.Errorf("chip %q", v)
	}

	// A custom range: the last 20 minutes, in the browser's local time.
	b.Navigate(t, "/stats/")
	b.click(t, ".custom-range > summary")
	b.Eval(t, `(function () {
		var pad = n => (n < 10 ? "0" : "") + n, f = d => d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
		var form = document.getElementById("range-form");
		form.elements.from.value = f(new Date(Date.now() - 20 * 60000));
		form.elements.to.value = f(new Date());
		return true;
	})()`)
	b.click(t, `#range-form button[type=submit]`)
	b.waitNav(t, "the custom range", `document.querySelector(".custom-range.on") !== null && document.querySelector(".history-table") !== null`)
	b.WaitPainted(t, "chartRequests")
	oldest := b.Eval(t, `Math.min.apply(null, Array.from(document.querySelectorAll(".history-table time")).map(e => Date.parse(e.getAttribute("datetime"))))`).(float64)
	if age := time.Since(time.UnixMilli(int64(oldest))); age > 21*time.Minute {
		t.Errorf("the 20-minute range lists a record %v old", age)
	}
	// Its links keep the range.
	if v := b.Eval(t, `Array.from(document.querySelectorAll(".path-table a")).every(a => /window=\d+~\d+/.test(a.search))`); v != true {
		t.Error("the path table's links lose the custom range")
	}
	b.Check(t)
}

// TestBrowserDetails: the timeline is a tree that folds, numbers its rows,
// keeps the end of long names, scrolls through 1,000 calls, highlights the
// critical path, and opens a call when its bar is clicked; the list marks
// N+1 calls and gRPC statuses by name.
func TestBrowserDetails(t *testing.T) {
	st, _ := demoStore(t)
	r := timelineRecord(time.Now().Add(-time.Minute))
	long := makeRecord(time.Now().Add(-2*time.Minute), 6, "/long", 200, 2)
	long.Calls[0].Method = "GET api.example.com/v1/accounts/settings/notifications/preferences/alpha"
	long.Calls[1].Method = "GET api.example.com/v1/accounts/settings/notifications/preferences/beta"
	big := makeRecord(time.Now(), 5, "/big", 200, 1000)
	if err := st.Write(context.Background(), []*recording.Record{r, long, big}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st, ui.WithTraceLink("http://127.0.0.1:16686/trace/{trace_id}")))

	b.Navigate(t, "/stats/records/"+r.ID.String())
	b.WaitPainted(t, "chartGantt")
	n := len(r.Calls)
	if v := b.Eval(t, `document.body.dataset.ganttRows`); v != strconv.Itoa(n) {
		t.Fatalf("Gantt rows %v, want %d", v, n)
	}
	// Row 3 is the dashboard.Widgets call, numbered (the number set apart
	// from the fold mark), with its three children under it.
	if l := b.Eval(t, `AppStats.ganttLabel(2)`).(string); !strings.HasPrefix(l, "#3\u2007") || !strings.Contains(l, "▾ dashboard Widgets") {
		t.Errorf("label of row 3 %q", l)
	}
	b.click(t, "#call-3 .ctog")
	b.WaitFor(t, "the rows folded", `document.body.dataset.ganttRows === "`+strconv.Itoa(n-3)+`"`, browsertest.Patience)
	if v := b.Eval(t, `document.getElementById("call-4").hidden && !document.getElementById("call-3").open`); v != true {
		t.Error("folding hid nothing in the list, or opened the call")
	}
	b.click(t, "#call-3 .ctog")
	b.WaitFor(t, "the rows unfolded", `document.body.dataset.ganttRows === "`+strconv.Itoa(n)+`"`, browsertest.Patience)

	// A click on a bar opens its call in the list.
	row := b.Eval(t, `AppStats.gantt().visible.findIndex(i => AppStats.gantt().calls[i].n === 19)`).(float64)
	b.clickChart(t, "chartGantt", 50.1, row)
	b.WaitFor(t, "call 19 opened", `document.getElementById("call-19").open && location.hash === "#call-19"`, browsertest.Patience)
	if v := b.Eval(t, `document.querySelector("#call-19 .status").textContent + "|" + document.querySelector("#call-19 .status").className`); v != "Unavailable|status st5" {
		t.Errorf("gRPC status of call 19: %v", v)
	}
	if n := b.Eval(t, `document.querySelectorAll("details.call.dup").length`).(float64); n != 10 {
		t.Errorf("%v calls marked as duplicates, want the 10 of the N+1", n)
	}
	if v := b.Eval(t, `document.querySelectorAll(".route-v wbr").length > 0`); v != true {
		t.Error("the route has no break opportunities")
	}
	// The critical path: highlighted, and the highlight can be turned off.
	if v := b.Eval(t, `AppStats.gantt().calls.filter(c => c.cp).length > 0 && AppStats.gantt().crit`); v != true {
		t.Error("no critical path highlighted")
	}
	b.click(t, "#gantt-crit")
	b.WaitFor(t, "the highlight off", `AppStats.gantt().crit === false`, browsertest.Patience)
	// The tooltip says self time and critical path time.
	b.Eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 2}), true`)
	b.WaitFor(t, "tooltip", `Array.from(document.querySelectorAll("#chartGantt div")).some(d => d.textContent.includes("self") && d.textContent.includes("dashboard"))`, browsertest.Patience)

	// Long names keep their distinctive end.
	b.Navigate(t, "/stats/records/"+long.ID.String())
	b.WaitPainted(t, "chartGantt")
	labels := b.Eval(t, `[AppStats.ganttLabel(0), AppStats.ganttLabel(1)]`).([]any)
	if l0, l1 := labels[0].(string), labels[1].(string); l0 == l1 || !strings.HasSuffix(l0, "alpha") || !strings.HasSuffix(l1, "beta") || !strings.Contains(l0, "…") {
		t.Errorf("labels %q and %q, want the ends kept and the middle cut", l0, l1)
	}

	// 1,000 calls: all rows are there, 28 drawn at a time, and scrolling
	// the box brings the last ones in.
	b.Navigate(t, "/stats/records/"+big.ID.String())
	b.WaitPainted(t, "chartGantt")
	if v := b.Eval(t, `document.body.dataset.ganttRows`); v != "1000" {
		t.Fatalf("rows %v, want 1000", v)
	}
	if v := b.option(t, "chartGantt", `o.dataZoom[2].endValue - o.dataZoom[2].startValue + 1`); v != float64(28) {
		t.Errorf("%v rows in view, want 28", v)
	}
	b.Eval(t, `document.getElementById("gantt-wrap").scrollTop = 1e6, true`)
	b.WaitFor(t, "the last rows in view", `echarts.getInstanceByDom(document.getElementById("chartGantt")).getOption().dataZoom[2].endValue === 999`, browsertest.Patience)
	if l := b.Eval(t, `AppStats.ganttLabel(999)`).(string); !strings.HasPrefix(l, "#1000") {
		t.Errorf("last label %q", l)
	}
	b.Check(t)
}

// traceRecords makes two records of one trace: a caller whose second call
// caused the callee.
func traceRecords(now time.Time) (caller, callee *recording.Record) {
	caller = makeRecord(now.Add(-time.Second), 501, "/checkout", 200, 3)
	for i := range caller.Calls {
		caller.Calls[i].SpanID = recording.SpanID{0xca, 0, 0, 0, 0, 0, 0, byte(i + 1)}
	}
	caller.SpanID = recording.SpanID{0xca, 0xfe}
	callee = makeRecord(now.Add(-time.Second+caller.Calls[1].Start+time.Microsecond), 502, "/api/payments", 201, 2)
	callee.TraceID = caller.TraceID
	callee.ParentSpanID = caller.Calls[1].SpanID
	callee.Instance = "payments/7"
	callee.Duration = caller.Calls[1].Duration / 2
	return caller, callee
}

// TestBrowserTrace: records of one trace link to each other and share a
// trace view, where a record sits under the call that caused it.
func TestBrowserTrace(t *testing.T) {
	st, _ := demoStore(t)
	caller, callee := traceRecords(time.Now())
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/records/"+caller.ID.String())
	b.WaitPainted(t, "chartGantt")
	if v := b.Eval(t, `document.querySelector("#call-2 a.caused").getAttribute("href")`); v != "../records/"+callee.ID.String() {
		t.Errorf("call 2 links to %v, want the callee", v)
	}
	b.click(t, "#trace-links a.btn")
	b.waitNav(t, "the trace view", `document.body.dataset.page === "trace" && document.getElementById("chartGantt") !== null`)
	b.WaitPainted(t, "chartGantt")
	// Rows: the caller, its three calls, and the callee (under call 2)
	// with its two calls.
	if v := b.Eval(t, `document.body.dataset.ganttRows`); v != "7" {
		t.Errorf("trace rows %v, want 7", v)
	}
	rows := b.Eval(t, `AppStats.gantt().calls.map(c => (c.rec ? "R" : "C") + c.dp)`).([]any)
	if got := fmt.Sprint(rows); got != "[R0 C1 C1 R2 C3 C3 C1]" {
		t.Errorf("trace rows (kind and depth) %s", got)
	}
	// Clicking a record's bar opens its page.
	b.clickChart(t, "chartGantt", b.Eval(t, `AppStats.gantt().calls[3].st + AppStats.gantt().calls[3].d / 2`), 3)
	b.waitNav(t, "the callee's page", `location.pathname.endsWith("/records/`+callee.ID.String()+`")`)
	b.waitNav(t, "called by", `document.querySelector("#trace-links .rel") !== null && document.querySelector("#trace-links .rel").textContent.includes("Called by")`)
	b.Check(t)
}

// TestBrowserCompare: the details page's compare form leads to the
// comparison of two requests of a route.
func TestBrowserCompare(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	a := makeRecord(time.Now().Add(-time.Minute), 1, "/users/1", 200, 4)
	bb := makeRecord(time.Now().Add(-30*time.Second), 2, "/users/2", 200, 8)
	if err := st.Write(context.Background(), []*recording.Record{a, bb}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/records/"+a.ID.String())
	b.WaitPainted(t, "chartGantt")
	b.click(t, `.compare-card button[type=submit]`)
	b.waitNav(t, "the comparison", `document.body.dataset.page === "compare"`)
	if n := b.Eval(t, `document.querySelectorAll(".compare-pairs tbody tr").length`).(float64); n != 8 {
		t.Errorf("%v call rows, want 8", n)
	}
	if n := b.Eval(t, `document.querySelectorAll(".compare-pairs tr.only-b").length`).(float64); n != 4 {
		t.Errorf("%v calls only in B, want 4", n)
	}
	b.Check(t)
}

// TestBrowserActive: the in-flight page lists the requests running now,
// with their calls so far, and follows them as they come and go.
func TestBrowserActive(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/slow/export"})
	recording.StartCall(ctx, "sql", "SELECT rows").End(nil)
	running := recording.StartCall(ctx, "http", "GET backend/chunk")
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	b.Navigate(t, "/stats/")
	b.click(t, `a.navlink[href="active"]`)
	b.waitNav(t, "the in-flight page", `document.body.dataset.page === "active"`)
	if n := b.Eval(t, `document.querySelectorAll(".active-table tr.main").length`).(float64); n != 1 {
		t.Fatalf("%v requests in flight listed, want 1", n)
	}
	b.click(t, ".active-table button.toggle")
	if v := b.Eval(t, `Array.from(document.querySelectorAll(".active-table tr.sub:not([hidden])")).map(r => r.textContent).join("|")`).(string); !strings.Contains(v, "GET backend/chunk") || !strings.Contains(v, "running") {
		t.Errorf("calls so far: %q", v)
	}
	// A second request appears at the next refresh; the open row stays
	// open.
	_, ar2 := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "POST", Path: "/slow/import"})
	b.WaitFor(t, "two requests", `document.querySelectorAll(".active-table tr.main").length === 2`, browsertest.Patience)
	if v := b.Eval(t, `document.querySelector(".active-table button.toggle").getAttribute("aria-expanded")`); v != "true" {
		t.Error("the open row closed at the refresh")
	}
	running.End(nil)
	ar.Finish()
	ar2.Finish()
	b.WaitFor(t, "none in flight", `document.querySelector("#active-section .empty") !== null`, browsertest.Patience)
	b.Check(t)
}

// TestBrowserXSSPages: the trace view, the comparison and the in-flight
// page render request-controlled strings inert too.
func TestBrowserXSSPages(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	p := strings.Join(xssFlagPayloads, "")
	caller, callee := traceRecords(time.Now())
	for _, r := range []*recording.Record{caller, callee} {
		r.Path, r.Route, r.Error, r.Instance = "/x/"+p, "GET /x/"+p, p, p
		for i := range r.Calls {
			r.Calls[i].Service, r.Calls[i].Method, r.Calls[i].Error = xssFlagPayloads[i%len(xssFlagPayloads)], p, p
		}
	}
	callee.Route = caller.Route
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	rec := recording.New()
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/active/" + p})
	c := recording.StartCall(ctx, xssFlagPayloads[1], p)
	defer ar.Finish()
	defer c.End(nil)
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	for _, page := range []string{
		"/stats/traces/" + caller.TraceID.String() + "?record=" + caller.ID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(),
		"/stats/active",
		"/stats/?q=" + url.QueryEscape(p),
	} {
		b.Navigate(t, page)
		b.Eval(t, `document.querySelectorAll("button.toggle").forEach(b => b.click()), true`)
		if document := b.Eval(t, `document.body.dataset.page`); document == "trace" {
			b.WaitPainted(t, "chartGantt")
			for i := range 5 {
				b.Eval(t, fmt.Sprintf(`echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: %d}), true`, i))
			}
		}
		if v := b.Eval(t, `window.__xss === undefined && document.querySelectorAll("img[src=x], svg[onload]").length === 0`); v != true {
			t.Errorf("%s: a payload ran or was parsed as markup", page)
		}
	}
	b.Check(t)
}
