package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// DefaultCapacity is how many records a store keeps when no capacity is given.
const DefaultCapacity = 5000

// DefaultMaxTraceBytes is how many bytes of execution traces a store keeps
// when [WithMaxTraceBytes] does not say.
const DefaultMaxTraceBytes = 64 << 20

// Store keeps the newest records in memory. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	cap     int
	maxKeys int
	recs    []entry // ascending by ID; a window of buf
	// buf holds recs, which move towards its end as the oldest records go
	// and new ones come, and are moved back to its start when they reach
	// it: each record is moved about once, rather than every record at
	// every Write (see room).
	buf    []entry
	closed bool

	// Execution traces, apart from their records: each snapshot once,
	// with the records referring to it (see recording.ExecTrace.Snapshot).
	snaps         map[recording.ID]*snapshot    // by snapshot ID
	traces        map[recording.ID]recording.ID // record ID -> snapshot ID
	traceBytes    int64                         // of snaps, each counted once
	maxTraceBytes int64
}

// A snapshot is an execution trace's data and the records referring to
// it.
type snapshot struct {
	data []byte
	refs []recording.ID
}

// An entry is a record the store keeps, and its RPCs ([recording.Record.RPCStats]),
// made once by Write: the summaries readers are given share them. The
// rest of a record's summary is made when it is read (see summary): kept
// in the entry, it took ~290 bytes a record, ten pointer words of them
// that the garbage collector scanned in every cycle, and ~180
// instructions a Write (see "The hello scenario's whole process,
// twenty-first round" in docs/BENCHMARKS.md).
type entry struct {
	rec  *recording.Record
	rpcs []recording.RPCStat
}

// summary returns e's record's summary, as [recording.Record.SummaryInto]
// makes it, its RPCs e's. scratch is the caller's buffer for the RPCs
// SummaryInto counts again, which the summary does not keep: a reader
// of many summaries allocates none a record.
func (e *entry) summary(scratch *[]recording.RPCStat) recording.Summary {
	s := recording.Summary{RPCs: (*scratch)[:0]}
	e.rec.SummaryInto(&s)
	*scratch = s.RPCs[:0]
	s.RPCs = e.rpcs
	return s
}

var _ store.ExecTraceStore = (*Store)(nil)

// New returns a store that keeps at most capacity records (the oldest go
// first); capacity <= 0 means [DefaultCapacity].
func New(capacity int, opts ...Option) *Store {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	s := &Store{cap: capacity, maxKeys: store.DefaultMaxKeys, maxTraceBytes: DefaultMaxTraceBytes,
		snaps: make(map[recording.ID]*snapshot), traces: make(map[recording.ID]recording.ID)}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// An Option configures [New].
type Option interface{ apply(*Store) }

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithMaxKeys sets how many distinct routes, RPCs and route×RPC pairs each
// list of a [Store.Stats] answer keeps before folding the rest into
// [store.Other] (default [store.DefaultMaxKeys]); n < 0 keeps them all, 0
// keeps the default.
func WithMaxKeys(n int) Option {
	return optionFunc(func(s *Store) {
		switch {
		case n < 0:
			s.maxKeys = 0
		case n > 0:
			s.maxKeys = n
		}
	})
}

// WithMaxTraceBytes caps the bytes of execution traces the store keeps
// (default [DefaultMaxTraceBytes]); past it the oldest traces are dropped
// (their records stay). n < 0 keeps no trace, 0 keeps the default.
func WithMaxTraceBytes(n int64) Option {
	return optionFunc(func(s *Store) {
		switch {
		case n < 0:
			s.maxTraceBytes = 0
		case n > 0:
			s.maxTraceBytes = n
		}
	})
}

// Write adds records. The store keeps the *Record values, which the recorder
// never modifies after handing them over; a record with an execution trace
// is kept as a copy whose ExecTrace has no Data, the data apart (see
// [store.ExecTraceStore]).
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	for _, r := range recs {
		if r == nil {
			continue
		}
		n := len(s.recs)
		i := n // records come about in order of their IDs: the newest goes last
		older := n > 0 && bytes.Compare(s.recs[n-1].rec.ID[:], r.ID[:]) >= 0
		if r.ExecTrace != nil {
			r = s.keepTrace(r)
		} else if older && len(s.traces) > 0 {
			// Only a record stored already has a trace to forget:
			// one newer than every record stored is not looked up.
			s.dropTrace(r.ID)
		}
		if older {
			i, _ = s.find(r.ID)
		}
		if i >= n || s.recs[i].rec.ID != r.ID {
			s.room()
			copy(s.recs[i+1:], s.recs[i:n])
		}
		// The entry is written in place. Its RPCs are never reused:
		// readers hold copies of summaries (List), which share them,
		// and after the shift above the entry may be a copy of the next.
		e := &s.recs[i]
		e.rec, e.rpcs = r, r.AppendRPCStats(nil)
		// The oldest record goes as each new one comes, rather than
		// once the batch is in: s.recs never holds more than one
		// record over the capacity, so room finds s.buf at most half
		// full and moves the records back rather than growing it.
		// (The newest s.cap records of the store and the batch stay,
		// as they would all at once.)
		if len(s.recs) > s.cap {
			s.dropTrace(s.recs[0].rec.ID)
			s.recs[0] = entry{}
			s.recs = s.recs[1:]
		}
	}
	s.trimTraces()
	return nil
}

