// Package recordingtest provides helpers for testing code that records: a
// [Sink] that keeps what it is given, in the spirit of net/http/httptest,
// and [WaitIdle], which waits for the records in the making to finish.
package recordingtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/goappstats/appstats/recording"
)

// Sink keeps every record written to it. It is safe for concurrent use.
type Sink struct {
	mu      sync.Mutex
	records []*recording.Record
	changed chan struct{}
}

// NewSink returns an empty Sink.
func NewSink() *Sink { return &Sink{changed: make(chan struct{})} }

// Write keeps the records.
func (s *Sink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	s.records = append(s.records, recs...)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// Records returns a copy of the list of records written so far, in order.
func (s *Sink) Records() []*recording.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*recording.Record(nil), s.records...)
}

// Len returns how many records were written.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// Wait blocks until at least n records were written or ctx is done, and
// returns the records written so far.
func (s *Sink) Wait(ctx context.Context, n int) []*recording.Record {
	for {
		s.mu.Lock()
		if len(s.records) >= n {
			out := append([]*recording.Record(nil), s.records...)
			s.mu.Unlock()
			return out
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Records()
		}
	}
}

// ByRoute returns the records written so far grouped by route, each group
// in the order written.
func (s *Sink) ByRoute() map[string][]*recording.Record {
	out := make(map[string][]*recording.Record)
	for _, r := range s.Records() {
		out[r.Route] = append(out[r.Route], r)
	}
	return out
}

// WaitIdle waits until rec has no record in the making
// ([recording.Recorder.Active]) or ctx is done, and reports whether rec
// became idle. A test of a handler that hijacks its connection (a websocket)
// needs it: the server does not wait for such a handler, and its record is
// finished by the middleware after the handler returns.
func WaitIdle(ctx context.Context, rec *recording.Recorder) bool {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		if active, unlisted := rec.Active(1, 1); len(active) == 0 && unlisted == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// AttrDiff compares attributes of r with want, a value per key, and returns
// a line for each that differs ("key = got, want want"), in key order; none
// when all match.
func AttrDiff(r *recording.Record, want map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got := r.Attr(k); got != want[k] {
			out = append(out, fmt.Sprintf("%s = %q, want %q", k, got, want[k]))
		}
	}
	return out
}
