package ui

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// pageMeta is what every page's layout needs.
type pageMeta struct {
	Base  string // relative path back to the prefix: "./" or "../"
	Nonce string
	Title string
	Page  string // "dashboard", "details" or "error"
	// Inline, on the page of a request the authorizer refused, is the
	// style sheet and icon the page carries itself: the visitor's
	// requests for them under static/ would be refused too. Such a page
	// links nowhere under the dashboard.
	Inline *inlineAssets
}

// inlineAssets are the dashboard's style sheet and icon, to put in a page.
type inlineAssets struct {
	CSS  template.CSS // static/app.css, embedded and trusted
	Icon template.URL // static/favicon.svg as a data: URL
}

type errorView struct {
	pageMeta
	Code    int
	Status  string
	Message string
	// Store is the store's condition, on a page the store could not
	// answer for, when it reports one.
	Store *store.Health
	// Refused: the authorizer refused the request, so the dashboard
	// would refuse it too and the page does not link there.
	Refused bool
	// LocalOnly: the default authorizer refused it; the page says what
	// it admits and how to let other visitors in.
	LocalOnly bool
	// Why is which of the default authorizer's checks the request
	// failed, said from what it carried.
	Why string
}

type windowLink struct {
	Name    string
	URL     string
	Current bool
}

type dashboardView struct {
	pageMeta
	Window    string
	Windows   []windowLink
	Live      bool
	Stats     statsSection
	History   historySection
	Requests  chartView
	Latency   chartView
	Histogram chartView
	Recorder  bool
	Paused    bool
	// Custom is set for a custom range (?from=&to=), which RangeLabel
	// describes; FromInput and ToInput fill the range form.
	Custom             bool
	RangeLabel         string
	FromInput, ToInput string
	SeriesJSON         template.JS // the api/series answer, read by the charts
}

type statsSection struct {
	Window           string
	Requests         int64
	Errors           int64
	ErrorRate        float64
	Mean             time.Duration
	CallsPerReq      float64
	RPCs             []rpcRow
	Paths            []pathRow
	Instances        []instanceRow // only when more than one instance recorded
	RPCsOmitted      int           // RPCs, routes and instances beyond the bounds, not shown
	PathsOmitted     int
	InstancesOmitted int
	Health           *healthJSON
	HistogramJSON    template.JS
	Cost             costColumns
}

// histogramIsland is the histogram chart's data: a label and a count per
// bucket.
type histogramIsland struct {
	Labels []string  `json:"labels"`
	Counts []int64   `json:"counts"`
	LeMS   []float64 `json:"le_ms"` // upper bounds; 0 for the last bucket
}

type rpcRow struct {
	Color    int    // the service's colour
	CallURL  string // the history of the requests that made this call
	Key      string
	Service  string
	Method   string
	Count    int64
	Errors   int64
	Requests int64
	Total    time.Duration
	Mean     time.Duration
	store.Latency
	Share  float64
	Routes []store.RouteRPCStats
	Cost   float64
}

type pathRow struct {
	Key         string
	Route       string
	Requests    int64
	Stored      int64 // requests kept in full (see store.RouteStats.Stored)
	Errors      int64
	Calls       int64
	CallsPerReq float64
	Total       time.Duration
	Mean        time.Duration
	store.Latency
	HistoryURL string
	RPCs       []store.RouteRPCStats
	Cost       float64
}

// instanceRow is a row of the Instances table: one process of a fleet
// writing to a shared store.
type instanceRow struct {
	Instance    string
	Requests    int64
	Errors      int64
	CallsPerReq float64
	Total       time.Duration
	Mean        time.Duration
	store.Latency
	Share      float64 // of the window's requests
	HistoryURL string
}

type historySection struct {
	Rows      []historyRow
	RowsHTML  template.HTML // the table's rows, by historyRowsHTML
	Filter    listParams
	Routes    []string
	Instances []string // offered by the instance filter, when more than one
	Window    string
	Filtered  bool
	Paged     bool
	NextURL   string
	NewestURL string
	More      historyMore
	Running   runningSection
}

// A historyRow is one row of the dashboard's history table, its values
// formatted beforehand: the template reads plain fields, without the
// function calls and method lookups (each a reflective call) that cost
// most of a live refresh's CPU when it read the summary itself.
// historyRowsHTML writes the rows, escaping every value as the template
// did.
type historyRow struct {
	ID         string // the record's ID, hex
	ISO, Stamp string // its start, for the datetime attribute and shown
	Method     string
	Path       string
	Query      string
	Route      string // "" when it is the path
	Instance   string
	Message    bool // a message handled on a long-lived connection
	Error      bool // for a message: it failed
	Status     statusView
	Duration   string
	Overhead   string
	CallCount  int
	ErrorCalls int
	Warnings   int
	Panic      bool
	Failed     bool
}

