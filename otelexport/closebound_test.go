package otelexport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// TestCloseUnansweredCollectorOneTimeout: Close(context.Background())
// with a full default queue, against a collector that never answers
// (blackhole) or is down (refused), should give up after one export
// timeout, not try every queued chunk for a full timeout each. It counts
// the ExportSpans calls that failed during Close (Stats.Errors): each one
// cost a whole export timeout (10 s by default).
func TestCloseUnansweredCollectorOneTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, c := range []struct {
		name  string
		proto string
		base  func(testing.TB) string
	}{
		{"http blackhole", "http", blackhole},
		{"grpc blackhole", "grpc", blackhole},
		{"grpc refused", "grpc", func(t testing.TB) string { return "http://" + closedAddr(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := c.base(t)
			opts := []otelexport.Option{otelexport.WithExportTimeout(timeout)}
			var exp *otelexport.Exporter
			var err error
			if c.proto == "grpc" {
				exp, err = otelexport.NewOTLPGRPC(t.Context(), append(opts, otelexport.WithGRPCOptions(otlptracegrpc.WithEndpointURL(base)))...)
			} else {
				exp, err = otelexport.NewOTLPHTTP(t.Context(), append(opts, otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(base+"/v1/traces")))...)
			}
			if err != nil {
				t.Fatal(err)
			}
			batch := make([]*recording.Record, 64)
			for range otelexport.DefaultQueueSize / len(batch) {
				for i := range batch {
					batch[i] = fixture(t)
				}
				exp.Write(t.Context(), batch)
			}
			before := exp.Stats()
			start := time.Now()
			exp.Close(context.Background())
			took := time.Since(start)
			st := exp.Stats()
			calls := st.Errors - before.Errors
			t.Logf("queued %d; Close took %v; %d failed ExportSpans calls during Close (%v each); at the default 10 s timeout: %v; %+v",
				before.QueueDepth, took.Round(time.Millisecond), calls, timeout, time.Duration(calls)*otelexport.DefaultExportTimeout, st)
			if calls > 2 {
				t.Errorf("Close(context.Background()) made %d ExportSpans calls to a collector that had not answered one, each waiting its whole timeout: %v here, %v at the default timeout",
					calls, took.Round(time.Millisecond), time.Duration(calls)*otelexport.DefaultExportTimeout)
			}
		})
	}
}

// gatedReceiver is an OTLP receiver that answers no export until open is
// closed, then every one.
type gatedReceiver struct {
	receiver
	open chan struct{}
}

func (g *gatedReceiver) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.receiver.Export(ctx, req)
}

func (g *gatedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-g.open:
	case <-r.Context().Done():
		return
	}
	g.receiver.ServeHTTP(w, r)
}

