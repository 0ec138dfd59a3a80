package recording

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/internal/convention"
)

// A Sink receives finished records from a [Recorder]'s background writer.
//
// Write is called from one goroutine at a time, with batches in the order the
// records finished. The records and the slice belong to the recorder: a sink
// must not modify them and must not keep the slice after Write returns (it may
// keep the *Record values, which are never modified again). Write should honour
// ctx, which is cancelled after the recorder's sink timeout or when Close runs
// out of time. An error is counted and logged; it never reaches a request.
//
// The recorder does not close its sinks: whoever opened a sink closes it after
// [Recorder.Close] has returned.
type Sink interface {
	Write(ctx context.Context, records []*Record) error
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, records []*Record) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, records []*Record) error { return f(ctx, records) }

// ErrClosed is returned by [Recorder.Close] when called a second time.
var ErrClosed = errors.New("recording: recorder closed")

// A Recorder decides which requests are recorded, collects their calls, and
// hands finished records to its sinks from one background goroutine, through a
// bounded queue that never blocks a request.
//
// All methods are safe for concurrent use. Create one with [New] and release it
// with [Recorder.Close].
type Recorder struct {
	cfg  config
	ids  *idSource
	sym  *symbolizer
	q    chan *Record
	stop chan struct{}
	done chan struct{}

	// stacks caches whole symbolized stacks in front of sym.
	stacks *stackCache
	// kick (capacity 1) wakes the writer when the queue holds kickAt
	// records, a full batch.
	kick   chan struct{}
	kickAt int

	sinkCtx    context.Context
	sinkCancel context.CancelFunc

	closed    atomic.Bool
	paused    atomic.Bool
	closeOnce sync.Once

	recorded     atomic.Uint64
	sampledOut   atomic.Uint64
	filtered     atomic.Uint64
	dropped      atomic.Uint64
	written      atomic.Uint64
	sinkErrors   atomic.Uint64
	droppedCalls atomic.Uint64
	lateCalls    atomic.Uint64

	secretNames map[string]bool // header name → secret; used by the writer goroutine only

	log *convention.Logger // the recorder's own problems, rate-limited
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
		q:           make(chan *Record, cfg.queueSize),
		kick:        make(chan struct{}, 1),
		kickAt:      min(cfg.batchSize, cfg.queueSize),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		sinkCtx:     ctx,
		sinkCancel:  cancel,
		secretNames: make(map[string]bool),
		log:         convention.NewLogger(cfg.logger, convention.LogInterval),
	}
	go r.writer()
	return r
}

// Stats counts what a [Recorder] has done since it was created.
type Stats struct {
	Recorded     uint64 // records finished and queued
	SampledOut   uint64 // requests not recorded because of the sample rate or pause
	Filtered     uint64 // requests not recorded because of filters
	Dropped      uint64 // finished records lost: queue full, or recorder closed
	Written      uint64 // records handed to the sinks
	SinkErrors   uint64 // failed Sink.Write calls
	DroppedCalls uint64 // calls over MaxCalls
	LateCalls    uint64 // calls started after their request had ended
	QueueDepth   int    // records waiting now
	QueueCap     int
	Paused       bool
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Recorded:     r.recorded.Load(),
		SampledOut:   r.sampledOut.Load(),
		Filtered:     r.filtered.Load(),
		Dropped:      r.dropped.Load(),
		Written:      r.written.Load(),
		SinkErrors:   r.sinkErrors.Load(),
		DroppedCalls: r.droppedCalls.Load(),
		LateCalls:    r.lateCalls.Load(),
		QueueDepth:   len(r.q),
		QueueCap:     cap(r.q),
		Paused:       r.paused.Load(),
	}
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
	Start     time.Time // zero means now
}

// StartRecord decides whether a request is recorded and, if so, starts its
// record and returns a context carrying it. When the request is not recorded
// it returns ctx and nil; every method of a nil *ActiveRecord is a no-op, so
// callers need not check.
func (r *Recorder) StartRecord(ctx context.Context, info RequestInfo) (context.Context, *ActiveRecord) {
	if r == nil || r.closed.Load() {
		return ctx, nil
	}
	if r.paused.Load() {
		r.sampledOut.Add(1)
		return ctx, nil
	}
	if !r.admit(info.Method, info.Path, info.Header) {
		r.filtered.Add(1)
		return ctx, nil
	}
	if rate := r.cfg.sampleRate; rate < 1 && (rate <= 0 || mrand.Float64() >= rate) {
		r.sampledOut.Add(1)
		return ctx, nil
	}
	unsampled := info.Unsampled
	switch r.cfg.callerSampling {
	case SkipUnsampled:
		if unsampled {
			r.sampledOut.Add(1)
			return ctx, nil
		}
	case OverrideCaller:
		unsampled = false
	}
	start := info.Start
	if start.IsZero() {
		start = time.Now()
	}
	a := &ActiveRecord{rec: r, start: start}
	a.calls = a.inline[:0]
	a.hdr = info.Header
	a.state = info.TraceState
	rec := &a.r
	rec.ID = r.ids.next(start)
	rec.Kind = info.Kind
	rec.Start = start
	rec.Method = info.Method
	rec.Path = info.Path
	rec.TraceID = info.TraceID
	if !rec.TraceID.IsValid() {
		rec.TraceID = NewTraceID()
	}
	rec.ParentSpanID = info.ParentSpanID
	rec.Unsampled = unsampled
	rec.SpanID = NewSpanID()
	rec.Instance = r.cfg.instance
	return NewContext(ctx, a), a
}

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

