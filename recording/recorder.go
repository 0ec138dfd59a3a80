package recording

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/internal/convention"
)

// A Sink receives finished records from a [Recorder].
//
// Each sink of a recorder is written from a goroutine of its own, one Write
// at a time, with batches in the order the records finished; different sinks
// are written concurrently, with the same *Record values. The records and
// the slice belong to the recorder: a sink must not modify them and must not
// keep the slice after Write returns. It may keep the *Record values, which
// are never modified again, unless it is a [Borrower]: when every sink of a
// recorder is a Borrower, the recorder reuses a record's memory for a later
// request once every sink's Write has returned. Write should honour ctx, which is cancelled
// after the recorder's sink timeout (an eighth more at most, see
// [WithSinkTimeout]) or when Close runs out of time. An error
// is counted and logged; it never reaches a request. An error means that
// the sink took none of the records, unless it is a [*PartialWriteError],
// which names those it did not take. A sink that falls
// behind loses records of its own queue (counted in [Stats.Sinks]), not the
// other sinks' records.
//
// The recorder does not close its sinks: whoever opened a sink closes it after
// [Recorder.Close] has returned.
type Sink interface {
	Write(ctx context.Context, records []*Record) error
}

// A PartialWriteError is the error of a [Sink]'s Write that took some
// records of the batch and not others, such as a sink whose own bounded
// queue had room for some: the recorder counts Rejected as not written to
// that sink ([SinkStats.Dropped]) and the batch's other records as written.
// Any other error of Write means the whole batch was not taken. A
// [Sequence] returns one when each of its sinks that failed returned one:
// the records any of them rejected.
type PartialWriteError struct {
	Rejected []*Record // records of the batch that the sink did not take
	Err      error     // why
}

// Error says how many records were not written, and why.
func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("%d of the records not written: %v", len(e.Rejected), e.Err)
}

// Unwrap returns Err, so [errors.Is] and [errors.As] see why.
func (e *PartialWriteError) Unwrap() error { return e.Err }

// rejected returns the records that err, returned by a sink's Write of a
// batch, says the sink did not take, and whether err names them: a
// *PartialWriteError, or errors joined (as a Sequence joins them) that all
// are. Otherwise every record of the batch was rejected.
func rejected(err error) (map[*Record]bool, bool) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	set := map[*Record]bool{}
	for _, e := range errs {
		var pe *PartialWriteError
		if !errors.As(e, &pe) {
			return nil, false
		}
		for _, r := range pe.Rejected {
			set[r] = true
		}
	}
	return set, true
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, records []*Record) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, records []*Record) error { return f(ctx, records) }

// ErrClosed is returned by [Recorder.Close] when called a second time,
// and by [Recorder.ForceFlush] once Close has been called.
var ErrClosed = errors.New("recording: recorder closed")

