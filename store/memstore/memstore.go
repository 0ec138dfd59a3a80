package memstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// DefaultCapacity is how many records a store keeps when no capacity is given.
const DefaultCapacity = 5000

// DefaultMaxTraceBytes is how many bytes of execution traces a store keeps
// when [WithMaxTraceBytes] does not say.
const DefaultMaxTraceBytes = 64 << 20

// Store keeps the newest records in memory. It is safe for concurrent use.
//
// It keeps no record it is given: Write encodes each one, without its
// calls' stacks, with what its summary adds to it, into slabs of bytes
// (see slabs), the stacks once each in a table the records refer to (see
// stackTable), and readers are given records and summaries decoded from
// them. What it keeps holds no pointer for the garbage collector to
// follow, but for the slabs themselves, the tables of stacks and the
// execution traces' data; a full store of the default capacity kept some
// 5,000 records' calls, stacks, attributes and header maps, which every
// collection marked (see "memstore keeps bytes" in
// docs/BENCHMARKS-history.md).
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

	// data holds the records' bytes, which entries locate.
	data slabs
	// stacks holds the tables of stacks the records' calls refer to.
	stacks stacks
	// Write's buffers, under mu: a record's bytes (scratch), the
	// numbers of its calls' stacks (ids), and the summary and call
	// durations its summary's rest is made of.
	scratch []byte
	ids     []byte
	sum     recording.Summary
	durs    []time.Duration

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

// An entry locates a record the store keeps in its slabs, at off in slab
// number slab: the record's encoding, recLen bytes, without its calls'
// stacks ([codec.AppendRecordWithoutStacks]), or whole
// ([codec.AppendRecord]) if its stacks do not fit in a table (its first
// bytes tell: [codec.RecordWithoutStacks]); then what its summary adds
// to the record's head ([codec.AppendSummaryRest]), up to restEnd; then,
// if tab is set (a record written without stacks it had), the numbers of
// its calls' stacks in the table of stacks numbered tab, one varint a
// call (-1: none), up to size. It holds no pointer: a full
// store's buffer of entries is not scanned by the garbage collector.
// start is the record's start (Unix nanoseconds), for Stats' and Series'
// windows.
type entry struct {
	id      recording.ID
	start   int64
	slab    uint32
	off     uint32
	recLen  uint32
	restEnd uint32
	size    uint32
	tab     uint32
}

// record returns the bytes of e's record.
func (s *Store) record(e *entry) []byte {
	return s.data.bufs[e.slab][e.off : e.off+e.recLen : e.off+e.recLen]
}

// rest returns the bytes of what e's summary adds to its record's head.
func (s *Store) rest(e *entry) []byte {
	return s.data.bufs[e.slab][e.off+e.recLen : e.off+e.restEnd : e.off+e.restEnd]
}

// stackIDs returns the bytes of the numbers of e's calls' stacks.
func (s *Store) stackIDs(e *entry) []byte {
	return s.data.bufs[e.slab][e.off+e.restEnd : e.off+e.size : e.off+e.size]
}

