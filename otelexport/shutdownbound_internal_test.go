package otelexport

import (
	"context"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Close is bounded whatever its context, as its documentation says, the
// SpanExporter's Shutdown included: Shutdown gets a context with a
// deadline (Close's, or a second from Shutdown's start if later), and a
// Shutdown that waits for it ends in time.
func TestCloseBoundsShutdown(t *testing.T) {
	const timeout = 200 * time.Millisecond
	var deadline time.Time
	var hasDeadline bool
	e := New(funcExporter{
		export: func(context.Context, []sdktrace.ReadOnlySpan) error { return nil },
		shutdown: func(ctx context.Context) error {
			deadline, hasDeadline = ctx.Deadline()
			<-ctx.Done() // a SpanExporter flushing to a collector that never answers
			return ctx.Err()
		},
	}, WithExportTimeout(timeout))
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- e.Close(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close: %v; want the Shutdown's deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close(context.Background()) still waiting for Shutdown after 20 s")
	}
	if !hasDeadline {
		t.Fatal("Shutdown ran on a context without a deadline")
	}
	if limit := start.Add(timeout + shutdownGrace); deadline.After(limit) {
		t.Errorf("Shutdown's deadline is %v after Close began; want at most %v", deadline.Sub(start), timeout+shutdownGrace)
	}
}
