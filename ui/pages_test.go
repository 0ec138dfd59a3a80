package ui_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// Handler tests of the details page's tree, the trace view, the
// comparison, the in-flight page and the history's filters.

func writeRecs(t *testing.T, st *memstore.Store, recs ...*recording.Record) {
	t.Helper()
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// The API gives each call its parent's index and its self time.
func TestAPICallParents(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := timelineRecord(time.Now())
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	type call struct {
		Method     string   `json:"method"`
		Parent     *int     `json:"parent"`
		DurationMS float64  `json:"duration_ms"`
		SelfMS     *float64 `json:"self_ms"`
	}
	got := decode[struct {
		Calls []call `json:"calls"`
	}](t, do(h, "GET", "/stats/api/records/"+r.ID.String(), nil))
	parents := r.Parents()
	self := r.SelfTimes()
	var sumSelf, sumDur float64
	for i, c := range got.Calls {
		sumDur += c.DurationMS
		switch {
		case parents[i] < 0 && c.Parent != nil:
			t.Errorf("call %d (%s): parent %d, want none", i, c.Method, *c.Parent)
		case parents[i] >= 0 && (c.Parent == nil || *c.Parent != parents[i]):
			t.Errorf("call %d (%s): parent %v, want %d", i, c.Method, c.Parent, parents[i])
		}
		if c.SelfMS == nil || math.Abs(*c.SelfMS-float64(self[i].Microseconds())/1000) > 0.001 {
			t.Errorf("call %d: self_ms %v, want %v", i, c.SelfMS, self[i])
		}
		sumSelf += *c.SelfMS
	}
	// dashboard.Widgets (22 ms) ran 21 ms of calls inside it: its self
	// time is 1 ms; orders.Load (19 ms) ran 17.45 ms of them (4.1 ms of
	// orders, 13.8 ms of products less 0.45 ms when two overlap). Self
	// times count that nested time once.
	if w := got.Calls[2]; w.Method != "Widgets" || w.Parent != nil || math.Abs(*w.SelfMS-1) > 0.01 {
		t.Errorf("Widgets: %+v, self %v", w, *w.SelfMS)
	}
	if d := sumDur - sumSelf; math.Abs(d-(21+17.45)) > 0.01 {
		t.Errorf("self times add up to %v ms, durations to %v: %v ms apart, want the 38.45 ms of nested calls", sumSelf, sumDur, d)
	}
}

func TestDetailsTree(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := timelineRecord(time.Now())
	writeRecs(t, st, r)
	body := do(ui.NewHandler(st), "GET", "/stats/records/"+r.ID.String(), nil).Body.String()
	for _, want := range []string{
		// Widgets (#3) folds its three calls; #4 is inside it.
		`id="call-3" data-i="2" data-p="-1"`, `<button type="button" class="ctog" data-i="2"`,
		`d1" id="call-4" data-i="3" data-p="2">`,
		// The gRPC statuses by name, red when failed.
		`<span class="status st5" title="gRPC status 14">Unavailable</span>`,
		`<span class="status st2" title="gRPC status 0">OK</span>`,
		// The N+1 calls are marked, and the warning says it once.
		`class="badge dupb" title="one of 10 identical calls`,
		"<strong>10 identical calls</strong>",
		// Self time beside total, and the critical path.
		"<th class=\"num\">Self</th>", `class="critb"`,
		// The route and path break between their parts.
		"GET /<wbr>users/<wbr>{id}/<wbr>dashboard",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("details page lacks %q", want)
		}
	}
	if n := strings.Count(body, "details class=\"call dup"); n != 10 {
		t.Errorf("%d calls marked as duplicates, want 10", n)
	}
	if strings.Contains(body, "an N+1 pattern?") {
		t.Error("the N+1 warning is said twice: the page shows the analysis' message too")
	}
	// The shares of call time add up to 100%.
	var sum float64
	for _, m := range regexpAll(body, `<span class="share-v">([0-9.]+)%</span>`) {
		f, _ := strconv.ParseFloat(m, 64)
		sum += f
	}
	if math.Abs(sum-100) > 0.5 {
		t.Errorf("shares of call time add up to %.1f%%", sum)
	}
}

