package ui

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
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
}

type errorView struct {
	pageMeta
	Code    int
	Status  string
	Message string
}

type windowLink struct {
	Name    string
	URL     string
	Current bool
}

type dashboardView struct {
	pageMeta
	Window     string
	Windows    []windowLink
	Live       bool
	Stats      statsSection
	History    historySection
	Requests   chartView
	Latency    chartView
	Histogram  chartView
	Recorder   bool
	Paused     bool
	SeriesJSON template.JS // the api/series answer, read by the charts
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
}

// histogramIsland is the histogram chart's data: a label and a count per
// bucket.
type histogramIsland struct {
	Labels []string `json:"labels"`
	Counts []int64  `json:"counts"`
}

type rpcRow struct {
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
}

type pathRow struct {
	Key         string
	Route       string
	Requests    int64
	Errors      int64
	Calls       int64
	CallsPerReq float64
	Total       time.Duration
	Mean        time.Duration
	store.Latency
	HistoryURL string
	RPCs       []store.RouteRPCStats
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
	Filter    listParams
	Routes    []string
	Instances []string // offered by the instance filter, when more than one
	Window    string
	Filtered  bool
	Paged     bool
	NextURL   string
	NewestURL string
	Running   runningSection
}

type historyRow struct {
	recording.Summary
	Failed bool
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

// recentStats reads the store's aggregates over the window wc ending at now.
// On failure it answers with the store's error and returns nil.
func (h *handler) recentStats(w http.ResponseWriter, r *http.Request, wc windowChoice, now time.Time) *store.Stats {
	st, err := h.st.Stats(r.Context(), store.Window{Since: now.Add(-wc.Span), Until: now})
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
	page, err := h.list(ctx, lp.query, pageListFixed, pageListBudget)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	nonce := newNonce()
	const b = "./"
	v := dashboardView{
		pageMeta: pageMeta{Base: b, Nonce: nonce, Title: "appstats", Page: "dashboard"},
		Window:   wc.Name,
		Live:     h.cfg.live != nil,
		Stats:    h.statsSection(st, wc.Name),
		History:  historySectionOf(page, lp, st, wc.Name),
		Recorder: h.cfg.rec != nil,
	}
	if h.cfg.rec != nil {
		v.Paused = h.cfg.rec.Paused()
	}
	v.History.Running = h.running()
	for _, c := range windowChoices {
		vals := lp.values()
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
			Latency: r.Latency, Routes: byRPC[[2]string{r.Service, r.Method}],
		}
		if rpcTotal > 0 {
			row.Share = float64(r.Total) / float64(rpcTotal)
		}
		s.RPCs = append(s.RPCs, row)
	}
	for _, r := range st.Routes {
		row := pathRow{
			Key: "path\x1f" + r.Route, Route: r.Route, Requests: r.Requests, Errors: r.Errors, Calls: r.Calls,
			Total: r.Total, Mean: r.Mean, Latency: r.Latency, RPCs: byRoute[r.Route],
			HistoryURL: "?" + url.Values{"window": {window}, "route": {r.Route}}.Encode() + "#history",
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
	}
	s.HistogramJSON = template.JS(mustJSON(hist))
	return s
}

func historySectionOf(page store.Page, lp listParams, st *store.Stats, window string) historySection {
	hs := historySection{Filter: lp, Window: window, Paged: lp.Before != ""}
	hs.Filtered = lp.Route != "" || lp.Instance != "" || lp.Status != "" || lp.MinMS != "" || lp.Error
	for i := range page.Records {
		s := page.Records[i]
		hs.Rows = append(hs.Rows, historyRow{Summary: s, Failed: s.HasError()})
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
	vals := lp.values()
	vals.Set("window", window)
	hs.NewestURL = "?" + vals.Encode() + "#history"
	if page.Next != "" {
		vals.Set("before", page.Next)
		hs.NextURL = "?" + vals.Encode() + "#history"
	}
	return hs
}

// partStats serves the dashboard's stats section alone, for live refresh.
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

// partHistory serves the dashboard's history section alone, for live refresh.
func (h *handler) partHistory(w http.ResponseWriter, r *http.Request) {
	wc, lp, ok := h.dashboardParams(w, r)
	if !ok {
		return
	}
	st := h.recentStats(w, r, wc, time.Now())
	if st == nil {
		return
	}
	page, err := h.list(r.Context(), lp.query, pageListFixed, pageListBudget)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	hs := historySectionOf(page, lp, st, wc.Name)
	hs.Running = h.running()
	h.render(w, r, h.pages.dashboard, "history", "", &hs)
}

// The details page.

type detailsView struct {
	pageMeta
	ID         string
	Rec        *recording.Record
	Active     bool // still in the making: a snapshot
	Sum        recording.Summary
	Failed     bool
	TraceURL   string
	Gantt      chartView
	GanttError bool
	GanttData  template.JS
	GanttMaxMS float64
	GanttClass string
	Rows       int // calls in the timeline
	Services   []serviceSwatch
	Calls      []callView
	CallsHTML  template.HTML
	RPCs       []rpcStatView
	Headers    []headerView
	Phases     []string
}

type serviceSwatch struct {
	Name string
	Idx  int
}

type callView struct {
	Num    int
	SvcIdx int
	C      *recording.Call
}

type rpcStatView struct {
	recording.RPCStat
	Mean  time.Duration
	Share float64
}

type headerView struct {
	Name   string
	Values []string
}

// ganttCall is one entry of the Gantt chart's data island.
type ganttCall struct {
	Service  string       `json:"s"`
	Method   string       `json:"m"`
	Error    string       `json:"e,omitempty"`
	StartMS  float64      `json:"st"`
	DurMS    float64      `json:"d"`
	ReqSize  int64        `json:"rq"`
	RespSize int64        `json:"rs"`
	Phases   []ganttPhase `json:"ph,omitempty"`
	Running  bool         `json:"r,omitempty"`
	Event    bool         `json:"ev,omitempty"`
	Num      int          `json:"n"`
	SvcIdx   int          `json:"si"`
}

// ganttPhase is a phase of a call: name, start and duration in ms.
type ganttPhase struct {
	Name    string  `json:"n"`
	StartMS float64 `json:"s"`
	DurMS   float64 `json:"d"`
}

type ganttIsland struct {
	MaxMS    float64     `json:"max_ms"`
	Calls    []ganttCall `json:"calls"`
	Services []string    `json:"services"`
	Colors   []string    `json:"colors"`
}

// details serves the page of one record.
func (h *handler) details(w http.ResponseWriter, r *http.Request) {
	rec, active := h.recordParam(w, r)
	if rec == nil {
		return
	}
	nonce := newNonce()
	v := h.detailsView(rec, nonce)
	v.Active = active
	h.render(w, r, h.pages.details, "page", nonce, v)
}

func (h *handler) detailsView(rec *recording.Record, nonce string) *detailsView {
	const b = "../"
	v := &detailsView{
		pageMeta: pageMeta{Base: b, Nonce: nonce, Title: rec.Method + " " + rec.Path, Page: "details"},
		ID:       rec.ID.String(),
		Rec:      rec,
		Sum:      rec.Summary(),
	}
	v.Failed = v.Sum.HasError()
	if h.cfg.traceLink != "" && rec.TraceID.IsValid() {
		link := strings.ReplaceAll(h.cfg.traceLink, "{trace_id}", rec.TraceID.String())
		if u, err := url.Parse(link); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			v.TraceURL = link
		}
	}

	// Calls in start order; the chart's rows and the list share numbers.
	order := make([]int, len(rec.Calls))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rec.Calls[order[a]].Start < rec.Calls[order[b]].Start })
	svcIdx := make(map[string]int)
	island := ganttIsland{Calls: make([]ganttCall, 0, len(order)), Colors: palette}
	v.Calls = make([]callView, 0, len(order))
	maxEnd := rec.Duration
	phaseSeen := make(map[string]bool)
	for n, i := range order {
		c := &rec.Calls[i]
		si, ok := svcIdx[c.Service]
		if !ok {
			si = len(svcIdx)
			svcIdx[c.Service] = si
			island.Services = append(island.Services, c.Service)
			v.Services = append(v.Services, serviceSwatch{Name: c.Service, Idx: si % len(palette)})
		}
		if e := c.End(); e > maxEnd {
			maxEnd = e
		}
		v.Rows++
		gc := ganttCall{
			Service: c.Service, Method: c.Method, Error: c.Error, StartMS: ms(c.Start), DurMS: ms(c.Duration),
			ReqSize: c.RequestSize, RespSize: c.ResponseSize, Running: c.Running, Event: c.Event, Num: n + 1,
			SvcIdx: si,
		}
		for _, p := range c.Phases {
			gc.Phases = append(gc.Phases, ganttPhase{Name: p.Name, StartMS: ms(p.Start), DurMS: ms(p.Duration)})
			if !phaseSeen[p.Name] {
				phaseSeen[p.Name] = true
				v.Phases = append(v.Phases, p.Name)
			}
		}
		island.Calls = append(island.Calls, gc)
		v.Calls = append(v.Calls, callView{Num: n + 1, SvcIdx: si % len(palette), C: c})
	}
	v.GanttMaxMS = ms(maxEnd)
	if v.GanttMaxMS <= 0 {
		v.GanttMaxMS = 1
	}
	island.MaxMS = v.GanttMaxMS
	// encoding/json escapes <, >, &, U+2028 and U+2029: the island cannot
	// end its script element or start a comment.
	v.GanttData = template.JS(mustJSON(island))
	switch rows := v.Rows; {
	case rows <= 8:
		v.GanttClass = "gantt-s"
	case rows <= 20:
		v.GanttClass = "gantt-m"
	default:
		v.GanttClass = "gantt-l"
	}
	if v.Rows > 0 {
		v.Gantt.ID = "chartGantt"
		h.ganttOnce.Do(func() { h.ganttBody, h.ganttErr = chartScript(ganttChart(b + "static/")) })
		if h.ganttErr != nil {
			h.cfg.logger.Error("appstats ui: chart", "chart", "gantt", "err", h.ganttErr)
			v.GanttError = true
		} else {
			v.Gantt.Script = withNonce(h.ganttBody, nonce)
		}
	}

	v.CallsHTML = callsHTML(v.Calls)

	var callTotal time.Duration
	for _, s := range v.Sum.RPCs {
		callTotal += s.Total
	}
	for _, s := range v.Sum.RPCs {
		rv := rpcStatView{RPCStat: s, Mean: s.Total / time.Duration(max(s.Count, 1))}
		if callTotal > 0 {
			rv.Share = float64(s.Total) / float64(callTotal)
		}
		v.RPCs = append(v.RPCs, rv)
	}
	sort.SliceStable(v.RPCs, func(i, j int) bool { return v.RPCs[i].Total > v.RPCs[j].Total })

	for k, vals := range rec.Headers {
		v.Headers = append(v.Headers, headerView{Name: k, Values: vals})
	}
	sort.Slice(v.Headers, func(i, j int) bool { return v.Headers[i].Name < v.Headers[j].Name })
	return v
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
