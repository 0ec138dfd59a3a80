package otelexport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// ErrClosed is returned by [Exporter.Close] when called a second time, and by
// [Exporter.ForceFlush] after Close.
var ErrClosed = errors.New("otelexport: exporter closed")

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
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}

	// ctx is the parent of every export's context; cancelled when Close runs
	// out of time.
	ctx    context.Context
	cancel context.CancelFunc

	closed    atomic.Bool
	closeOnce sync.Once

	exported atomic.Uint64
	spans    atomic.Uint64
	dropped  atomic.Uint64
	failed   atomic.Uint64
	errors   atomic.Uint64

	log *convention.Logger // the exporter's own problems, rate-limited

	// Owned by the worker goroutine.
	serviceName string
	resources   map[string]*resource.Resource // by record Instance
}

var _ recording.Sink = (*Exporter)(nil)

// New returns an Exporter that exports records with exp, and starts its
// worker goroutine. The Exporter owns exp: [Exporter.Close] shuts it down.
func New(exp sdktrace.SpanExporter, opts ...Option) *Exporter {
	cfg := newConfig(opts)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{
		cfg:         cfg,
		exp:         exp,
		q:           make(chan *recording.Record, cfg.queueSize),
		flushes:     make(chan chan struct{}),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		ctx:         ctx,
		cancel:      cancel,
		serviceName: serviceName(cfg.serviceName),
		resources:   make(map[string]*resource.Resource),
		log:         convention.NewLogger(cfg.logger, convention.LogInterval),
	}
	go e.worker()
	return e
}

// serviceName resolves the service.name resource attribute: the option, else
// $OTEL_SERVICE_NAME, else the executable's name.
func serviceName(opt string) string {
	if opt != "" {
		return opt
	}
	if s := os.Getenv("OTEL_SERVICE_NAME"); s != "" {
		return s
	}
	if exe, err := os.Executable(); err == nil {
		return filepath.Base(exe)
	}
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "unknown_service:go"
}

// Stats counts what an [Exporter] has done since it was created.
type Stats struct {
	Exported   uint64 // records handed to the SpanExporter successfully
	Spans      uint64 // spans in those records
	Dropped    uint64 // records not exported: queue full, or exporter closed
	Failed     uint64 // records lost in ExportSpans calls that failed
	Errors     uint64 // failed ExportSpans calls
	QueueDepth int    // records waiting now
	QueueCap   int
}

// Stats returns the exporter's counters.
func (e *Exporter) Stats() Stats {
	return Stats{
		Exported:   e.exported.Load(),
		Spans:      e.spans.Load(),
		Dropped:    e.dropped.Load(),
		Failed:     e.failed.Load(),
		Errors:     e.errors.Load(),
		QueueDepth: len(e.q),
		QueueCap:   cap(e.q),
	}
}

// Write queues records for export and returns at once; it implements
// [recording.Sink]. It never blocks: records that do not fit in the queue are
// dropped and counted. It returns an error only when records were dropped,
// so that the recorder counts the failure.
func (e *Exporter) Write(_ context.Context, records []*recording.Record) error {
	if e.closed.Load() {
		e.dropped.Add(uint64(len(records)))
		return ErrClosed
	}
	var lost int
	for _, r := range records {
		if r == nil {
			continue
		}
		select {
		case e.q <- r:
		default:
			lost++
		}
	}
	if lost > 0 {
		e.dropped.Add(uint64(lost))
		return fmt.Errorf("otelexport: queue full, %d of %d records dropped", lost, len(records))
	}
	return nil
}