// Services have the same colour on every page.
func TestServiceColours(t *testing.T) {
	st, recs := newStore(t, 30)
	h := ui.NewHandler(st)
	dash := do(h, "GET", "/stats/", nil).Body.String()
	details := do(h, "GET", "/stats/records/"+recs[29].ID.String(), nil).Body.String()
	for svc, class := range map[string]string{"sql": "c1", "http": "c0", "grpc": "c2"} {
		want := `<i class="sw ` + class + `"></i> <span class="svc">` + svc + `</span>`
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard: %s is not coloured %s", svc, class)
		}
		if !strings.Contains(details, want) {
			t.Errorf("details: %s is not coloured %s", svc, class)
		}
	}
}

func TestTraceLinks(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	caller, callee := traceRecords(time.Now())
	other := makeRecord(time.Now(), 503, "/unrelated", 200, 2)
	writeRecs(t, st, caller, callee, other)
	h := ui.NewHandler(st)

	body := do(h, "GET", "/stats/records/"+caller.ID.String(), nil).Body.String()
	for _, want := range []string{
		`href="../traces/` + caller.TraceID.String() + `?record=` + caller.ID.String() + `">Trace view · 2 records`,
		`Call #2 caused <a href="../records/` + callee.ID.String() + `">GET /api/payments</a>`,
		`<a class="caused" href="../records/` + callee.ID.String() + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("caller's page lacks %q", want)
		}
	}
	body = do(h, "GET", "/stats/records/"+callee.ID.String(), nil).Body.String()
	if want := `Called by <a href="../records/` + caller.ID.String() + `">GET /checkout</a> (call #2`; !strings.Contains(body, want) {
		t.Errorf("callee's page lacks %q", want)
	}
	body = do(h, "GET", "/stats/records/"+other.ID.String(), nil).Body.String()
	if strings.Contains(body, "Trace view") {
		t.Error("a record alone in its trace links to a trace view")
	}

	// The trace view and its API.
	w := do(h, "GET", "/stats/traces/"+caller.TraceID.String()+"?record="+caller.ID.String(), nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "called by \u2068http\u2069 \u2068GET api.example.com/users/{id}\u2069 of \u2068GET\u2069 \u2068/checkout\u2069") {
		t.Errorf("trace view: %d, lacks the callee's parent", w.Code)
	}
	type rec struct {
		ID       string `json:"id"`
		CausedBy *struct {
			Record string `json:"record"`
			Call   *int   `json:"call"`
		} `json:"caused_by"`
	}
	tj := decode[struct {
		TraceID string `json:"trace_id"`
		Records []rec  `json:"records"`
	}](t, do(h, "GET", "/stats/api/traces/"+caller.TraceID.String()+"?window=1h", nil))
	if len(tj.Records) != 2 || tj.Records[0].ID != caller.ID.String() || tj.Records[0].CausedBy != nil ||
		tj.Records[1].CausedBy == nil || tj.Records[1].CausedBy.Record != caller.ID.String() || *tj.Records[1].CausedBy.Call != 1 {
		t.Errorf("api/traces: %+v", tj)
	}
	for target, code := range map[string]int{
		"/stats/traces/xyz": 400,
		"/stats/traces/" + caller.TraceID.String() + "?record=1":                    400,
		"/stats/traces/" + caller.TraceID.String() + "?record=" + other.ID.String(): 400,
		"/stats/api/traces/00000000000000000000000000000000":                        400,
		"/stats/api/traces/" + caller.TraceID.String() + "?window=nope":             400,
		"/stats/traces/0123456789abcdef0123456789abcdef":                            200,
	} {
		if got := do(h, "GET", target, nil).Code; got != code {
			t.Errorf("GET %s: %d, want %d", target, got, code)
		}
	}
}