// A Recorder decides which requests are recorded, collects their calls, and
// hands finished records to its sinks in the background, through queues
// bounded in records and bytes that never block a request: one goroutine
// prepares records (symbolizes stacks, redacts headers, analyses calls) and
// one per sink writes them.
//
// All methods are safe for concurrent use. Create one with [New] and release it
// with [Recorder.Close].
type Recorder struct {
	// Its fields are grouped by who writes them, each group on cache lines
	// of its own: under load the requests finish on every core while the
	// writer prepares records on another, and a field that one of them
	// writes makes the others miss the whole 64-byte line it shares — the
	// settings every request reads included (see "The load test's added
	// CPU, ninth round" in docs/BENCHMARKS-history.md).

	// Read by every request, written only when the recorder opens, pauses
	// or closes.
	cfg   config
	ids   *idSource
	sym   *symbolizer
	q     *recordQueue
	sinks []*sinkQueue
	stop  chan struct{}
	done  chan struct{} // closed when the preparer has stopped

	// stacks caches whole symbolized stacks in front of sym.
	stacks *stackCache
	// kick (capacity 1) wakes the writer when the queue holds kickAt
	// records, a full batch.
	kick   chan struct{}
	kickAt int

	sinkCtx    context.Context
	sinkCancel context.CancelFunc

	inflight *inflight   // the records in the making, for Active
	flush    *flushState // what ForceFlush waits on, apart: written once a batch

	closed  atomic.Bool
	drained atomic.Bool // Close's last emptying of the queue has begun: the preparer has stopped
	paused  atomic.Bool
	// idle is set while the preparer waits with its ticker stopped, the
	// queue having stayed empty for a whole batch interval: the next
	// record queued wakes it (see enqueue). Written only when the
	// recorder goes idle or wakes, so it stays on the requests' read-only
	// line: a busy recorder never goes idle.
	idle atomic.Bool

	flight *flight // nil: no execution traces (see WithFlightRecorder)

	// pool holds records every sink is done with, when all of them borrow
	// records (see Borrower); nil when some sink may keep them.
	pool *recordPool
	// spares lends the records' spares when pool is nil (see spareList);
	// nil when pool is not.
	spares *spareList
	// keptPub is the last header map the writer made for records a sink
	// may keep that it then saw sent again, with entries of its own:
	// for the requests to match their headers against (see
	// setKeptHeaders). Stored when the headers requests send change and
	// are then sent twice in a row, not once a request. Never written
	// to once stored.
	keptPub atomic.Pointer[keptHeaders]

	log *convention.Logger // the recorder's own problems, rate-limited

	_ [64]byte

	// Written as recorded requests finish, when what they measure
	// changes (the queue's own counters, which every recorded request
	// writes, lie on its tail's line: see recordQueue).
	//
	// callHint is how many calls the last record with calls made: the
	// size of the next record's first chunk of calls. It is stored only
	// when it changes.
	callHint atomic.Int32
	// allocHint is how many values the last record that carved any
	// carved with Alloc: the size of the next record's chunks. It is
	// stored only when it changes.
	allocHint atomic.Int32
	// frameHint is how many raw frames the stacks of the last record with
	// stacks took in its buffer (calls made from one place share one): what
	// the next record's buffer of stacks is first sized by. It is stored
	// only when it changes.
	frameHint atomic.Int32
	// roomHint is how many rooms for calls' attributes and phases
	// ([ActiveCall.Reserve]) the last record that took rooms took: what the
	// next record's slabs of them are sized by (see newRoomLocked). It is
	// stored only when it changes.
	roomHint atomic.Int32
	// finishCost is what finishing a record was last measured to cost
	// (see ActiveRecord.FinishAt).
	finishCost atomic.Int64

	_ [64]byte

	// Written by requests that are not recorded, or lose calls, and by the
	// writer once a batch (and kicks by a request once a batch).
	sampledOut   atomic.Uint64
	pausedOut    atomic.Uint64
	filtered     atomic.Uint64
	dropped      atomic.Uint64
	written      atomic.Uint64
	droppedCalls atomic.Uint64
	lateCalls    atomic.Uint64
	traced       atomic.Uint64
	traceLimited atomic.Uint64
	ticks        atomic.Uint64 // batch intervals the preparer's ticker woke it for
	kicks        atomic.Uint64 // kicks requests sent the preparer (see enqueue), a batch at most under load
	closeOnce    sync.Once

	_ [64]byte

	// Used by the writer goroutine only.
	secretNames map[string]keyKind // header name or attribute key → its kind
	// secretRecent finds keys of secretNames by their address.
	secretRecent [64]secretEntry
	writerScrub  scrubber // the writer goroutine's redaction, with its caches (see Recorder.scrubber)
	analysis     analysis
	keptHdr      keptHeaders // the last header map made for a record a sink may keep
	// poolHdr is the header map pooled records share when their
	// requests send the same headers (see Recorder.shareHeaderMap):
	// the writer's, never written to once made. nil until a record made
	// afresh brings headers that can be shared.
	poolHdr   *keptHeaders
	lastAttrs []Attr // the last attributes keptAttrs copied out of a spare, shared by the records that hold them
}

// New returns a Recorder and starts its background writer.
func New(opts ...Option) *Recorder {
	cfg := newConfig(opts)
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{
		cfg:         cfg,
		ids:         newIDSource(),
		sym:         newSymbolizer(),
		stacks:      newStackCache(maxStackCache),
		q:           newRecordQueue(cfg.queueSize),
		kick:        make(chan struct{}, 1),
		kickAt:      cfg.batchSize, // newConfig keeps it at most queueSize
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		sinkCtx:     ctx,
		sinkCancel:  cancel,
		secretNames: make(map[string]keyKind),
		inflight:    newInflight(),
		flush:       newFlushState(),
		log:         convention.NewLogger(cfg.logger, convention.LogInterval),
	}
	red := &r.cfg.redaction
	rules := red.compiled()
	r.writerScrub = scrubber{red: red, rules: rules, secret: r.secretKey, kind: r.keyKind, clean: newCleanTexts(),
		queries: newCleanTexts(), query: rules.Query, uaPlain: r.kindOf(convention.KeyUserAgentOriginal) == keyRequest}
	if !slices.ContainsFunc(cfg.sinks, func(s Sink) bool { return !borrows(s) }) {
		r.pool = newRecordPool()
	} else {
		r.spares = &spareList{free: make([]*spare, 0, reserveRecords)}
	}
	if cfg.flight != nil {
		f, err := startFlight(cfg.flight)
		if err != nil {
			r.log.Warn(err.Error())
		}
		r.flight = f
	}
	for _, s := range cfg.sinks {
		q := newSinkQueue(s, cfg.queueSize)
		r.sinks = append(r.sinks, q)
		go q.run(r)
	}
	go r.prepareLoop()
	return r
}

