package otelexport

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Close is bounded whatever its context, as its documentation says, the
// SpanExporter's Shutdown included: Shutdown gets a context with a
// deadline (Close's, or a second from Shutdown's start if later), and a
// Shutdown that waits for it ends in time.
//
// The deadline is checked against the two times it is made of, as the
// test reads them, rather than against the test's start plus the timeout
// and the grace: on a loaded machine the worker may stop, or Close go on,
// more than the 200 ms timeout late, and Shutdown's deadline is then,
// rightly, a second after Shutdown began. The second case makes that
// happen: a Write in progress (held here) keeps Close waiting past its
// deadline, and the check against the test's start failed ("Shutdown's
// deadline is 1.4s after Close began; want at most 1.2s").
func TestCloseBoundsShutdown(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, held := range []time.Duration{0, 2 * timeout} {
		t.Run(fmt.Sprintf("held=%v", held), func(t *testing.T) { closeBoundsShutdown(t, timeout, held) })
	}
}

func closeBoundsShutdown(t *testing.T, timeout, held time.Duration) {
	var deadline, called time.Time
	var hasDeadline bool
	e := New(funcExporter{
		export: func(context.Context, []sdktrace.ReadOnlySpan) error { return nil },
		shutdown: func(ctx context.Context) error {
			called = time.Now()
			deadline, hasDeadline = ctx.Deadline()
			<-ctx.Done() // a SpanExporter flushing to a collector that never answers
			return ctx.Err()
		},
	}, WithExportTimeout(timeout))
	if held > 0 {
		e.closing.RLock() // as Write does
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- e.Close(context.Background()) }()
	if held > 0 {
		for e.closeBy.Load() == 0 {
			runtime.Gosched()
		}
		time.Sleep(held)
		e.closing.RUnlock()
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close: %v; want the Shutdown's deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close(context.Background()) still waiting for Shutdown after 20 s")
	}
	ended := time.Now()
	if !hasDeadline {
		t.Fatal("Shutdown ran on a context without a deadline")
	}
	// Close's deadline: the export timeout from Close's start, which came
	// between the test's start and Close's return.
	by := time.Unix(0, e.closeBy.Load())
	if by.Before(start.Add(timeout)) || by.After(ended.Add(timeout)) {
		t.Errorf("Close's deadline is %v after the test began Close, %v before Close returned; want the export timeout (%v) from Close's start",
			by.Sub(start), ended.Sub(by), timeout)
	}
	if limit := later(by, called.Add(shutdownGrace)); deadline.After(limit) {
		t.Errorf("Shutdown's deadline is %v after Close's, %v after Shutdown began; want at most the later of Close's deadline and %v after Shutdown began",
			deadline.Sub(by), deadline.Sub(called), shutdownGrace)
	}
}
