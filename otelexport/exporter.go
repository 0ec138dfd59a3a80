package otelexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// ErrClosed is returned by [Exporter.Close] when called a second time, and by
// [Exporter.ForceFlush] after Close.
var ErrClosed = errors.New("otelexport: exporter closed")

// A RetryAfterError says that records were not exported because the
// collector asked the exporter to wait (an HTTP Retry-After with 429 or
// 503, gRPC's RetryInfo; see [MaxRetryAfter]). [Exporter.ForceFlush]
// returns one while the wait lasts, the records kept, queued, to be
// exported when it ends; [Exporter.Close] returns one (Dropped set) when
// the wait ends after its deadline, the records dropped and counted in
// [Stats.Dropped].
type RetryAfterError struct {
	Until   time.Time // when the collector's wait ends
	Records int       // records not exported
	Dropped bool      // Close dropped them; otherwise they are kept
}

// Error says how many records were not exported, until when the
// collector asked to wait, and whether they are kept or dropped.
func (e *RetryAfterError) Error() string {
	what := "kept queued, to export then"
	if e.Dropped {
		what = "dropped: Close's deadline comes first"
	}
	return fmt.Sprintf("otelexport: the collector asked to wait until %s (Retry-After): %d records not exported, %s",
		e.Until.Format(time.RFC3339Nano), e.Records, what)
}

// An ExportError says that records were lost since [Exporter.ForceFlush]
// last returned: exports that failed (the collector refused them, or
// answered with an error, past the OTLP exporter's retries), and records
// [Exporter.Close] dropped when it gave up on a collector that did not
// answer by its deadline, or could not be reached. ForceFlush and Close
// return one, once for the same records. Err says why: the exports'
// errors (the first few, with the values of the OTLP headers hidden and
// each cut to 1 KiB: one cut keeps its text only, not its cause), and
// for records Close dropped, its deadline's error (errors.Is(err,
// context.DeadlineExceeded)), its context's error, or the error of the
// export that found the collector unanswering or unavailable. Records
// dropped for a collector's wait are not counted here but in a
// [*RetryAfterError]; those Write dropped for a full queue are not
// either (Write's error said so).
type ExportError struct {
	Failed  int   // records lost in exports that failed, counted in [Stats.Failed]
	Dropped int   // records Close gave up on, counted in [Stats.Dropped]
	Err     error // why
}

// Error says how many records were lost, and why.
func (e *ExportError) Error() string {
	var what string
	switch {
	case e.Dropped == 0:
		what = fmt.Sprintf("%d records lost in failed exports", e.Failed)
	case e.Failed == 0:
		what = fmt.Sprintf("%d records dropped: Close gave up on the collector", e.Dropped)
	default:
		what = fmt.Sprintf("%d records not exported (%d lost in failed exports, %d dropped: Close gave up on the collector)",
			e.Failed+e.Dropped, e.Failed, e.Dropped)
	}
	return "otelexport: " + what + ": " + fmt.Sprint(e.Err)
}

// Unwrap returns the cause.
func (e *ExportError) Unwrap() error { return e.Err }

// maxLostErrors bounds the errors an [ExportError] holds: the first ones.
const maxLostErrors = 4

// lostRecords gathers what an [ExportError] says, until ForceFlush or
// Close takes it.
type lostRecords struct {
	mu              sync.Mutex
	failed, dropped int
	errs            []error
}

// add counts failed and dropped records, and notes err, the first
// maxLostErrors errors (one with the text of one noted already, a
// collector's refusal of every export say, once).
func (l *lostRecords) add(failed, dropped int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed += failed
	l.dropped += dropped
	if err == nil || len(l.errs) >= maxLostErrors {
		return
	}
	text := err.Error()
	if !slices.ContainsFunc(l.errs, func(e error) bool { return e.Error() == text }) {
		l.errs = append(l.errs, err)
	}
}

// take returns the records lost since the last take as an *ExportError,
// or nil.
func (l *lostRecords) take() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == 0 && l.dropped == 0 {
		return nil
	}
	err := &ExportError{Failed: l.failed, Dropped: l.dropped, Err: errors.Join(l.errs...)}
	if len(l.errs) == 1 {
		err.Err = l.errs[0]
	}
	l.failed, l.dropped, l.errs = 0, 0, nil
	return err
}

