package ui

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// The details page of one record: its calls as a tree (Gantt chart and
// list) with self times and the critical path, the records of the same
// trace it is linked to, and a form to compare it with another request of
// its route.

type detailsView struct {
	pageMeta
	ID       string
	Rec      *recording.Record
	Active   bool // still in the making: a snapshot
	Sum      recording.Summary
	Failed   bool
	Status   statusView
	TraceURL string      // an external trace viewer (WithTraceLink)
	Trace    *traceLinks // records of the same trace in this store
	Timeline timelineView
	Calls    []callView // in the order of the timeline
	// CallPage is the page of the calls the timeline and the list show: all of
	// them, unless they are many (see maxPageCalls).
	CallPage callPage
	// CallsHTML is the page's call list, rendered by callsHTML.
	CallsHTML template.HTML
	RPCs      []rpcStatView // the maxDetailsRPCs of most self time
	RPCsCut   int           // RPCs not listed
	// CallTime is the time spent in calls, each instant of nested calls
	// counted once (the sum of self times); HandlerTime is the time on
	// the critical path that no call covers: the handler's own work.
	CallTime    time.Duration
	HandlerTime time.Duration
	Warnings    []warningView
	Headers     []headerView
	Compare     compareChoice
	TraceFile   string      // the name the execution trace downloads as
	Cost        costColumns // the request's total cost, and its unit
}

// timelineView is a Gantt chart: its data island and script.
type timelineView struct {
	Chart    chartView
	Error    bool // the chart's script could not be rendered
	Data     template.JS
	Rows     int
	Nested   bool // some row has children: the tree can be collapsed
	Services []serviceSwatch
	Phases   []string
}

type serviceSwatch struct {
	Name  string
	Color int
}

// callView is one call as the details page lists it.
type callView struct {
	Index  int // the call's row in tree order, in the whole record
	Num    int // in start order, 1-based: the call's number on the page
	Depth  int
	Parent int // the parent's Index, or -1
	Kids   int
	// KidsShown counts the children on the page shown: the ones its
	// toggle folds.
	KidsShown int
	Color     int
	Self      time.Duration
	Crit      time.Duration // time on the critical path
	Dup       int           // size of its group of identical calls, if it is an N+1 one
	Status    statusView    // a gRPC call's status, if known
	Link      string        // the record this call caused, in this store
	C         *recording.Call
	// CostUnit is the unit of the call's cost (see recording.CostModel).
	CostUnit string
}

type rpcStatView struct {
	Service string
	Method  string
	Color   int
	Count   int
	Errors  int
	Total   time.Duration
	Self    time.Duration
	Mean    time.Duration
	Share   float64 // of the request's call time (self times)
	Cost    float64 // of the calls (see recording.CostModel)
}

type headerView struct {
	Name   string
	Values []string
}

// warningView is a warning of the record's analysis, by its parts.
type warningView struct {
	Kind    string
	Label   string
	Count   int
	Total   time.Duration
	Service string
	Method  string
	Request string
	Message string // for kinds the page does not know
}

// compareChoice offers other requests of the record's route to compare it
// with.
type compareChoice struct {
	Route      string
	Candidates []compareCandidate
}

type compareCandidate struct {
	ID    string
	Label string
}

// statusView is a status as pages show it: HTTP codes as numbers, gRPC
// codes by name, red when the request failed.
type statusView struct {
	Text  string
	Class string
	Title string
}

// statusOf describes the status of a record of kind k.
func statusOf(k recording.Kind, code int) statusView {
	if k == recording.KindGRPC {
		v := statusView{Text: convention.GRPCCodeName(code), Class: "st2", Title: "gRPC status " + strconv.Itoa(code)}
		if code != 0 {
			v.Class = "st5"
		}
		return v
	}
	if code == 0 {
		return statusView{Text: "–", Class: "st0", Title: "no status"}
	}
	return statusView{Text: strconv.Itoa(code), Class: statusClass(code), Title: "HTTP status " + strconv.Itoa(code)}
}

// callStatus is the status of a gRPC call, from its attributes.
func callStatus(c *recording.Call) statusView {
	if c.Service != convention.ServiceGRPC {
		return statusView{}
	}
	if s := c.Attr(convention.KeyRPCResponseStatusCode); s != "" {
		code, ok := convention.ParseGRPCStatus(s) // "NOT_FOUND"
		if !ok {
			return statusView{}
		}
		return statusOf(recording.KindGRPC, code)
	}
	// Calls recorded before the status was written by name have its number.
	code, err := strconv.Atoi(c.Attr(convention.KeyOldRPCGRPCStatusCode))
	if err != nil {
		return statusView{}
	}
	return statusOf(recording.KindGRPC, code)
}

