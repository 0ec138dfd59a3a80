package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// The records of one trace: when two services record into the same store
// (a fleet's shared store, or two handlers of one process), the client call
// in one and the server record in the other share a trace ID, and the
// server record's ParentSpanID is the call's SpanID. The details page links
// them both ways; the trace view draws them on one time axis.

const (
	// traceSlack is how far before and after a record the records of its
	// trace are looked for: calls and the requests they cause overlap in
	// time, up to the clock differences of the machines.
	traceSlack = time.Minute
	// maxTraceRecords bounds the records of one trace a page or answer
	// shows. The trace view's timeline shows its rows (records and calls,
	// in tree order) a page at a time (?page=P): at most maxTraceRows of
	// them, fewer where their texts are long, within traceBudget bytes of
	// the timeline's data. Before, a trace of more than 3,000 rows showed
	// its records only, and one of fewer could take megabytes.
	maxTraceRecords = 50
	maxTraceRows    = 1000
	traceBudget     = 2 << 20
	// maxTraceReach bounds how far past a record's start the records of
	// its trace are looked for, whatever its duration: a record open for
	// days (a push connection, a stream) would otherwise have every
	// summary of those days read. A wider custom range (window=) looks
	// further.
	maxTraceReach = 10 * time.Minute
)

// traceRecords returns the records of trace tid that started within w,
// sorted by start, at most maxTraceRecords, and whether there were more.
func (h *handler) traceRecords(ctx context.Context, tid recording.TraceID, w store.Window) ([]*recording.Record, bool, error) {
	p, err := h.st.List(ctx, store.Query{TraceID: tid, Since: w.Since, Until: w.Until, Limit: maxTraceRecords})
	if err != nil {
		return nil, false, err
	}
	recs := make([]*recording.Record, 0, len(p.Records))
	for i := range p.Records {
		r, err := h.st.Get(ctx, p.Records[i].ID)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNewerVersion) {
			continue // deleted since it was listed, or damaged (which the store counts)
		}
		if err != nil {
			return nil, false, err
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b *recording.Record) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return recs, p.Next != "", nil
}

// traceWindow is the time range the records of r's trace are looked for
// in: a minute either side of it, its first maxTraceReach if it ran longer.
func traceWindow(r *recording.Record) store.Window {
	return store.Window{Since: r.Start.Add(-traceSlack), Until: r.Start.Add(min(r.Duration, maxTraceReach) + traceSlack)}
}

// traceWindowText says how traceWindow looked for r's trace, for the page.
func traceWindowText(r *recording.Record) string {
	if r.Duration > maxTraceReach {
		return "within a minute of the first " + strconv.Itoa(int(maxTraceReach/time.Minute)) + " minutes of record " + r.ID.String() +
			" (it ran " + r.Duration.Round(time.Second).String() + "; pick a range to look further)"
	}
	return "within a minute of record " + r.ID.String()
}

// traceLinks are the records of a record's trace found in the store.
type traceLinks struct {
	URL      string // the trace view
	Records  int    // records of the trace found, this one included
	More     bool   // there may be more than the trace view lists
	CalledBy *relatedRecord
	Caused   []relatedRecord
	causedBy map[recording.SpanID]string // a call's span → the page of the record it caused
}

// relatedRecord is another record of the trace.
type relatedRecord struct {
	Link     string
	Method   string
	Path     string
	Instance string
	Status   statusView
	Duration time.Duration
	CallNum  int    // the call that links them: the caller's, or this record's
	CallName string // its service and method
}

func recordLink(id recording.ID) string { return "../records/" + id.String() }

func relatedOf(o *recording.Record) relatedRecord {
	return relatedRecord{Link: recordLink(o.ID), Method: o.Method, Path: o.Path, Instance: o.Instance,
		Status: statusOf(o.Kind, o.Status), Duration: o.Duration}
}

// callNumbers returns each call's number on the details page: its rank in
// start order, 1-based.
func callNumbers(r *recording.Record) []int {
	order := make([]int, len(r.Calls))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(r.Calls[a].Start, r.Calls[b].Start) })
	num := make([]int, len(r.Calls))
	for k, i := range order {
		num[i] = k + 1
	}
	return num
}

