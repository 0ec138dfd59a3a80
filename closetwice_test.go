package appstats_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
)

// TestCloseConcurrent calls Close while another Close is under way (held
// up by an OTLP collector that does not answer), as a signal handler and a
// deferred Close in main may: the second returns only once the first has
// closed everything, so that a main that returns after it does not cut the
// first's work short.
func TestCloseConcurrent(t *testing.T) {
	as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: slowCollector(t), CloseTimeout: 200 * time.Millisecond,
		RecorderOptions: []recording.Option{recording.WithBatch(100, time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	serveRequests(t, as, 3)
	first := make(chan error, 1)
	go func() { first <- as.Close() }()
	waitForStack(t, "otelexport.(*Exporter).Close") // the first Close waits on the collector
	if err := as.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "otelexport.(*Exporter).Close") {
		t.Fatal("the second Close returned while the first was still closing the exporter")
	}
	if err := <-first; err == nil {
		t.Error("the first Close: nil, want the collector's timeout")
	}
}