// ganttCall is one row of a Gantt chart's data island: a call, or in the
// trace view a record.
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
	Num      int          `json:"n"`  // the call's number; 0 for a record row
	Color    int          `json:"si"` // palette index; -1 for a record row
	Parent   int          `json:"p"`  // the parent row, or -1
	Depth    int          `json:"dp"`
	Kids     int          `json:"k,omitempty"`
	SelfMS   float64      `json:"sf"`
	Crit     [][2]float64 `json:"cp,omitempty"` // segments on the critical path
	Dup      int          `json:"dup,omitempty"`
	Link     string       `json:"u,omitempty"` // a record's page, relative to the page
	Record   bool         `json:"rec,omitempty"`
	Closed   bool         `json:"c,omitempty"` // collapsed at first
}

// ganttPhase is a phase of a call: name, start and duration in ms.
type ganttPhase struct {
	Name    string  `json:"n"`
	StartMS float64 `json:"s"`
	DurMS   float64 `json:"d"`
}

type ganttIsland struct {
	MaxMS  float64     `json:"max_ms"`
	Calls  []ganttCall `json:"calls"`
	Colors []string    `json:"colors"`
	// Anchor is the id prefix of the list items rows open ("call-" on the
	// details page); empty where rows have no list.
	Anchor string `json:"anchor,omitempty"`
	// CallsTotal is the record's number of calls, where the island holds
	// one page of them (and a call not on it is on another page).
	CallsTotal int `json:"calls_total,omitempty"`
	// Open is the call number the page was asked to open (?call=N).
	Open int `json:"open,omitempty"`
}

// details serves the page of one record.
func (h *handler) details(w http.ResponseWriter, r *http.Request) {
	rec, active := h.recordParam(w, r)
	if rec == nil {
		return
	}
	nonce := newNonce()
	v, code, err := h.detailsView(r, rec, nonce)
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	v.Active = active
	h.render(w, r, h.pages.details, "page", nonce, v)
}

