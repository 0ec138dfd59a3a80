package appstats_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// slowCollector returns the URL of an OTLP/HTTP collector that answers no
// export until the test ends (or the exporter gives the request up).
func slowCollector(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); s.Close() })
	return s.URL
}

// deadCollector returns the URL of a port nothing listens on.
func deadCollector(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// serveRequests opens a loopback server of as's middleware, sends it n
// requests, and closes it.
func serveRequests(t *testing.T, as *appstats.Appstats, n int) {
	t.Helper()
	app := httptest.NewServer(as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer app.Close()
	client := app.Client()
	defer client.CloseIdleConnections()
	for i := range n {
		resp, err := client.Get(fmt.Sprintf("%s/r/%d", app.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// waitForStack waits until a goroutine's stack holds fn.
func waitForStack(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn) {
			return
		}
	}
	t.Fatalf("no goroutine reached %s", fn)
}

// TestForceFlushDuringClose: a ForceFlush that waits on the OTLP
// exporter when Close closes it returns recording.ErrClosed, as Appstats'
// ForceFlush says it does after Close, not otelexport's own ErrClosed (or,
// when the exporter's worker took the flush before it stopped, nil or
// the *otelexport.ExportError of the export Close cancelled: it picks one
// of the two at random, so the test runs several rounds).
func TestForceFlushDuringClose(t *testing.T) {
	for round := range 8 {
		as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: slowCollector(t), CloseTimeout: 100 * time.Millisecond,
			RecorderOptions: []recording.Option{recording.WithBatch(100, time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		serveRequests(t, as, 3)
		// The exporter's worker takes this flush and hangs in the export:
		// ForceFlush gives up at its ctx.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if err := as.ForceFlush(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("round %d: ForceFlush with a collector that does not answer: %v", round, err)
		}
		cancel()
		// The next waits for the worker, until Close stops it.
		done := make(chan error, 1)
		go func() { done <- as.ForceFlush(context.Background()) }()
		waitForStack(t, "otelexport.(*Exporter).ForceFlush")
		as.Close()
		var lost *otelexport.ExportError
		if err := <-done; err != nil && !errors.Is(err, recording.ErrClosed) && !errors.As(err, &lost) {
			t.Errorf("round %d: ForceFlush ended by Close: %v, want nil, recording.ErrClosed or an *otelexport.ExportError", round, err)
		}
		if err := as.ForceFlush(context.Background()); !errors.Is(err, recording.ErrClosed) {
			t.Errorf("round %d: ForceFlush after Close: %v, want recording.ErrClosed", round, err)
		}
	}
}

// stuckSink never returns from Write before its ctx ends.
type stuckSink struct{}

func (stuckSink) Write(ctx context.Context, _ []*recording.Record) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestShutdownAsOperator runs the shutdown an operator writes (ForceFlush
// with a deadline, then Close, with ForceFlush called beside Close) against
// dead and unanswering OTLP collectors and a sink that does not return, with
// ctx done before the call, with and without records: ForceFlush returns
// nil (with nothing to flush, whatever its ctx), its ctx's error,
// recording.ErrClosed or the exporter's *otelexport.ExportError (the
// records lost to the collector), Close's error names what timed out,
// the records lost are told of (by a ForceFlush or by Close, whichever
// comes to them first), and no goroutine is left after Close.
func TestShutdownAsOperator(t *testing.T) {
	for _, tc := range []struct {
		name      string
		endpoint  func(t *testing.T) string
		stuck     bool // a sink that does not return
		records   int
		ctxDone   bool
		closeErrs []string // what Close's error names
	}{
		{name: "dead collector", endpoint: deadCollector, records: 20},
		{name: "slow collector", endpoint: slowCollector, records: 20, closeErrs: []string{"otlp"}},
		{name: "slow collector, stuck sink", endpoint: slowCollector, stuck: true, records: 20, closeErrs: []string{"recorder", "otlp"}},
		{name: "no records, ctx done", endpoint: deadCollector, ctxDone: true},
		{name: "records, ctx done", endpoint: deadCollector, records: 20, ctxDone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the collector's Cleanup
			opts := []recording.Option{recording.WithBatch(100, time.Hour)}
			if tc.stuck {
				opts = append(opts, recording.WithSinks(stuckSink{}))
			}
			as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: tc.endpoint(t), CloseTimeout: 200 * time.Millisecond,
				RecorderOptions: opts})
			if err != nil {
				t.Fatal(err)
			}
			serveRequests(t, as, tc.records)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if tc.ctxDone {
				cancel()
			}
			var told atomic.Bool // an *otelexport.ExportError came back
			lost := func(err error) bool {
				var e *otelexport.ExportError
				if errors.As(err, &e) {
					told.Store(true)
					return true
				}
				return false
			}
			if err := as.ForceFlush(ctx); tc.records == 0 && err != nil {
				t.Errorf("ForceFlush with nothing to flush: %v, want nil whatever its ctx", err)
			} else if err != nil && !errors.Is(err, ctx.Err()) && !lost(err) {
				t.Errorf("ForceFlush: %v", err)
			} else if (err == nil || lost(err)) && as.Recorder().Stats().Written != uint64(tc.records) {
				t.Errorf("ForceFlush returned nil with %d of %d records written", as.Recorder().Stats().Written, tc.records)
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					if err := as.ForceFlush(ctx); err != nil && !errors.Is(err, recording.ErrClosed) && !lost(err) {
						t.Errorf("ForceFlush beside Close: %v", err)
					}
				})
			}
			err = as.Close()
			wg.Wait()
			for _, s := range tc.closeErrs {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("Close: %v, want an error naming %q", err, s)
				}
			}
			if len(tc.closeErrs) == 0 && err != nil && !(lost(err) && strings.Contains(err.Error(), "otlp")) {
				t.Errorf("Close: %v", err)
			}
			if lost(err) && !strings.Contains(err.Error(), "appstats: otlp: ") {
				t.Errorf("Close: %v; want the exporter's error named otlp's", err)
			}
			if tc.records > 0 && !told.Load() {
				t.Errorf("no ForceFlush, nor Close (%v), told of the %d records lost to the collector", err, tc.records)
			}
			if err := as.ForceFlush(context.Background()); !errors.Is(err, recording.ErrClosed) {
				t.Errorf("ForceFlush after Close: %v", err)
			}
		})
	}
}
