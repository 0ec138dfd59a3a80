package otelexport_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// echoCollector refuses every export, echoing the request's headers in
// its answer, as a careless collector or proxy does.
type echoCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	status int
}

func (c echoCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	r.Header.Write(&b)
	http.Error(w, "refused; your request had:\n"+b.String(), c.status)
}

func (echoCollector) Export(ctx context.Context, _ *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return nil, status.Errorf(codes.Unauthenticated, "refused; your request had: authorization=%q x-api-key=%q",
		md.Get("authorization"), md.Get("x-api-key"))
}

// startEchoGRPC serves echoCollector over gRPC on a loopback port for the
// test's time, and returns its address.
func startEchoGRPC(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, echoCollector{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// exportRefused writes a record through e, flushes it to the collector,
// which refuses it, and returns ForceFlush's and Close's errors.
func exportRefused(t *testing.T, e *otelexport.Exporter) (ferr, cerr error) {
	t.Helper()
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	ferr = e.ForceFlush(context.Background())
	return ferr, e.Close(context.Background())
}

// refusalHidden checks that the exporter's log and the errors it returned
// (ForceFlush's and Close's) tell of the collector's refusal, and never
// show secret.
func refusalHidden(t *testing.T, log, secret string, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			log += err.Error()
		}
	}
	if !strings.Contains(log, "refused") {
		t.Fatalf("log = %q; want the collector's refusal", log)
	}
	if strings.Contains(log, secret) {
		t.Errorf("the log, ForceFlush's or Close's error shows %q: %q", secret, log)
	}
}

// The values of the exporter's OTLP headers, from the environment or from
// code, never reach its log, nor an error it returns (ForceFlush's, which
// has the export's error, and Close's), when the collector echoes the
// request's headers in its error.
func TestEchoedHeadersHidden(t *testing.T) {
	const envToken = "envtok-5be1d07a2c" // OTEL_EXPORTER_OTLP_HEADERS' Authorization
	const codeKey = "codekey-91f3e6a0b4" // X-Api-Key, given with WithHeaders
	type tcase struct {
		proto  string
		status int
		from   string // "env" or "code"
	}
	var cases []tcase
	for _, from := range []string{"env", "code"} {
		cases = append(cases, tcase{"http", http.StatusUnauthorized, from},
			tcase{"http", http.StatusServiceUnavailable, from}, tcase{"grpc", 0, from})
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.proto, tc.status, tc.from), func(t *testing.T) {
			var httpHeaders []otlptracehttp.Option
			var grpcHeaders []otlptracegrpc.Option
			secret := envToken
			if tc.from == "env" {
				t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20"+envToken)
			} else {
				h := map[string]string{"X-Api-Key": codeKey}
				httpHeaders = append(httpHeaders, otlptracehttp.WithHeaders(h))
				grpcHeaders = append(grpcHeaders, otlptracegrpc.WithHeaders(h))
				secret = codeKey
			}
			t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000") // the 503 is retried until then
			var log bytes.Buffer
			logger := otelexport.WithLogger(slog.New(slog.NewTextHandler(&log, nil)))
			var e *otelexport.Exporter
			var err error
			if tc.proto == "http" {
				ts := httptest.NewServer(echoCollector{status: tc.status})
				defer ts.Close()
				e, err = otelexport.NewOTLPHTTP(context.Background(), logger, otelexport.WithHTTPOptions(
					append(httpHeaders, otlptracehttp.WithEndpointURL(ts.URL))...))
			} else {
				e, err = otelexport.NewOTLPGRPC(context.Background(), logger, otelexport.WithGRPCOptions(
					append(grpcHeaders, otlptracegrpc.WithEndpoint(startEchoGRPC(t)), otlptracegrpc.WithInsecure())...))
			}
			if err != nil {
				t.Fatal(err)
			}
			ferr, cerr := exportRefused(t, e)
			if ferr == nil || !strings.Contains(ferr.Error(), "refused") {
				t.Errorf("ForceFlush: %v; want the export's error, the collector's refusal", ferr)
			}
			if st := e.Stats(); st.Errors == 0 {
				t.Fatalf("no failed export counted (%+v)", st)
			}
			refusalHidden(t, log.String(), secret, ferr, cerr)
		})
	}
}
