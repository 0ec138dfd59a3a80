package recording

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"
)

// The in-flight registry: the records in the making — requests running now,
// long-lived connections still open — for x/net/trace-style "active
// requests" pages ([Recorder.Active]). A record takes a slot of a fixed
// table when it starts (one atomic load and one compare-and-swap) and frees
// it when it finishes (one atomic store): no lock and no allocation on the
// request path, and nothing at all per call. A record that finds no free
// slot near its own is counted, not listed.

// inflightSlots is the size of the table: how many records can be listed
// at once.
const inflightSlots = 1024

// inflightProbe is how many slots a starting record tries.
const inflightProbe = 8

type inflight struct {
	slots    []atomic.Pointer[ActiveRecord]
	unlisted atomic.Int64 // records in the making that found no slot
}

func newInflight() *inflight {
	return &inflight{slots: make([]atomic.Pointer[ActiveRecord], inflightSlots)}
}

// add lists a, whose immutable fields are set. Consecutive records start at
// slots a cache line apart, so that requests on different cores do not
// write the same line.
func (in *inflight) add(a *ActiveRecord) {
	h := binary.BigEndian.Uint64(a.r.ID[8:]) // a per-recorder prefix and a counter
	const mask = inflightSlots - 1
	base := h*8 + h/(inflightSlots/8) // probeBase's, written out: the compiler lays it out better here
	for i := range uint64(inflightProbe) {
		j := (base + i) & mask
		s := &in.slots[j]
		if s.Load() == nil && s.CompareAndSwap(nil, a) {
			a.slot = int32(j) + 1
			return
		}
	}
	a.slot = -1
	in.unlisted.Add(1)
}

// probeBase is the first of the inflightProbe slots a record with the
// given ID may take (the others follow it, modulo inflightSlots): a record
// is listed in one of those or in none. add computes the same.
func probeBase(id ID) uint64 {
	h := binary.BigEndian.Uint64(id[8:]) // a per-recorder prefix and a counter
	return h*8 + h/(inflightSlots/8)
}

// remove unlists a; it is called by the goroutine that finishes a, and
// removing it again has no effect.
func (in *inflight) remove(a *ActiveRecord) {
	switch {
	case a.slot > 0:
		in.slots[a.slot-1].Store(nil)
	case a.slot < 0:
		in.unlisted.Add(-1)
	}
	a.slot = 0
}

// Active lists the records in the making — requests running now, long-lived
// connections still open ([StartStream]) and the messages being handled on
// them — longest-running first: at most max records (all when max <= 0),
// each with at most maxCalls of its calls so far (the first ones; all when
// maxCalls <= 0). A record that has not ended is in the list unless the
// recorder's table of 1,024 records in the making had no room for it when
// it started: unlisted counts those, those left out by max, and those
// finishing (ended, not yet queued for the sinks). Filters that depend on
// the route are applied when a request ends, so a request they will
// exclude is listed while it runs.
//
// The records are snapshots the caller owns, prepared as a finished record
// is before a sink sees it (stacks symbolized, redacted), with what is known
// so far: the identity and trace of the request, its kind, method, path and
// instance, Duration up to now, the calls so far (those still running
// marked [Call.Running], with their duration so far; [Record.KeptCalls]
// counts those kept so far, copied or not, and DroppedCalls, as in a
// finished record, those not kept, over [WithMaxCalls]), and, for a
// connection whose messages are recorded, its route and its message counts
// and bytes so far (attributes).
// Status, sizes and other fields a server wrapper sets as the request ends
// are still zero, and the request's headers are not included.
//
// Listing costs the requests nothing but a short hold of each record's lock
// while its calls are copied; the symbolizing and redacting run in the
// caller's goroutine. A path is redacted whole, then capped as a finished
// record's is ([WithMaxText]); the paths over that cap are redacted within
// a budget of about a megabyte per listing, and one beyond it is listed
// as "…" (never cut before its redaction, which could split a secret).
func (r *Recorder) Active(max, maxCalls int) (recs []Record, unlisted int) {
	if r == nil {
		return nil, 0
	}
	now := time.Now()
	var live []*ActiveRecord
	for i := range r.inflight.slots {
		if a := r.inflight.slots[i].Load(); a != nil {
			live = append(live, a)
		}
	}
	slices.SortFunc(live, func(x, y *ActiveRecord) int { return x.start.Compare(y.start) })
	budget := activeRedactBudget
	for i, a := range live {
		if max > 0 && len(recs) == max {
			unlisted += len(live) - i
			break
		}
		if s, ok := a.snapshot(now, maxCalls); ok {
			r.prepareListed(&s, &budget)
			recs = append(recs, s)
		} else {
			unlisted++ // finishing: on its way to the queue
		}
	}
	return recs, unlisted + int(r.inflight.unlisted.Load())
}