// ForceFlush exports the records queued before the call and returns when they
// have been handed to the SpanExporter (successfully or not), or when ctx is
// done.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if e.closed.Load() {
		return ErrClosed
	}
	ack := make(chan struct{})
	select {
	case e.flushes <- ack:
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting records, exports those still queued, stops the worker
// goroutine and shuts the SpanExporter down. If ctx ends first, the export in
// progress is cancelled, the records left are dropped and counted, and Close
// returns ctx's error once the worker has stopped. Calling Close again returns
// [ErrClosed].
func (e *Exporter) Close(ctx context.Context) error {
	err := ErrClosed
	e.closeOnce.Do(func() {
		err = nil
		e.closed.Store(true)
		close(e.stop)
		select {
		case <-e.done:
		case <-ctx.Done():
			err = ctx.Err()
			e.cancel()
			select {
			case <-e.done:
			case <-time.After(time.Second):
				e.log.Warn("otelexport: the span exporter ignored its context; its goroutine is still running")
			}
		}
		e.cancel()
		// Records that raced past the closed flag are counted, not lost silently.
		for {
			select {
			case <-e.q:
				e.dropped.Add(1)
				continue
			default:
			}
			break
		}
		if serr := e.exp.Shutdown(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("otelexport: shutdown: %w", serr))
		}
	})
	return err
}

// worker converts queued records to spans and exports them. It batches
// naturally: it takes what is queued, up to the span budget, and exports.
func (e *Exporter) worker() {
	defer close(e.done)
	var batch []sdktrace.ReadOnlySpan
	var records int
	flush := func() {
		if records > 0 {
			e.export(batch, records)
		}
		clear(batch)
		batch, records = batch[:0], 0
	}
	add := func(r *recording.Record) {
		batch = e.appendSpans(batch, r)
		records++
		if len(batch) >= e.cfg.batchSpans {
			flush()
		}
	}
	// drain takes what is queued now, exporting as the budget fills up.
	drain := func() {
		for {
			select {
			case r := <-e.q:
				add(r)
				continue
			default:
			}
			return
		}
	}
	for {
		select {
		case r := <-e.q:
			add(r)
			drain()
			flush()
		case ack := <-e.flushes:
			drain()
			flush()
			close(ack)
		case <-e.stop:
			drain()
			flush()
			return
		}
	}
}

// export hands spans (from n records) to the SpanExporter, in chunks of at
// most batchSpans spans (one record's spans may straddle two chunks).
func (e *Exporter) export(spans []sdktrace.ReadOnlySpan, n int) {
	if e.ctx.Err() != nil {
		e.dropped.Add(uint64(n))
		return
	}
	total := len(spans)
	var errs []error
	for len(spans) > 0 {
		k := min(len(spans), e.cfg.batchSpans)
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.exportTimeout)
		err := safeExport(ctx, e.exp, spans[:k])
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
		spans = spans[k:]
	}
	if len(errs) > 0 {
		e.errors.Add(uint64(len(errs)))
		e.failed.Add(uint64(n))
		e.log.Warn("otelexport: export failed", "records", n, "err", errors.Join(errs...))
		return
	}
	e.exported.Add(uint64(n))
	e.spans.Add(uint64(total))
}

func safeExport(ctx context.Context, exp sdktrace.SpanExporter, spans []sdktrace.ReadOnlySpan) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("span exporter panicked: %s", recording.PanicString(v))
		}
	}()
	return exp.ExportSpans(ctx, spans)
}

// resource returns the resource of the spans of records made by instance.
func (e *Exporter) resource(instance string) *resource.Resource {
	if r, ok := e.resources[instance]; ok {
		return r
	}
	attrs := make([]attribute.KeyValue, 0, len(e.cfg.resAttrs)+4)
	attrs = append(attrs, e.cfg.resAttrs...)
	attrs = append(attrs,
		attribute.String(convention.KeyServiceName, e.serviceName),
		attribute.String(convention.KeyTelemetrySDKName, "appstats"),
		attribute.String(convention.KeyTelemetrySDKLanguage, "go"),
	)
	if instance != "" {
		attrs = append(attrs, attribute.String(convention.KeyServiceInstanceID, instance))
	}
	res := resource.NewSchemaless(attrs...)
	if env, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(env, res); err == nil {
			res = merged
		}
	}
	if len(e.resources) >= 64 { // Instance is one value per process; be safe.
		clear(e.resources)
	}
	e.resources[instance] = res
	return res
}
