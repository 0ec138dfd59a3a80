package recording

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"
)

// The in-flight registry: the records of requests running now, for
// x/net/trace-style "active requests" pages ([Recorder.Active]). A record
// takes a slot of a fixed table when it starts (one atomic load and one
// compare-and-swap) and frees it when it finishes (one atomic store): no
// lock and no allocation on the request path, and nothing at all per call.
// A request that finds no free slot near its own is counted, not listed.

// inflightSlots is the size of the table: how many requests can be listed
// at once.
const inflightSlots = 1024

// inflightProbe is how many slots a starting record tries.
const inflightProbe = 8

type inflight struct {
	slots    []atomic.Pointer[ActiveRecord]
	unlisted atomic.Int64 // records running now that found no slot
}

func newInflight() *inflight {
	return &inflight{slots: make([]atomic.Pointer[ActiveRecord], inflightSlots)}
}

// add lists a. Consecutive records start at slots a cache line apart, so
// that requests on different cores do not write the same line.
func (in *inflight) add(a *ActiveRecord) {
	h := binary.BigEndian.Uint64(a.r.ID[8:]) // a per-process prefix and a counter
	const mask = inflightSlots - 1
	base := h*8 + h/(inflightSlots/8)
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

// remove unlists a; it is called once, by the goroutine that added it.
func (in *inflight) remove(a *ActiveRecord) {
	switch {
	case a.slot > 0:
		in.slots[a.slot-1].Store(nil)
	case a.slot < 0:
		in.unlisted.Add(-1)
	}
	a.slot = 0
}

// Active lists the requests being recorded now, longest-running first: at
// most max records (all when max <= 0), each with at most maxCalls of its
// calls so far (the first ones; all when maxCalls <= 0), copied when Active
// runs. A request whose record has not ended is in the list unless the
// recorder's table of 1,024 in-flight requests had no room for it when it
// started: unlisted counts those. Filters that depend on the route are
// applied when a request ends, so a request they will exclude is listed
// while it runs.
//
// The records are snapshots, not finished records: their Duration is the
// time run so far; their calls' stacks are not symbolized; calls still
// running have Running set and their duration so far; Route, Status, sizes
// and other fields the request's wrapper sets as it ends are empty; paths,
// call names, summaries, errors and attributes are redacted by the
// recorder's rules ([WithRedaction]) as finished records are;
// DroppedCalls counts the calls not copied or not kept. Listing costs the
// requests nothing but a short hold of each record's lock while its calls
// are copied.
func (r *Recorder) Active(max, maxCalls int) (recs []Record, unlisted int) {
	now := time.Now()
	var live []*ActiveRecord
	for i := range r.inflight.slots {
		if a := r.inflight.slots[i].Load(); a != nil {
			live = append(live, a)
		}
	}
	slices.SortFunc(live, func(x, y *ActiveRecord) int { return x.start.Compare(y.start) })
	for _, a := range live {
		if max > 0 && len(recs) == max {
			unlisted += len(live) - len(recs)
			break
		}
		if s, ok := a.snapshot(now, maxCalls); ok {
			r.scrubWith(&s, r.cfg.redaction.secretHeader) // redacted as the finished record will be
			recs = append(recs, s)
		}
	}
	return recs, unlisted + int(r.inflight.unlisted.Load())
}

// snapshot copies what is known of a running request; ok is false when it
// has ended. The request fields it reads are set before the record is
// listed; FinishAt changes them (cutting strings to their caps) only after
// it has marked the record ended, under the same lock.
func (a *ActiveRecord) snapshot(now time.Time, maxCalls int) (Record, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return Record{}, false
	}
	src := a.r
	s := Record{
		ID: src.ID, TraceID: src.TraceID, SpanID: src.SpanID, ParentSpanID: src.ParentSpanID, Kind: src.Kind,
		Start: src.Start, Method: src.Method, Path: src.Path, Instance: src.Instance,
		Duration: max(now.Sub(a.start), 0),
	}
	n := a.live
	if maxCalls > 0 {
		n = min(n, maxCalls)
	}
	s.Calls = make([]Call, 0, n)
	a.callsLocked(func(ac *ActiveCall) bool {
		if len(s.Calls) == n {
			return false
		}
		s.Calls = append(s.Calls, ac.c)
		c := &s.Calls[len(s.Calls)-1]
		c.pcs, c.Stack = nil, nil
		c.Attrs = slices.Clone(ac.c.Attrs)
		c.Phases = slices.Clone(ac.c.Phases)
		if !ac.ended {
			c.Running = true
			c.Duration = max(s.Duration-c.Start, 0)
		}
		return true
	})
	s.DroppedCalls = a.dropped + a.live - len(s.Calls)
	return s, true
}