// traceLinksOf finds the records of rec's trace near it and how they are
// linked to it: the record whose call (or request) rec's request answered,
// and the records rec's calls caused. It returns nil when rec is alone in
// its trace, or when the store fails (logged): the page goes on without.
func (h *handler) traceLinksOf(ctx context.Context, rec *recording.Record) *traceLinks {
	if !rec.TraceID.IsValid() {
		return nil
	}
	recs, more, err := h.traceRecords(ctx, rec.TraceID, traceWindow(rec))
	if err != nil {
		h.cfg.logger.Warn("appstats ui: looking up a trace", "trace", rec.TraceID.String(), "err", err)
		return nil
	}
	if len(recs) < 2 && !more {
		return nil
	}
	tl := &traceLinks{
		URL:      "../traces/" + rec.TraceID.String() + "?record=" + rec.ID.String(),
		Records:  len(recs),
		More:     more,
		causedBy: make(map[recording.SpanID]string),
	}
	mine := make(map[recording.SpanID]int, len(rec.Calls))
	for i := range rec.Calls {
		if s := rec.Calls[i].SpanID; s.IsValid() {
			mine[s] = i
		}
	}
	var nums []int
	for _, o := range recs {
		if o.ID == rec.ID {
			continue
		}
		// A record rec caused: its parent span is one of rec's calls.
		if i, ok := mine[o.ParentSpanID]; ok && o.ParentSpanID.IsValid() {
			if nums == nil {
				nums = callNumbers(rec)
			}
			rr := relatedOf(o)
			rr.CallNum, rr.CallName = nums[i], rec.Calls[i].Service+" "+rec.Calls[i].Method
			tl.Caused = append(tl.Caused, rr)
			if _, dup := tl.causedBy[o.ParentSpanID]; !dup {
				tl.causedBy[o.ParentSpanID] = rr.Link
			}
			continue
		}
		// The record that caused rec: rec's parent span is one of its
		// calls, or its own span.
		if !rec.ParentSpanID.IsValid() || tl.CalledBy != nil {
			continue
		}
		if o.SpanID == rec.ParentSpanID {
			rr := relatedOf(o)
			tl.CalledBy = &rr
			continue
		}
		for i := range o.Calls {
			if o.Calls[i].SpanID == rec.ParentSpanID {
				rr := relatedOf(o)
				rr.CallNum, rr.CallName = callNumbers(o)[i], o.Calls[i].Service+" "+o.Calls[i].Method
				tl.CalledBy = &rr
				break
			}
		}
	}
	return tl
}

// The trace view.

type traceView struct {
	pageMeta
	TraceID  string
	TraceURL string // an external trace viewer
	Records  []traceRecordRow
	More     bool
	RowPage  callPage // the page of the timeline's rows shown
	Span     time.Duration
	Start    time.Time
	Timeline timelineView
	WindowQ  string // how the records were looked for, for the page
}

type traceRecordRow struct {
	relatedRecord
	Offset   time.Duration
	Calls    int
	Failed   bool
	ParentOf string // "called by call #3 of GET /a" and the like
}

// traceParam reads the trace view's parameters: the trace ID from the path,
// and the time range to look in — around ?record= (an ID), or the window
// (?window=, or ?from=&to=, as the dashboard's). On bad input it answers 400
// and returns false.
func (h *handler) traceParam(w http.ResponseWriter, r *http.Request) (recording.TraceID, store.Window, string, bool) {
	tid, err := recording.ParseTraceID(r.PathValue("trace"))
	if err != nil || !tid.IsValid() {
		h.fail(w, r, http.StatusBadRequest, "malformed trace id")
		return tid, store.Window{}, "", false
	}
	q := r.URL.Query()
	if s := q.Get("record"); s != "" {
		id, err := recording.ParseID(s)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "record: malformed record id")
			return tid, store.Window{}, "", false
		}
		rec, err := h.st.Get(r.Context(), id)
		if err != nil {
			h.getError(w, r, id, err)
			return tid, store.Window{}, "", false
		}
		if rec.TraceID != tid {
			h.fail(w, r, http.StatusBadRequest, "record: not a record of this trace")
			return tid, store.Window{}, "", false
		}
		return tid, traceWindow(rec), traceWindowText(rec), true
	}
	wc, ok := h.windowParam(w, r)
	if !ok {
		return tid, store.Window{}, "", false
	}
	if !wc.Until.IsZero() { // a custom range
		return tid, wc.span(time.Now()), "within " + windowLabel(wc.Name), true
	}
	return tid, wc.span(time.Now()), "in the last " + wc.Name, true
}