// release lets e's bytes and its reference to a table of stacks go.
func (s *Store) release(e *entry) {
	s.data.release(e.slab, e.size)
	s.stacks.release(e.tab)
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

// Write adds records. The store keeps nothing of them once it returns
// but strings (which are never changed): each is encoded, with its
// summary, into the store's own memory, its calls' stacks copied into a
// table once each (an execution trace's data, which the recorder never
// reuses, is kept as it is, apart from its record: see
// [store.ExecTraceStore]). What readers are given back is decoded from
// that memory, as a store on disk gives it (see the package
// documentation for the fields no store keeps).
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.stacks.write++
	for _, r := range recs {
		if r == nil {
			continue
		}
		n := len(s.recs)
		i := n // records come about in order of their IDs: the newest goes last
		older := n > 0 && !idLess(&s.recs[n-1].id, &r.ID)
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
		tab, without := uint32(0), true
		if len(r.Calls) > 0 { // a record without calls has no stacks: not called (~18 instructions)
			tab, without = s.stackIDsOf(r)
		}
		// The record is encoded into the free part of the slab being
		// filled when it has room for any record a slab is shared by,
		// rather than into scratch and copied there (see slabs.tail).
		tail := s.data.tail()
		dst := tail
		if tail == nil {
			dst = s.scratch[:0]
		}
		var b []byte
		if without {
			b = codec.AppendRecordWithoutStacks(dst, r)
		} else {
			b = codec.AppendRecord(dst, r)
		}
		recLen := len(b)
		b, s.durs = codec.AppendSummaryRest(b, r, &s.sum, s.durs[:0])
		restEnd := len(b)
		if tab != 0 {
			b = append(b, s.ids...)
		}
		inSlab := tail != nil && unsafe.SliceData(b) == unsafe.SliceData(tail)
		if !inSlab {
			// In scratch, or in a copy that appending made of it or
			// of the slab's free part (past the slab's end): the
			// next record's scratch.
			s.scratch = b
		} else if len(b) > slabSize/4 {
			// Too large to share a slab: put copies it into one of
			// its own (the slab's free part stays free).
			inSlab = false
		}
		if uint64(len(b)) > maxRecordBytes {
			// Past what an entry can locate: the record is not
			// kept, nor its trace.
			s.dropTrace(r.ID)
			continue
		}
		var slab, off uint32
		if inSlab {
			slab, off = s.data.putTail(len(b))
		} else {
			slab, off = s.data.put(b)
		}
		if tab != 0 {
			s.stacks.table(tab).refs++
		}
		if i < n && s.recs[i].id == r.ID {
			s.release(&s.recs[i])
		} else {
			s.room()
			if i < n { // mostly not: the newest record goes last
				copy(s.recs[i+1:], s.recs[i:n])
			}
		}
		s.recs[i] = entry{id: r.ID, start: r.Start.UnixNano(), slab: slab, off: off,
			recLen: uint32(recLen), restEnd: uint32(restEnd), size: uint32(len(b)), tab: tab}
		// The oldest record goes as each new one comes, rather than
		// once the batch is in: s.recs never holds more than one
		// record over the capacity, so room finds s.buf at most half
		// full and moves the records back rather than growing it.
		// (The newest s.cap records of the store and the batch stay,
		// as they would all at once.)
		if len(s.recs) > s.cap {
			e := &s.recs[0]
			if len(s.traces) > 0 {
				// A look-up in the empty map of traces (a store
				// without execution traces) cost ~45 instructions a
				// record (see "thirtieth round" in
				// docs/BENCHMARKS-history-2.md).
				s.dropTrace(e.id)
			}
			s.release(e)
			s.recs = s.recs[1:]
		}
	}
	// The summary's strings are the last record's: not kept past Write.
	clear(s.sum.RPCs[:cap(s.sum.RPCs)])
	s.sum = recording.Summary{RPCs: s.sum.RPCs[:0]}
	if s.data.wasteful() {
		s.compact()
	}
	s.trimTraces()
	return nil
}

// idLess reports whether a sorts before b, as bytes.Compare(a[:], b[:])
// < 0 does: by its two halves, big-endian, without the call of the
// runtime's general comparison (~30 instructions a record written, see
// "thirty-first round" in docs/BENCHMARKS.md).
func idLess(a, b *recording.ID) bool {
	ah, bh := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if ah != bh {
		return ah < bh
	}
	return binary.BigEndian.Uint64(a[8:]) < binary.BigEndian.Uint64(b[8:])
}

// stackIDsOf puts in s.ids the numbers of r's calls' stacks in the
// current table of stacks, one varint a call (-1 for a call without a
// stack), adding the stacks the table lacks, and returns the table's
// number and true: r is written without its stacks. It returns 0 and
// true for a record whose calls have no stack (nor numbers), and 0 and
// false for one whose stacks do not fit in a table (more than
// maxTableFrames frames of their own), which is written whole. A table
// that has no room for a record's stacks is followed by a fresh one.
func (s *Store) stackIDsOf(r *recording.Record) (uint32, bool) {
	calls := r.Calls
	i := 0
	for i < len(calls) && len(calls[i].Stack) == 0 {
		i++
	}
	if i == len(calls) {
		return 0, true
	}
	k := s.stacks.current()
	t := s.stacks.table(k)
	write := s.stacks.write
	fresh := false // k was started for r
again:
	ids := s.ids[:0]
	var prev *recording.Frame // the last stack's slice: its first frame, its length and number
	prevN, prevID := 0, int32(-1)
	for i := range calls {
		st := calls[i].Stack
		id := int32(-1)
		switch {
		case len(st) == 0:
		case &st[0] == prev && len(st) == prevN:
			id = prevID // the previous call's stack (calls made from one place)
		default:
			if id = t.find(st, write); id < 0 {
				if t.n+len(st) > maxTableFrames {
					if fresh {
						s.ids = ids
						return 0, false
					}
					k, fresh = s.stacks.fresh(), true
					t = s.stacks.table(k)
					goto again
				}
				id = t.add(st, write)
			}
			prev, prevN, prevID = &st[0], len(st), id
		}
		if uint32(id+1) < 64 { // -1 to 62: one byte, as AppendVarint writes it
			ids = append(ids, byte(uint64(id)<<1^uint64(id>>31)))
		} else {
			ids = binary.AppendVarint(ids, int64(id))
		}
	}
	s.ids = ids
	return k, true
}

// BorrowsRecords reports true: Write encodes the records it is given and
// keeps none of them, nor any of their slices or maps, once it returns
// (the strings of their calls' stacks' frames are kept, in copies of the
// stacks, as [recording.Borrower] allows; an execution trace's data,
// which the recorder allocates for the trace and never reuses, is kept). A recorder whose sinks all borrow records
// reuses their memory (see [recording.Borrower]).
func (s *Store) BorrowsRecords() bool { return true }