// detailsView makes the details page of rec, with the page of its calls r
// asks for; an error, with its HTTP status, for a page or call that is not
// one of rec's.
func (h *handler) detailsView(r *http.Request, rec *recording.Record, nonce string) (*detailsView, int, error) {
	const b = "../"
	ctx := r.Context()
	v := &detailsView{
		pageMeta: pageMeta{Base: b, Nonce: nonce, Title: rec.Method + " " + rec.Path, Page: "details"},
		ID:       rec.ID.String(),
		Rec:      rec,
		Sum:      rec.Summary(),
		Status:   statusOf(rec.Kind, rec.Status),
	}
	if rec.ExecTrace != nil {
		v.TraceFile = execTraceFile(rec.ID)
	}
	v.Cost = requestCostOf(rec, h.costUnit())
	v.Failed = v.Sum.HasError()
	v.TraceURL = h.traceLink(rec.TraceID)
	v.Trace = h.traceLinksOf(ctx, rec)

	tree := buildTree(rec)
	dups := duplicates(rec)
	row := make([]int, len(rec.Calls)) // call index → row
	for k, i := range tree.order {
		row[i] = k
	}
	page, code, err := choosePage(r, pageStarts(rec, tree.order), len(tree.order), func(num int) (int, bool) {
		for i, n := range tree.num {
			if n == num {
				return row[i], true
			}
		}
		return 0, false
	})
	if err != nil {
		return nil, code, err
	}
	v.CallPage = page
	island := ganttIsland{Calls: make([]ganttCall, 0, page.To-page.From), Colors: palette, Anchor: "call-", Open: page.Open}
	if page.Paged() {
		island.CallsTotal = page.Total
	}
	maxEnd := rec.Duration
	seen := make(map[string]bool)
	phaseSeen := make(map[string]bool)
	v.Calls = make([]callView, 0, len(rec.Calls))
	for k, i := range tree.order {
		c := &rec.Calls[i]
		color := serviceColor(c.Service)
		if !seen[c.Service] {
			seen[c.Service] = true
			v.Timeline.Services = append(v.Timeline.Services, serviceSwatch{Name: c.Service, Color: color})
		}
		maxEnd = max(maxEnd, c.End())
		parent := -1
		if p := tree.parents[i]; p >= 0 {
			parent = row[p]
			v.Timeline.Nested = true
		}
		cv := callView{
			Index: k, Num: tree.num[i], Depth: tree.depth[i], Parent: parent, Kids: tree.kids[i], Color: color,
			Self: tree.self[i], Crit: tree.critTime(i), Dup: dups[i], Status: callStatus(c), C: c,
			CostUnit: v.Cost.Unit,
		}
		if v.Trace != nil {
			cv.Link = v.Trace.causedBy[c.SpanID]
		}
		if parent >= page.From && parent < page.To && k >= page.From && k < page.To {
			v.Calls[parent].KidsShown++
		}
		v.Calls = append(v.Calls, cv)
		if !c.Event {
			v.CallTime += cv.Self
		}
		if k < page.From || k >= page.To {
			continue
		}
		// The island's rows are the page's: a parent on another page is none.
		localParent := -1
		if parent >= page.From {
			localParent = parent - page.From
		}
		gc := ganttCall{
			Service: c.Service, Method: c.Method, Error: c.Error, StartMS: ms(c.Start), DurMS: ms(c.Duration),
			ReqSize: c.RequestSize, RespSize: c.ResponseSize, Running: c.Running, Event: c.Event,
			Num: cv.Num, Color: color, Parent: localParent, Depth: cv.Depth, SelfMS: ms(cv.Self),
			Dup: cv.Dup, Link: cv.Link,
		}
		for _, s := range tree.crit[i] {
			gc.Crit = append(gc.Crit, [2]float64{ms(s.a), ms(s.b)})
		}
		for _, p := range c.Phases {
			gc.Phases = append(gc.Phases, ganttPhase{Name: p.Name, StartMS: ms(p.Start), DurMS: ms(p.Duration)})
			if !phaseSeen[p.Name] {
				phaseSeen[p.Name] = true
				v.Timeline.Phases = append(v.Timeline.Phases, p.Name)
			}
		}
		island.Calls = append(island.Calls, gc)
	}
	for k := page.From; k < page.To; k++ {
		island.Calls[k-page.From].Kids = v.Calls[k].KidsShown
	}
	v.HandlerTime = rec.Duration
	for i := range rec.Calls {
		v.HandlerTime -= tree.critTime(i)
	}
	v.HandlerTime = max(v.HandlerTime, 0)
	island.MaxMS = max(ms(maxEnd), 1)
	v.Timeline = h.timeline(v.Timeline, island, len(island.Calls), b, nonce)
	v.CallsHTML = callsHTML(v.Calls[page.From:page.To], page.From, h.src, b)
	v.RPCs = rpcStatsOf(rec, tree, v.CallTime)
	if len(v.RPCs) > maxDetailsRPCs {
		v.RPCsCut = len(v.RPCs) - maxDetailsRPCs
		v.RPCs = v.RPCs[:maxDetailsRPCs]
	}
	v.Warnings = warningsOf(rec.Warnings)
	for k, vals := range rec.Headers {
		v.Headers = append(v.Headers, headerView{Name: k, Values: vals})
	}
	sort.Slice(v.Headers, func(i, j int) bool { return v.Headers[i].Name < v.Headers[j].Name })
	v.Compare = h.compareChoice(ctx, rec)
	return v, 0, nil
}

// timeline completes tv with the chart's data island and script.
func (h *handler) timeline(tv timelineView, island ganttIsland, rows int, base, nonce string) timelineView {
	tv.Rows = rows
	// encoding/json escapes <, >, &, U+2028 and U+2029: the island cannot
	// end its script element or start a comment.
	tv.Data = template.JS(mustJSON(island))
	if rows == 0 {
		return tv
	}
	tv.Chart.ID = "chartGantt"
	h.ganttOnce.Do(func() { h.ganttBody, h.ganttErr = chartScript(ganttChart(base + "static/")) })
	if h.ganttErr != nil {
		h.cfg.logger.Error("appstats ui: chart", "chart", "gantt", "err", h.ganttErr)
		tv.Error = true
	} else {
		tv.Chart.Script = withNonce(h.ganttBody, nonce)
	}
	return tv
}

// traceLink returns the external trace viewer's link for tid, if one is
// configured and it is an http or https URL.
func (h *handler) traceLink(tid recording.TraceID) string {
	if h.cfg.traceLink == "" || !tid.IsValid() {
		return ""
	}
	link := strings.ReplaceAll(h.cfg.traceLink, "{trace_id}", tid.String())
	if u, err := url.Parse(link); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return link
	}
	return ""
}

