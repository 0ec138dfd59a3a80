package recording

import (
	"encoding/binary"
	"sync"
	"time"
	"unsafe"
)

// A Borrower is a [Sink] that uses the records of a batch only while its
// Write runs: once Write has returned, it keeps no *Record of the batch,
// nor any slice or map a record holds (Calls, a call's Stack, Phases and
// Attrs, Headers, Warnings, Attrs). Strings may be kept: they are never
// changed. A sink that keeps records, such as package otelexport's
// Exporter, is not a Borrower; nor is a [SinkFunc].
//
// When every sink of a recorder is a Borrower whose BorrowsRecords returns
// true (and a [Sequence] is one when all its sinks are), the recorder
// reuses a record's memory once every sink is done with it: a recorded
// request then allocates no Record, no Calls, no header map, and no room
// for its calls' attributes and phases ([ActiveCall.Reserve]), whatever
// its size. With any other sink, records are never reused, and sinks may keep
// them, as the [Sink] contract allows. Package badgerstore's Store, package
// redisstore's Store, package memstore's Store (which keeps records
// encoded, not the records) and package ui's Live are Borrowers; package
// otelexport's Exporter (which queues records for its own batches) keeps
// records.
type Borrower interface {
	Sink
	// BorrowsRecords reports whether the sink keeps nothing of a record
	// after Write returns. It is asked once, by [New].
	BorrowsRecords() bool
}

// borrows reports whether s promises to keep nothing of the records it is
// given.
func borrows(s Sink) bool {
	b, ok := s.(Borrower)
	return ok && b.BorrowsRecords()
}

// A recordPool holds records whose sinks are done with them, for the next
// requests to fill: a sync.Pool, and a reserve of records that a garbage
// collection does not empty. Every collection empties a sync.Pool (over
// two cycles), and the records queued and in flight at the time — a batch
// or two — would then be allocated afresh with their calls, header map and
// buffers, several allocations each; the reserve refills first and serves
// when the pool is empty. The reserve is bounded in records and in the
// memory they keep for their next use.
type recordPool struct {
	p sync.Pool

	mu      sync.Mutex
	reserve []*Record
	bytes   int64 // the spare memory of the reserve's records (spareBytes)
}

// reserveRecords is how many records a recordPool keeps through garbage
// collections: about what a recorder has queued and in flight with its
// default batch size; together they keep at most maxReserveBytes of spare
// memory (a record of many calls keeps up to ~130 KB).
const (
	reserveRecords  = 2 * DefaultBatchSize
	maxReserveBytes = 4 << 20
)

// spareBytes estimates the memory rec keeps for its next use. A header
// map the record shares with others (Record.hdrShared) is counted as its
// own: an over-estimate, on the safe side of maxReserveBytes, which keeps
// the function small enough to inline in recordPool.putAll.
func spareBytes(rec *Record) int64 {
	rec.ownSpare()
	return sizeRecord + int64(cap(rec.spare.calls))*sizeCall +
		int64(cap(rec.spare.pcs))*int64(unsafe.Sizeof(uintptr(0))) +
		int64(cap(rec.hdrFlat)+cap(rec.spare.hdrVals))*sizeString +
		int64(len(rec.spare.hdr))*4*sizeString + int64(cap(rec.spare.hdrOrder))*int64(unsafe.Sizeof(headerEntry{})) +
		int64(cap(rec.spare.warnings))*sizeWarning + rec.spare.hdrBytes +
		int64(cap(rec.spare.rooms))*int64(unsafe.Sizeof(callRoom{}))
}

func newRecordPool() *recordPool {
	return &recordPool{reserve: make([]*Record, 0, reserveRecords)}
}

// get takes a record from the reserve first: put fills it first, so that
// the sync.Pool holds records only while the reserve is full, and asking
// the pool first would mostly find it empty — a miss costs more than the
// reserve's lock.
func (p *recordPool) get() *Record {
	p.mu.Lock()
	if n := len(p.reserve); n > 0 {
		rec := p.reserve[n-1]
		p.reserve[n-1] = nil
		p.reserve = p.reserve[:n-1]
		p.bytes -= rec.spare.reserved // spareBytes(rec) as put counted it
		rec.spare.reserved = 0        // no span ID for SetServerSpan's first-wins check (see spare.serverSpan)
		p.mu.Unlock()
		return rec
	}
	p.mu.Unlock()
	if rec, _ := p.p.Get().(*Record); rec != nil {
		return rec
	}
	return newPooledRecord()
}

