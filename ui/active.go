package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// Records in the making (x/net/trace's "active" requests): requests running
// now and long-lived connections still open, with their calls so far, from
// the recorder ([recording.Recorder.Active]).

const (
	defaultActiveLimit = 50
	maxActiveLimit     = 200
	defaultActiveCalls = 50
	maxActiveCalls     = 200
	// maxActiveCallsTotal bounds the calls of one answer, all records
	// together (about 200 bytes each in JSON).
	maxActiveCallsTotal = 5000
)

type activeJSON struct {
	At       string             `json:"at"`
	Active   []activeRecordJSON `json:"active"`
	Unlisted int                `json:"unlisted"`
	Paused   bool               `json:"paused"`
}

type activeRecordJSON struct {
	ID           string           `json:"id"`
	TraceID      string           `json:"trace_id"`
	Kind         string           `json:"kind"`
	Start        string           `json:"start"`
	RunningMS    float64          `json:"running_ms"`
	Method       string           `json:"method"`
	Path         string           `json:"path"`
	Route        string           `json:"route,omitempty"`
	Instance     string           `json:"instance,omitempty"`
	CallCount    int              `json:"call_count"` // calls kept so far, events left out
	CallsRunning int              `json:"calls_running"`
	Calls        []activeCallJSON `json:"calls"`
	// CallsOmitted counts calls made so far and not listed: over the
	// answer's bounds, or over the recorder's MaxCalls.
	CallsOmitted int `json:"calls_omitted"`
	// DroppedCalls counts the calls the recorder did not keep, over its
	// MaxCalls (Record.DroppedCalls), as api/records does.
	DroppedCalls int `json:"dropped_calls"`
	// Attrs are a connection's messaging system and message counts so far,
	// or a message's link to its connection.
	Attrs []attrJSON `json:"attrs,omitempty"`
}