// duplicates returns, for each call of r that belongs to a group of
// identical calls the analysis flagged (an N+1 warning), the group's size.
func duplicates(r *recording.Record) []int {
	out := make([]int, len(r.Calls))
	type key struct{ service, method, request string }
	groups := make(map[key]int)
	for _, w := range r.Warnings {
		if w.Kind == recording.WarnRepeated {
			groups[key{w.Service, w.Method, w.Request}] = w.Count
		}
	}
	if len(groups) == 0 {
		return out
	}
	for i := range r.Calls {
		c := &r.Calls[i]
		if !c.Event {
			out[i] = groups[key{c.Service, c.Method, c.Request}]
		}
	}
	return out
}

// maxDetailsRPCs bounds the rows of the details page's RPC stats: a record
// of 10,000 calls, each with a name of its own, made a page of 5.5 MB
// however its calls were paged.
const maxDetailsRPCs = 200

// rpcStatsOf aggregates the record's calls by service and method, with
// their self times; the shares are of callTime, the sum of self times, so
// that they add up to 100% whatever the nesting.
func rpcStatsOf(r *recording.Record, tree *callTree, callTime time.Duration) []rpcStatView {
	stats := r.RPCStats()
	out := make([]rpcStatView, len(stats))
	idx := make(map[[2]string]int, len(stats))
	for j, st := range stats {
		out[j] = rpcStatView{
			Service: st.Service, Method: st.Method, Color: serviceColor(st.Service),
			Count: st.Count, Errors: st.Errors, Total: st.Total, Cost: st.Cost,
		}
		idx[[2]string{st.Service, st.Method}] = j
	}
	for i := range r.Calls {
		if c := &r.Calls[i]; !c.Event {
			out[idx[[2]string{c.Service, c.Method}]].Self += tree.self[i]
		}
	}
	for i := range out {
		s := &out[i]
		s.Mean = s.Total / time.Duration(max(s.Count, 1))
		if callTime > 0 {
			s.Share = float64(s.Self) / float64(callTime)
		}
	}
	slices.SortStableFunc(out, func(a, b rpcStatView) int { return cmp.Compare(b.Self, a.Self) })
	return out
}

func warningsOf(ws []recording.Warning) []warningView {
	out := make([]warningView, 0, len(ws))
	for _, w := range ws {
		v := warningView{Kind: w.Kind, Count: w.Count, Total: w.Total, Service: w.Service, Method: w.Method, Request: w.Request}
		switch w.Kind {
		case recording.WarnRepeated:
			v.Label = "N+1"
		case recording.WarnRunning:
			v.Label = "left running"
		default:
			v.Label, v.Message = w.Kind, w.Message
		}
		out = append(out, v)
	}
	return out
}

// maxCompareCandidates bounds the requests the compare form offers.
const maxCompareCandidates = 20

// compareBudget bounds the time the details page waits for the compare
// form's list. A store lists a route's newest records by reading summaries
// newest first, so that for a route rare among many stored records (one
// request in 300,000 records of badgerstore: 2–4 s) the list would cost
// the page far more than the rest of it.
const compareBudget = 500 * time.Millisecond

// compareChoice lists the newest other requests of rec's route, for the
// compare form. A store failure, or a list not made within compareBudget,
// leaves the list empty, and the page without the form.
func (h *handler) compareChoice(ctx context.Context, rec *recording.Record) compareChoice {
	cc := compareChoice{Route: rec.Route}
	if rec.Route == "" {
		return cc
	}
	lctx, cancel := context.WithTimeout(ctx, compareBudget)
	defer cancel()
	p, err := h.st.List(lctx, store.Query{Route: rec.Route, Limit: maxCompareCandidates + 1})
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			h.cfg.logger.Debug("appstats ui: requests to compare with not listed within the budget",
				"route", rec.Route, "budget", compareBudget)
		} else {
			h.cfg.logger.Warn("appstats ui: listing requests to compare with", "err", err)
		}
		return cc
	}
	for i := range p.Records {
		s := &p.Records[i]
		if s.ID == rec.ID || len(cc.Candidates) == maxCompareCandidates {
			continue
		}
		label := s.Start.UTC().Format("2006-01-02 15:04:05.000") + " UTC · " + fmtDur(s.Duration) + " · " +
			statusOf(s.Kind, s.Status).Text + " · " + strconv.Itoa(s.CallCount) + " calls"
		cc.Candidates = append(cc.Candidates, compareCandidate{ID: s.ID.String(), Label: label})
	}
	return cc
}