// room makes s.recs one entry longer, at its end. When s.recs has reached
// the end of s.buf, it is moved back to the start of s.buf if that is at
// most half full, or to a new buffer twice its length — or, once that
// length would pass a quarter of the capacity, to the full store's buffer,
// twice the capacity and two more, which room never grows again: Write
// keeps s.recs within the capacity and one more, so its window then always
// fits in half. A store that has taken an eighth of its capacity is taken
// to be filling. (Doubling all the way took three buffers more as a store
// filled, the last one just short of the full one and grown again when the
// window first reached its end: for the default capacity 8.2 MB allocated
// in all, where this takes 3.5 MB, in a load test's first recorded
// rounds.)
func (s *Store) room() {
	n := len(s.recs)
	if n < cap(s.recs) {
		s.recs = s.recs[:n+1]
		return
	}
	if n+1 > len(s.buf)/2 {
		size := max(2*(n+1), 16)
		if size > s.cap/4 {
			size = max(2*(s.cap+2), size)
		}
		s.buf = make([]entry, size)
	}
	copy(s.buf, s.recs)
	clear(s.buf[n:])
	s.recs = s.buf[:n+1]
}

// keepTrace keeps r's trace data apart and returns the copy of r to store:
// without the data, or without the trace when it cannot be kept. A
// snapshot stored already (another record refers to it) is not kept
// again: r refers to it too.
func (s *Store) keepTrace(r *recording.Record) *recording.Record {
	c := *r
	t := r.ExecTrace
	id := t.SnapshotOf(r.ID)
	if old, ok := s.traces[r.ID]; ok && old != id {
		s.dropTrace(r.ID)
	}
	sn := s.snaps[id]
	if sn == nil {
		if t.Data == nil || int64(len(t.Data)) > s.maxTraceBytes {
			s.dropTrace(r.ID)
			c.ExecTrace = nil
			return &c
		}
		sn = &snapshot{data: t.Data}
		s.snaps[id] = sn
		s.traceBytes += int64(len(t.Data))
	}
	if _, ok := s.traces[r.ID]; !ok {
		sn.refs = append(sn.refs, r.ID)
		s.traces[r.ID] = id
	}
	meta := *t
	meta.Data = nil
	meta.Size = int64(len(sn.data))
	c.ExecTrace = &meta
	return &c
}

// dropTrace forgets that record id refers to a snapshot, if it does, and
// the snapshot once no record refers to it. The record's entry is the
// caller's business.
func (s *Store) dropTrace(id recording.ID) {
	sid, ok := s.traces[id]
	if !ok {
		return
	}
	delete(s.traces, id)
	sn := s.snaps[sid]
	if i := slices.Index(sn.refs, id); i >= 0 {
		sn.refs = slices.Delete(sn.refs, i, i+1)
	}
	if len(sn.refs) == 0 {
		s.traceBytes -= int64(len(sn.data))
		delete(s.snaps, sid)
	}
}

