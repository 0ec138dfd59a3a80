package otelexport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// throttlingCollector answers its first export "too many requests, retry
// after wait" (HTTP 429 with Retry-After, or gRPC RESOURCE_EXHAUSTED with
// RetryInfo), and takes the others; it counts the requests it gets.
type throttlingCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	wait     time.Duration
	status   int // of the HTTP answer: 429 when 0
	requests atomic.Int64
}

func (c *throttlingCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.requests.Add(1) == 1 {
		w.Header().Set("Retry-After", strconv.Itoa(int(c.wait/time.Second)))
		code := c.status
		if code == 0 {
			code = http.StatusTooManyRequests
		}
		http.Error(w, "slow down", code)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *throttlingCollector) Export(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	if c.requests.Add(1) == 1 {
		st, err := status.New(codes.ResourceExhausted, "slow down").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(c.wait)})
		if err != nil {
			panic(err)
		}
		return nil, st.Err()
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startThrottling(t *testing.T, proto string, c *throttlingCollector, opts ...otelexport.Option) *otelexport.Exporter {
	t.Helper()
	var e *otelexport.Exporter
	var err error
	if proto == "http" || proto == "http503" {
		if proto == "http503" {
			c.status = http.StatusServiceUnavailable
		}
		ts := httptest.NewServer(c)
		t.Cleanup(ts.Close)
		e, err = otelexport.NewOTLPHTTP(context.Background(), append(opts, otelexport.WithHTTPOptions(
			otlptracehttp.WithEndpointURL(ts.URL)))...)
	} else {
		lis, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			t.Fatal(lerr)
		}
		srv := grpc.NewServer()
		collectortrace.RegisterTraceServiceServer(srv, c)
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		e, err = otelexport.NewOTLPGRPC(context.Background(), append(opts, otelexport.WithGRPCOptions(
			otlptracegrpc.WithEndpoint(lis.Addr().String()), otlptracegrpc.WithInsecure()))...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func writeFlush(t *testing.T, e *otelexport.Exporter) {
	t.Helper()
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	if err := e.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// writeFlushThrottled writes a record and flushes, the collector asking
// to wait: the export fails, and ForceFlush says so with an *ExportError
// of the record lost.
func writeFlushThrottled(t *testing.T, e *otelexport.Exporter) {
	t.Helper()
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	var lost *otelexport.ExportError
	if err := e.ForceFlush(context.Background()); !errors.As(err, &lost) || lost.Failed != 1 || lost.Dropped != 0 {
		t.Fatalf("ForceFlush, the collector asking to wait: %v; want an *ExportError of 1 record failed", err)
	}
}

// writeFlushWait writes a record and flushes within the collector's
// wait: ForceFlush keeps the records, and says how many.
func writeFlushWait(t *testing.T, e *otelexport.Exporter, kept int) {
	t.Helper()
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	var wait *otelexport.RetryAfterError
	if err := e.ForceFlush(context.Background()); !errors.As(err, &wait) || wait.Records != kept || wait.Dropped {
		t.Fatalf("ForceFlush within the wait: %v; want a *RetryAfterError of %d records kept", err, kept)
	}
}

// A collector's "retry after 30 s" holds across exports: once an export
// failed with it (the OTLP exporter retried until its timeout), the
// records written meanwhile do not reach the collector: ForceFlush keeps
// them, and Close, whose deadline comes before, drops them, counted, and
// says so.
func TestRetryAfterHonouredAcrossExports(t *testing.T) {
	for _, proto := range []string{"http", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			c := &throttlingCollector{wait: 30 * time.Second}
			e := startThrottling(t, proto, c, otelexport.WithExportTimeout(300*time.Millisecond))
			writeFlushThrottled(t, e)
			if st := e.Stats(); st.Errors != 1 || st.Failed != 1 {
				t.Fatalf("after the throttled export: %+v; want 1 failed", st)
			}
			for i := range 3 {
				writeFlushWait(t, e, i+1)
			}
			var wait *otelexport.RetryAfterError
			if err := e.Close(context.Background()); !errors.As(err, &wait) || wait.Records != 3 || !wait.Dropped {
				t.Fatalf("Close: %v; want a *RetryAfterError of 3 records dropped", err)
			}
			st := e.Stats()
			if n := c.requests.Load(); n != 1 {
				t.Errorf("the collector got %d requests; want 1, the others within its Retry-After", n)
			}
			if st.Dropped != 3 || st.Exported != 0 {
				t.Errorf("stats %+v; want the 3 records written within the Retry-After dropped", st)
			}
		})
	}
}

// Once the collector's Retry-After has passed, export goes on.
func TestRetryAfterEnds(t *testing.T) {
	for _, proto := range []string{"http", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			c := &throttlingCollector{wait: time.Second}
			e := startThrottling(t, proto, c, otelexport.WithExportTimeout(100*time.Millisecond))
			defer e.Close(context.Background())
			writeFlushThrottled(t, e)
			for end := time.Now().Add(10 * time.Second); e.Stats().Exported == 0 && time.Now().Before(end); {
				if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
					t.Fatal(err)
				}
				// Within the wait, ForceFlush says so; after it, an export
				// that failed for a loaded machine (its timeout is 100 ms)
				// is said, and the loop tries again.
				var wait *otelexport.RetryAfterError
				var lost *otelexport.ExportError
				if err := e.ForceFlush(context.Background()); err != nil && !errors.As(err, &wait) && !errors.As(err, &lost) {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if st := e.Stats(); st.Exported == 0 {
				t.Fatalf("no record exported 10 s after a Retry-After of 1 s: %+v", st)
			}
		})
	}
}
