package otelexport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// backlogCollector holds its first export until release is closed and
// takes it, answers its second "429, retry after 1 s", and takes the
// others.
type backlogCollector struct {
	entered  chan struct{}
	release  chan struct{}
	requests atomic.Int64
}

func (c *backlogCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch c.requests.Add(1) {
	case 1:
		close(c.entered)
		<-c.release
	case 2:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// The records queued when the collector asks to wait stay queued until
// the wait ends, as MaxRetryAfter's doc says: the worker went on draining
// the queue into exports it then dropped, one batch after another.
func TestRetryAfterKeepsBacklog(t *testing.T) {
	c := &backlogCollector{entered: make(chan struct{}), release: make(chan struct{})}
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(c.release)
		}
	})
	e, err := otelexport.NewOTLPHTTP(context.Background(), otelexport.WithBatchSpans(5),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(ts.URL),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})))
	if err != nil {
		t.Fatal(err)
	}
	write := func() {
		if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
			t.Fatal(err)
		}
	}
	write()
	<-c.entered // the worker is exporting the first record
	for range 5 {
		write() // queued meanwhile: the backlog
	}
	released = true
	close(c.release)
	// Wait until every record is accounted for: exported, failed or
	// dropped (the queued ones after the Retry-After of 1 s).
	for {
		if st := e.Stats(); st.Exported+st.Failed+st.Dropped == 6 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Close says the record the 429 lost (no ForceFlush said it).
	var lost *otelexport.ExportError
	if err := e.Close(context.Background()); !errors.As(err, &lost) || lost.Failed != 1 || lost.Dropped != 0 {
		t.Fatalf("Close: %v; want an *ExportError of the 1 record the 429 lost", err)
	}
	// The first record exported, the second refused with the 429; the
	// four behind it wait for the Retry-After, and are exported.
	if st := e.Stats(); st.Exported != 5 || st.Failed != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v; want 5 records exported, 1 failed (the 429), none dropped", st)
	}
}