// trimTraces drops the oldest snapshots while they take more than the
// cap, and the ExecTrace of the records referring to them. Records are
// replaced, not modified: readers may hold them.
func (s *Store) trimTraces() {
	for s.traceBytes > s.maxTraceBytes && len(s.snaps) > 0 {
		var oldest recording.ID
		first := true
		for id := range s.snaps {
			if first || bytes.Compare(id[:], oldest[:]) < 0 {
				oldest, first = id, false
			}
		}
		for _, rid := range slices.Clone(s.snaps[oldest].refs) {
			s.dropTrace(rid)
			if i, ok := s.find(rid); ok {
				c := *s.recs[i].rec
				c.ExecTrace = nil
				s.recs[i].rec = &c
			}
		}
	}
}

// TraceSize returns the bytes of execution trace data the store keeps,
// each snapshot counted once however many records refer to it.
func (s *Store) TraceSize() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.traceBytes
}

// ExecTrace returns the execution trace data of the record with the given
// ID (see [store.ExecTraceStore]).
func (s *Store) ExecTrace(ctx context.Context, id recording.ID) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	sid, ok := s.traces[id]
	if !ok {
		return nil, fmt.Errorf("execution trace of %s: %w", id, store.ErrNotFound)
	}
	return s.snaps[sid].data, nil
}

func (s *Store) find(id recording.ID) (int, bool) {
	i := sort.Search(len(s.recs), func(i int) bool { return bytes.Compare(s.recs[i].rec.ID[:], id[:]) >= 0 })
	return i, i < len(s.recs) && s.recs[i].rec.ID == id
}

// Get returns the record with the given ID.
func (s *Store) Get(ctx context.Context, id recording.ID) (*recording.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	i, ok := s.find(id)
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return s.recs[i].rec, nil
}

// List returns summaries newest first. The cursor is the ID of the last
// summary of the previous page.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	limit, err := storekit.Limit(&q)
	if err != nil {
		return store.Page{}, err
	}
	var before recording.ID
	if q.Cursor != "" {
		if before, err = recording.ParseID(q.Cursor); err != nil {
			return store.Page{}, storekit.InvalidQuery(fmt.Sprintf("cursor %q", q.Cursor))
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Page{}, store.ErrClosed
	}
	i := len(s.recs)
	if q.Cursor != "" {
		i, _ = s.find(before)
	}
	var p store.Page
	var scratch []recording.RPCStat
	for i--; i >= 0; i-- {
		sum := s.recs[i].summary(&scratch)
		if !storekit.Matches(&q, &sum) {
			continue
		}
		if len(p.Records) == limit {
			p.Next = p.Records[len(p.Records)-1].ID.String()
			break
		}
		p.Records = append(p.Records, sum)
	}
	return p, nil
}

// Stats aggregates the records that started within w, exactly, each list
// folded to the store's maximum of keys (see [WithMaxKeys]).
func (s *Store) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	w, err := storekit.ResolveWindow(w, time.Now())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	a := storekit.NewExact(w, s.maxKeys)
	for i := range s.recs {
		if r := s.recs[i].rec; !r.Start.Before(w.Since) && r.Start.Before(w.Until) {
			a.AddRecord(r)
		}
	}
	return a.Stats(), nil
}

// Series buckets the records that started within w into steps.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, store.ErrClosed
	}
	var sums []*recording.Summary
	var scratch []recording.RPCStat
	for i := range s.recs {
		e := &s.recs[i]
		if r := e.rec; !r.Start.Before(w.Since) && r.Start.Before(w.Until) {
			c := e.summary(&scratch)
			sums = append(sums, &c)
		}
	}
	s.mu.RUnlock()
	return storekit.ExactSeries(w, step, sums), nil
}

// Clear deletes every record.
func (s *Store) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.recs, s.buf = nil, nil
	clear(s.traces)
	clear(s.snaps)
	s.traceBytes = 0
	return nil
}

// Close releases the records. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.recs, s.buf = nil, nil
	clear(s.traces)
	clear(s.snaps)
	s.traceBytes = 0
	return nil
}

// Len returns how many records the store holds (an int, as every store's
// Len).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}
