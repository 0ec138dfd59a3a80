package otelexport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// A ForceFlush while the collector asks to wait (HTTP 429 or 503 with
// Retry-After, gRPC RESOURCE_EXHAUSTED with RetryInfo) keeps the records
// queued and says so with a *RetryAfterError naming the end of the wait;
// they reach the collector once it has passed. It dropped them.
func TestForceFlushDuringRetryAfterKeepsQueue(t *testing.T) {
	for _, proto := range []string{"http", "http503", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			c := &throttlingCollector{wait: 3 * time.Second}
			// The OTLP exporters' own retries are off, so that the
			// throttled export fails at once whatever the export
			// timeout; the timeout is long, so that the export after
			// the wait does not fail for a loaded machine (at 300 ms,
			// it failed 1 in 10 under -race: 4 failed, 0 exported).
			e := startThrottling(t, proto, c, otelexport.WithExportTimeout(time.Minute),
				otelexport.WithHTTPOptions(otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})),
				otelexport.WithGRPCOptions(otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})))
			defer e.Close(context.Background())
			writeFlushThrottled(t, e) // refused: the wait begins
			if st := e.Stats(); st.Failed != 1 {
				t.Fatalf("after the throttled export: %+v; want 1 failed", st)
			}
			recs := []*recording.Record{fixture(t), fixture(t), fixture(t)}
			if err := e.Write(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			err := e.ForceFlush(context.Background())
			var wait *otelexport.RetryAfterError
			if !errors.As(err, &wait) {
				t.Fatalf("ForceFlush within the collector's wait returned %v; want a *RetryAfterError", err)
			}
			if wait.Records != 3 || wait.Dropped || !wait.Until.After(time.Now()) {
				t.Errorf("ForceFlush's error %+v (%v); want 3 records kept, until a time to come", *wait, err)
			}
			if st := e.Stats(); st.Dropped != 0 || st.QueueDepth != 3 {
				t.Fatalf("stats %+v after ForceFlush within the wait; want the 3 records still queued, none dropped", st)
			}
			// Once the wait has passed, the records go.
			time.Sleep(time.Until(wait.Until))
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				err := e.ForceFlush(context.Background())
				if err == nil {
					break
				}
				if !errors.As(err, &wait) || time.Now().After(end) {
					t.Fatalf("ForceFlush after the wait: %v", err)
				}
			}
			if st := e.Stats(); st.Exported != 3 || st.Dropped != 0 || st.Failed != 1 {
				t.Errorf("stats %+v; want the 3 records kept through the wait exported", st)
			}
		})
	}
}

// Close within the collector's wait, whose deadline comes first, drops
// the records queued and says so: a *RetryAfterError with Dropped set.
// It returned nil.
func TestCloseDuringRetryAfterSaysDropped(t *testing.T) {
	c := &throttlingCollector{wait: 30 * time.Second}
	e := startThrottling(t, "http", c, otelexport.WithExportTimeout(300*time.Millisecond))
	writeFlushThrottled(t, e)
	if err := e.Write(context.Background(), []*recording.Record{fixture(t), fixture(t)}); err != nil {
		t.Fatal(err)
	}
	err := e.Close(context.Background())
	var wait *otelexport.RetryAfterError
	if !errors.As(err, &wait) || wait.Records != 2 || !wait.Dropped {
		t.Fatalf("Close within a wait past its deadline returned %v; want a *RetryAfterError of 2 records dropped", err)
	}
	if st := e.Stats(); st.Dropped != 2 {
		t.Errorf("stats %+v; want 2 dropped", st)
	}
}
