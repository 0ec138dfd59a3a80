package otelexport_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// With a connection of the user's (otlptracegrpc.WithGRPCConn), which the
// exporter's interceptor is not on, the values of the headers given in
// code (otlptracegrpc.WithHeaders) are hidden all the same from the log
// and the errors ForceFlush and Close return, when the collector echoes
// them. On main they were not: the log and ForceFlush's error showed the
// key ("the log or an error shows \"codekey-3a81c07e55\"").
func TestGRPCConnHeadersHidden(t *testing.T) {
	const codeKey = "codekey-3a81c07e55"
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, echoCollector{})
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close() // the user's: the exporter leaves it open
	var log bytes.Buffer
	e, err := otelexport.NewOTLPGRPC(context.Background(),
		otelexport.WithLogger(slog.New(slog.NewTextHandler(&log, nil))),
		otelexport.WithGRPCOptions(otlptracegrpc.WithGRPCConn(conn),
			otlptracegrpc.WithHeaders(map[string]string{"X-Api-Key": codeKey})))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
		t.Fatal(err)
	}
	ferr := e.ForceFlush(context.Background())
	cerr := e.Close(context.Background())
	text := log.String()
	for _, err := range []error{ferr, cerr} {
		if err != nil {
			text += err.Error()
		}
	}
	if !strings.Contains(text, "refused") {
		t.Fatalf("log and errors = %q; want the collector's refusal", text)
	}
	if strings.Contains(text, codeKey) {
		t.Errorf("the log or an error shows %q: %q", codeKey, text)
	}
}

// connOutage runs a gRPC exporter over a connection of the user's, made
// with dial, against a collector that stays down for 10 minutes of
// synctest's clock, and returns how many times the connection tried to
// connect.
func connOutage(t *testing.T, dial ...grpc.DialOption) int64 {
	t.Helper()
	d := newDownCollector(t)
	var n int64
	synctest.Test(t, func(t *testing.T) {
		conn, err := grpc.NewClient(d.addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, dial...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		exp, err := otelexport.NewOTLPGRPC(t.Context(), otelexport.WithGRPCOptions(otlptracegrpc.WithGRPCConn(conn),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})))
		if err != nil {
			t.Fatal(err)
		}
		if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
			t.Fatal(err)
		}
		exp.ForceFlush(t.Context()) // fails: the collector is down
		time.Sleep(10 * time.Minute)
		n = d.attempts.Load()
		exp.Close(t.Context())
	})
	return n
}

// TestGRPCConnKeepsItsBackoff: the exporter does not touch a connection
// of the user's (otlptracegrpc.WithGRPCConn), made before it: its bound on
// the wait between attempts to connect (5 s) does not apply, the
// connection's own backoff does, as NewOTLPGRPC's doc says — gRPC's
// default, to 120 s, unless the user's dial options set one.
func TestGRPCConnKeepsItsBackoff(t *testing.T) {
	// gRPC's default: 1, 1.6, 2.6, … to 120 s (±20%), at most 20
	// attempts in 10 minutes.
	if n := connOutage(t); n > 20 {
		t.Errorf("a connection of gRPC's default backoff: %d connection attempts in 10 minutes of outage, want ≤ 20 (the exporter's bound does not apply)", n)
	}
	// The user's own backoff, to 5 s: at least 95.
	cp := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: 20 * time.Second}
	cp.Backoff.MaxDelay = 5 * time.Second
	if n := connOutage(t, grpc.WithConnectParams(cp)); n < 95 {
		t.Errorf("a connection whose backoff is bounded to 5 s: %d connection attempts in 10 minutes of outage, want ≥ 95", n)
	}
}