func (p *recordPool) put(rec *Record) {
	n := spareBytes(rec)
	p.mu.Lock()
	if len(p.reserve) < cap(p.reserve) && p.bytes+n <= maxReserveBytes {
		p.reserve = append(p.reserve, rec)
		rec.spare.reserved = n
		p.bytes += n
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.p.Put(rec)
}

// putAll puts each of recs as put does, taking the reserve's lock once
// rather than once a record (the requests' get takes it too). It keeps
// nothing of recs itself.
func (p *recordPool) putAll(recs []*Record) {
	over := 0 // recs[:over] go to the sync.Pool
	p.mu.Lock()
	// The reserve and its bytes in the loop's variables, stored once
	// after it: a store through a slice may alias p for all the
	// compiler knows, so p's fields would be loaded and stored again for
	// each record.
	reserve, bytes := p.reserve, p.bytes
	for i, rec := range recs {
		n := spareBytes(rec)
		if len(reserve) < cap(reserve) && bytes+n <= maxReserveBytes {
			reserve = append(reserve, rec) // within its capacity
			rec.spare.reserved = n
			bytes += n
			continue
		}
		recs[over], recs[i] = rec, recs[over]
		over++
	}
	p.reserve, p.bytes = reserve, bytes
	p.mu.Unlock()
	for _, rec := range recs[:over] {
		p.p.Put(rec)
	}
}

// Bounds on the memory a pooled record keeps for the next one: a record
// that grew past them (a request of thousands of calls) gives its memory
// back to the garbage collector instead.
const (
	maxSpareCalls   = 256
	maxSpareHeaders = 512
	maxSparePCs     = 64 << 10
	maxSpareRooms   = 32
)

// newKeptRecord returns a new record for sinks that may keep it, with a
// spare borrowed from r's list. (startRecord, which starts every record,
// takes one from the pool when r's sinks borrow records, else makes one
// here.)
func (r *Recorder) newKeptRecord() *Record {
	rec := new(Record)
	rec.spare = r.spares.get()
	return rec
}

// ownSpare returns rec's spare, which it first gives rec if it has none:
// a record not made by startRecord (a snapshot, or a record built by hand)
// before the writer's functions fill its buffers. A record from
// startRecord has its own, until its writer is done with it.
func (rec *Record) ownSpare() *spare {
	if rec.spare == nil {
		rec.spare = new(spare)
	}
	return rec.spare
}

// newPooledRecord returns an empty record with a spare of its own, both
// in one allocation (for the pool, which reuses them together).
func newPooledRecord() *Record {
	b := new(struct {
		rec Record
		sp  spare
	})
	b.rec.spare = &b.sp
	return &b.rec
}

// A spareList holds the spares of records that sinks may keep (r.pool is
// nil): such a record borrows a spare when it is made, for the buffers it
// fills on the request path (raw stacks, header pairs), and its writer
// hands the spare back, empty, once the record is prepared (see deliver):
// a record kept by a sink then holds no spare. Nothing of a spare is
// reachable from a request's context once its record is finished (the
// ActiveRecord reads its record no more, as when records are pooled), so
// a handler that keeps its context or ResponseWriter keeps no spare. The
// list is bounded: past reserveRecords spares, the others are left to
// the garbage collector.
type spareList struct {
	mu   sync.Mutex
	free []*spare
}

// get returns an empty spare: one of the list's, else a new one.
func (l *spareList) get() *spare {
	if l == nil { // a Recorder not made by New
		return new(spare)
	}
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		sp := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return sp
	}
	l.mu.Unlock()
	return new(spare)
}

// takeAll takes the spares of recs, emptied, into the list, and leaves
// each record holding none. It takes the lock once for the batch.
func (l *spareList) takeAll(recs []*Record) {
	if l == nil {
		return
	}
	l.mu.Lock()
	for _, rec := range recs {
		sp := rec.spare
		if sp == nil {
			continue
		}
		rec.spare = nil
		if len(l.free) < cap(l.free) {
			// Empty, but for its buffer of header pairs, which
			// prepare cleared (see spare.flat).
			*sp = spare{flat: sp.flat[:0]}
			l.free = append(l.free, sp)
		}
	}
	l.mu.Unlock()
}

// release hands rec back to the pool, once every sink is done with it (or
// it was never handed to one). It does nothing when r's sinks may keep
// records.
func (r *Recorder) release(rec *Record) {
	if r.pool == nil {
		return
	}
	rec.reset()
	r.pool.put(rec)
}