// Stats counts what a [Recorder] has done since it was created.
type Stats struct {
	Recorded   uint64 // records finished and queued
	SampledOut uint64 // requests not recorded because of the sample rate
	// PausedOut counts requests not recorded because recording was paused
	// ([Recorder.SetPaused]).
	PausedOut uint64
	Filtered  uint64 // requests not recorded because of filters
	// Dropped counts finished records lost before any sink saw them: the
	// queue was full (in records or bytes), or the recorder was closing.
	Dropped uint64
	// Written counts records every sink accepted (a Write that returned
	// nil); with no sinks, records prepared. A record some sink did not
	// accept is counted in that sink's SinkStats.Dropped instead.
	Written       uint64
	SinkErrors    uint64 // failed Sink.Write calls, all sinks together
	DroppedCalls  uint64 // calls over MaxCalls
	LateCalls     uint64 // calls started after their request had ended
	QueueDepth    int    // records waiting now to be prepared for the sinks
	QueueCap      int
	QueueBytes    int64 // estimated bytes of the records waiting now, each counted as [WithQueueBytes] says
	QueueBytesCap int64 // the bound of QueueBytes ([WithQueueBytes])
	Sinks         []SinkStats
	Paused        bool
	// ExecTraces counts records that got an execution trace;
	// ExecTracesLimited slow requests that got none because of
	// [FlightRecording.PerMinute], or because a sink's queue had no room
	// for the trace ([WithQueueBytes]; the record goes on without it).
	// See [WithFlightRecorder].
	ExecTraces, ExecTracesLimited uint64
	// FlightRecorder reports whether the recorder runs the runtime's
	// flight recorder.
	FlightRecorder bool
}

// SinkStats counts what one sink of a [Recorder] was given.
type SinkStats struct {
	// Name is the sink's type, e.g. "*badgerstore.Store", or its parts'
	// joined by "+" for a [Sequence].
	Name string
	// Written counts records in Write calls that returned nil.
	Written uint64
	// Dropped counts records this sink did not accept: its queue was full
	// (in records or bytes), its Write failed, or the recorder was closing.
	Dropped    uint64
	Errors     uint64 // failed Write calls: an error, a panic, or its timeout
	QueueDepth int    // records waiting for it now
	QueueBytes int64  // their estimated bytes, as [WithQueueBytes] counts them
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	// The counters are read in the order a record moves through them,
	// from the last to the first, so that they add up at every read
	// however records move between the reads: a record counted written
	// was counted by every sink before (Written is read first), and a
	// record a sink counted was recorded before (Recorded is read last).
	st := Stats{
		Written: r.written.Load(),
		Dropped: r.dropped.Load(),
	}
	if len(r.sinks) > 0 {
		st.Sinks = make([]SinkStats, len(r.sinks))
		for i, q := range r.sinks {
			st.Sinks[i] = q.stats()
			st.SinkErrors += st.Sinks[i].Errors
		}
	}
	st.SampledOut = r.sampledOut.Load()
	st.PausedOut = r.pausedOut.Load()
	st.Filtered = r.filtered.Load()
	st.DroppedCalls = r.droppedCalls.Load()
	st.LateCalls = r.lateCalls.Load()
	st.QueueDepth = r.q.len()
	st.QueueCap = int(r.q.size)
	st.QueueBytes = r.q.bytes.Load()
	st.QueueBytesCap = r.cfg.queueBytes
	st.Paused = r.paused.Load()
	st.ExecTraces = r.traced.Load()
	st.ExecTracesLimited = r.traceLimited.Load()
	st.FlightRecorder = r.flight != nil
	st.Recorded = r.q.pushed()
	return st
}

