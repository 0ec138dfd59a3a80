package otelexport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/recording"
)

// A hostile Retry-After of a year holds exports back MaxRetryAfter at
// most.
func TestRetryAfterCapped(t *testing.T) {
	var requests atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Retry-After", "31536000") // a year
		http.Error(w, "go away", http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	// An export timeout far above the collector's answer (at once): a
	// loaded machine under -race ran out a 200 ms one before the request
	// reached the collector ("0 requests"). Close is bounded by its
	// context instead; it drops the held record for the year's wait.
	e, err := NewOTLPHTTP(context.Background(), WithExportTimeout(time.Minute),
		WithHTTPOptions(otlptracehttp.WithEndpointURL(ts.URL)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		e.Close(ctx)
	}()
	before := time.Now()
	if err := e.Write(context.Background(), []*recording.Record{testRecord(1)}); err != nil {
		t.Fatal(err)
	}
	flushFailed(t, e, 1, "go away")
	// ForceFlush returned after the worker's export: its retryAt is set,
	// and stays until it passes.
	if e.Stats().Errors != 1 || requests.Load() != 1 {
		t.Fatalf("stats %+v, %d requests; want one throttled export", e.Stats(), requests.Load())
	}
	if at := e.retryAt; at.Before(before) || at.After(time.Now().Add(MaxRetryAfter)) {
		t.Errorf("exports held back until %v (%v from now); want at most MaxRetryAfter (%v)", at, time.Until(at), MaxRetryAfter)
	}
}
