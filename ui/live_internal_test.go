package ui

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestLiveNoNewsAllocatesNothing: with a stream open, Write allocates
// nothing (the newest ID is kept, not formatted), and a "records" event
// with no news to tell (a wake-up whose records an earlier event told)
// writes nothing and allocates nothing, though a newest ID is kept.
func TestLiveNoNewsAllocatesNothing(t *testing.T) {
	l := NewLive()
	defer l.Close()
	s, _ := l.subscribe(nil)
	if s == nil {
		t.Fatal("no stream")
	}
	defer l.unsubscribe(s)
	start := time.Now()
	recs := []*recording.Record{{ID: recording.ID{1}, Start: start}, {ID: recording.ID{2}, Start: start}}
	if n := testing.AllocsPerRun(1000, func() { _ = l.Write(context.Background(), recs) }); n != 0 {
		t.Errorf("Write with a stream open: %v allocations a batch, want 0", n)
	}
	w := httptest.NewRecorder()
	if err := writeRecordsEvent(w, s); err != nil || w.Body.Len() == 0 {
		t.Fatalf("the news of 1001 batches: err %v, %q written", err, w.Body.String())
	}
	w.Body.Reset()
	if !s.hasLatest {
		t.Fatal("the newest ID is not kept after the event")
	}
	if n := testing.AllocsPerRun(1000, func() { _ = writeRecordsEvent(w, s) }); n != 0 {
		t.Errorf("an event with no news: %v allocations, want 0", n)
	}
	if w.Body.Len() != 0 {
		t.Errorf("an event with no news wrote %q, want nothing", w.Body.String())
	}
}