// SetPaused stops (true) or resumes (false) recording new requests.
func (r *Recorder) SetPaused(p bool) { r.paused.Store(p) }

// Paused reports whether recording is paused.
func (r *Recorder) Paused() bool { return r.paused.Load() }

// Redaction returns the recorder's redaction rules. The result must not be
// modified.
func (r *Recorder) Redaction() *Redaction { return &r.cfg.redaction }

// Propagator returns the recorder's trace-context propagator.
func (r *Recorder) Propagator() Propagator { return r.cfg.propagator }

// RequestInfo describes a request about to be recorded.
type RequestInfo struct {
	Kind         Kind
	Method       string
	Path         string
	Header       map[string][]string // consulted by filters; not stored
	TraceID      TraceID             // from an incoming traceparent; generated when zero
	ParentSpanID SpanID
	TraceState   string // an incoming tracestate, passed on to outgoing calls
	// Unsampled says the caller did not sample the trace: an incoming
	// traceparent with flags 00 (TraceContext.Sampled false). What the
	// recorder does then is set by [WithCallerSampling].
	Unsampled bool
	// RandomTraceID is the random-trace-id flag of the incoming
	// traceparent (TraceContext.Random): see [Record.RandomTraceID]. It
	// matters only with a valid TraceID: a trace ID the recorder generates
	// is random, and flagged so.
	RandomTraceID bool
	Start         time.Time // zero means now
	// Instance names what serves the request in [Record.Instance]; empty
	// means the recorder's ([WithInstance]). Servers of one process that
	// share a recorder tell their records apart with it.
	Instance string
}

// StartRecord decides whether a request is recorded and, if so, starts its
// record and returns a context carrying it. When the request is not recorded
// it returns ctx and nil; every method of a nil *ActiveRecord is a no-op, so
// callers need not check. Until it finishes, the record is listed by
// [Recorder.Active]: a record that is never finished stays listed. A nil
// ctx panics at once, recorded or not, as [context.WithValue]'s nil parent
// does.
func (r *Recorder) StartRecord(ctx context.Context, info RequestInfo) (context.Context, *ActiveRecord) {
	ctx, a, _ := StartRecordWith[struct{}](r, ctx, info)
	return ctx, a
}

// StartRecordWith is [Recorder.StartRecord] for a wrapper that keeps state of
// its own for each recorded request, such as a response-writer wrapper: a
// zero T is allocated together with the record's own state, in one
// allocation, and returned with it (nil when the request is not recorded).
// The T lives as long as the [ActiveRecord]: contexts of the request keep it
// alive, and so may the finished [Record] while it is queued (a call still
// running at the end keeps its ActiveRecord). A wrapper whose T refers to objects of the
// request (its ResponseWriter, its body) clears them once the request is
// served, as middleware/httpstats does. A nil r records nothing (a nil ctx
// still panics, as context.WithValue's does).
func StartRecordWith[T any](r *Recorder, ctx context.Context, info RequestInfo) (context.Context, *ActiveRecord, *T) {
	return StartRecordFrom[T](r, ctx, &info)
}

// StartRecordFrom is [StartRecordWith] with the request described by
// address: a RequestInfo is some twenty words, which a call by value
// copies into its arguments, and a wrapper that describes every request
// it serves (as middleware/httpstats does) saves that copy. info is read
// during the call only: it is neither kept nor changed, and may be
// reused once StartRecordFrom returns. A nil info is not allowed.
func StartRecordFrom[T any](r *Recorder, ctx context.Context, info *RequestInfo) (context.Context, *ActiveRecord, *T) {
	if ctx == nil {
		// Whether the request is recorded or not, as context.WithValue.
		panic(nilParent)
	}
	if !r.admitsAll() && !r.sample(info) {
		return ctx, nil, nil
	}
	w := new(activeWith[T])
	a := &w.a
	a.rec = r
	r.startRecord(a, info)
	r.inflight.add(a)
	if m := r.cfg.rootMarker; m != nil && !info.TraceID.IsValid() {
		ctx = m.MarkRoot(ctx) // a trace ID startRecord made: random
	}
	// NewContext's node, in a record no context carries yet.
	a.ctx = recordCtx{Context: ctx, a: a}
	return &a.ctx, a, &w.x
}

// activeWith is an ActiveRecord and a wrapper's state in one allocation.
type activeWith[T any] struct {
	a ActiveRecord
	x T
}