// TestCloseHealthyCollectorGetsFullQueue fills the queue while the
// collector holds its first export, then lets it answer and calls Close:
// the collector receives every record queued, in the several chunks
// Close exports under its one deadline, and none is dropped or failed.
//
// The deadline (the export timeout, and the OTLP exporter's own timeout
// for the export the collector holds) is closeBudget, not the default 10 s,
// and the queue and chunks are smaller than the default ones (still 20
// chunks): whether 10 s is enough for a full queue of the default size is
// a matter of the machine's speed (under -race on a loaded machine, Close
// exported 1435 of 2048 records in 10 s, and took up to 19 s for them
// all), not a thing a test asserts; what this asserts is that Close,
// given the time, leaves no chunk out.
func TestCloseHealthyCollectorGetsFullQueue(t *testing.T) {
	const (
		queue, batchSpans = 256, 64 // a record has 5 spans: 20 chunks
		// Far more than the queue's export takes here under -race on
		// a loaded machine; not waited for when Close is done.
		closeBudget = 2 * time.Minute
	)
	opts := []otelexport.Option{otelexport.WithExportTimeout(closeBudget),
		otelexport.WithQueueSize(queue), otelexport.WithBatchSpans(batchSpans)}
	for _, proto := range []string{"http", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			rcv := &gatedReceiver{open: make(chan struct{})}
			var exp *otelexport.Exporter
			var err error
			if proto == "grpc" {
				lis, lerr := net.Listen("tcp", "127.0.0.1:0")
				if lerr != nil {
					t.Fatal(lerr)
				}
				srv := grpc.NewServer()
				collectortrace.RegisterTraceServiceServer(srv, rcv)
				go srv.Serve(lis)
				t.Cleanup(srv.Stop)
				exp, err = otelexport.NewOTLPGRPC(t.Context(), append(opts,
					otelexport.WithGRPCOptions(otlptracegrpc.WithEndpointURL("http://"+lis.Addr().String()), otlptracegrpc.WithTimeout(closeBudget)))...)
			} else {
				ts := httptest.NewServer(rcv)
				t.Cleanup(ts.Close)
				exp, err = otelexport.NewOTLPHTTP(t.Context(), append(opts,
					otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(ts.URL+"/v1/traces"), otlptracehttp.WithTimeout(closeBudget)))...)
			}
			if err != nil {
				t.Fatal(err)
			}
			batch := make([]*recording.Record, 64)
			for range queue / len(batch) {
				for i := range batch {
					batch[i] = fixture(t)
				}
				if err := exp.Write(t.Context(), batch); err != nil {
					t.Fatal(err)
				}
			}
			queued := exp.Stats().QueueDepth
			close(rcv.open)
			start := time.Now()
			if err := exp.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			st := exp.Stats()
			got := len(rcv.Spans())
			t.Logf("queued %d at Close; Close took %v; received %d spans; %+v", queued, took.Round(time.Millisecond), got, st)
			if queued < queue/2 {
				t.Fatalf("only %d records queued at Close: the test needs a full queue", queued)
			}
			if st.Exported != queue || st.Dropped != 0 || st.Failed != 0 || st.Errors != 0 {
				t.Errorf("Close exported %d of %d records (dropped %d, failed %d, %d errors), want all of them",
					st.Exported, queue, st.Dropped, st.Failed, st.Errors)
			}
			if st.Spans < 10*batchSpans {
				t.Errorf("%d spans exported: the test needs many chunks of %d", st.Spans, batchSpans)
			}
			if uint64(got) != st.Spans || got == 0 {
				t.Errorf("the collector received %d spans, want the %d exported", got, st.Spans)
			}
		})
	}
}

// unavailableExporter is a SpanExporter whose ExportSpans waits until
// open is closed, then fails with gRPC's UNAVAILABLE, as an OTLP
// exporter without retries does for a collector that is down.
type unavailableExporter struct {
	open  chan struct{}
	calls atomic.Int64
}

func (u *unavailableExporter) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	u.calls.Add(1)
	select {
	case <-u.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return status.Error(codes.Unavailable, "connection refused")
}

func (*unavailableExporter) Shutdown(context.Context) error { return nil }

// TestCloseStopsAtUnavailable closes an exporter whose collector, once
// Close has begun, answers its first export with UNAVAILABLE: Close makes
// no further ExportSpans call, the records left are counted as dropped,
// and every record written is counted once (exported, failed or
// dropped), as Close's *ExportError, which wraps the UNAVAILABLE, says.
func TestCloseStopsAtUnavailable(t *testing.T) {
	const records = 200
	u := &unavailableExporter{open: make(chan struct{})}
	exp := otelexport.New(u, otelexport.WithBatchSpans(10), otelexport.WithQueueSize(records))
	for range records {
		if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error)
	go func() { closed <- exp.Close(context.Background()) }()
	// Close has begun once Write refuses records; only then does the
	// collector answer the export the worker is waiting on.
	for exp.Write(t.Context(), nil) == nil {
		runtime.Gosched()
	}
	close(u.open)
	err := <-closed
	var lost *otelexport.ExportError
	if !errors.As(err, &lost) || status.Code(err) != codes.Unavailable {
		t.Fatalf("Close: %v; want an *ExportError wrapping the UNAVAILABLE", err)
	}
	st := exp.Stats()
	if uint64(lost.Failed) != st.Failed || uint64(lost.Dropped) != st.Dropped {
		t.Errorf("Close's error %v; want the %d records failed and %d dropped of the stats", err, st.Failed, st.Dropped)
	}
	t.Logf("%d ExportSpans calls; %+v", u.calls.Load(), st)
	if n := u.calls.Load(); n != 1 {
		t.Errorf("%d ExportSpans calls, want 1: Close went on after the collector answered UNAVAILABLE", n)
	}
	if st.Dropped == 0 {
		t.Errorf("no record dropped, want those left after the failed export: %+v", st)
	}
	if sum := st.Exported + st.Failed + st.Dropped; sum != records {
		t.Errorf("exported %d + failed %d + dropped %d = %d, want the %d records written", st.Exported, st.Failed, st.Dropped, sum, records)
	}
}
