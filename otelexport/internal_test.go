package otelexport

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/goappstats/appstats/recording"
)

// funcExporter is a SpanExporter made of functions, to inject failures.
type funcExporter struct {
	export   func(context.Context, []sdktrace.ReadOnlySpan) error
	shutdown func(context.Context) error
}

func (f funcExporter) ExportSpans(ctx context.Context, s []sdktrace.ReadOnlySpan) error {
	return f.export(ctx, s)
}
func (f funcExporter) Shutdown(ctx context.Context) error { return f.shutdown(ctx) }

// throttling is a funcExporter that counts its exports in exports and
// refuses each with RESOURCE_EXHAUSTED and a RetryInfo of delay, as a
// throttling collector does.
func throttling(delay time.Duration, exports *atomic.Int64) funcExporter {
	st, err := status.New(codes.ResourceExhausted, "slow down").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil {
		panic(err)
	}
	return funcExporter{
		export: func(context.Context, []sdktrace.ReadOnlySpan) error {
			exports.Add(1)
			return st.Err()
		},
		shutdown: func(context.Context) error { return nil },
	}
}

// flushFailed calls ForceFlush, which should return an *ExportError of
// failed records lost in failed exports, its text containing want.
func flushFailed(t *testing.T, e *Exporter, failed int, want string) {
	t.Helper()
	err := e.ForceFlush(t.Context())
	var lost *ExportError
	if !errors.As(err, &lost) || lost.Failed != failed || lost.Dropped != 0 || !strings.Contains(err.Error(), want) {
		t.Fatalf("ForceFlush after a failed export: %v; want an *ExportError of %d records failed, with %q", err, failed, want)
	}
}

func testRecord(calls int) *recording.Record {
	r := &recording.Record{
		TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID(), Kind: recording.KindHTTP,
		Start: time.Now(), Duration: time.Second, Method: "GET", Path: "/x", Route: "GET /x", Status: 200,
	}
	for i := range calls {
		r.Calls = append(r.Calls, recording.Call{
			Service: "sql", Method: "SELECT t", Request: "SELECT a FROM t WHERE id = ?",
			Start: time.Duration(i) * time.Millisecond, Duration: time.Millisecond,
			RequestSize: -1, ResponseSize: -1, SpanID: recording.NewSpanID(),
		})
	}
	return r
}

// TestCloseLifecycle: Close stops the worker goroutine and shuts the span
// exporter down, passing on its error; a panicking exporter is an error,
// not a crash.
func TestCloseLifecycle(t *testing.T) {
	shutdownErr := errors.New("shutdown failed")
	var shut bool
	e := New(funcExporter{
		export:   func(context.Context, []sdktrace.ReadOnlySpan) error { panic("boom") },
		shutdown: func(context.Context) error { shut = true; return shutdownErr },
	})
	e.Write(t.Context(), []*recording.Record{testRecord(2)})
	flushFailed(t, e, 1, "span exporter panicked: boom")
	if st := e.Stats(); st.Errors != 1 || st.Failed != 1 {
		t.Errorf("stats after a panicking export: %+v", st)
	}
	if err := e.Close(t.Context()); !errors.Is(err, shutdownErr) || !shut {
		t.Errorf("Close: %v (shut down: %v), want the exporter's shutdown error", err, shut)
	}
	select {
	case <-e.done:
	default:
		t.Error("worker still running after Close")
	}
	if err := e.ForceFlush(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("ForceFlush after Close: %v", err)
	}
}

// TestBatchSpans: records are exported in chunks of at most batchSpans spans.
func TestBatchSpans(t *testing.T) {
	var sizes []int
	e := New(funcExporter{
		export: func(_ context.Context, s []sdktrace.ReadOnlySpan) error {
			sizes = append(sizes, len(s))
			return nil
		},
		shutdown: func(context.Context) error { return nil },
	}, WithBatchSpans(4))
	e.Write(t.Context(), []*recording.Record{testRecord(5), testRecord(0)}) // 6 + 1 spans
	if err := e.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range sizes {
		if n > 4 {
			t.Errorf("a batch of %d spans, want at most 4", n)
		}
		total += n
	}
	if st := e.Stats(); total != 7 || st.Spans != 7 || st.Exported != 2 {
		t.Errorf("exported %d spans in %v; stats %+v", total, sizes, st)
	}
}