// join returns the errors that are not nil: nil, one of them, or both
// joined.
func join(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return errors.Join(a, b)
}

// An Exporter is a [recording.Sink] that exports every record it is given as
// one OpenTelemetry trace through a [sdktrace.SpanExporter], such as the OTLP
// exporters made by [NewOTLPHTTP] and [NewOTLPGRPC].
//
// Write never waits for the network: it puts the records in a bounded queue
// and returns; one goroutine of the Exporter converts them to spans and calls
// the SpanExporter, with a timeout. When the queue is full (the collector is
// down or slow), records are dropped and counted in [Stats.Dropped], so a
// failing collector never slows the recorder, let alone a request.
//
// All methods are safe for concurrent use. Release an Exporter with
// [Exporter.Close] after closing the [recording.Recorder] that writes to it.
type Exporter struct {
	cfg config
	exp sdktrace.SpanExporter

	q       chan *recording.Record
	flushes chan chan error
	stop    chan struct{}
	done    chan struct{}

	// ctx is the parent of every export's context; cancelled when Close runs
	// out of time (with context.DeadlineExceeded for cause), or its
	// context ends (with the context's error).
	ctx    context.Context
	cancel context.CancelCauseFunc

	// closing is held for reading by Write while it queues records, and
	// for writing by Close while it sets closed: once Close has set it, no
	// Write is still queueing, so that none queues a record after Close
	// has emptied the queue.
	closing   sync.RWMutex
	closed    atomic.Bool
	closeOnce sync.Once

	// closeBy is when Close gives up on the records left (Unix
	// nanoseconds), 0 before Close: one export timeout after Close
	// began. Every chunk exported after Close began shares it (and
	// Close cancels them sooner if its context ends).
	closeBy atomic.Int64

	// pending counts the records queued, held or being exported: those
	// a ForceFlush waits for. Write adds them before it queues them, the
	// worker takes them off once handed to the SpanExporter (exported or
	// failed), Close those it drops from the queue: at 0, nothing written before is left to flush.
	pending atomic.Int64

	exported atomic.Uint64
	spans    atomic.Uint64
	dropped  atomic.Uint64
	failed   atomic.Uint64
	errors   atomic.Uint64

	unsampled atomic.Uint64

	// waitUntil is the end of the collector's last wait (retryAt, in
	// Unix nanoseconds), set by the worker, read by Close too;
	// waitDropped counts the records Close dropped while it lasted, by
	// the worker or by Close (see waitDrop).
	waitDropped atomic.Int64
	waitUntil   atomic.Int64

	lost lostRecords // for ForceFlush's and Close's *ExportError

	log *convention.Logger // the exporter's own problems, rate-limited

	base  *resource.Resource // the resource of every span, but service.instance.id
	scope instrumentation.Scope

	// Owned by the worker goroutine.
	resources map[string]*resource.Resource // by record Instance
	retryAt   time.Time                     // the collector asked for no export before then (Retry-After)
	held      []heldRecord                  // records waiting for calls still running, oldest first
	abandoned error                         // Close gave up: a chunk found the collector unanswering, with this error
}

// heldRecord is a record whose calls were still running when its request
// ended, waiting until they end or until the deadline.
type heldRecord struct {
	r        *recording.Record
	deadline time.Time
}

var _ recording.Sink = (*Exporter)(nil)

// New returns an Exporter that exports records with exp, and starts its
// worker goroutine. The Exporter owns exp: [Exporter.Close] shuts it down.
func New(exp sdktrace.SpanExporter, opts ...Option) *Exporter {
	cfg := newConfig(opts)
	// The exports' context follows an OTLP/HTTP exporter's connections
	// (see watch).
	ctx, cancel := context.WithCancelCause(cfg.watch.context(context.Background()))
	version := Version()
	e := &Exporter{
		cfg:       cfg,
		exp:       exp,
		q:         make(chan *recording.Record, cfg.queueSize),
		flushes:   make(chan chan error),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		base:      baseResource(cfg, version),
		scope:     instrumentation.Scope{Name: ScopeName, Version: version, SchemaURL: SchemaURL},
		resources: make(map[string]*resource.Resource),
		log:       convention.NewLogger(cfg.logger, convention.LogInterval),
	}
	go e.worker()
	return e
}

// modulePath is the module whose version is appstats' version.
const modulePath = "github.com/goappstats/appstats"