func TestCompare(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	base := time.Now().Add(-time.Minute)
	a := &recording.Record{ID: recID(base, 1), Start: base, Method: "GET", Path: "/a", Route: "GET /x", Status: 200, Duration: 20 * time.Millisecond}
	b := &recording.Record{ID: recID(base.Add(time.Second), 2), Start: base.Add(time.Second), Method: "GET", Path: "/b", Route: "GET /x", Status: 200, Duration: 35 * time.Millisecond}
	add := func(r *recording.Record, svc, m string, d time.Duration) {
		r.Calls = append(r.Calls, recording.Call{Service: svc, Method: m, Start: time.Duration(len(r.Calls)) * time.Millisecond, Duration: d})
	}
	for i := range 3 {
		add(a, "sql", "SELECT users", time.Duration(i+1)*time.Millisecond)
	}
	add(a, "http", "GET api/x", 5*time.Millisecond)
	for i := range 5 {
		add(b, "sql", "SELECT users", time.Duration(i+2)*time.Millisecond)
	}
	writeRecs(t, st, a, b)
	h := ui.NewHandler(st)
	type group struct {
		Service string  `json:"service"`
		CountA  int     `json:"count_a"`
		CountB  int     `json:"count_b"`
		Delta   float64 `json:"delta_ms"`
	}
	type pair struct {
		A, B  *int
		Delta float64 `json:"delta_ms"`
	}
	got := decode[struct {
		DeltaMS float64 `json:"delta_ms"`
		RPCs    []group `json:"rpcs"`
		Calls   []pair  `json:"calls"`
	}](t, do(h, "GET", "/stats/api/compare?a="+a.ID.String()+"&b="+b.ID.String(), nil))
	if got.DeltaMS != 15 || len(got.RPCs) != 2 || len(got.Calls) != 6 {
		t.Fatalf("compare: %+v", got)
	}
	// sql: 6 ms in A, 20 ms in B; http: only in A.
	if g := got.RPCs[0]; g.Service != "sql" || g.CountA != 3 || g.CountB != 5 || g.Delta != 14 {
		t.Errorf("sql group %+v", g)
	}
	var onlyA, onlyB, matched int
	for _, p := range got.Calls {
		switch {
		case p.A != nil && p.B != nil:
			matched++
			if p.Delta != 1 { // the k-th SELECT of B took 1 ms more than A's
				t.Errorf("matched pair %+v", p)
			}
		case p.A != nil:
			onlyA++
		default:
			onlyB++
		}
	}
	if matched != 3 || onlyA != 1 || onlyB != 2 {
		t.Errorf("matched %d, only A %d, only B %d; want 3, 1, 2", matched, onlyA, onlyB)
	}
	body := do(h, "GET", "/stats/compare?a="+a.ID.String()+"&b="+b.ID.String(), nil).Body.String()
	for _, want := range []string{`<td class="num bad">&#43;15.0 ms</td>`, "only in A", "only in B", `href="records/` + a.ID.String() + `#call-4"`} {
		if !strings.Contains(body, want) {
			t.Errorf("compare page lacks %q", want)
		}
	}
	// The details page offers B to compare A with.
	if d := do(h, "GET", "/stats/records/"+a.ID.String(), nil).Body.String(); !strings.Contains(d, `<option value="`+b.ID.String()+`">`) {
		t.Error("the details page does not offer the other request of the route")
	}
	for target, code := range map[string]int{
		"/stats/compare?a=" + a.ID.String():                                                     400,
		"/stats/api/compare?a=zz&b=" + b.ID.String():                                            400,
		"/stats/compare?a=" + a.ID.String() + "&b=" + recID(base, 9).String():                   404,
		"/stats/api/compare?a=" + a.ID.String() + "&b=" + b.ID.String() + "&b=" + b.ID.String(): 400,
	} {
		if got := do(h, "GET", target, nil).Code; got != code {
			t.Errorf("GET %s: %d, want %d", target, got, code)
		}
	}
}