// trace serves the trace view: the records of one trace on one time axis,
// each under the call that caused it, with their calls.
func (h *handler) trace(w http.ResponseWriter, r *http.Request) {
	tid, win, how, ok := h.traceParam(w, r)
	if !ok {
		return
	}
	recs, more, err := h.traceRecords(r.Context(), tid, win)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	nonce := newNonce()
	const b = "../"
	v := &traceView{
		pageMeta: pageMeta{Base: b, Nonce: nonce, Title: "Trace " + tid.String(), Page: "trace"},
		TraceID:  tid.String(),
		TraceURL: h.traceLink(tid),
		More:     more,
		WindowQ:  how,
	}
	island, rows, page, err := traceIsland(recs, r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	v.RowPage = page
	if len(recs) > 0 {
		v.Start = recs[0].Start
		for _, o := range recs {
			v.Span = max(v.Span, o.Start.Add(o.Duration).Sub(v.Start))
		}
	}
	for _, o := range recs {
		tr := traceRecordRow{relatedRecord: relatedOf(o), Offset: o.Start.Sub(v.Start), Calls: len(o.Calls),
			Failed: o.HasError(), ParentOf: rows[o.ID]}
		v.Records = append(v.Records, tr)
	}
	seen := make(map[string]bool)
	for _, c := range island.Calls {
		if !c.Record && !seen[c.Service] {
			seen[c.Service] = true
			v.Timeline.Services = append(v.Timeline.Services, serviceSwatch{Name: c.Service, Color: c.Color})
		}
		if c.Kids > 0 {
			v.Timeline.Nested = true
		}
	}
	v.Timeline = h.timeline(v.Timeline, island, len(island.Calls), b, nonce)
	h.render(w, r, h.pages.trace, "page", nonce, v)
}

// traceNode is a row of the trace view's timeline: a record, or a call.
type traceNode struct {
	rec   int // index in recs
	call  int // index in its calls, or -1 for the record itself
	start time.Duration
}

// traceIsland lays the records of a trace out as one tree of rows: each
// record under the call (or record) that caused it, its calls under it;
// and gives the page of those rows r asks for (?page=P) to the timeline.
// It returns, per record, a description of its parent; an error, meant for
// a 400 answer, for a page that is not one of the rows'.
func traceIsland(recs []*recording.Record, r *http.Request) (ganttIsland, map[recording.ID]string, callPage, error) {
	island := ganttIsland{Colors: palette}
	desc := make(map[recording.ID]string)
	if len(recs) == 0 {
		page, err := pageParam(r, 0, maxTraceRows, pageURLOf(r, "timeline"))
		return island, desc, page, err
	}
	t0 := recs[0].Start
	var nodes []traceNode
	nodeOf := make(map[recording.SpanID]int) // span → node, for parents across records
	recNode := make([]int, len(recs))
	for ri, o := range recs {
		recNode[ri] = len(nodes)
		nodes = append(nodes, traceNode{ri, -1, o.Start.Sub(t0)})
		if o.SpanID.IsValid() {
			nodeOf[o.SpanID] = recNode[ri]
		}
		for ci := range o.Calls {
			if s := o.Calls[ci].SpanID; s.IsValid() {
				nodeOf[s] = len(nodes)
			}
			nodes = append(nodes, traceNode{ri, ci, o.Start.Sub(t0) + o.Calls[ci].Start})
		}
	}
	parent := make([]int, len(nodes))
	parents := make([][]int, len(recs))
	for ri, o := range recs {
		parents[ri] = o.Parents()
	}
	for n, nd := range nodes {
		parent[n] = -1
		o := recs[nd.rec]
		if nd.call >= 0 {
			if p := parents[nd.rec][nd.call]; p >= 0 {
				parent[n] = recNode[nd.rec] + 1 + p
			} else {
				parent[n] = recNode[nd.rec]
			}
			continue
		}
		if p, ok := nodeOf[o.ParentSpanID]; ok && o.ParentSpanID.IsValid() && nodes[p].rec != nd.rec {
			parent[n] = p
			q := recs[nodes[p].rec]
			if c := nodes[p].call; c >= 0 {
				desc[o.ID] = "called by " + isolate(q.Calls[c].Service) + " " + isolate(q.Calls[c].Method) + " of " + isolate(q.Method) + " " + isolate(q.Path)
			} else {
				desc[o.ID] = "called by " + isolate(q.Method) + " " + isolate(q.Path)
			}
		}
	}
	cutCycles(parent)
	kids := make([][]int, len(nodes))
	var roots []int
	order := make([]int, len(nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(nodes[a].start, nodes[b].start) })
	for _, n := range order {
		if p := parent[n]; p >= 0 {
			kids[p] = append(kids[p], n)
		} else {
			roots = append(roots, n)
		}
	}
	row := make([]int, len(nodes))
	depth := make([]int, len(nodes))
	var seq []int
	stack := slices.Clone(roots)
	slices.Reverse(stack)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		row[n] = len(seq)
		seq = append(seq, n)
		for k := len(kids[n]) - 1; k >= 0; k-- {
			depth[kids[n][k]] = depth[n] + 1
			stack = append(stack, kids[n][k])
		}
	}
	page, err := tracePage(r, recs, nodes, seq)
	if err != nil {
		return island, desc, page, err
	}
	// Every page charts its rows on the whole trace's time axis.
	var maxEnd time.Duration
	for _, nd := range nodes {
		o := recs[nd.rec]
		if nd.call < 0 {
			maxEnd = max(maxEnd, nd.start+o.Duration)
		} else {
			maxEnd = max(maxEnd, nd.start+o.Calls[nd.call].Duration)
		}
	}
	nums := make([][]int, len(recs))
	pages := make([][]int, len(recs))   // callPages, nil for records of one page
	paged := make([]bool, len(recs))    // pages[i] computed
	collapse := page.To-page.From > 200 // a large trace opens with its records' calls folded
	for _, n := range seq[page.From:page.To] {
		nd := nodes[n]
		o := recs[nd.rec]
		// The island's rows are the page's: a parent on another page is
		// none, and a row's children are those on the page.
		gc := ganttCall{Parent: -1, Depth: depth[n]}
		if p := parent[n]; p >= 0 && row[p] >= page.From {
			gc.Parent = row[p] - page.From
		}
		for _, k := range kids[n] {
			if row[k] < page.To {
				gc.Kids++
			}
		}
		if nd.call < 0 {
			gc.Record, gc.Color, gc.Link = true, -1, recordLink(o.ID)
			gc.Service, gc.Method = o.Method, o.Path
			if o.Instance != "" {
				gc.Service = o.Instance + " · " + o.Method
			}
			gc.StartMS, gc.DurMS = ms(nd.start), ms(o.Duration)
			gc.ReqSize, gc.RespSize = o.RequestBytes, o.ResponseBytes
			if o.HasError() {
				gc.Error = statusOf(o.Kind, o.Status).Text
				if o.Error != "" {
					gc.Error += ": " + o.Error
				}
			}
			gc.Closed = collapse && gc.Kids > 0
		} else {
			c := &o.Calls[nd.call]
			if nums[nd.rec] == nil {
				nums[nd.rec] = callNumbers(o)
			}
			if !paged[nd.rec] {
				pages[nd.rec], paged[nd.rec] = callPages(o), true
			}
			gc.Service, gc.Method, gc.Error = c.Service, c.Method, c.Error
			gc.StartMS, gc.DurMS = ms(nd.start), ms(c.Duration)
			gc.ReqSize, gc.RespSize = c.RequestSize, c.ResponseSize
			gc.Running, gc.Event = c.Running, c.Event
			gc.Num, gc.Color = nums[nd.rec][nd.call], serviceColor(c.Service)
			gc.Link = recordLink(o.ID) + "#call-" + strconv.Itoa(gc.Num)
			if p := pages[nd.rec]; p != nil && p[nd.call] > 1 {
				// The page of the record's calls that has the call's row.
				gc.Link = recordLink(o.ID) + "?page=" + strconv.Itoa(p[nd.call]) + "#call-" + strconv.Itoa(gc.Num)
			}
			for _, p := range c.Phases {
				gc.Phases = append(gc.Phases, ganttPhase{Name: p.Name, StartMS: ms(p.Start + o.Start.Sub(t0)), DurMS: ms(p.Duration)})
			}
		}
		island.Calls = append(island.Calls, gc)
	}
	island.MaxMS = max(ms(maxEnd), 1)
	return island, desc, page, nil
}