// Version returns the version of appstats the running program was built
// with, as Go's build information has it ("v1.2.3", a pseudo-version, or
// "(devel)" for a build of appstats' own tree): the telemetry.sdk.version of
// the exported spans' resource and the version of their instrumentation
// scope. It is "unknown" in a binary built without module support.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, m := range bi.Deps {
		if m.Path == modulePath {
			if m.Replace != nil && m.Replace.Version != "" {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return "unknown"
}

// baseResource returns the resource of the exported spans, but for
// service.instance.id: the OTEL_RESOURCE_ATTRIBUTES (and OTEL_SERVICE_NAME)
// of the environment, the option's attributes over them, and the
// exporter's: service.name (the option's, else the environment's, else
// "unknown_service:" and the executable's name, as OpenTelemetry SDKs do)
// and telemetry.sdk.*, with the conventions' schema URL.
func baseResource(cfg config, version string) *resource.Resource {
	res, err := resource.New(context.Background(), resource.WithFromEnv())
	if err != nil && res == nil { // a partly malformed environment still gives what it could read
		res = resource.Empty()
	}
	if len(cfg.resAttrs) > 0 {
		if m, err := resource.Merge(res, resource.NewSchemaless(cfg.resAttrs...)); err == nil {
			res = m
		}
	}
	name := cfg.serviceName
	if name == "" {
		if v, ok := res.Set().Value(attribute.Key(convention.KeyServiceName)); ok {
			name = v.String()
		}
	}
	if name == "" {
		name = "unknown_service:go"
		if exe, err := os.Executable(); err == nil {
			name = "unknown_service:" + filepath.Base(exe)
		}
	}
	own := resource.NewWithAttributes(SchemaURL,
		attribute.String(convention.KeyServiceName, name),
		attribute.String(convention.KeyTelemetrySDKName, "appstats"),
		attribute.String(convention.KeyTelemetrySDKLanguage, "go"),
		attribute.String(convention.KeyTelemetrySDKVersion, version),
	)
	if m, err := resource.Merge(res, own); err == nil {
		return m
	}
	return own
}

// Stats counts what an [Exporter] has done since it was created.
type Stats struct {
	Exported   uint64 // records handed to the SpanExporter successfully
	Spans      uint64 // spans in those records
	Dropped    uint64 // records not exported: queue full, exporter closed, or left when Close gave up, those of the export its deadline cut included (see [Exporter.Close]), or the collector's wait ended after Close's deadline (see [MaxRetryAfter])
	Failed     uint64 // records lost in ExportSpans calls that failed (all of a call's records when an OTLP collector's partial success rejected some of its spans)
	Errors     uint64 // failed ExportSpans calls
	Unsampled  uint64 // records not exported because their caller did not sample the trace (Record.Unsampled)
	QueueDepth int    // records waiting now
	QueueCap   int
}

// Stats returns the exporter's counters; a nil Exporter's are zero.
func (e *Exporter) Stats() Stats {
	if e == nil {
		return Stats{}
	}
	return Stats{
		Exported:   e.exported.Load(),
		Spans:      e.spans.Load(),
		Dropped:    e.dropped.Load(),
		Failed:     e.failed.Load(),
		Errors:     e.errors.Load(),
		Unsampled:  e.unsampled.Load(),
		QueueDepth: len(e.q),
		QueueCap:   cap(e.q),
	}
}

// Write queues records for export and returns at once; it implements
// [recording.Sink]. It never blocks: records that do not fit in the queue are
// dropped and counted. It returns an error only when records were dropped:
// a [*recording.PartialWriteError] naming them, so that the recorder counts
// them as not written and the others as written.
func (e *Exporter) Write(_ context.Context, records []*recording.Record) error {
	e.closing.RLock()
	defer e.closing.RUnlock()
	if e.closed.Load() {
		e.dropped.Add(uint64(len(records)))
		return ErrClosed
	}
	var lost []*recording.Record
	// Counted before they are queued: the worker may export them, and
	// take them off, before the loop ends.
	e.pending.Add(int64(len(records)))
	skipped := 0 // nil, unsampled or lost
	for _, r := range records {
		if r == nil {
			skipped++
			continue
		}
		if r.Unsampled {
			e.unsampled.Add(1) // the caller's decision: see recording.WithCallerSampling
			skipped++
			continue
		}
		select {
		case e.q <- r:
		default:
			lost = append(lost, r)
			skipped++
		}
	}
	e.pending.Add(-int64(skipped))
	if len(lost) > 0 {
		e.dropped.Add(uint64(len(lost)))
		return &recording.PartialWriteError{
			Rejected: lost,
			Err:      fmt.Errorf("otelexport: queue full, %d of %d records dropped", len(lost), len(records)),
		}
	}
	return nil
}

// ForceFlush exports the records queued before the call, and those waiting
// for calls still running (see [WithRunningCallWait]), and returns when they
// have been handed to the SpanExporter (successfully or not), or when ctx is
// done. While the collector has asked to wait (see [MaxRetryAfter]), or
// when it asks during the flush, the records not yet exported are kept,
// queued, to be exported when the wait ends, and ForceFlush returns at
// once a [*RetryAfterError] that says until when and how many. When
// exports failed since ForceFlush last returned (the collector refused
// them, answered with an error, or could not be reached, past the OTLP
// exporter's retries), whether this flush made them or the worker did
// before, it returns an [*ExportError] that says how many records were
// lost and wraps the exports' errors; each failure is returned once,
// by one ForceFlush (or Close). It returns at once, whatever ctx, when
// every record written before has been handed over: nil, or that
// error. A nil Exporter has nothing to flush.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e == nil {
		return nil
	}
	if e.closed.Load() {
		return ErrClosed
	}
	if e.pending.Load() == 0 {
		// Nothing queued, held or being exported: the exports that
		// failed meanwhile, if any, are over.
		return e.lost.take()
	}
	ack := make(chan error, 1)
	select {
	case e.flushes <- ack:
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return join(e.lost.take(), err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting records, exports those still queued or waiting for
// calls still running, stops the worker goroutine and shuts the
// SpanExporter down.
//
// Close is bounded by about one export timeout ([WithExportTimeout], 10 s
// by default), whatever its context, context.Background() included: the
// chunks it exports share one deadline, the export timeout from the
// moment Close began, rather than each chunk of up to 1,024 spans
// ([WithBatchSpans]) having a timeout of its own. When that deadline
// passes, or a chunk fails for a collector that does not answer in time
// or is unavailable (a deadline, a refused connection, gRPC's
// UNAVAILABLE), Close gives up on the records left: they are dropped and
// counted in [Stats.Dropped] (those of an export the deadline cut too;
// those of a chunk that failed of itself in [Stats.Failed]), and Close
// returns an [*ExportError] that says how many and why: it wraps the
// deadline's error (errors.Is(err, context.DeadlineExceeded)), or the
// failed export's. The same error tells of the exports that failed since
// [Exporter.ForceFlush] last returned, Close's own included. A collector
// that answers in time receives every record queued. A collector that
// asks to wait (see [MaxRetryAfter]) is waited for until that deadline;
// if its wait ends later, the records left are dropped and counted, and
// Close returns a [*RetryAfterError] with Dropped set.
//
// Close then shuts the SpanExporter down with a context that ends at that
// deadline, or a second after Shutdown began if later (or when ctx ends,
// if sooner), and returns its error; a Shutdown that ignores its context
// is left running a second after it ends, and Close returns an error.
//
// If ctx ends first, the export in progress is cancelled, the records
// left are dropped and counted, and Close returns ctx's error once the
// worker has stopped (an [*ExportError] that wraps it, when records
// were dropped). Calling Close again returns [ErrClosed]. A nil
// Exporter, which [NewFromEnv] returns without an endpoint, has nothing
// to close: Close returns nil.
func (e *Exporter) Close(ctx context.Context) error {
	if e == nil {
		return nil
	}
	err := ErrClosed
	e.closeOnce.Do(func() {
		err = nil
		// ctx's deadline, when sooner, is kept by cancelling the
		// exports when ctx ends (below).
		by := time.Now().Add(e.cfg.exportTimeout)
		e.closeBy.Store(by.UnixNano())
		e.closing.Lock() // waits for a Write in progress, which never blocks
		e.closed.Store(true)
		e.closing.Unlock()
		close(e.stop)
		giveUp := time.NewTimer(time.Until(by))
		defer giveUp.Stop()
		select {
		case <-e.done:
		case <-giveUp.C:
			// The exports share this deadline: the worker is about to
			// stop, unless the SpanExporter ignores its context.
			e.cancel(context.DeadlineExceeded)
			e.waitWorker()
		case <-ctx.Done():
			err = ctx.Err()
			e.cancel(err)
			e.waitWorker()
		}
		e.cancel(context.DeadlineExceeded) // the worker has stopped, or is left running
		// Nothing is queued after this: a Write that began before closed
		// was set has returned (see closing), and the others drop their
		// records. What the worker left, if it ran out of time, is counted.
		left := 0
		for {
			select {
			case <-e.q:
				e.dropped.Add(1)
				e.pending.Add(-1)
				left++
				continue
			default:
			}
			break
		}
		e.noteDropped(left, context.Cause(e.ctx))
		if lost := e.lost.take(); lost != nil {
			if err != nil && errors.Is(lost, err) {
				err = lost // it says why: ctx's error
			} else {
				err = join(err, lost)
			}
		}
		if n := e.waitDropped.Load(); n > 0 {
			err = errors.Join(err, &RetryAfterError{Until: time.Unix(0, e.waitUntil.Load()), Records: int(n), Dropped: true})
		}
		// Shutdown is bounded too: by Close's deadline, or a second from
		// now if later (the exports may have used it all), and by ctx.
		sctx, scancel := context.WithDeadline(ctx, later(by, time.Now().Add(shutdownGrace)))
		serr := e.shutdown(sctx)
		scancel()
		if serr != nil {
			err = errors.Join(err, fmt.Errorf("otelexport: shutdown: %w", e.cfg.watch.hideErr(serr)))
		}
		// The exports are over: their connections, idle in
		// otlptracehttp's pool, are closed, and their goroutines end.
		e.cfg.watch.closeConns()
	})
	return err
}

// shutdownGrace is the least time Close gives the SpanExporter's Shutdown.
const shutdownGrace = time.Second

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// shutdown shuts the SpanExporter down, and returns its error; a
// SpanExporter that ignores ctx is waited for a second past its end at
// most, and left running.
func (e *Exporter) shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("span exporter's Shutdown panicked: %s", recording.PanicString(v))
			}
		}()
		done <- e.exp.Shutdown(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		e.log.Warn("otelexport: the span exporter's Shutdown ignored its context; its goroutine is still running")
		return fmt.Errorf("span exporter's Shutdown still running after its context ended: %w", context.Cause(ctx))
	}
}