// sample decides whether the request info describes is recorded, and
// counts it if not. (info is a pointer: the struct is some twenty words,
// which a call by value copies.) StartRecordWith calls it only when
// admitsAll does not already say yes.
func (r *Recorder) sample(info *RequestInfo) bool {
	if r == nil || r.closed.Load() {
		return false
	}
	if r.paused.Load() {
		r.pausedOut.Add(1)
		return false
	}
	if r.cfg.filtered() && !r.admit(info.Method, info.Path, info.Header) {
		r.filtered.Add(1)
		return false
	}
	if r.cfg.sampleRate < 1 && !r.sampled() { // at 1 or more, every request is
		r.sampledOut.Add(1)
		return false
	}
	if r.cfg.callerSampling == SkipUnsampled && info.Unsampled {
		r.sampledOut.Add(1)
		return false
	}
	return true
}

// admitsAll reports whether r records every request without asking
// sample: r's options admit every request ([config.admitsAll]), and r is
// open and not paused. It is false for a nil r.
func (r *Recorder) admitsAll() bool {
	return r != nil && r.cfg.admitsAll && !r.closed.Load() && !r.paused.Load()
}

// startRecord starts a's record, not yet listed in the in-flight table.
func (r *Recorder) startRecord(a *ActiveRecord, info *RequestInfo) {
	start := info.Start
	if start.IsZero() {
		start = time.Now()
	}
	a.start = start
	// A reused record from the pool, else a new one.
	var rec *Record
	if p := r.pool; p != nil {
		rec = p.get()
	} else {
		rec = r.newKeptRecord()
	}
	a.r = rec
	a.hdr = info.Header
	if info.TraceState != "" {
		a.state = capTraceState(info.TraceState)
		// A box of the record's own, not &a.state: the Record outlives
		// the request in sinks' queues and stores, and a pointer into
		// the ActiveRecord would keep all of it alive there.
		rec.SetTraceState(a.state)
	}
	r.ids.next(&rec.ID, start)
	rec.Kind = info.Kind
	rec.Start = start
	rec.Method = info.Method
	rec.Path = info.Path
	made := r.ids.traceSpan(&rec.TraceID, &rec.SpanID, &info.TraceID)
	rec.ParentSpanID = info.ParentSpanID
	rec.Unsampled = info.Unsampled && r.cfg.callerSampling != OverrideCaller
	// A trace ID made here is random (traceSpan): W3C Trace Context Level
	// 2's random-trace-id flag says so to the calls and the exporters. A
	// caller's keeps the caller's flag.
	rec.RandomTraceID = info.RandomTraceID || made
	rec.Instance = r.cfg.instance
	if info.Instance != "" {
		rec.Instance = convention.Truncate(info.Instance, r.cfg.maxName)
	}
	a.trace, a.span, a.unsampled, a.random = rec.TraceID, rec.SpanID, rec.Unsampled, rec.RandomTraceID
}

// sampled reports whether the sample rate admits one more record.
func (r *Recorder) sampled() bool {
	rate := r.cfg.sampleRate
	return rate >= 1 || rate > 0 && mrand.Float64() < rate
}

// filtered reports whether any filter is set ([WithInclude],
// [WithExclude]): without one, admit and admitRoute admit every request,
// and are not called.
func (c *config) filtered() bool { return len(c.exclude)|len(c.include) != 0 }

func (r *Recorder) admit(method, path string, h map[string][]string) bool {
	for i := range r.cfg.exclude {
		f := &r.cfg.exclude[i]
		if f.Route == "" && f.matchStart(method, path, h) {
			return false
		}
	}
	if len(r.cfg.include) == 0 {
		return true
	}
	for i := range r.cfg.include {
		// An include filter with a route can only be judged at the end.
		if r.cfg.include[i].matchStart(method, path, h) {
			return true
		}
	}
	return false
}

// admitRoute applies the route parts of the filters once the route is known.
func (r *Recorder) admitRoute(method, path, route string, h map[string][]string) bool {
	for i := range r.cfg.exclude {
		f := &r.cfg.exclude[i]
		if f.Route != "" && f.Route == route && f.matchStart(method, path, h) {
			return false
		}
	}
	if len(r.cfg.include) == 0 {
		return true
	}
	for i := range r.cfg.include {
		f := &r.cfg.include[i]
		if f.matchStart(method, path, h) && f.matchRoute(route) {
			return true
		}
	}
	return false
}
