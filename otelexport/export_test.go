package otelexport_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func mustTrace(t testing.TB, s string) recording.TraceID {
	t.Helper()
	v, err := recording.ParseTraceID(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustSpan(t testing.TB, s string) recording.SpanID {
	t.Helper()
	v, err := recording.ParseSpanID(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture returns a record with one call of each kind the exporter treats
// specially: HTTP (with phases), gRPC (failed), SQL, a custom event, and a
// hand-wrapped call still running when the request ended.
func fixture(t testing.TB) *recording.Record {
	t.Helper()
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 123456789, time.UTC)
	id, err := recording.ParseID("188a0b1c2d3e4f5000000001000000aa")
	if err != nil {
		t.Fatal(err)
	}
	return &recording.Record{
		ID:            id,
		TraceID:       mustTrace(t, "0af7651916cd43dd8448eb211c80319c"),
		SpanID:        mustSpan(t, "b7ad6b7169203331"),
		ParentSpanID:  mustSpan(t, "00f067aa0ba902b7"),
		Kind:          recording.KindHTTP,
		Start:         t0,
		Duration:      250 * time.Millisecond,
		Method:        "GET",
		Path:          "/users/42",
		Route:         "GET /users/{id}",
		Query:         "token=REDACTED&page=2",
		Status:        503,
		ResponseBytes: 17,
		Remote:        "127.0.0.1:5555",
		Instance:      "host-a/1234",
		Overhead:      1500 * time.Microsecond,
		Calls: []recording.Call{
			{
				Service: "http", Method: "GET api.example.com/users/{id}",
				Start: 10 * time.Millisecond, Duration: 50 * time.Millisecond,
				RequestSize: 0, ResponseSize: 120,
				SpanID: mustSpan(t, "1000000000000001"),
				Attrs: []recording.Attr{
					{Key: "http.response.status_code", Value: "200"},
					{Key: "url.full", Value: "http://api.example.com/users/42"},
				},
				Phases: []recording.Phase{
					{Name: "dns", Start: 10 * time.Millisecond, Duration: 2 * time.Millisecond},
					{Name: "connect", Start: 12 * time.Millisecond, Duration: 3 * time.Millisecond},
				},
				Stack: []recording.Frame{{Function: "main.handler", File: "/src/main.go", Line: 42}},
			},
			{
				Service: "grpc", Method: "/pkg.Users/Get",
				Start: 70 * time.Millisecond, Duration: 20 * time.Millisecond,
				RequestSize: -1, ResponseSize: -1,
				Error:  "rpc error: code = NotFound desc = no user",
				SpanID: mustSpan(t, "1000000000000002"),
				Attrs:  []recording.Attr{{Key: "rpc.grpc.status_code", Value: "5"}},
			},
			{
				Service: "sql", Method: "SELECT users",
				Start: 95 * time.Millisecond, Duration: 4 * time.Millisecond,
				RequestSize: -1, ResponseSize: -1,
				Request: "SELECT name FROM users WHERE id = ?",
				SpanID:  mustSpan(t, "1000000000000003"),
				Attrs:   []recording.Attr{{Key: "db.system.name", Value: "sqlite"}},
			},
			{
				Service: "event", Method: "cache-miss", Event: true,
				Start: 5 * time.Millisecond, Request: "user 42",
				RequestSize: -1, ResponseSize: -1,
				SpanID: mustSpan(t, "1000000000000004"),
			},
			{
				Service: "memcache", Method: "Get",
				Start: 200 * time.Millisecond, Duration: 50 * time.Millisecond,
				RequestSize: 10, ResponseSize: -1, Running: true,
				SpanID: mustSpan(t, "1000000000000005"),
			},
		},
	}
}

// wantSpan is what a received span must be; Attrs lists only the attributes
// checked.
type wantSpan struct {
	name    string
	kind    tracepb.Span_SpanKind
	parent  string
	start   time.Duration // offset from the record's start
	end     time.Duration
	status  tracepb.Status_StatusCode
	message string
	attrs   map[string]any
	events  []string
	noAttrs []string // attributes that must be absent
}

func fixtureWant() map[string]wantSpan {
	return map[string]wantSpan{
		"b7ad6b7169203331": {
			name: "GET /users/{id}", kind: tracepb.Span_SPAN_KIND_SERVER, parent: "00f067aa0ba902b7",
			start: 0, end: 250 * time.Millisecond,
			status: tracepb.Status_STATUS_CODE_ERROR, // the status code says why
			attrs: map[string]any{
				"http.request.method": "GET", "url.path": "/users/42", "url.query": "token=REDACTED&page=2",
				"http.route": "/users/{id}", "http.response.status_code": int64(503), "error.type": "503",
				"client.address": "127.0.0.1", "network.peer.address": "127.0.0.1", "network.peer.port": int64(5555),
				"http.response.body.size": int64(17), "appstats.record.id": "188a0b1c2d3e4f5000000001000000aa",
				"appstats.overhead_ms": 1.5,
			},
			noAttrs: []string{"client.port"},
			events:  []string{"cache-miss"},
		},
		"1000000000000001": {
			name: "GET", kind: tracepb.Span_SPAN_KIND_CLIENT, parent: "b7ad6b7169203331",
			start: 10 * time.Millisecond, end: 60 * time.Millisecond,
			status: tracepb.Status_STATUS_CODE_UNSET,
			attrs: map[string]any{
				"http.request.method": "GET", "server.address": "api.example.com",
				"url.full": "http://api.example.com/users/42", "http.response.status_code": int64(200),
				"http.request.body.size": int64(0), "http.response.body.size": int64(120),
				"code.function.name": "main.handler", "code.line.number": int64(42),
			},
			events: []string{"dns", "connect"},
		},
		"1000000000000002": {
			name: "pkg.Users/Get", kind: tracepb.Span_SPAN_KIND_CLIENT, parent: "b7ad6b7169203331",
			start: 70 * time.Millisecond, end: 90 * time.Millisecond,
			status: tracepb.Status_STATUS_CODE_ERROR, message: "rpc error: code = NotFound desc = no user",
			attrs: map[string]any{
				"rpc.system.name": "grpc", "rpc.method": "pkg.Users/Get",
				"rpc.response.status_code": "NOT_FOUND", "error.type": "NOT_FOUND",
			},
			noAttrs: []string{"rpc.system", "rpc.service", "rpc.grpc.status_code"},
		},
		"1000000000000003": {
			name: "SELECT users", kind: tracepb.Span_SPAN_KIND_CLIENT, parent: "b7ad6b7169203331",
			start: 95 * time.Millisecond, end: 99 * time.Millisecond,
			status: tracepb.Status_STATUS_CODE_UNSET,
			attrs: map[string]any{
				"db.system.name": "sqlite", "db.query.text": "SELECT name FROM users WHERE id = ?",
				"db.query.summary": "SELECT users",
			},
			noAttrs: []string{"db.operation.name"},
		},
		"1000000000000005": {
			name: "memcache Get", kind: tracepb.Span_SPAN_KIND_CLIENT, parent: "b7ad6b7169203331",
			start: 200 * time.Millisecond, end: 250 * time.Millisecond,
			status: tracepb.Status_STATUS_CODE_UNSET,
			attrs: map[string]any{
				"appstats.call.running": true, "appstats.service": "memcache",
				"appstats.call.request_size": int64(10),
			},
			noAttrs: []string{"appstats.call.response_size"},
		},
	}
}

// checkSpans compares what a receiver got with want, for record r.
func checkSpans(t *testing.T, r *recording.Record, got map[string]gotSpan, want map[string]wantSpan, service string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d spans, want %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("span %s (%s) missing", id, w.name)
			continue
		}
		if g.TraceID != r.TraceID.String() {
			t.Errorf("%s: trace %s, want %s", w.name, g.TraceID, r.TraceID)
		}
		if g.Name != w.name || g.Kind != w.kind || g.Parent != w.parent {
			t.Errorf("span %s: name %q kind %v parent %s; want %q %v %s", id, g.Name, g.Kind, g.Parent, w.name, w.kind, w.parent)
		}
		if ws, we := uint64(r.Start.Add(w.start).UnixNano()), uint64(r.Start.Add(w.end).UnixNano()); g.Start != ws || g.End != we {
			t.Errorf("%s: start/end %d/%d, want %d/%d", w.name, g.Start, g.End, ws, we)
		}
		if g.Status != w.status || g.Message != w.message {
			t.Errorf("%s: status %v %q, want %v %q", w.name, g.Status, g.Message, w.status, w.message)
		}
		for k, v := range w.attrs {
			if g.Attrs[k] != v {
				t.Errorf("%s: attribute %s = %#v, want %#v", w.name, k, g.Attrs[k], v)
			}
		}
		for _, k := range w.noAttrs {
			if v, ok := g.Attrs[k]; ok {
				t.Errorf("%s: attribute %s = %#v, want none", w.name, k, v)
			}
		}
		if !slices.Equal(g.Events, w.events) {
			t.Errorf("%s: events %q, want %q", w.name, g.Events, w.events)
		}
		if g.Resource["service.name"] != service || g.Resource["service.instance.id"] != r.Instance {
			t.Errorf("%s: resource %v", w.name, g.Resource)
		}
		if g.Scope != otelexport.ScopeName {
			t.Errorf("%s: scope %q", w.name, g.Scope)
		}
	}
}

// TestExportOTLP exports a record over OTLP/gRPC and OTLP/HTTP to an
// in-process receiver and checks the span tree, times, kinds, status and
// attributes.
func TestExportOTLP(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, addr string) (*otelexport.Exporter, error)
		recv func(t *testing.T, r *receiver) string
	}{
		{"grpc", func(t *testing.T, addr string) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPGRPC(t.Context(), otelexport.WithServiceName("svc-test"),
				otelexport.WithGRPCOptions(otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure()))
		}, startGRPCReceiver},
		{"http", func(t *testing.T, addr string) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPHTTP(t.Context(), otelexport.WithServiceName("svc-test"),
				otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
		}, startHTTPReceiver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := &receiver{}
			exp, err := tt.make(t, tt.recv(t, rcv))
			if err != nil {
				t.Fatal(err)
			}
			r := fixture(t)
			if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
				t.Fatal(err)
			}
			if err := exp.ForceFlush(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkSpans(t, r, rcv.spans(), fixtureWant(), "svc-test")
			if err := exp.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			st := exp.Stats()
			if st.Exported != 1 || st.Spans != 5 || st.Dropped != 0 || st.Errors != 0 {
				t.Errorf("stats %+v", st)
			}
			if err := exp.Close(t.Context()); !errors.Is(err, otelexport.ErrClosed) {
				t.Errorf("second Close: %v", err)
			}
			if err := exp.Write(t.Context(), []*recording.Record{r}); err == nil || exp.Stats().Dropped != 1 {
				t.Errorf("Write after Close: %v, stats %+v", err, exp.Stats())
			}
		})
	}
}