// tracePage cuts the trace view's rows (seq, in tree order) into pages of
// at most maxTraceRows, within traceBudget bytes of the timeline's data
// each unless a page is one row, and gives the page r asks for.
func tracePage(r *http.Request, recs []*recording.Record, nodes []traceNode, seq []int) (callPage, error) {
	starts := []int{0}
	n, cost := 0, 0
	for k, i := range seq {
		nd := nodes[i]
		o := recs[nd.rec]
		c := 300 + 6*(len(o.Method)+len(o.Path)+len(o.Instance)+len(o.Error))
		if nd.call >= 0 {
			cl := &o.Calls[nd.call]
			c = 300 + 6*(len(cl.Service)+len(cl.Method)+len(cl.Error))
			for _, p := range cl.Phases {
				c += 60 + 6*len(p.Name)
			}
		}
		if n > 0 && (n == maxTraceRows || cost+c > traceBudget) {
			starts = append(starts, k)
			n, cost = 0, 0
		}
		n++
		cost += c
	}
	p := callPage{Total: len(seq), Pages: len(starts), Num: 1}
	if s := r.URL.Query().Get("page"); s != "" {
		num, err := strconv.Atoi(s)
		if err != nil || num < 1 || num > len(starts) {
			return p, fmt.Errorf("page: %q is not a page of this trace's timeline (1 to %d)", s, len(starts))
		}
		p.Num = num
	}
	p.From, p.To = starts[p.Num-1], len(seq)
	if p.Num < len(starts) {
		p.To = starts[p.Num]
	}
	p.link(pageURLOf(r, "timeline"))
	return p, nil
}