// TestBridgeForgetsEndedSpans: the bridge's state is empty once spans end,
// whether they became calls, were skipped, or belonged to no record.
func TestBridgeForgetsEndedSpans(t *testing.T) {
	rec := recording.New()
	defer rec.Close(t.Context())
	b := NewSpanProcessor(rec).(*bridge)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
	defer tp.Shutdown(t.Context())
	tr := tp.Tracer("test")
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	var ends []trace.Span
	for range 3 {
		cctx, s := tr.Start(ctx, "client", trace.WithSpanKind(trace.SpanKindClient))
		_, child := tr.Start(cctx, "child")
		ends = append(ends, child, s)
		_, other := tr.Start(t.Context(), "unrecorded")
		ends = append(ends, other)
	}
	b.mu.Lock()
	n := len(b.spans)
	b.mu.Unlock()
	if n != 6 { // 3 calls, 3 skipped children tracked for their own children
		t.Errorf("%d spans tracked in flight, want 6", n)
	}
	for _, s := range ends {
		s.End()
	}
	ar.Finish()
	b.mu.Lock()
	n = len(b.spans)
	b.mu.Unlock()
	if n != 0 {
		t.Errorf("%d spans still tracked after they ended", n)
	}
}

func BenchmarkConvert(b *testing.B) {
	r := testRecord(20)
	res := resource.NewSchemaless()
	var dst []sdktrace.ReadOnlySpan
	b.ReportAllocs()
	for b.Loop() {
		dst = appendSpans(dst[:0], r, res, instrumentation.Scope{Name: ScopeName})
	}
}

// nilErr is an error whose Error method reads its receiver: a nil *nilErr
// in an error panics when formatted.
type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

// TestExporterPanicsWithNilReceiver: a span exporter that panics with a
// typed nil error is counted as a failed export, as any panic is; on main
// formatting the panic value panicked again, in the worker's recovery,
// and crashed the program.
func TestExporterPanicsWithNilReceiver(t *testing.T) {
	e := New(funcExporter{
		export:   func(context.Context, []sdktrace.ReadOnlySpan) error { panic((*nilErr)(nil)) },
		shutdown: func(context.Context) error { return nil },
	})
	e.Write(t.Context(), []*recording.Record{testRecord(1)})
	flushFailed(t, e, 1, "span exporter panicked: <nil>")
	if st := e.Stats(); st.Errors != 1 || st.Failed != 1 {
		t.Errorf("stats after a panicking export: %+v", st)
	}
	if err := e.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestExportTimeoutFromEnv: OTEL_EXPORTER_OTLP_TIMEOUT (and its TRACES_
// form, which wins) bounds each export of the OTLP exporters, and the
// Exporter's own bound of each ExportSpans call follows it, so that a
// longer timeout set for a slow collector is not cut at
// DefaultExportTimeout; WithExportTimeout still wins. On main the
// Exporter cancelled every export after 10 s whatever the variable said.
func TestExportTimeoutFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name         string
		timeout, sig string
		opts         []Option
		want         time.Duration
	}{
		{"unset", "", "", nil, DefaultExportTimeout},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "30000", "", nil, 30 * time.Second},
		{"the traces one wins", "30000", "45000", nil, 45 * time.Second},
		{"shorter", "2500", "", nil, 2500 * time.Millisecond},
		{"malformed", "30s", "", nil, DefaultExportTimeout},
		{"the option wins", "30000", "", []Option{WithExportTimeout(time.Second)}, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", tt.timeout)
			t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", tt.sig)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
			for name, mk := range map[string]func(context.Context, ...Option) (*Exporter, error){
				"http": NewOTLPHTTP, "grpc": NewOTLPGRPC, "env": NewFromEnv,
			} {
				e, err := mk(t.Context(), tt.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if e.cfg.exportTimeout != tt.want {
					t.Errorf("%s: export timeout %v, want %v", name, e.cfg.exportTimeout, tt.want)
				}
				e.Close(t.Context())
			}
		})
	}
}