// historyRowOf formats s for the history table.
func historyRowOf(s *recording.Summary) historyRow {
	r := historyRow{
		ID: s.ID.String(), ISO: fmtISO(s.Start), Stamp: fmtStamp(s.Start),
		Method: s.Method, Path: s.Path, Query: s.Query, Instance: s.Instance,
		Message: s.Kind == recording.KindMessage, Error: s.Error != "",
		Duration: fmtDur(s.Duration), Overhead: fmtDur(s.Overhead),
		CallCount: s.CallCount, ErrorCalls: s.ErrorCalls, Warnings: s.Warnings,
		Panic: s.Panic != "", Failed: s.HasError(),
	}
	if s.Route != s.Path {
		r.Route = s.Route
	}
	if !r.Message {
		r.Status = statusOf(s.Kind, s.Status)
	}
	return r
}

// dashboardParams reads the window and the history's list parameters that
// the dashboard and its history section share; on bad input it answers 400
// and returns false.
func (h *handler) dashboardParams(w http.ResponseWriter, r *http.Request) (windowChoice, listParams, bool) {
	wc, ok := h.windowParam(w, r)
	if !ok {
		return wc, listParams{}, false
	}
	lp, err := parseList(r.URL.Query(), 50)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return wc, lp, false
	}
	return wc, lp, true
}

// recentStats reads the store's aggregates over the window wc ending now.
// The window's Until is left zero: the store reads "now" itself, once it
// holds its snapshot of the records, which lets a store answer for the
// current minute from a running rollup instead of record by record (see
// [store.Window]). On failure it answers with the store's error and returns
// nil.
func (h *handler) recentStats(w http.ResponseWriter, r *http.Request, wc windowChoice, now time.Time) *store.Stats {
	win := store.Window{Since: now.Add(-wc.Span)}
	if !wc.Until.IsZero() { // a custom range
		win = wc.span(now)
	}
	st, err := h.st.Stats(r.Context(), win)
	if err != nil {
		h.storeError(w, r, err)
		return nil
	}
	return st
}

// dashboard serves the dashboard page.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	wc, lp, ok := h.dashboardParams(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := time.Now()
	st := h.recentStats(w, r, wc, now)
	if st == nil {
		return
	}
	win := seriesWindow(now, wc)
	bs, err := h.st.Series(ctx, win, wc.Step)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	if target := h.searchTarget(ctx, lp.more.Q, wc); target != "" {
		// A search for an ID: the record's page, or the trace view. The
		// Location is relative to this page, wherever the handler is
		// mounted (http.Redirect would resolve it against the path
		// without the prefix).
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	page, cut, err := h.historyPage(ctx, wc, &lp, st.Histogram, now)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	nonce := newNonce()
	const b = "./"
	v := dashboardView{
		pageMeta: pageMeta{Base: b, Nonce: nonce, Title: "Dashboard", Page: "dashboard"},
		Window:   wc.Name,
		Live:     h.cfg.live != nil,
		Stats:    h.statsSection(st, wc.Name),
		History:  historySectionOf(page, lp, st, wc.Name),
		Recorder: h.cfg.rec != nil,
	}
	extendHistory(&v.History, wc, lp, page.Next, cut, now)
	if h.cfg.rec != nil {
		v.Paused = h.cfg.rec.Paused()
	}
	v.Custom = !wc.Until.IsZero()
	span := wc.span(now)
	v.FromInput = span.Since.UTC().Format("2006-01-02T15:04:05")
	if v.Custom {
		v.ToInput = span.Until.UTC().Format("2006-01-02T15:04:05")
		v.RangeLabel = windowLabel(wc.Name)
	}
	v.History.Running = h.running()
	for _, c := range windowChoices {
		vals := lp.values()
		vals.Del("since")
		vals.Del("until")
		vals.Set("window", c.Name)
		v.Windows = append(v.Windows, windowLink{Name: c.Name, URL: "?" + vals.Encode(), Current: c.Name == wc.Name})
	}
	v.SeriesJSON = template.JS(mustJSON(toSeriesJSON(win, wc, bs)))
	h.chartsOnce.Do(func() {
		assets := b + "static/"
		h.chartBodies = make(map[string]string)
		for id, c := range map[string]snippetter{
			"chartRequests":  requestsChart(assets),
			"chartLatency":   latencyChart(assets),
			"chartHistogram": histogramChart(assets),
		} {
			body, err := chartScript(c)
			if err != nil {
				h.cfg.logger.Error("appstats ui: chart", "chart", id, "err", err)
				continue
			}
			h.chartBodies[id] = body
		}
	})
	for _, c := range []struct {
		dst *chartView
		id  string
	}{{&v.Requests, "chartRequests"}, {&v.Latency, "chartLatency"}, {&v.Histogram, "chartHistogram"}} {
		c.dst.ID = c.id
		if body, ok := h.chartBodies[c.id]; ok {
			c.dst.Script = withNonce(body, nonce)
		}
	}
	h.render(w, r, h.pages.dashboard, "page", nonce, &v)
}

