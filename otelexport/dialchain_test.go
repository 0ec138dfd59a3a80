package otelexport_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// A dial option of the user's own (otlptracegrpc.WithDialOption) is
// chained with the exporter's, not put in their place: the user's
// interceptor runs, and the value of a header given in code stays hidden
// from the log and Close's error when the collector echoes it. It
// replaced them: the header's value was logged.
func TestUserDialOptionKeepsHeadersHidden(t *testing.T) {
	const codeKey = "codekey-7d2e90c1f5"
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, echoCollector{})
	go srv.Serve(lis)
	defer srv.Stop()
	var mine atomic.Int64
	userInterceptor := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		mine.Add(1)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	var log bytes.Buffer
	e, err := otelexport.NewOTLPGRPC(context.Background(),
		otelexport.WithLogger(slog.New(slog.NewTextHandler(&log, nil))),
		otelexport.WithGRPCOptions(
			otlptracegrpc.WithHeaders(map[string]string{"X-Api-Key": codeKey}),
			otlptracegrpc.WithEndpoint(lis.Addr().String()), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithDialOption(grpc.WithUnaryInterceptor(userInterceptor))))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	ferr := e.ForceFlush(context.Background())
	cerr := e.Close(context.Background())
	if mine.Load() == 0 {
		t.Errorf("the user's interceptor never ran")
	}
	text := log.String()
	if ferr != nil {
		text += ferr.Error()
	}
	if cerr != nil {
		text += cerr.Error()
	}
	if !strings.Contains(text, "refused") {
		t.Fatalf("log = %q; want the collector's refusal", text)
	}
	if strings.Contains(text, codeKey) {
		t.Errorf("the log, ForceFlush's or Close's error shows %q: %q", codeKey, text)
	}
}

// A dial option of the user's own that sets no backoff keeps the
// exporter's bound on the wait between connection attempts. It replaced
// it: gRPC's backoff, to 2 minutes.
func TestGRPCReconnectBoundWithUserDialOption(t *testing.T) {
	if n := outage(t, otlptracegrpc.WithDialOption(grpc.WithUserAgent("mine"))); n < 95 {
		t.Errorf("with a dial option of the user's: %d connection attempts in 10 minutes of outage, want ≥ 95", n)
	}
}
