// Package recordingtest provides helpers for testing code that records: a
// [Sink] that keeps what it is given, in the spirit of net/http/httptest.
package recordingtest

import (
	"context"
	"sync"

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