// TestExportThroughRecorder feeds the exporter as a recorder's sink: a
// record made with StartRecord/StartCall/Finish reaches the receiver as a
// trace with the record's IDs and times.
func TestExportThroughRecorder(t *testing.T) {
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	exp, err := otelexport.NewOTLPHTTP(t.Context(),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(exp, sink))
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Method: "RUN", Path: "nightly-job"})
	c := recording.StartCall(ctx, "sql", "UPDATE jobs")
	c.End(nil)
	c = recording.StartCall(ctx, "http", "POST hooks.example.com/notify")
	c.End(errors.New("connection refused"))
	ar.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	kept := sink.Records()
	if len(kept) != 1 {
		t.Fatalf("recorded %d records", len(kept))
	}
	r := kept[0]
	got := rcv.spans()
	if len(got) != 3 {
		t.Fatalf("got %d spans, want 3", len(got))
	}
	root := got[r.SpanID.String()]
	if root.Kind != tracepb.Span_SPAN_KIND_INTERNAL || root.Name != "nightly-job" || root.Parent != "" ||
		root.Start != uint64(r.Start.UnixNano()) || root.End != uint64(r.Start.Add(r.Duration).UnixNano()) {
		t.Errorf("root span %+v", root)
	}
	for _, c := range r.Calls {
		g := got[c.SpanID.String()]
		if g.Parent != r.SpanID.String() || g.TraceID != r.TraceID.String() ||
			g.Start != uint64(r.Start.Add(c.Start).UnixNano()) || g.End != uint64(r.Start.Add(c.End()).UnixNano()) {
			t.Errorf("call %s %s: span %+v", c.Service, c.Method, g)
		}
		if (c.Error != "") != (g.Status == tracepb.Status_STATUS_CODE_ERROR) {
			t.Errorf("call %s: status %v for error %q", c.Method, g.Status, c.Error)
		}
	}
}

