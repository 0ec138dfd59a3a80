package otelexport_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"google.golang.org/grpc"

	"github.com/goappstats/appstats/otelexport"
)

// A dial option of the user's own (otlptracegrpc.WithDialOption) is
// chained with the exporter's, not put in their place: the user's
// interceptor runs, and the value of a header given in code stays hidden
// from the log and Close's error when the collector echoes it. It
// replaced them: the header's value was logged.
func TestUserDialOptionKeepsHeadersHidden(t *testing.T) {
	const codeKey = "codekey-7d2e90c1f5"
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
			otlptracegrpc.WithEndpoint(startEchoGRPC(t)), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithDialOption(grpc.WithUnaryInterceptor(userInterceptor))))
	if err != nil {
		t.Fatal(err)
	}
	ferr, cerr := exportRefused(t, e)
	if mine.Load() == 0 {
		t.Errorf("the user's interceptor never ran")
	}
	refusalHidden(t, log.String(), codeKey, ferr, cerr)
}

// A dial option of the user's own that sets no backoff keeps the
// exporter's bound on the wait between connection attempts. It replaced
// it: gRPC's backoff, to 2 minutes.
func TestGRPCReconnectBoundWithUserDialOption(t *testing.T) {
	if n := outage(t, otlptracegrpc.WithDialOption(grpc.WithUserAgent("mine"))); n < 95 {
		t.Errorf("with a dial option of the user's: %d connection attempts in 10 minutes of outage, want ≥ 95", n)
	}
}