// The trace API.

type traceJSON struct {
	TraceID string            `json:"trace_id"`
	Window  windowJSON        `json:"window"`
	Records []traceRecordJSON `json:"records"`
	More    bool              `json:"more"`
}

// traceRecordJSON is a record of a trace: its summary, its spans, and the
// call of another record of the trace that caused it.
type traceRecordJSON struct {
	summaryJSON
	SpanID       string        `json:"span_id"`
	ParentSpanID string        `json:"parent_span_id,omitempty"`
	CausedBy     *causedByJSON `json:"caused_by,omitempty"`
}

type causedByJSON struct {
	Record string `json:"record"`
	// Call is the index of the call in that record's calls; absent when the
	// record itself (not one of its calls) was the parent.
	Call *int `json:"call,omitempty"`
}

// apiTrace serves GET api/traces/{trace}?record=|window=.
func (h *handler) apiTrace(w http.ResponseWriter, r *http.Request) {
	tid, win, _, ok := h.traceParam(w, r)
	if !ok {
		return
	}
	recs, more, err := h.traceRecords(r.Context(), tid, win)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	out := traceJSON{TraceID: tid.String(), Window: windowJSON{Since: rfc3339(win.Since), Until: rfc3339(win.Until)},
		Records: make([]traceRecordJSON, 0, len(recs)), More: more}
	type owner struct {
		rec  recording.ID
		call int
	}
	spans := make(map[recording.SpanID]owner)
	for _, o := range recs {
		if o.SpanID.IsValid() {
			spans[o.SpanID] = owner{o.ID, -1}
		}
		for i := range o.Calls {
			if s := o.Calls[i].SpanID; s.IsValid() {
				spans[s] = owner{o.ID, i}
			}
		}
	}
	for _, o := range recs {
		sum := o.Summary()
		tr := traceRecordJSON{summaryJSON: toSummaryJSON(&sum), SpanID: o.SpanID.String()}
		if o.ParentSpanID.IsValid() {
			tr.ParentSpanID = o.ParentSpanID.String()
			if ow, ok := spans[o.ParentSpanID]; ok && ow.rec != o.ID {
				tr.CausedBy = &causedByJSON{Record: ow.rec.String()}
				if ow.call >= 0 {
					c := ow.call
					tr.CausedBy.Call = &c
				}
			}
		}
		out.Records = append(out.Records, tr)
	}
	writeJSON(w, http.StatusOK, out)
}

// isolate wraps a recorded string in a Unicode isolate (U+2068 … U+2069)
// for text composed of it and the page's own words: a right-to-left
// override the string opens and never closes ends with it, instead of
// reversing the words after it.
func isolate(s string) string { return "\u2068" + s + "\u2069" }

// cutCycles cuts, in a forest given by parent (a node's parent's index, or
// -1 for a root), one link of each cycle (records made by hand), and
// returns the steps it took: each node is walked once (as
// recording.Parents does), where a walk to the root from every node took
// 27.6 s for 10 records of 10,000 calls each the parent of the next.
func cutCycles(parent []int) (steps int) {
	// 0 not walked yet, 1 on the current walk, 2 done.
	state := make([]uint8, len(parent))
	var path []int
	for n := range parent {
		path = path[:0]
		m := n
		for m >= 0 && state[m] == 0 {
			steps++
			state[m] = 1
			path = append(path, m)
			m = parent[m]
		}
		if m >= 0 && state[m] == 1 {
			// The walk came back to itself: its last link closed the cycle.
			parent[path[len(path)-1]] = -1
		}
		for _, k := range path {
			state[k] = 2
		}
	}
	return steps
}
