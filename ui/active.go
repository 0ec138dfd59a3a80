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
	CallCount    int              `json:"call_count"`
	CallsRunning int              `json:"calls_running"`
	Calls        []activeCallJSON `json:"calls"`
	// CallsOmitted counts calls made so far and not listed: over the
	// answer's bounds, or over the recorder's MaxCalls.
	CallsOmitted int `json:"calls_omitted"`
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

// activeRecords lists the records in the making within the bounds: at most
// limit records of at most calls calls each, maxActiveCallsTotal calls in
// all, and about apiListBudget bytes of texts.
func (h *handler) activeRecords(limit, calls int) ([]recording.Record, int) {
	recs, unlisted := h.cfg.rec.Active(limit, calls)
	left, budget := maxActiveCallsTotal, apiListBudget
	for i := range recs {
		r := &recs[i]
		if len(r.Calls) > left {
			r.DroppedCalls += len(r.Calls) - left
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
			recs = recs[:i]
			break
		}
	}
	return recs, unlisted
}

func toActiveJSON(recs []recording.Record, unlisted int, paused bool, now time.Time) activeJSON {
	out := activeJSON{At: rfc3339(now), Active: make([]activeRecordJSON, 0, len(recs)), Unlisted: unlisted, Paused: paused}
	for i := range recs {
		r := &recs[i]
		a := activeRecordJSON{
			ID: r.ID.String(), TraceID: r.TraceID.String(), Kind: r.Kind.String(), Start: rfc3339(r.Start),
			RunningMS: ms(r.Duration), Method: r.Method, Path: r.Path, Route: r.Route, Instance: r.Instance,
			Calls: make([]activeCallJSON, 0, len(r.Calls)), CallsOmitted: r.DroppedCalls, Attrs: attrsJSON(r.Attrs),
		}
		for j := range r.Calls {
			c := &r.Calls[j]
			if !c.Event {
				a.CallCount++
			}
			if c.Running {
				a.CallsRunning++
			}
			a.Calls = append(a.Calls, activeCallJSON{Service: c.Service, Method: c.Method, StartMS: ms(c.Start),
				DurationMS: ms(c.Duration), Running: c.Running, Event: c.Event, Error: c.Error})
		}
		a.CallCount += r.DroppedCalls
		out.Active = append(out.Active, a)
	}
	return out
}

// apiActive serves GET api/active?limit=&calls=: the records in the making,
// longest-running first.
func (h *handler) apiActive(w http.ResponseWriter, r *http.Request) {
	if h.cfg.rec == nil {
		h.fail(w, r, http.StatusNotFound, "no recorder is attached to this dashboard (ui.WithRecorder)")
		return
	}
	limit, calls, err := activeParams(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	recs, unlisted := h.activeRecords(limit, calls)
	writeJSON(w, http.StatusOK, toActiveJSON(recs, unlisted, h.cfg.rec.Paused(), time.Now()))
}

// runningSection is the dashboard's table of records in the making.
type runningSection struct {
	Rows  []runningRow
	Total int // records in the making, listed or not
}

type runningRow struct {
	recording.Summary
	Messages string // a connection's messages in and out, e.g. "3 in · 5 out"
}

// maxRunningRows bounds the dashboard's "Running now" table.
const maxRunningRows = 20

// running returns the dashboard's "Running now" section, empty without a
// recorder.
func (h *handler) running() runningSection {
	recs, unlisted := h.cfg.rec.Active(maxRunningRows, 0)
	s := runningSection{Total: len(recs) + unlisted}
	for i := range recs {
		rec := &recs[i]
		row := runningRow{Summary: rec.Summary()}
		if in := rec.Attr(convention.KeyStreamMessagesReceived); in != "" {
			row.Messages = in + " in · " + rec.Attr(convention.KeyStreamMessagesSent) + " out"
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}