// releaseAll releases recs as release does each of them, handing them to
// the pool at once. It may reorder recs.
func (r *Recorder) releaseAll(recs []*Record) {
	if r.pool == nil || len(recs) == 0 {
		return
	}
	for _, rec := range recs {
		rec.reset()
	}
	r.pool.putAll(recs)
}

// reset empties rec for its next use, keeping the memory the recorder
// allocated for it (never memory a wrapper or a user set).
func (rec *Record) reset() {
	// The kept memory is emptied in place, in spare, which the zeroing
	// below leaves as it is.
	sp := rec.ownSpare()
	// The calls' array is zeroed where it was used (every call taken from
	// it, see handOverLocked): the next request's calls are made in it as
	// zero memory (see callLocked). A stream's close event appended to
	// the record's Calls in place lies past the spare's length.
	n := len(sp.calls)
	if len(rec.Calls) > n && unsafe.SliceData(rec.Calls) == unsafe.SliceData(sp.calls) {
		n = len(rec.Calls)
	}
	clear(sp.calls[:n])
	sp.calls = sp.calls[:0]
	if cap(sp.calls) > maxSpareCalls {
		sp.calls = nil
	}
	flat := rec.hdrFlat[:cap(rec.hdrFlat)]
	dropStringRefs(flat)
	// The header map keeps its names, for headerMap to refill when the
	// next request sends the same ones, and its values, which share
	// hdrVals: redacted (a secret name's are Redacted), so they hold no
	// secret, and kept so that refillHeaderMap need not redact again a
	// value equal to the last one. hdrVals keeps its length: the values
	// hdr's entries hold. The pairs above, the request's own values,
	// are cleared.
	orderUA, shared := rec.hdrOrderUA, rec.hdrShared
	if cap(flat) > maxSpareHeaders || cap(sp.hdrVals) > maxSpareHeaders || len(sp.hdr) > maxSpareHeaders {
		flat, orderUA, shared = nil, 0, false
		sp.hdr, sp.hdrVals, sp.hdrBytes, sp.hdrOrder = nil, nil, 0, nil
	}
	clear(sp.warnings)
	sp.warnings = sp.warnings[:0]
	sp.pcs = sp.pcs[:0]
	if cap(sp.pcs) > maxSparePCs {
		sp.pcs = nil
	}
	// The rooms taken are zeroed, as the calls are: the next request's
	// calls take them as zero memory (see spareRoomLocked). Those taken
	// from an array replaced since are the garbage collector's. A record
	// whose calls took no room (most: a request without calls) passes
	// over it; the array only grows by rooms taken.
	if len(sp.rooms) > 0 {
		clear(sp.rooms)
		sp.rooms = sp.rooms[:0]
		if cap(sp.rooms) > maxSpareRooms {
			sp.rooms = nil
		}
	}
	// The fields before hdrFlat zeroed at once, as the recordHead they
	// are (a composite literal of Record would be built aside and
	// copied in; zeroing the whole Record, spare's copy taken out and
	// put back cost ~40 instructions more), then the others one by one.
	if cap(rec.Attrs) > 0 || sp.attrs[0].Key != "" || sp.attrs[0].Value != "" {
		// The attributes the record's request set in its room: its
		// strings, unredacted when Attrs moved to an array of its own
		// (a fifth attribute, a stream's fold, capAttrs), are not kept
		// for the next request. The whole room, whatever Attrs is now:
		// it was used when Attrs was set (most requests that set it
		// began in the room), or, Attrs unset, when its first slot was
		// filled, as every use of it begins (AttrRoom's slice, never
		// set as Attrs). Zeroed as the array it is, not clear(sp.attrs[:]):
		// clear of a slice calls memclrHasPointers (~60 instructions for
		// these 128 bytes); the array's assignment is a few stores inline,
		// behind one write-barrier check.
		sp.attrs = [len(spare{}.attrs)]Attr{}
	}
	*(*recordHead)(unsafe.Pointer(rec)) = recordHead{}
	rec.hdrOrderUA, rec.hdrShared = orderUA, shared
	rec.hdrFlat, rec.hdrFlatBytes, rec.live, rec.state = flat[:0], 0, nil, nil
	rec.size, rec.hdrBytes, rec.pending, rec.missed = 0, 0, 0, 0
}

