package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// DefaultCapacity is how many records a store keeps when no capacity is given.
const DefaultCapacity = 5000

// Store keeps the newest records in memory. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	cap     int
	maxKeys int
	recs    []entry // ascending by ID
	closed  bool
}

type entry struct {
	rec *recording.Record
	sum recording.Summary
}

var _ store.Store = (*Store)(nil)

// New returns a store that keeps at most capacity records (the oldest go
// first); capacity <= 0 means [DefaultCapacity].
func New(capacity int, opts ...Option) *Store {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	s := &Store{cap: capacity, maxKeys: store.DefaultMaxKeys}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// An Option configures [New].
type Option interface{ apply(*Store) }

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithMaxKeys sets how many distinct routes, RPCs and route×RPC pairs each
// list of a [Store.Stats] answer keeps before folding the rest into
// [store.Other] (default [store.DefaultMaxKeys]); n < 0 keeps them all, 0
// keeps the default.
func WithMaxKeys(n int) Option {
	return optionFunc(func(s *Store) {
		switch {
		case n < 0:
			s.maxKeys = 0
		case n > 0:
			s.maxKeys = n
		}
	})
}

// Write adds records. The store keeps the *Record values, which the recorder
// never modifies after handing them over.
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	for _, r := range recs {
		if r == nil {
			continue
		}
		e := entry{rec: r, sum: r.Summary()}
		i := sort.Search(len(s.recs), func(i int) bool { return bytes.Compare(s.recs[i].rec.ID[:], r.ID[:]) >= 0 })
		if i < len(s.recs) && s.recs[i].rec.ID == r.ID {
			s.recs[i] = e
			continue
		}
		s.recs = append(s.recs, entry{})
		copy(s.recs[i+1:], s.recs[i:])
		s.recs[i] = e
	}
	if over := len(s.recs) - s.cap; over > 0 {
		clear(s.recs[:over])
		s.recs = append(s.recs[:0], s.recs[over:]...)
	}
	return nil
}

func (s *Store) find(id recording.ID) (int, bool) {
	i := sort.Search(len(s.recs), func(i int) bool { return bytes.Compare(s.recs[i].rec.ID[:], id[:]) >= 0 })
	return i, i < len(s.recs) && s.recs[i].rec.ID == id
}

// Get returns the record with the given ID.
func (s *Store) Get(ctx context.Context, id recording.ID) (*recording.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	i, ok := s.find(id)
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return s.recs[i].rec, nil
}

// List returns summaries newest first. The cursor is the ID of the last
// summary of the previous page.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	limit, err := storekit.Limit(&q)
	if err != nil {
		return store.Page{}, err
	}
	var before recording.ID
	if q.Cursor != "" {
		if before, err = recording.ParseID(q.Cursor); err != nil {
			return store.Page{}, storekit.InvalidQuery(fmt.Sprintf("cursor %q", q.Cursor))
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Page{}, store.ErrClosed
	}
	i := len(s.recs)
	if q.Cursor != "" {
		i, _ = s.find(before)
	}
	var p store.Page
	for i--; i >= 0; i-- {
		e := &s.recs[i]
		if !storekit.Matches(&q, &e.sum) {
			continue
		}
		if len(p.Records) == limit {
			p.Next = p.Records[len(p.Records)-1].ID.String()
			break
		}
		p.Records = append(p.Records, e.sum)
	}
	return p, nil
}

// Stats aggregates the records that started within w, exactly, each list
// folded to the store's maximum of keys (see [WithMaxKeys]).
func (s *Store) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	w, err := storekit.ResolveWindow(w, time.Now())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	a := storekit.NewExact(w, s.maxKeys)
	for i := range s.recs {
		if sum := &s.recs[i].sum; !sum.Start.Before(w.Since) && sum.Start.Before(w.Until) {
			a.AddRecord(s.recs[i].rec)
		}
	}
	return a.Stats(), nil
}

// Series buckets the records that started within w into steps.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, store.ErrClosed
	}
	var sums []*recording.Summary
	for i := range s.recs {
		sum := &s.recs[i].sum
		if !sum.Start.Before(w.Since) && sum.Start.Before(w.Until) {
			c := *sum // a copy: Write shifts s.recs once the lock is released
			sums = append(sums, &c)
		}
	}
	s.mu.RUnlock()
	return storekit.ExactSeries(w, step, sums), nil
}

// Clear deletes every record.
func (s *Store) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.recs = nil
	return nil
}

// Close releases the records. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.recs = nil
	return nil
}

// Len returns how many records the store holds (an int, as every store's
// Len).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}