// waitWorker waits for the worker to stop, once its exports' context is
// cancelled, a second at most.
func (e *Exporter) waitWorker() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-e.done:
	case <-t.C:
		e.log.Warn("otelexport: the span exporter ignored its context; its goroutine is still running")
	}
}

// worker converts queued records to spans and exports them. It batches
// naturally: it takes what is queued, up to the span budget, and exports.
// A record with calls still running when its request ended is held until
// they end or its deadline passes (see [WithRunningCallWait]); the worker
// looks at held records every pollHeld, and exports them all at once on
// ForceFlush and Close.
func (e *Exporter) worker() {
	defer close(e.done)
	// The batch's records, and only they, may outlive a flush: those
	// the collector's wait kept from export, which the next flush
	// exports first.
	var batch []sdktrace.ReadOnlySpan
	var ends []int // where each record's spans end in batch
	flush := func() {
		if len(ends) == 0 {
			return
		}
		from, kept := e.export(batch, ends)
		done := len(ends) - kept
		e.pending.Add(-int64(done))
		n := copy(batch, batch[from:])
		clear(batch[n:])
		batch = batch[:n]
		ends = ends[:copy(ends, ends[done:])]
		for i := range ends {
			ends[i] -= from
		}
	}
	add := func(r *recording.Record) {
		batch = e.appendSpans(batch, r)
		ends = append(ends, len(batch))
		if len(batch) >= e.cfg.batchSpans {
			flush()
		}
	}
	// take adds r to the batch, or holds it.
	take := func(r *recording.Record) {
		if e.hold(r) {
			return
		}
		add(r)
	}
	// drain takes what is queued now, exporting as the budget fills up;
	// but for Close, it stops when an export finds the collector asking
	// to wait: the records left wait in the queue.
	drain := func(all bool) {
		for all || !time.Now().Before(e.retryAt) {
			select {
			case r := <-e.q:
				take(r)
				continue
			default:
			}
			return
		}
	}
	// release adds the held records whose calls have ended, or whose
	// deadline has passed (all of them, when all is set).
	release := func(all bool) {
		now := time.Now()
		kept := e.held[:0]
		for _, h := range e.held {
			if all || !now.Before(h.deadline) || settled(h.r) {
				add(h.r)
			} else {
				kept = append(kept, h)
			}
		}
		clear(e.held[len(kept):])
		e.held = kept
	}
	// The poll timer runs only while records are held.
	poll := time.NewTimer(pollHeld)
	poll.Stop()
	defer poll.Stop()
	var pollC <-chan time.Time
	// While the collector asked to wait (Retry-After), the records wait
	// in the queue, and those past it are dropped by Write.
	pause := time.NewTimer(0)
	pause.Stop()
	defer pause.Stop()
	for {
		if len(e.held) > 0 && pollC == nil {
			poll.Reset(pollHeld)
			pollC = poll.C
		}
		qC, heldC := e.q, pollC
		var pauseC <-chan time.Time
		if !e.retryAt.IsZero() {
			if d := time.Until(e.retryAt); d > 0 {
				qC, heldC = nil, nil
				pause.Reset(d)
				pauseC = pause.C
			} else {
				e.retryAt = time.Time{}
			}
		}
		if pauseC == nil && len(ends) > 0 {
			flush() // what the wait kept, first
			continue
		}
		select {
		case r := <-qC:
			take(r)
			drain(false)
			flush()
		case <-pauseC:
		case <-heldC:
			pollC = nil
			release(false)
			flush()
		case ack := <-e.flushes:
			if pauseC == nil {
				drain(false)
				release(true)
				flush()
			}
			var err error
			if time.Now().Before(e.retryAt) {
				if n := len(ends) + len(e.q) + len(e.held); n > 0 {
					err = &RetryAfterError{Until: e.retryAt, Records: n}
				}
			}
			ack <- err
		case <-e.stop:
			drain(true)
			release(true)
			flush()
			return
		}
	}
}

