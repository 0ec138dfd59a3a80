package recording

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// The records in the making. Every record a recorder starts is in its
// inflight set from [Recorder.StartRecord] until [ActiveRecord.FinishAt],
// so that what runs now — slow requests, long-lived connections — can be
// seen before it ends (x/net/trace's "active" traces). A record joins and
// leaves with one uncontended lock each: the set is sharded by the record
// ID's counter, and a record links itself into its shard's list, with no
// allocation. A call costs nothing more.

// inflightShards is the number of shards of an inflight set (a power of 2).
const inflightShards = 16

type inflight struct {
	shards [inflightShards]inflightShard
}

type inflightShard struct {
	mu   sync.Mutex
	head *ActiveRecord
	_    [40]byte // a cache line per shard
}

func (s *inflight) shard(a *ActiveRecord) *inflightShard {
	return &s.shards[a.r.ID[len(a.r.ID)-1]&(inflightShards-1)]
}

// add links a into its shard; a's immutable fields are set before, so that
// readers of the set see them.
func (s *inflight) add(a *ActiveRecord) {
	sh := s.shard(a)
	sh.mu.Lock()
	a.next = sh.head
	if sh.head != nil {
		sh.head.prev = a
	}
	sh.head = a
	sh.mu.Unlock()
}

// remove unlinks a from its shard; removing it again has no effect.
func (s *inflight) remove(a *ActiveRecord) {
	sh := s.shard(a)
	sh.mu.Lock()
	if a.prev != nil || sh.head == a {
		if a.prev != nil {
			a.prev.next = a.next
		} else {
			sh.head = a.next
		}
		if a.next != nil {
			a.next.prev = a.prev
		}
		a.prev, a.next = nil, nil
	}
	sh.mu.Unlock()
}

// each calls f for every record in the set, a shard at a time, with that
// shard locked: f must be quick and must not start or finish records.
func (s *inflight) each(f func(*ActiveRecord)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for a := sh.head; a != nil; a = a.next {
			f(a)
		}
		sh.mu.Unlock()
	}
}

// Active returns a snapshot of every record in the making — requests that
// are running now, long-lived connections that are open — newest first.
//
// Each is a copy the caller owns, prepared as a finished record is before a
// sink sees it (stacks symbolized, redacted), with what is known so far:
// the identity and trace of the request, its method, path and instance,
// Duration up to now, the calls made so far (those still running marked
// [Call.Running], with their duration so far), and, for a connection whose
// messages are recorded ([StartStream]), its route and its message counts
// and bytes so far (as attributes and in RequestBytes and ResponseBytes).
// Status, sizes and the other fields a server wrapper fills in when the
// request ends are still zero. The request's headers are not included.
//
// Active takes the records' locks one at a time, briefly; the copying,
// symbolizing and redacting run in the caller's goroutine.
func (r *Recorder) Active() []*Record {
	if r == nil {
		return nil
	}
	var as []*ActiveRecord
	r.inflight.each(func(a *ActiveRecord) { as = append(as, a) })
	now := time.Now()
	out := make([]*Record, 0, len(as))
	for _, a := range as {
		if rec := a.snapshot(now); rec != nil {
			r.prepareSnapshot(rec)
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(x, y *Record) int { return cmp.Compare(string(y.ID[:]), string(x.ID[:])) })
	return out
}

// ActiveRecord returns the snapshot of the record in the making with the
// given ID, as [Recorder.Active] makes it, and whether there is one.
func (r *Recorder) ActiveRecord(id ID) (*Record, bool) {
	if r == nil {
		return nil, false
	}
	var found *ActiveRecord
	sh := &r.inflight.shards[id[len(id)-1]&(inflightShards-1)]
	sh.mu.Lock()
	for a := sh.head; a != nil; a = a.next {
		if a.r.ID == id {
			found = a
			break
		}
	}
	sh.mu.Unlock()
	if found == nil {
		return nil, false
	}
	rec := found.snapshot(time.Now())
	if rec == nil {
		return nil, false
	}
	r.prepareSnapshot(rec)
	return rec, true
}

// snapshot copies what is known of a so far, or returns nil when a has
// ended. Of a's record it reads only the fields StartRecord set, which the
// goroutine that owns the record leaves alone until it finishes it.
func (a *ActiveRecord) snapshot(now time.Time) *Record {
	a.mu.Lock()
	if a.ended {
		a.mu.Unlock()
		return nil
	}
	// Read under the lock while a has not ended: the fields StartRecord
	// set are not changed before FinishAt, which takes the lock first.
	src := &a.r
	rec := &Record{
		ID:           src.ID,
		TraceID:      src.TraceID,
		SpanID:       src.SpanID,
		ParentSpanID: src.ParentSpanID,
		Kind:         src.Kind,
		Start:        src.Start,
		Method:       src.Method,
		Path:         src.Path,
		Instance:     src.Instance,
		Duration:     max(now.Sub(a.start), 0),
		Overhead:     time.Duration(a.overhead.Load()),
	}
	rec.Route = a.liveRoute()
	rec.Calls = a.copyCallsLocked(rec.Duration)
	rec.DroppedCalls = a.dropped
	s := a.stream
	a.mu.Unlock()
	if s != nil {
		s.fold(rec)
	}
	if a.msg != nil {
		rec.Attrs = append(rec.Attrs, a.msg.attrs()...)
	}
	return rec
}

// prepareSnapshot does for a snapshot what the writer does for a finished
// record: symbolizes stacks and redacts. It may run in any goroutine.
func (r *Recorder) prepareSnapshot(rec *Record) {
	r.symbolize(rec)
	r.scrubWith(rec, r.cfg.redaction.secretHeader)
}