// ActiveRecord returns the snapshot of the record in the making with the
// given ID, with all its calls so far, as [Recorder.Active] makes it (but
// for its path, redacted whole however long before it is capped), and
// whether it is listed. It looks only in the few slots of the table the
// ID's record may hold, so an ID not in the making (a finished record's)
// costs a few atomic loads and takes the lock of no record, unless one
// that shares those slots is in the making.
func (r *Recorder) ActiveRecord(id ID) (Record, bool) {
	if r == nil {
		return Record{}, false
	}
	now := time.Now()
	base := probeBase(id)
	for i := range uint64(inflightProbe) {
		a := r.inflight.slots[(base+i)&(inflightSlots-1)].Load()
		if a == nil {
			continue
		}
		if s, ok := a.snapshotIf(now, 0, func(r *Record) bool { return r.ID == id }); ok {
			budget := max(activeRedactBudget, len(s.Path)) // one record: its path whole
			r.prepareListed(&s, &budget)
			return s, true
		}
	}
	return Record{}, false
}

// snapshot copies what is known of a so far, with at most maxCalls calls
// (all when maxCalls <= 0); ok is false when a has ended.
func (a *ActiveRecord) snapshot(now time.Time, maxCalls int) (Record, bool) {
	return a.snapshotIf(now, maxCalls, nil)
}

// snapshotIf is snapshot for a record that match (nil: any) accepts; ok is
// false when a has ended or match refuses it. Of a's record it reads, with
// a.mu held, only the fields set before a was listed, which FinishAt
// changes (cutting strings to their caps) only after it has marked a
// ended, under the same lock: once ended, the record belongs to the sinks,
// and its memory may be reused for another request.
func (a *ActiveRecord) snapshotIf(now time.Time, maxCalls int, match func(*Record) bool) (Record, bool) {
	a.mu.Lock()
	if a.ended || match != nil && !match(a.r) {
		a.mu.Unlock()
		return Record{}, false
	}
	src := a.r
	s := Record{
		ID: src.ID, TraceID: src.TraceID, SpanID: src.SpanID, ParentSpanID: src.ParentSpanID, Kind: src.Kind,
		Start: src.Start, Method: src.Method, Path: src.Path, Instance: src.Instance,
		Duration: max(now.Sub(a.start), 0),
		Overhead: time.Duration(a.overhead.Load()),
	}
	s.Route = a.liveRoute()
	n := int(a.live)
	if maxCalls > 0 {
		n = min(n, maxCalls)
	}
	s.Calls = make([]Call, 0, n)
	a.callsLocked(func(ac *ActiveCall) bool {
		if len(s.Calls) == n {
			return false
		}
		s.Calls = append(s.Calls, *ac.c)
		c := &s.Calls[len(s.Calls)-1]
		// The raw stack lives in the record's buffer, which is reused
		// once the record is done with: the snapshot gets its own copy,
		// symbolized later without the lock.
		c.setRawStack(slices.Clone(ac.c.rawStack()))
		c.slot, c.dropped = 0, 0 // the slot's, not the record's
		c.Stack = nil
		c.Attrs = slices.Clone(ac.c.Attrs)
		if n := ac.c.dropped; n > 0 { // SetAttr capped the others
			c.Attrs = append(c.Attrs, droppedAttrs(int(n)))
		}
		c.Phases = slices.Clone(ac.c.Phases)
		if p := ac.parent; p != nil && p.discarded() {
			c.ParentSpanID = ac.keptParentSpan() // its parent was removed
		}
		if !ac.ended() {
			c.Running = true
			c.Duration = max(s.Duration-c.Start, 0)
		}
		return true
	})
	// Dropped as a finished record's are: not kept. Those kept and not
	// copied are the snapshot's own (see Record.KeptCalls).
	s.DroppedCalls = int(a.dropped)
	s.size = -1 - int64(int(a.live)-len(s.Calls))
	st := a.stream()
	a.mu.Unlock()
	if st != nil {
		st.fold(&s)
	}
	if m := a.message(); m != nil {
		s.Attrs = append(s.Attrs, m.attrs()...)
	}
	return s, true
}

// activeRedactBudget bounds the bytes of the paths longer than the
// recorder's text cap ([WithMaxText]) that one listing of the records in
// the making ([Recorder.Active]) redacts: a path is redacted whole before
// it is capped (a secret cut in two would no longer look like one), and
// requests held open with long paths would cost their whole redaction on
// every refresh of the dashboard, which shows a few hundred bytes of each.
const activeRedactBudget = 1 << 20

// elidedPath is the path of a listed record whose path was too long to be
// redacted within the listing's budget.
const elidedPath = "…"

// prepareListed prepares snapshot s for a listing as prepareSnapshot does,
// its path longer than the text cap redacted whole if it fits in *budget
// (and taken off it), or else replaced by elidedPath: never cut before it
// is redacted. The redacted path is capped as a finished record's is.
func (r *Recorder) prepareListed(s *Record, budget *int) {
	if n := len(s.Path); n > r.cfg.maxText {
		if n > *budget {
			s.Path = elidedPath
		} else {
			*budget -= n
		}
	}
	r.prepareSnapshot(s)
	capString(&s.Path, r.cfg.maxText)
}

// prepareSnapshot does for a snapshot what the writer does for a finished
// record: symbolizes stacks and redacts. It may run in any goroutine.
func (r *Recorder) prepareSnapshot(rec *Record) {
	r.symbolize(rec)
	r.otherScrubber().record(rec)
}