// statsSection builds the dashboard's figures and tables from all, the
// tables cut to the bounds of boundStats.
func (h *handler) statsSection(all *store.Stats, window string) statsSection {
	s := statsSection{Window: window, Requests: all.Requests, Errors: all.Errors}
	var total time.Duration
	var calls int64
	for i := range all.Routes {
		total += all.Routes[i].Total
		calls += all.Routes[i].Calls
	}
	if all.Requests > 0 {
		s.ErrorRate = float64(all.Errors) / float64(all.Requests)
		s.Mean = total / time.Duration(all.Requests)
		s.CallsPerReq = float64(calls) / float64(all.Requests)
	}
	var rpcTotal time.Duration
	for i := range all.RPCs {
		rpcTotal += all.RPCs[i].Total
	}
	s.Cost = costColumnsOf(all, h.costUnit())
	shown := boundStats(all)
	st := shown.Stats
	s.RPCsOmitted, s.PathsOmitted, s.InstancesOmitted = shown.RPCsOmitted, shown.RoutesOmitted, shown.InstancesOmitted
	byRPC := make(map[[2]string][]store.RouteRPCStats)
	byRoute := make(map[string][]store.RouteRPCStats)
	for _, rr := range st.RouteRPCs {
		k := [2]string{rr.Service, rr.Method}
		byRPC[k] = append(byRPC[k], rr)
		byRoute[rr.Route] = append(byRoute[rr.Route], rr)
	}
	for _, r := range st.RPCs {
		row := rpcRow{
			Key: "rpc\x1f" + r.Service + "\x1f" + r.Method, Service: r.Service, Method: r.Method,
			Count: r.Count, Errors: r.Errors, Requests: r.Requests, Total: r.Total, Mean: r.Mean,
			Latency: r.Latency, Routes: byRPC[[2]string{r.Service, r.Method}], Cost: r.Cost,
			Color: serviceColor(r.Service),
		}
		if r.Service != store.Other {
			row.CallURL = "?" + url.Values{"window": {window}, "call_service": {r.Service}, "call_method": {r.Method}}.Encode() + "#history"
		}
		if rpcTotal > 0 {
			row.Share = float64(r.Total) / float64(rpcTotal)
		}
		s.RPCs = append(s.RPCs, row)
	}
	for _, r := range st.Routes {
		row := pathRow{
			Key: "path\x1f" + r.Route, Route: r.Route, Requests: r.Requests, Stored: storedOf(&r), Errors: r.Errors, Calls: r.Calls,
			Total: r.Total, Mean: r.Mean, Latency: r.Latency, RPCs: byRoute[r.Route],
			HistoryURL: "?" + url.Values{"window": {window}, "route": {r.Route}}.Encode() + "#history",
			Cost:       r.Cost,
		}
		if r.Requests > 0 {
			row.CallsPerReq = float64(r.Calls) / float64(r.Requests)
		}
		s.Paths = append(s.Paths, row)
	}
	if len(st.Instances) > 1 {
		for _, in := range st.Instances {
			row := instanceRow{
				Instance: in.Instance, Requests: in.Requests, Errors: in.Errors,
				Total: in.Total, Mean: in.Mean, Latency: in.Latency,
			}
			if in.Instance != store.Other { // the folded ones have no records of that name
				row.HistoryURL = "?" + url.Values{"window": {window}, "instance": {in.Instance}}.Encode() + "#history"
			}
			if in.Requests > 0 {
				row.CallsPerReq = float64(in.Calls) / float64(in.Requests)
			}
			if st.Requests > 0 {
				row.Share = float64(in.Requests) / float64(st.Requests)
			}
			s.Instances = append(s.Instances, row)
		}
	}
	hj := h.health()
	if hj.Recorder != nil || hj.Live != nil || hj.Store != nil {
		s.Health = &hj
	}
	hist := histogramIsland{Labels: histogramLabels(st.Histogram), Counts: make([]int64, len(st.Histogram))}
	for i, b := range st.Histogram {
		hist.Counts[i] = b.Count
		hist.LeMS = append(hist.LeMS, ms(b.Le))
	}
	s.HistogramJSON = template.JS(mustJSON(hist))
	return s
}