func TestActive(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/export"})
	_ = recording.Do(ctx, "export", "Batch", func(ctx context.Context) error {
		recording.StartCall(ctx, "sql", "SELECT rows").End(nil)
		return nil
	})
	running := recording.StartCall(ctx, "http", "GET backend/chunk")
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	type call struct {
		Method  string `json:"method"`
		Running bool   `json:"running"`
		Parent  *int   `json:"parent"`
	}
	type active struct {
		Active []struct {
			Path         string `json:"path"`
			CallCount    int    `json:"call_count"`
			CallsRunning int    `json:"calls_running"`
			Calls        []call `json:"calls"`
		} `json:"active"`
		Unlisted int `json:"unlisted"`
	}
	got := decode[active](t, do(h, "GET", "/stats/api/active", nil))
	if len(got.Active) != 1 || got.Active[0].Path != "/export" || got.Active[0].CallCount != 3 || got.Active[0].CallsRunning != 1 {
		t.Fatalf("api/active: %+v", got)
	}
	if c := got.Active[0].Calls; c[1].Parent == nil || *c[1].Parent != 0 || !c[2].Running {
		t.Errorf("calls so far: %+v", c)
	}
	got = decode[active](t, do(h, "GET", "/stats/api/active?calls=1", nil))
	if n := len(got.Active[0].Calls); n != 1 {
		t.Errorf("calls=1 listed %d calls", n)
	}
	if body := do(h, "GET", "/stats/active", nil).Body.String(); !strings.Contains(body, "export</a>") || !strings.Contains(body, "GET backend/chunk") {
		t.Error("the in-flight page lacks the request or its calls")
	}
	for target, code := range map[string]int{"/stats/api/active?limit=0": 400, "/stats/api/active?calls=x": 400, "/stats/part/active": 200} {
		if got := do(h, "GET", target, nil).Code; got != code {
			t.Errorf("GET %s: %d, want %d", target, got, code)
		}
	}
	running.End(nil)
	ar.Finish()
	if got := decode[active](t, do(h, "GET", "/stats/api/active", nil)); len(got.Active) != 0 {
		t.Errorf("%d requests in flight after the request ended", len(got.Active))
	}
	// Without a recorder there is nothing to list.
	for _, target := range []string{"/stats/active", "/stats/api/active", "/stats/part/active"} {
		if got := do(ui.NewHandler(st), "GET", target, nil).Code; got != 404 {
			t.Errorf("GET %s without a recorder: %d, want 404", target, got)
		}
	}
}

