package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/goappstats/appstats/recording"
)

// MarshalRecord returns a full record as JSON, as GET api/records/{id}
// serves it and the details page downloads it (see API.md): the form in
// which a record travels with a bug report, and which [UnmarshalRecord]
// reads back.
func MarshalRecord(r *recording.Record) ([]byte, error) {
	return json.Marshal(toRecordJSON(r))
}

// ErrBadRecordJSON is wrapped by the errors of [UnmarshalRecord].
var ErrBadRecordJSON = errors.New("ui: not a record's JSON")

// UnmarshalRecord reads a record from the JSON [MarshalRecord] writes.
// Durations and offsets come back rounded to the microsecond, as the JSON
// has them; fields the JSON derives from others (call counts, rpc_stats,
// failed, the record's cost) are ignored, and so is exec_trace (the trace
// itself is not in the JSON). The ID, the start time and the trace ID must be
// valid; anything malformed gives an error wrapping [ErrBadRecordJSON], and
// so does a page of a record's calls (calls_page).
func UnmarshalRecord(b []byte) (*recording.Record, error) {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRecordJSON, err)
	}
	bad := func(what string, err error) (*recording.Record, error) {
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRecordJSON, what, err)
		}
		return nil, fmt.Errorf("%w: %s", ErrBadRecordJSON, what)
	}
	if p := j.CallsPage; p != nil && (p.Offset > 0 || p.Next != nil) {
		return bad(fmt.Sprintf("a page of a record's calls (calls %d to %d of %d): the whole record is api/records/{id}?download=1",
			p.Offset, p.Offset+len(j.Calls), p.Total), nil)
	}
	r := &recording.Record{
		Method: j.Method, Path: j.Path, Route: j.Route, Query: j.Query, Status: j.Status,
		RequestBytes: j.RequestBytes, ResponseBytes: j.ResponseBytes, User: j.User, Instance: j.Instance,
		Error: j.Error, Panic: j.Panic, DroppedCalls: j.DroppedCalls, Remote: j.Remote,
	}
	var err error
	if r.ID, err = recording.ParseID(j.ID); err != nil {
		return bad("id", err)
	}
	if r.TraceID, err = recording.ParseTraceID(j.TraceID); err != nil {
		return bad("trace_id", err)
	}
	if err := parseSpanID(&r.SpanID, j.SpanID); err != nil {
		return bad("span_id", err)
	}
	if err := parseSpanID(&r.ParentSpanID, j.ParentSpanID); err != nil {
		return bad("parent_span_id", err)
	}
	var ok bool
	if r.Kind, ok = recording.ParseKind(j.Kind); !ok {
		return bad(fmt.Sprintf("kind %q", j.Kind), nil)
	}
	if r.Start, err = time.Parse(time.RFC3339Nano, j.Start); err != nil {
		return bad("start", err)
	}
	if r.Duration, err = fromMS(j.DurationMS); err != nil {
		return bad("duration_ms", err)
	}
	if r.Overhead, err = fromMS(j.OverheadMS); err != nil {
		return bad("overhead_ms", err)
	}
	if len(j.Headers) > 0 {
		r.Headers = j.Headers
	}
	r.Attrs = fromAttrsJSON(j.Attrs)
	for i, w := range j.Warnings {
		total, err := fromMS(w.TotalMS)
		if err != nil {
			return bad(fmt.Sprintf("warnings[%d].total_ms", i), err)
		}
		r.Warnings = append(r.Warnings, recording.Warning{
			Kind: w.Kind, Service: w.Service, Method: w.Method, Request: w.Request,
			Count: w.Count, Total: total, Message: w.Message,
		})
	}
	for i, cj := range j.Calls {
		c := recording.Call{
			Service: cj.Service, Method: cj.Method, Error: cj.Error,
			RequestSize: cj.RequestSize, ResponseSize: cj.ResponseSize,
			Request: cj.Request, Response: cj.Response,
			Attrs: fromAttrsJSON(cj.Attrs), Running: cj.Running, Event: cj.Event, Cost: float64(cj.Cost),
		}
		if c.Start, err = fromMS(cj.StartMS); err != nil {
			return bad(fmt.Sprintf("calls[%d].start_ms", i), err)
		}
		if c.Duration, err = fromMS(cj.DurationMS); err != nil {
			return bad(fmt.Sprintf("calls[%d].duration_ms", i), err)
		}
		if err := parseSpanID(&c.SpanID, cj.SpanID); err != nil {
			return bad(fmt.Sprintf("calls[%d].span_id", i), err)
		}
		for _, f := range cj.Stack {
			c.Stack = append(c.Stack, recording.Frame{Function: f.Function, File: f.File, Line: f.Line})
		}
		for k, p := range cj.Phases {
			ph := recording.Phase{Name: p.Name}
			if ph.Start, err = fromMS(p.StartMS); err != nil {
				return bad(fmt.Sprintf("calls[%d].phases[%d].start_ms", i, k), err)
			}
			if ph.Duration, err = fromMS(p.DurationMS); err != nil {
				return bad(fmt.Sprintf("calls[%d].phases[%d].duration_ms", i, k), err)
			}
			c.Phases = append(c.Phases, ph)
		}
		r.Calls = append(r.Calls, c)
	}
	// A call's parent is an index in calls: its span is the parent span.
	for i, cj := range j.Calls {
		if p := cj.Parent; p != nil {
			if *p < 0 || *p >= len(r.Calls) || *p == i {
				return bad(fmt.Sprintf("calls[%d].parent", i), fmt.Errorf("%d is not the index of another call", *p))
			}
			r.Calls[i].ParentSpanID = r.Calls[*p].SpanID
		}
	}
	return r, nil
}

// fromMS is the inverse of ms: milliseconds, at microsecond precision.
func fromMS(v float64) (time.Duration, error) {
	us := math.Round(v * 1000)
	if math.IsNaN(us) || math.Abs(us) > float64(math.MaxInt64/int64(time.Microsecond)) {
		return 0, fmt.Errorf("%v ms is out of range", v)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// parseSpanID parses a span ID that may be empty (none).
func parseSpanID(dst *recording.SpanID, s string) error {
	if s == "" {
		return nil
	}
	id, err := recording.ParseSpanID(s)
	*dst = id
	return err
}

func fromAttrsJSON(as []attrJSON) []recording.Attr {
	if len(as) == 0 {
		return nil
	}
	out := make([]recording.Attr, len(as))
	for i, a := range as {
		out[i] = recording.Attr{Key: a.Key, Value: a.Value}
	}
	return out
}