// pollHeld is how often the worker looks at the records it holds for
// calls still running.
const pollHeld = 50 * time.Millisecond

// hold holds r, and reports whether it did: a record with calls that were
// running when its request ended, and have not ended yet, waits until
// WithRunningCallWait after the request's end, while fewer than the queue's
// size of records wait.
func (e *Exporter) hold(r *recording.Record) bool {
	wait := e.cfg.runningWait
	if wait <= 0 || len(e.held) >= e.cfg.queueSize || settled(r) {
		return false
	}
	deadline := r.Start.Add(r.Duration).Add(wait)
	if !time.Now().Before(deadline) {
		return false
	}
	e.held = append(e.held, heldRecord{r: r, deadline: deadline})
	return true
}

// settled reports whether every call of r is in its final state: none was
// running when the request ended, or those that were have ended since (or
// r cannot know of their ends).
func settled(r *recording.Record) bool {
	for i := range r.Calls {
		if r.Calls[i].Running {
			if _, final := r.FinalCall(i); !final {
				return false
			}
		}
	}
	return true
}

// export hands spans to the SpanExporter, in chunks of at most batchSpans
// spans (one record's spans may straddle two chunks); the spans of record
// i of the batch end at ends[i]. A chunk that fails loses the records with
// a span in it: they are counted as failed, the others as exported, and
// noted, with the export's error, for ForceFlush's and Close's
// *ExportError (see lostRecords).
//
// Before Close, a chunk that comes while the collector asks to wait
// (retryAt) is kept, with the rest of the batch: export returns the
// number of records kept, the last of the batch, and where their spans
// not yet exported begin, for the worker to export them after the wait;
// they are not counted yet.
//
// Once Close has begun, every chunk has Close's deadline (closeBy) if it
// is sooner than the export timeout, and export gives up at that
// deadline, when Close cancels the exports, or after a chunk that failed
// for want of an answer ([unanswered]): the records of the chunks left
// are counted as dropped, as are those of a chunk whose export Close's
// deadline (or Close's cancellation) cut: Close gave up waiting for its
// answer.
func (e *Exporter) export(spans []sdktrace.ReadOnlySpan, ends []int) (from, kept int) {
	n := len(ends)
	from = len(spans)
	if e.ctx.Err() != nil { // Close gave up
		e.dropped.Add(uint64(n))
		e.noteDropped(n, context.Cause(e.ctx))
		return from, 0
	}
	var errs []error
	var failed, failedSpans int // records with a span in a failed chunk, and their spans
	var dropped, droppedSpans int
	var dropCause error // why Close dropped them
	drop := func(recs, nspans int, cause error) {
		dropped += recs
		droppedSpans += nspans
		if dropCause == nil {
			dropCause = cause
		}
	}
	rec := 0 // the first record not yet counted as failed or dropped
	// lose counts the records not yet counted whose spans reach into
	// [lo, hi), and their spans.
	lose := func(lo, hi int) (recs, nspans int) {
		for ; rec < n && (rec == 0 || ends[rec-1] < hi); rec++ {
			if ends[rec] > lo {
				start := 0
				if rec > 0 {
					start = ends[rec-1]
				}
				recs++
				nspans += ends[rec] - start
			}
		}
		return recs, nspans
	}
	throttled := false // records dropped for the collector's Retry-After
	for lo := 0; lo < len(spans); {
		deadline := time.Now().Add(e.cfg.exportTimeout)
		by := e.closeBy.Load()
		closing := by != 0
		if closing {
			if d := time.Unix(0, by); d.Before(deadline) {
				deadline = d
			}
			cause := e.abandoned
			if cause == nil && !time.Now().Before(deadline) {
				cause = context.DeadlineExceeded
			}
			if cause == nil && e.ctx.Err() != nil {
				cause = context.Cause(e.ctx)
			}
			if cause != nil {
				r, s := lose(lo, len(spans))
				drop(r, s, cause)
				break
			}
		}
		if time.Now().Before(e.retryAt) {
			// The collector asked to wait: before Close, the records
			// left are kept for after the wait; Close's wait for it
			// if its deadline comes later, and are dropped otherwise.
			if !closing {
				k := rec
				for k < n && ends[k] <= lo { // exported
					k++
				}
				from, kept = lo, n-k
				if k > 0 {
					from = max(lo, ends[k-1])
				}
				break
			}
			if !e.retryAt.Before(deadline) || !e.sleepUntil(e.retryAt) {
				r, s := lose(lo, len(spans))
				drop(r, s, context.DeadlineExceeded)
				throttled = true
				break
			}
		}
		hi := min(len(spans), lo+e.cfg.batchSpans)
		ctx, cancel := context.WithDeadline(e.ctx, deadline)
		err := safeExport(ctx, e.exp, spans[lo:hi])
		// Close's deadline, or Close, cut the export: Close gave up
		// waiting for the collector's answer.
		cut := err != nil && closing && ctx.Err() != nil
		var cutCause error
		if cut {
			cutCause = context.Cause(ctx)
		}
		cancel()
		if err != nil {
			errs = append(errs, err)
			r, s := lose(lo, hi)
			if cut {
				drop(r, s, cutCause)
				e.abandoned = cutCause // Close tries no further chunk
			} else {
				hidden := e.cfg.watch.hideCut(err, maxLoggedError)
				failed += r
				failedSpans += s
				e.lost.add(r, 0, hidden)
				if e.closeBy.Load() != 0 && unanswered(err) {
					e.abandoned = hidden // Close tries no further chunk
				}
			}
			if d := retryAfter(err); d > 0 {
				e.retryAt = e.cfg.watch.answered(time.Now()).Add(min(d, MaxRetryAfter))
				e.waitUntil.Store(e.retryAt.UnixNano())
			}
		}
		lo = hi
	}
	if len(errs) > 0 {
		e.errors.Add(uint64(len(errs)))
		e.failed.Add(uint64(failed))
		// The error's text is cut: an OTLP/HTTP exporter's holds the
		// collector's answer, up to 4 MiB of an error page. The OTLP
		// headers' values are hidden first (a collector may echo the
		// request's Authorization), so that no part of one is left.
		e.log.Warn("otelexport: export failed", "records", failed,
			"err", e.cfg.watch.hideTruncate(errors.Join(errs...).Error(), maxLoggedError))
	}
	if dropped > 0 {
		e.dropped.Add(uint64(dropped))
		e.noteDropped(dropped, dropCause)
		if throttled {
			e.log.Warn("otelexport: the collector asked to wait (Retry-After); records dropped",
				"records", dropped, "until", e.retryAt)
		} else {
			e.log.Warn("otelexport: Close gave up on the collector; records left dropped", "records", dropped)
		}
	}
	if ok := n - failed - dropped - kept; ok > 0 {
		e.exported.Add(uint64(ok))
		e.spans.Add(uint64(from - failedSpans - droppedSpans))
	}
	return from, kept
}