// recordHead is the fields of Record before hdrFlat: the same names and
// types in the same order, so the same layout and the same pointer words
// (TestRecordHead checks them against Record's), for reset to zero them
// in one typed assignment.
type recordHead struct {
	ID           ID
	TraceID      TraceID
	SpanID       SpanID
	ParentSpanID SpanID
	Kind         Kind

	Unsampled         bool
	RandomTraceID     bool
	hdrSame           bool
	hdrUA, hdrOrderUA uint8
	hdrShared         bool

	Start    time.Time
	Duration time.Duration

	Method string
	Path   string
	Route  string
	Query  string
	Status int

	RequestBytes  int64
	ResponseBytes int64
	User          string
	Headers       map[string][]string
	Remote        string
	Instance      string

	Overhead time.Duration

	Error string
	Panic string

	Calls        []Call
	DroppedCalls int

	Warnings []Warning
	Attrs    []Attr

	ExecTrace *ExecTrace
}

// dropStringRefs zeroes the data pointers of the strings of s — the
// header pairs of the last request — and not their lengths: what
// clear(s) does for the garbage collector, without its call to
// memclrHasPointers (~50 instructions for two pairs). The strings lie
// past the length of hdrFlat, where nothing reads them: SetHeaders writes
// each pair whole before the record shows it again.
// Two strings a step, whose two data pointers' stores take one
// write-barrier check.
func dropStringRefs(s []string) {
	i := 0
	for ; i+1 < len(s); i += 2 {
		p := (*[2]string)(unsafe.Pointer(&s[i]))
		*(*unsafe.Pointer)(unsafe.Pointer(&p[0])) = nil
		*(*unsafe.Pointer)(unsafe.Pointer(&p[1])) = nil
	}
	if i < len(s) {
		*(*unsafe.Pointer)(unsafe.Pointer(&s[i])) = nil
	}
}

// spare is the memory of a record that the recorder allocated itself, kept
// for the next record made in it when its sinks borrow records.
type spare struct {
	calls    []Call              // the calls' array, Calls as FinishAt handed it over (see callLocked)
	rooms    []callRoom          // the calls' rooms, which their Attrs and Phases share (see spareRoomLocked)
	hdr      map[string][]string // Headers as headerMap made them
	hdrVals  []string            // the values of hdr
	hdrBytes int64               // recordSize's estimate of hdr, kept with its values (see reset)
	hdrOrder []headerEntry       // the entries of hdr, in the order headerMap made them
	warnings []Warning           // Warnings as prepare made them
	pcs      []uintptr           // the calls' raw stacks, until prepare symbolizes them
	// attrs is the room for the record's first four attributes (see
	// ActiveRecord.AddAttrs), here rather than in the ActiveRecord: a
	// queued record whose Attrs lay in its ActiveRecord kept it alive,
	// and with it the request's context and the wrapper's state, for
	// the garbage collector to scan in every cycle until its sinks were
	// done (see "thirty-second round, i32-hello" in docs/BENCHMARKS.md).
	// A pooled record's stay with it, as redaction left them, until
	// reset clears them; a record a sink may keep has them copied out
	// before its spare is handed back (see prepare).
	attrs [4]Attr
	// reserved is spareBytes of the record as the pool counted it when
	// it took the record into its reserve (a record in the reserve does
	// not change), for get to take off without counting again. Here
	// rather than in a slice of the pool's beside the reserve, which put
	// and get kept in step (an append and a shrink more each), and
	// rather than in the Record, whose 448-byte size class this would
	// fill: a pooled record and its spare are one 768-byte object
	// (newPooledRecord), with room for it. Out of the reserve (get zeroes
	// it), while the record is filled, the word holds instead the span ID
	// [ActiveRecord.SetServerSpan] was given (see serverSpan), which
	// finish moves into the record's Attrs, zeroing it: the pooled
	// record and its spare fill their size class, and the ActiveRecord
	// with a wrapper's state its own (384 bytes, see middleware/httpstats'
	// TestRequestStateSizeClass).
	reserved int64
	// flat is the buffer of header pairs of a record a sink may keep
	// (hdrFlat, see setKeptHeaders), kept with the spare when the writer
	// hands it back, emptied: the record holds its pairs only until the
	// writer has made them its header map. (A pooled record keeps
	// hdrFlat itself.)
	flat []string
}

// serverSpan returns the span ID SetServerSpan noted in sp's reserved
// word while its record is filled (zero for none).
func (sp *spare) serverSpan() SpanID {
	var id SpanID
	binary.BigEndian.PutUint64(id[:], uint64(sp.reserved))
	return id
}

// setServerSpan notes id in sp's reserved word (see serverSpan).
func (sp *spare) setServerSpan(id SpanID) { sp.reserved = int64(binary.BigEndian.Uint64(id[:])) }
