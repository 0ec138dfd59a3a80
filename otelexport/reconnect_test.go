package otelexport_test

import (
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// downCollector is a collector that is down: a listener that counts the
// connections made to it and closes each at once, which gRPC takes as a
// failed connection attempt. It runs outside synctest's bubble (a goroutine
// blocked in Accept would keep the bubble's clock from moving); each attempt
// is counted before the exporter sees it fail, so before the bubble's clock
// moves on.
type downCollector struct {
	addr     string
	attempts atomic.Int64
}

func newDownCollector(t *testing.T) *downCollector {
	t.Helper()
	d := &downCollector{}
	d.addr = testservers.Listen(t, func(c net.Conn) {
		d.attempts.Add(1)
		c.Close()
	})
	return d
}

// outage runs a gRPC exporter, with the options given, against a collector
// that stays down for 10 minutes of synctest's clock, and returns how many
// times the exporter tried to connect.
func outage(t *testing.T, opts ...otlptracegrpc.Option) int64 {
	t.Helper()
	d := newDownCollector(t)
	var n int64
	synctest.Test(t, func(t *testing.T) {
		exp, err := otelexport.NewOTLPGRPC(t.Context(), otelexport.WithGRPCOptions(append([]otlptracegrpc.Option{
			otlptracegrpc.WithEndpoint(d.addr), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
		}, opts...)...))
		if err != nil {
			t.Fatal(err)
		}
		if err := exp.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
			t.Fatal(err)
		}
		exp.ForceFlush(t.Context()) // fails: the collector is down
		time.Sleep(10 * time.Minute)
		n = d.attempts.Load()
		if err := exp.Close(t.Context()); err != nil {
			t.Logf("Close: %v", err)
		}
	})
	return n
}

// TestGRPCReconnectBounded: while the collector is down, the gRPC exporter
// tries to connect again at least every few seconds. gRPC's own backoff
// grows to 120 s (±20%), so spans queued through a long outage waited up to
// two minutes after the collector was back: 14 attempts in 10 minutes. With
// a bound of 5 s (±20%), 10 minutes hold at least 95. synctest's clock, not
// the wall's.
func TestGRPCReconnectBounded(t *testing.T) {
	if n := outage(t); n < 95 {
		t.Errorf("%d connection attempts in 10 minutes of outage, want ≥ 95 (a wait of ≤ 6 s between them)", n)
	}
	// otlptracegrpc's reconnection period (gRPC's minimum connect timeout)
	// sets gRPC's default backoff, which the bound still replaces.
	if n := outage(t, otlptracegrpc.WithReconnectionPeriod(30*time.Second)); n < 95 {
		t.Errorf("with a reconnection period: %d connection attempts in 10 minutes of outage, want ≥ 95", n)
	}
}

// TestGRPCReconnectUserOptionsWin: dial options of the user's own come
// after the exporter's bound, so a backoff given with them is the one
// used.
func TestGRPCReconnectUserOptionsWin(t *testing.T) {
	cp := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: 20 * time.Second}
	cp.Backoff.MaxDelay = 60 * time.Second
	// 1, 1.6, 2.6, 4.1, 6.6, 10.5, 16.8, 26.8, 43.0 s, then 60 s (±20%):
	// at most 9 + 8 attempts in 10 minutes.
	if n := outage(t, otlptracegrpc.WithDialOption(grpc.WithConnectParams(cp))); n > 20 {
		t.Errorf("%d connection attempts in 10 minutes of outage, want ≤ 20 (the user's backoff, to 60 s)", n)
	}
}