// noteDropped notes n records Close dropped (counted in Stats.Dropped
// already) for the error Close returns: for its [*RetryAfterError] if the
// collector's wait lasts still (however Close came to drop them, its
// deadline passed while the worker waited or before it came to them, the
// wait kept them from export), and otherwise for its [*ExportError], with
// cause, why Close gave up.
func (e *Exporter) noteDropped(n int, cause error) {
	if n <= 0 {
		return
	}
	if time.Now().UnixNano() < e.waitUntil.Load() {
		e.waitDropped.Add(int64(n))
		return
	}
	e.lost.add(0, n, cause)
}

// MaxRetryAfter bounds how long an [Exporter] holds its exports back when
// its collector asks it to wait: an export that failed with an HTTP
// Retry-After (429, 503) or gRPC's RetryInfo (after the OTLP exporter's own
// retries, until the export timeout), counted from the collector's answer.
// A longer wait asked for, a year say, is cut to it. Meanwhile the records
// wait, in the queue (those past its size are dropped by [Exporter.Write]
// and counted in [Stats.Dropped]), as do those of the refused export's
// batch past its chunk of [WithBatchSpans] spans, and are exported when
// the wait ends; [Exporter.ForceFlush] returns a [*RetryAfterError] and
// keeps them. [Exporter.Close] waits for the end of the wait if its
// deadline is later, and otherwise drops them, counts them in
// [Stats.Dropped], and returns a [*RetryAfterError] that says so.
const MaxRetryAfter = time.Minute