// stallExporter is a SpanExporter that blocks in ExportSpans until released
// or its context ends: a collector that hangs.
type stallExporter struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (s *stallExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stallExporter) Shutdown(context.Context) error { return nil }

// TestWriteNeverBlocks: with the collector hanging, Write keeps returning
// and drops what does not fit in the queue; Close gives up at its deadline.
func TestWriteNeverBlocks(t *testing.T) {
	stall := &stallExporter{release: make(chan struct{}), entered: make(chan struct{})}
	exp := otelexport.New(stall, otelexport.WithQueueSize(4), otelexport.WithExportTimeout(time.Hour))
	r := fixture(t)
	if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	<-stall.entered // the worker is stuck exporting the first record
	batch := make([]*recording.Record, 10)
	for i := range batch {
		batch[i] = r
	}
	var full int
	for range 10 {
		if err := exp.Write(t.Context(), batch); err != nil {
			full++
		}
	}
	st := exp.Stats()
	if st.Dropped != 96 || st.QueueDepth != 4 || full != 10 {
		t.Errorf("after 100 writes to a stalled exporter: %+v, %d failed writes; want 96 dropped, 4 queued", st, full)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Close with no time left: the export in progress is cancelled
	if err := exp.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v, want context.Canceled", err)
	}
	st = exp.Stats()
	if st.Exported != 0 || st.Dropped+st.Failed != 101 {
		t.Errorf("after Close: %+v; want all 101 records dropped or failed", st)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTestLogger(mu *sync.Mutex, b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, b}, nil))
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// TestCollectorDown exports to a closed port: exports fail, are counted and
// logged, and Write keeps succeeding.
func TestCollectorDown(t *testing.T) {
	tests := []struct {
		name string
		make func(addr string, opts ...otelexport.Option) (*otelexport.Exporter, error)
	}{
		{"grpc", func(addr string, opts ...otelexport.Option) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPGRPC(t.Context(), append(opts, otelexport.WithGRPCOptions(
				otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})))...)
		}},
		{"http", func(addr string, opts ...otelexport.Option) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPHTTP(t.Context(), append(opts, otelexport.WithHTTPOptions(
				otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure(),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})))...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			var mu sync.Mutex
			exp, err := tt.make(closedAddr(t), otelexport.WithLogger(newTestLogger(&mu, &logs)),
				otelexport.WithExportTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			r := fixture(t)
			for range 3 {
				if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			var lost *otelexport.ExportError
			if err := exp.ForceFlush(t.Context()); !errors.As(err, &lost) || lost.Failed != 3 || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("ForceFlush: %v; want an *ExportError of the 3 records failed, the connection refused", err)
			}
			if err := exp.Close(t.Context()); err != nil {
				t.Errorf("Close, nothing failed since ForceFlush: %v", err)
			}
			st := exp.Stats()
			if st.Exported != 0 || st.Errors == 0 || st.Failed != 3 {
				t.Errorf("stats %+v; want 3 failed records, no export", st)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(logs.String(), "export failed") {
				t.Errorf("nothing logged: %q", logs.String())
			}
		})
	}
}