var _ recording.Borrower = (*Store)(nil)

// compact copies every record held into new slabs, in the order of their
// IDs, and lets the old ones go (see slabs.wasteful).
func (s *Store) compact() {
	old := s.data
	s.data = slabs{}
	for i := range s.recs {
		e := &s.recs[i]
		e.slab, e.off = s.data.put(old.bufs[e.slab][e.off : e.off+e.size])
	}
	// (The tables of stacks stay: entries refer to them by number.)
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

// keepTrace keeps r's trace data apart and returns the copy of r to
// encode: its trace without the data (its Size the data kept), or without
// the trace when it cannot be kept. r itself is not changed. A snapshot
// stored already (another record refers to it) is not kept again: r
// refers to it too.
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
// cap. The records referring to them lose their ExecTrace when read (see
// Get): a record is kept with its trace's description only while the
// store holds the trace.
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
	i := sort.Search(len(s.recs), func(i int) bool { return bytes.Compare(s.recs[i].id[:], id[:]) >= 0 })
	return i, i < len(s.recs) && s.recs[i].id == id
}

// Get returns the record with the given ID: decoded, a record of the
// caller's, which shares nothing with the store.
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
	var err error
	e := &s.recs[i]
	rec := s.record(e)
	var r *recording.Record
	if codec.RecordWithoutStacks(rec) {
		r, err = codec.DecodeRecordWithoutStacks(rec)
		if err == nil && e.tab != 0 {
			if err = s.stacks.table(e.tab).restore(r, s.stackIDs(e)); err != nil {
				err = fmt.Errorf("stacks: %w", err)
			}
		}
	} else {
		r, err = codec.DecodeRecord(rec)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", id, err)
	}
	if _, ok := s.traces[id]; !ok {
		r.ExecTrace = nil // dropped past the cap since (see trimTraces)
	}
	return r, nil
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
			return store.Page{}, storekit.InvalidCursor(q.Cursor, 2*len(before))
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
	// Each summary is read as a view of the store's bytes, into one
	// value: only those List returns are given memory of their own.
	var sum recording.Summary
	for i--; i >= 0; i-- {
		e := &s.recs[i]
		if err := codec.ViewSummary(s.record(e), s.rest(e), &sum, nil); err != nil {
			return store.Page{}, fmt.Errorf("list: record %s: %w", e.id, err)
		}
		if !storekit.Matches(&q, &sum) {
			continue
		}
		if len(p.Records) == limit {
			p.Next = p.Records[len(p.Records)-1].ID.String()
			break
		}
		if p.Records == nil {
			p.Records = make([]recording.Summary, 0, min(limit, i+1))
		}
		own := sum
		own.RPCs = nil
		if len(sum.RPCs) > 0 {
			own.RPCs = slices.Clone(sum.RPCs)
		}
		codec.OwnStrings(&own, s.record(e), s.rest(e))
		p.Records = append(p.Records, own)
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
	since, until := w.Since.UnixNano(), w.Until.UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	a := storekit.NewExact(w, s.maxKeys)
	var durs []time.Duration
	// One summary for all, a view of the store's bytes, its RPCs' array
	// reused: the aggregate keeps neither it nor durs, and copies the
	// strings it keeps.
	var sum recording.Summary
	for i := range s.recs {
		e := &s.recs[i]
		if e.start < since || e.start >= until {
			continue
		}
		if err := codec.ViewSummary(s.record(e), s.rest(e), &sum, &durs); err != nil {
			return nil, fmt.Errorf("stats: record %s: %w", e.id, err)
		}
		a.AddSummary(&sum, durs)
		durs = durs[:0]
	}
	return a.Stats(), nil
}

// Series buckets the records that started within w into steps.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	since, until := w.Since.UnixNano(), w.Until.UnixNano()
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, store.ErrClosed
	}
	var pts []storekit.Point
	for i := range s.recs {
		e := &s.recs[i]
		if e.start < since || e.start >= until {
			continue
		}
		o, err := codec.RecordOverall(s.record(e), s.rest(e))
		if err != nil {
			s.mu.RUnlock()
			return nil, fmt.Errorf("series: record %s: %w", e.id, err)
		}
		pts = append(pts, storekit.Point{Start: e.start, Duration: o.Duration, Failed: o.Failed, Calls: o.Calls})
	}
	s.mu.RUnlock()
	return storekit.ExactSeriesOf(w, step, pts), nil
}

// Clear deletes every record.
func (s *Store) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.reset()
	return nil
}

// Close releases the records. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.reset()
	return nil
}

// reset lets every record and trace go, and the memory that held them.
func (s *Store) reset() {
	s.recs, s.buf = nil, nil
	s.data = slabs{}
	s.stacks = stacks{}
	s.scratch, s.ids, s.durs = nil, nil, nil
	s.sum = recording.Summary{}
	clear(s.traces)
	clear(s.snaps)
	s.traceBytes = 0
}

// Len returns how many records the store holds (an int, as every store's
// Len).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}