type activeCallJSON struct {
	Service    string  `json:"service"`
	Method     string  `json:"method"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
	Running    bool    `json:"running,omitempty"`
	Event      bool    `json:"event,omitempty"`
	Error      string  `json:"error,omitempty"`
	Parent     *int    `json:"parent,omitempty"`
}

// activeParams reads ?limit= (records) and ?calls= (calls per record):
// numbers from 1, clamped to their maximum.
func activeParams(r *http.Request) (limit, calls int, err error) {
	q := r.URL.Query()
	limit, calls = defaultActiveLimit, defaultActiveCalls
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &limit, maxActiveLimit}, {"calls", &calls, maxActiveCalls}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil && !isBigInt(s) {
			return 0, 0, fmt.Errorf("%s %q: not a number", p.name, s)
		}
		if err != nil || n > p.max {
			n = p.max
		}
		if n < 1 {
			return 0, 0, fmt.Errorf("%s %q: must be at least 1", p.name, s)
		}
		*p.dst = n
	}
	return limit, calls, nil
}

// activeCounts are a listed record's counts of calls beyond those it
// lists.
type activeCounts struct {
	// unlisted counts the calls the recorder kept and the list leaves
	// out: not copied (over the calls parameter) or cut (over
	// maxActiveCallsTotal).
	unlisted int
	// cutEvents counts the events among the cut calls, which the call
	// counts leave out (events not copied cannot be told apart: they
	// count as calls).
	cutEvents int
}

// activeRecords lists the records in the making within the bounds: at most
// limit records of at most calls calls each, maxActiveCallsTotal calls in
// all (later records keep fewer calls), and about apiListBudget bytes of
// texts, with each record's counts of the calls it does not list.
func (h *handler) activeRecords(limit, calls int) (recs []recording.Record, counts []activeCounts, unlisted int) {
	recs, unlisted = h.cfg.rec.Active(limit, calls)
	counts = make([]activeCounts, len(recs))
	left, budget := maxActiveCallsTotal, apiListBudget
	for i := range recs {
		r := &recs[i]
		counts[i].unlisted = r.KeptCalls() - len(r.Calls)
		if len(r.Calls) > left {
			counts[i].unlisted += len(r.Calls) - left
			for j := left; j < len(r.Calls); j++ {
				if r.Calls[j].Event {
					counts[i].cutEvents++
				}
			}
			r.Calls = r.Calls[:left]
		}
		left -= len(r.Calls)
		cost := apiListFixed + textCost(r.Path) + textCost(r.Route) + textCost(r.Instance)
		for _, a := range r.Attrs {
			cost += 24 + textCost(a.Key) + textCost(a.Value)
		}
		for j := range r.Calls {
			c := &r.Calls[j]
			cost += 120 + textCost(c.Service) + textCost(c.Method) + textCost(c.Error)
		}
		if budget -= cost; budget < 0 && i > 0 {
			unlisted += len(recs) - i
			recs, counts = recs[:i], counts[:i]
			break
		}
	}
	return recs, counts, unlisted
}

func toActiveJSON(recs []recording.Record, counts []activeCounts, unlisted int, paused bool, now time.Time) activeJSON {
	out := activeJSON{At: rfc3339(now), Active: make([]activeRecordJSON, 0, len(recs)), Unlisted: unlisted, Paused: paused}
	for i := range recs {
		r := &recs[i]
		a := activeRecordJSON{
			ID: r.ID.String(), TraceID: r.TraceID.String(), Kind: r.Kind.String(), Start: rfc3339(r.Start),
			RunningMS: ms(r.Duration), Method: r.Method, Path: r.Path, Route: r.Route, Instance: r.Instance,
			CallCount: counts[i].unlisted - counts[i].cutEvents, Calls: make([]activeCallJSON, len(r.Calls)),
			CallsOmitted: counts[i].unlisted + r.DroppedCalls, DroppedCalls: r.DroppedCalls, Attrs: attrsJSON(r.Attrs),
		}
		parents := r.Parents()
		for j := range r.Calls {
			c := &r.Calls[j]
			cj := activeCallJSON{Service: c.Service, Method: c.Method, StartMS: ms(c.Start), DurationMS: ms(c.Duration),
				Running: c.Running, Event: c.Event, Error: c.Error}
			if p := parents[j]; p >= 0 {
				cj.Parent = &p
			}
			if !c.Event {
				a.CallCount++
			}
			if c.Running {
				a.CallsRunning++
			}
			a.Calls[j] = cj
		}
		out.Active = append(out.Active, a)
	}
	return out
}

// activeRequest reads the parameters of a request for the records in the
// making; it answers 404 without a recorder and 400 for bad parameters, and
// then returns ok false.
func (h *handler) activeRequest(w http.ResponseWriter, r *http.Request) (limit, calls int, ok bool) {
	if h.cfg.rec == nil {
		h.fail(w, r, http.StatusNotFound, "no recorder is attached to this dashboard (ui.WithRecorder)")
		return 0, 0, false
	}
	limit, calls, err := activeParams(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return 0, 0, false
	}
	return limit, calls, true
}

// apiActive serves GET api/active?limit=&calls=: the records in the making,
// longest-running first.
func (h *handler) apiActive(w http.ResponseWriter, r *http.Request) {
	limit, calls, ok := h.activeRequest(w, r)
	if !ok {
		return
	}
	recs, counts, unlisted := h.activeRecords(limit, calls)
	writeJSON(w, http.StatusOK, toActiveJSON(recs, counts, unlisted, h.cfg.rec.Paused(), time.Now()))
}

// The in-flight page.

type activeView struct {
	pageMeta
	Section activeSection
}

type activeSection struct {
	Rows     []activeRow
	Unlisted int
	Paused   bool
	Limit    int
}

type activeRow struct {
	ID       string
	Method   string
	Path     string
	Route    string
	Instance string
	Messages string // a connection's messages in and out: see messagesOf
	Kind     string
	Running  time.Duration
	Start    time.Time
	Calls    []activeCallRow
	Total    int // calls kept so far, events left out
	Open     int // calls running now
	Omitted  int // calls kept and not listed
	Dropped  int // calls not kept, over the recorder's MaxCalls
}

type activeCallRow struct {
	Num     int
	Depth   int
	Color   int
	Service string
	Method  string
	Start   time.Duration
	Dur     time.Duration
	Running bool
	Event   bool
	Error   string
}

func (h *handler) activeSection(limit, calls int) activeSection {
	recs, counts, unlisted := h.activeRecords(limit, calls)
	s := activeSection{Unlisted: unlisted, Paused: h.cfg.rec.Paused(), Limit: limit}
	for i := range recs {
		r := &recs[i]
		row := activeRow{ID: r.ID.String(), Method: r.Method, Path: r.Path, Route: r.Route, Instance: r.Instance,
			Messages: messagesOf(r), Kind: r.Kind.String(), Running: r.Duration,
			Start: r.Start, Total: counts[i].unlisted - counts[i].cutEvents, Omitted: counts[i].unlisted, Dropped: r.DroppedCalls}
		tree := buildTree(r)
		for _, j := range tree.order {
			c := &r.Calls[j]
			if !c.Event {
				row.Total++
			}
			if c.Running {
				row.Open++
			}
			row.Calls = append(row.Calls, activeCallRow{Num: tree.num[j], Depth: min(tree.depth[j], 24), Color: serviceColor(c.Service),
				Service: c.Service, Method: c.Method, Start: c.Start, Dur: c.Duration, Running: c.Running, Event: c.Event, Error: c.Error})
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}

// active serves the in-flight page.
func (h *handler) active(w http.ResponseWriter, r *http.Request) {
	limit, calls, ok := h.activeRequest(w, r)
	if !ok {
		return
	}
	nonce := newNonce()
	v := &activeView{
		pageMeta: pageMeta{Base: "./", Nonce: nonce, Title: "In flight", Page: "active"},
		Section:  h.activeSection(limit, calls),
	}
	h.render(w, r, h.pages.active, "page", nonce, v)
}

// partActive serves the in-flight table alone, for the page's refresh.
func (h *handler) partActive(w http.ResponseWriter, r *http.Request) {
	limit, calls, ok := h.activeRequest(w, r)
	if !ok {
		return
	}
	s := h.activeSection(limit, calls)
	h.render(w, r, h.pages.active, "active", "", &s)
}

// runningSection is the dashboard's "Running now" table: the records in the
// making that have run longest.
type runningSection struct {
	Rows  []runningRow
	Total int // records in the making, listed or not
}

// A runningRow is one row of the dashboard's "Running now" table, its
// values formatted beforehand as a historyRow's are.
type runningRow struct {
	ID         string
	ISO, Stamp string
	Kind       string
	Method     string
	Path       string
	Route      string // "" when it is the path
	Instance   string
	Duration   string // so far
	CallCount  int
	Messages   string // see messagesOf
}

// runningRowOf formats rec, a record in the making, for the table.
func runningRowOf(rec *recording.Record) runningRow {
	s := rec.Summary()
	r := runningRow{
		ID: s.ID.String(), ISO: fmtISO(s.Start), Stamp: fmtStamp(s.Start), Kind: s.Kind.String(),
		Method: s.Method, Path: s.Path, Instance: s.Instance,
		Duration: fmtDur(s.Duration), CallCount: s.CallCount, Messages: messagesOf(rec),
	}
	if s.Route != s.Path {
		r.Route = s.Route
	}
	return r
}

// maxRunningRows bounds the dashboard's "Running now" table; the in-flight
// page lists more.
const maxRunningRows = 20

// running returns the dashboard's "Running now" section, empty without a
// recorder.
func (h *handler) running() runningSection {
	return runningSectionOf(h.cfg.rec.Active(maxRunningRows, 0))
}

// runningSectionOf is the section listing recs, with unlisted more.
func runningSectionOf(recs []recording.Record, unlisted int) runningSection {
	s := runningSection{Total: len(recs) + unlisted}
	for i := range recs {
		s.Rows = append(s.Rows, runningRowOf(&recs[i]))
	}
	return s
}

// messagesOf returns a connection's messages in and out so far, such as
// "3 in · 5 out", or "" for a record of no connection.
func messagesOf(rec *recording.Record) string {
	in := rec.Attr(convention.KeyStreamMessagesReceived)
	if in == "" {
		return ""
	}
	return in + " in · " + rec.Attr(convention.KeyStreamMessagesSent) + " out"
}