func TestHistoryFilters(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now()
	var recs []*recording.Record
	for i := range 40 {
		r := makeRecord(now.Add(-time.Duration(i)*time.Minute), uint64(i+1), fmt.Sprintf("/items/%d", i), 200, 2+i%3)
		r.Duration = time.Duration((i*37)%40+1) * time.Millisecond
		recs = append(recs, r)
	}
	old := makeRecord(now.Add(-3*time.Hour), 99, "/old", 200, 1)
	recs = append(recs, old)
	writeRecs(t, st, recs...)
	h := ui.NewHandler(st)
	rows := func(target string) []string {
		t.Helper()
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body.String())
		}
		return regexpAll(w.Body.String(), `<tr data-id="([0-9a-f]+)"`)
	}
	// The history lists the window's records only.
	if n := len(rows("/stats/?window=15m")); n != 15 { // minutes 0..14
		t.Errorf("15m window: %d rows, want 15", n)
	}
	if got := rows("/stats/?window=6h&limit=100"); len(got) != 41 {
		t.Errorf("6h window: %d rows, want 41", len(got))
	}
	// Slowest first, paged by offset.
	byDur := rows("/stats/?sort=duration&limit=10")
	byDur2 := rows("/stats/?sort=duration&limit=10&offset=10")
	dur := func(id string) time.Duration {
		for _, r := range recs {
			if r.ID.String() == id {
				return r.Duration
			}
		}
		t.Fatalf("unknown row %s", id)
		return 0
	}
	all := append(byDur, byDur2...)
	for i := 1; i < len(all); i++ {
		if dur(all[i]) > dur(all[i-1]) {
			t.Fatalf("not slowest first at %d", i)
		}
	}
	if dur(all[0]) != 40*time.Millisecond {
		t.Errorf("slowest first: %v", dur(all[0]))
	}
	api := decode[struct {
		Records []struct {
			DurationMS float64 `json:"duration_ms"`
		} `json:"records"`
		Next string `json:"next"`
	}](t, do(h, "GET", "/stats/api/records?sort=duration&limit=5", nil))
	if len(api.Records) != 5 || api.Records[0].DurationMS != 40 || api.Next != "5" {
		t.Errorf("api sort=duration: %+v", api)
	}
	// Filters: a call made, at most a duration, a time sub-range, path text.
	if got := rows("/stats/?call_service=http&call_method=" + url.QueryEscape("GET api.example.com/users/{id}") + "&limit=100"); len(got) != 40 {
		t.Errorf("call filter: %d rows, want 40 (each record made an HTTP call)", len(got))
	}
	if got := rows("/stats/?call_service=memcache&limit=100"); len(got) != 13 { // records with 4 calls: i%3 == 2
		t.Errorf("memcache filter: %d rows, want 13", len(got))
	}
	for _, id := range rows("/stats/?max_ms=10&limit=100") {
		if dur(id) > 10*time.Millisecond {
			t.Errorf("max_ms=10 lists %v", dur(id))
		}
	}
	since, until := now.Add(-10*time.Minute-time.Second).UnixMilli(), now.Add(-4*time.Minute).UnixMilli()
	if got := rows(fmt.Sprintf("/stats/?since=%d&until=%d", since, until)); len(got) != 6 { // minutes 5..10
		t.Errorf("since/until: %d rows, want 6", len(got))
	}
	if got := rows("/stats/?q=ITEMS/3"); len(got) != 11 { // 3, 30..39
		t.Errorf("path search: %d rows, want 11", len(got))
	}
	// Searches for IDs go to their pages, relative to the dashboard.
	for q, want := range map[string]string{
		recs[3].ID.String():      "records/" + recs[3].ID.String(),
		recs[3].TraceID.String(): "traces/" + recs[3].TraceID.String() + "?window=1h",
	} {
		w := do(h, "GET", "/stats/?q="+q, nil)
		if w.Code != 303 || w.Header().Get("Location") != want {
			t.Errorf("search %s: %d to %q, want 303 to %q", q, w.Code, w.Header().Get("Location"), want)
		}
	}
	// A custom range: its name selects it again, in every link.
	from, to := now.Add(-20*time.Minute).UnixMilli(), now.Add(-9*time.Minute).UnixMilli()
	w := do(h, "GET", fmt.Sprintf("/stats/?from=%d&to=%d", from, to), nil)
	name := fmt.Sprintf("%d~%d", from, to)
	if got := len(regexpAll(w.Body.String(), `<tr data-id="([0-9a-f]+)"`)); got != 11 || !strings.Contains(w.Body.String(), `name="window" value="`+name+`"`) {
		t.Errorf("custom range: %d rows (want 11), window %s in the form: %v", got, name, strings.Contains(w.Body.String(), name))
	}
	if got := rows("/stats/part/history?window=" + url.QueryEscape(name)); len(got) != 11 {
		t.Errorf("part/history of the range: %d rows, want 11", len(got))
	}
	for _, target := range []string{
		"/stats/?sort=size", "/stats/?offset=5&sort=duration&before=abc", "/stats/?max_ms=-1", "/stats/?since=yesterday",
		"/stats/?call_method=Get", "/stats/?trace_id=xyz", "/stats/?from=" + strconv.FormatInt(to, 10) + "&to=" + strconv.FormatInt(from, 10),
		"/stats/?window=1~2", "/stats/?to=5", "/stats/api/records?sort=duration&offset=10000",
	} {
		if code := do(h, "GET", target, nil).Code; code != 400 {
			t.Errorf("GET %s: %d, want 400", target, code)
		}
	}
}

func regexpAll(s, expr string) []string {
	var out []string
	for _, m := range mustRegexp(expr).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func mustRegexp(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }

// TestPageTitles: each page's title names the page, then appstats (the
// dashboard's read "appstats · appstats"); the page's name is a Unicode
// isolate (&#x2068; … &#x2069;), so that a right-to-left override in a
// recorded path ends before " · appstats".
func TestPageTitles(t *testing.T) {
	st, recs := newStore(t, 3)
	h := ui.NewHandler(st)
	for target, want := range map[string]string{
		"/stats/":                               "<title>&#x2068;Dashboard&#x2069; · appstats</title>",
		"/stats/records/" + recs[0].ID.String(): "<title>&#x2068;" + recs[0].Method + " " + recs[0].Path + "&#x2069; · appstats</title>",
	} {
		if body := do(h, "GET", target, nil).Body.String(); !strings.Contains(body, want) {
			t.Errorf("GET %s: no %s", target, want)
		}
	}
}
