package otelexport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// neverWrites returns the endpoint of an HTTP server that reads each
// request and never answers it (until the test ends).
func neverWrites(t testing.TB) string {
	t.Helper()
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) }) // before ts.Close
	return ts.URL
}

// Close against a collector that never answers (a TCP listener that
// accepts and never replies, an HTTP server that never writes) gives up
// at its deadline and says so: an *ExportError of the records dropped,
// which wraps the deadline's error, and the records counted in
// Stats.Dropped. On main Close returned nil ("Close: <nil>"), the records
// counted as failed: the caller was told nothing of the records lost.
func TestCloseUnansweredSaysDropped(t *testing.T) {
	const records = 3
	for _, c := range []struct {
		name  string
		proto string
		base  func(testing.TB) string
	}{
		{"http blackhole", "http", blackhole},
		{"http never writes", "http", neverWrites},
		{"grpc blackhole", "grpc", blackhole},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := c.base(t)
			opts := []otelexport.Option{otelexport.WithExportTimeout(300 * time.Millisecond)}
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
			for range records {
				if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
					t.Fatal(err)
				}
			}
			err = exp.Close(context.Background())
			var lost *otelexport.ExportError
			if !errors.As(err, &lost) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Close: %v; want an *ExportError wrapping context.DeadlineExceeded", err)
			}
			// The worker may have begun exporting a record before Close
			// began: it fails at its own export timeout, and is counted
			// as failed (TestCloseCutExportDropped shows the records of
			// an export Close's deadline cuts counted as dropped).
			if lost.Dropped+lost.Failed != records || !strings.Contains(err.Error(), "3 records") {
				t.Errorf("Close: %v (%+v); want the %d records lost", err, *lost, records)
			}
			if st := exp.Stats(); st.Dropped != uint64(lost.Dropped) || st.Failed != uint64(lost.Failed) || st.Exported != 0 {
				t.Errorf("stats %+v; want the %d records dropped or failed, as Close's error says", st, records)
			}
		})
	}
}

// ForceFlush returns the error of an export that failed (the collector
// answered 500, or gRPC's UNAVAILABLE): an *ExportError of the records
// lost, which wraps the export's error; the next ForceFlush, with nothing
// failed since, returns nil. On main it returned nil ("ForceFlush after
// a failed export: <nil>").
func TestForceFlushReturnsExportError(t *testing.T) {
	for _, proto := range []string{"http", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			var exp *otelexport.Exporter
			var err error
			if proto == "grpc" {
				base := grpcCollector(func(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
					return nil, status.Error(codes.Unavailable, "collector down for maintenance")
				}, false)(t)
				exp, err = otelexport.NewOTLPGRPC(t.Context(), otelexport.WithGRPCOptions(otlptracegrpc.WithEndpointURL(base),
					otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})))
			} else {
				base := httpCollector(func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "collector broken", http.StatusInternalServerError)
				}, false)(t)
				exp, err = otelexport.NewOTLPHTTP(t.Context(), otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(base+"/v1/traces")))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Close(context.Background())
			if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
				t.Fatal(err)
			}
			err = exp.ForceFlush(t.Context())
			var lost *otelexport.ExportError
			if !errors.As(err, &lost) || lost.Failed != 1 || lost.Dropped != 0 {
				t.Fatalf("ForceFlush after a failed export: %v; want an *ExportError of 1 record failed", err)
			}
			if proto == "grpc" && status.Code(err) != codes.Unavailable || proto == "http" && !strings.Contains(err.Error(), "500") {
				t.Errorf("ForceFlush: %v; want the export's error", err)
			}
			if st := exp.Stats(); st.Failed != 1 || st.Errors != 1 {
				t.Errorf("stats %+v; want 1 record failed", st)
			}
			if err := exp.ForceFlush(t.Context()); err != nil {
				t.Errorf("second ForceFlush, nothing failed since: %v", err)
			}
		})
	}
}

// ForceFlush's error, which the exporter keeps until a ForceFlush or
// Close returns it, holds at most 1 KiB of a failed export's text, as the
// log does: a collector's error page of 1 MiB is not kept whole, nor the
// export's error that holds it (before this was checked, ForceFlush's
// error wrapped it: "the error kept wraps one of 1048667 bytes (*fmt.wrapError)").
func TestForceFlushErrorCut(t *testing.T) {
	base := httpCollector(hugeBody(http.StatusBadRequest, 1<<20), false)(t)
	exp, err := otelexport.NewOTLPHTTP(t.Context(), otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(base+"/v1/traces")))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close(context.Background())
	if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	err = exp.ForceFlush(t.Context())
	var lost *otelexport.ExportError
	if !errors.As(err, &lost) || lost.Failed != 1 {
		t.Fatalf("ForceFlush: %.300v; want an *ExportError of 1 record failed", err)
	}
	if n := len(err.Error()); n > 2<<10 {
		t.Errorf("ForceFlush's error has %d bytes, want at most about 1 KiB: %.300s…", n, err.Error())
	}
	// Nor does it wrap the export's error, which holds the whole page.
	for e := lost.Err; e != nil; e = errors.Unwrap(e) {
		if n := len(e.Error()); n > 2<<10 {
			t.Fatalf("the error kept wraps one of %d bytes (%T), want at most about 1 KiB", n, e)
		}
	}
}