// retryAfter returns how long err's collector asked to wait before the
// next export, or 0: gRPC's RetryInfo, or the Retry-After of an OTLP/HTTP
// answer, which otlptracehttp keeps only in its unexported retryableError
// (its throttle field, read by reflection; TestRetryAfterHonouredAcrossExports
// fails if that changes).
func retryAfter(err error) time.Duration {
	if s, ok := status.FromError(err); ok {
		for _, d := range s.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				return max(ri.GetRetryDelay().AsDuration(), 0)
			}
		}
	}
	var found time.Duration
	walkErrors(err, func(err error) bool {
		v := reflect.ValueOf(err)
		t := v.Type()
		if t.Kind() != reflect.Struct || t.Name() != "retryableError" ||
			t.PkgPath() != "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp" {
			return true
		}
		if f := v.FieldByName("throttle"); f.IsValid() && f.Kind() == reflect.Int64 {
			found = max(time.Duration(f.Int()), 0)
		}
		return false
	})
	return found
}

// walkErrors calls f on err and the errors it wraps, depth first, until f
// returns false.
func walkErrors(err error, f func(error) bool) bool {
	if err == nil {
		return true
	}
	if !f(err) {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walkErrors(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !walkErrors(e, f) {
				return false
			}
		}
	}
	return true
}