func historySectionOf(page store.Page, lp listParams, st *store.Stats, window string) historySection {
	hs := historySection{Filter: lp, Window: window, Paged: lp.Before != ""}
	hs.Filtered = lp.Route != "" || lp.Instance != "" || lp.Status != "" || lp.MinMS != "" || lp.Error
	hs.Rows = make([]historyRow, len(page.Records))
	for i := range page.Records {
		hs.Rows[i] = historyRowOf(&page.Records[i])
	}
	// The filter offers the routes the stats table lists (store.Other
	// would select nothing).
	routes := make([]string, 0, min(len(st.Routes), maxStatRows)+1)
	for _, r := range st.Routes[:min(len(st.Routes), maxStatRows)] {
		if r.Route != store.Other {
			routes = append(routes, r.Route)
		}
	}
	if lp.Route != "" && !slices.Contains(routes, lp.Route) {
		routes = append(routes, lp.Route)
	}
	sort.Strings(routes)
	hs.Routes = routes
	if len(st.Instances) > 1 || lp.Instance != "" {
		for _, in := range st.Instances[:min(len(st.Instances), maxStatRows)] {
			if in.Instance != store.Other {
				hs.Instances = append(hs.Instances, in.Instance)
			}
		}
		if lp.Instance != "" && !slices.Contains(hs.Instances, lp.Instance) {
			hs.Instances = append(hs.Instances, lp.Instance)
		}
		sort.Strings(hs.Instances)
	}
	hs.RowsHTML = historyRowsHTML(hs.Rows, len(hs.Instances) > 0)
	vals := lp.values()
	vals.Set("window", window)
	hs.NewestURL = "?" + vals.Encode() + "#history"
	if page.Next != "" {
		vals.Set("before", page.Next)
		hs.NextURL = "?" + vals.Encode() + "#history"
	}
	return hs
}

// partStats serves the dashboard's stats section alone, for live refresh
// of a page showing an older page of the history, which is not refreshed.
func (h *handler) partStats(w http.ResponseWriter, r *http.Request) {
	wc, ok := h.windowParam(w, r)
	if !ok {
		return
	}
	st := h.recentStats(w, r, wc, time.Now())
	if st == nil {
		return
	}
	s := h.statsSection(st, wc.Name)
	h.render(w, r, h.pages.dashboard, "stats", "", &s)
}

// partHistory serves the dashboard's history section alone.
func (h *handler) partHistory(w http.ResponseWriter, r *http.Request) {
	if _, _, hs := h.historyPart(w, r); hs != nil {
		h.render(w, r, h.pages.dashboard, "history", "", hs)
	}
}

// refreshView is what part/refresh shows: the stats section and the
// history section, from one Stats of the store.
type refreshView struct {
	Stats   *statsSection
	History *historySection
}

// partRefresh serves a live refresh of the dashboard (besides its charts'
// api/series): the stats section and the history section of part/stats and
// part/history, byte for byte, in one answer, each in a <template> element
// (refresh-stats, refresh-history) that the page's script takes apart. The
// two sections need the store's Stats over the same window; one request
// reads it once, where the two parts' requests read it each. Nothing is
// kept between requests, so nothing can be stale: a record written before
// the request is in both sections, as on the page.
func (h *handler) partRefresh(w http.ResponseWriter, r *http.Request) {
	if wc, st, hs := h.historyPart(w, r); hs != nil {
		s := h.statsSection(st, wc.Name)
		h.render(w, r, h.pages.dashboard, "refresh", "", &refreshView{Stats: &s, History: hs})
	}
}

// historyPart reads the window and the history's parameters of r, the
// store's Stats over the window and the history's page, for part/history
// and part/refresh, and returns them with the history section built. On
// bad input or a store's failure it answers and returns a nil section.
func (h *handler) historyPart(w http.ResponseWriter, r *http.Request) (windowChoice, *store.Stats, *historySection) {
	wc, lp, ok := h.dashboardParams(w, r)
	if !ok {
		return wc, nil, nil
	}
	now := time.Now()
	st := h.recentStats(w, r, wc, now)
	if st == nil {
		return wc, nil, nil
	}
	page, cut, err := h.historyPage(r.Context(), wc, &lp, st.Histogram, now)
	if err != nil {
		h.storeError(w, r, err)
		return wc, nil, nil
	}
	hs := historySectionOf(page, lp, st, wc.Name)
	extendHistory(&hs, wc, lp, page.Next, cut, now)
	hs.Running = h.running()
	return wc, st, &hs
}

// mustJSON encodes v for a JSON data island: <script type="application/json">.
// encoding/json escapes <, >, &, U+2028 and U+2029, so the result can
// neither end the script element nor open a comment. The values encoded here
// are plain structs, which cannot fail to encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// storedOf returns r's requests kept in full, reading a zero Stored as all
// of them (see store.RouteStats.Stored): a store that does not fill the
// field keeps every record, and the dashboard must not say otherwise.
func storedOf(r *store.RouteStats) int64 {
	if r.Stored == 0 {
		return r.Requests
	}
	return r.Stored
}