// enqueue hands a finished record to the writer without ever blocking.
func (r *Recorder) enqueue(rec *Record) {
	if r.closed.Load() {
		r.dropped.Add(1)
		return
	}
	select {
	case r.q <- rec:
		r.recorded.Add(1)
		// The writer does not wait on the queue itself, so a request does
		// not wake it for every record: only once a batch is ready (the
		// ticker collects the rest).
		if len(r.q) >= r.kickAt {
			select {
			case r.kick <- struct{}{}:
			default:
			}
		}
	default:
		r.dropped.Add(1)
	}
}

// Close stops recording, hands the records still queued to the sinks, and
// stops the background writer. If ctx ends first, the sinks' contexts are
// cancelled, the remaining records are dropped and counted, and Close returns
// ctx's error once the writer has stopped (it waits at most one more second
// for a sink that ignores its context). Calling Close again returns
// [ErrClosed].
func (r *Recorder) Close(ctx context.Context) error {
	err := ErrClosed
	r.closeOnce.Do(func() {
		err = nil
		r.closed.Store(true)
		close(r.stop)
		select {
		case <-r.done:
		case <-ctx.Done():
			err = ctx.Err()
			r.sinkCancel()
			select {
			case <-r.done:
			case <-time.After(time.Second):
				r.log.Warn("recorder: a sink ignored its context; its goroutine is still running")
			}
		}
		r.sinkCancel()
		// A record that raced past the closed flag is counted, not lost silently.
		for {
			select {
			case <-r.q:
				r.dropped.Add(1)
				continue
			default:
			}
			break
		}
	})
	return err
}

func (r *Recorder) writer() {
	defer close(r.done)
	t := time.NewTicker(r.cfg.batchInterval)
	defer t.Stop()
	size := r.cfg.batchSize
	batch := make([]*Record, 0, size)
	// drain hands the queued records to the sinks a batch at a time; unless
	// all is set, it keeps a partial batch for later.
	drain := func(all bool) {
		for {
		fill:
			for len(batch) < size {
				select {
				case rec := <-r.q:
					batch = append(batch, rec)
				default:
					break fill
				}
			}
			if len(batch) == 0 || len(batch) < size && !all {
				return
			}
			r.deliver(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case <-r.kick:
			drain(false)
		case <-t.C:
			drain(true)
		case <-r.stop:
			drain(true)
			return
		}
	}
}

// deliver finishes the records off the request path (stack symbolization,
// analysis) and writes them to every sink.
func (r *Recorder) deliver(batch []*Record) {
	if r.sinkCtx.Err() != nil {
		r.dropped.Add(uint64(len(batch)))
		return
	}
	for _, rec := range batch {
		r.prepare(rec)
	}
	for _, s := range r.cfg.sinks {
		ctx, cancel := context.WithTimeout(r.sinkCtx, r.cfg.sinkTimeout)
		err := safeWrite(ctx, s, batch)
		cancel()
		if err != nil {
			r.sinkErrors.Add(1)
			r.log.Warn("recorder: sink write failed", "records", len(batch), "err", err)
		}
	}
	r.written.Add(uint64(len(batch)))
}

func safeWrite(ctx context.Context, s Sink, batch []*Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{v}
		}
	}()
	return s.Write(ctx, batch)
}

type panicError struct{ v any }

func (p panicError) Error() string { return "sink panicked: " + panicString(p.v) }

// prepare symbolizes stacks, redacts the record and analyses it.
func (r *Recorder) prepare(rec *Record) {
	for i := range rec.Calls {
		c := &rec.Calls[i]
		if len(c.pcs) > 0 {
			c.Stack = r.stacks.frames(r.sym, c.pcs, r.cfg.maxStack)
			c.pcs = nil
		}
	}
	switch {
	case rec.hdrFlat != nil:
		rec.Headers = r.headerMap(rec.hdrFlat)
		rec.hdrFlat = nil
	case rec.Headers != nil:
		rec.Headers = r.cfg.redaction.Header(rec.Headers)
	}
	r.scrub(rec)
	rec.Warnings = append(rec.Warnings, Analyze(rec, r.cfg.repeatThreshold)...)
}