// sleepUntil waits until t, and reports whether it did: false if Close
// cancelled the exports first.
func (e *Exporter) sleepUntil(t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// unanswered reports whether err is an export's failure for a collector
// that did not answer in time or could not be reached: its deadline
// passed or its context was cancelled, a network timeout, a refused
// connection, or gRPC's UNAVAILABLE or DEADLINE_EXCEEDED. Close tries no
// further chunk after one.
func unanswered(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

// maxLoggedError is how many bytes of a failed export's error the
// exporter logs, at most.
const maxLoggedError = 1024

func safeExport(ctx context.Context, exp sdktrace.SpanExporter, spans []sdktrace.ReadOnlySpan) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("span exporter panicked: %s", recording.PanicString(v))
		}
	}()
	return exp.ExportSpans(ctx, spans)
}

// resource returns the resource of the spans of records made by instance:
// the exporter's, with service.instance.id.
func (e *Exporter) resource(instance string) *resource.Resource {
	if r, ok := e.resources[instance]; ok {
		return r
	}
	res := e.base
	if instance != "" {
		if m, err := resource.Merge(e.base, resource.NewWithAttributes(SchemaURL,
			attribute.String(convention.KeyServiceInstanceID, instance))); err == nil {
			res = m
		}
	}
	if len(e.resources) >= 64 { // Instance is one value per process; be safe.
		clear(e.resources)
	}
	e.resources[instance] = res
	return res
}
