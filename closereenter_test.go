package appstats_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
)

// closingSink is a sink whose first Write calls the app's Close, as a sink
// that shuts the program down on an error might.
type closingSink struct {
	once sync.Once
	as   *appstats.Appstats
	errs chan error
}

func (s *closingSink) Write(ctx context.Context, recs []*recording.Record) error {
	s.once.Do(func() { s.errs <- s.as.Close() })
	return nil
}

// TestCloseFromSink pins what Close's documentation says of a Close called
// from a sink's Write while Close writes the pending records: it is not
// re-entered, it waits for the first to end, and the first, which waits on
// that sink, ends at Config.CloseTimeout with the recorder's timeout; then
// the sink's Close returns nil. (Telling the sink's call from a signal
// handler's, which must wait, would take the calling goroutine's identity.)
func TestCloseFromSink(t *testing.T) {
	sink := &closingSink{errs: make(chan error, 1)}
	as, err := appstats.Open(appstats.Config{InMemory: true, CloseTimeout: 50 * time.Millisecond,
		RecorderOptions: []recording.Option{recording.WithBatch(100, time.Hour), recording.WithSinks(sink)}})
	if err != nil {
		t.Fatal(err)
	}
	sink.as = as
	serveRequests(t, as, 1)
	err = as.Close()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "appstats: recorder: ") {
		t.Errorf("the first Close: %v, want the recorder's timeout", err)
	}
	if err := <-sink.errs; err != nil {
		t.Errorf("the sink's Close: %v, want nil", err)
	}
}
