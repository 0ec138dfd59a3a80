package badgerstore_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	recs := storetest.Records(1, start, 7*time.Second, 1000)
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: start.Add(-time.Minute)}
	before, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"read-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			var s *badgerstore.Store
			var err error
			if mode == "read-only" {
				s, err = badgerstore.OpenReadOnly(dir)
			} else {
				s, err = badgerstore.Open(dir, badgerstore.Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Len() != len(recs) {
				t.Errorf("Len = %d, want %d", s.Len(), len(recs))
			}
			p, err := s.List(ctx, store.Query{Limit: store.MaxLimit})
			if err != nil || len(p.Records) != len(recs) {
				t.Fatalf("List: %d records, %v; want %d", len(p.Records), err, len(recs))
			}
			if _, err := s.Get(ctx, recs[500].ID); err != nil {
				t.Errorf("Get: %v", err)
			}
			after, err := s.Stats(ctx, w)
			if err != nil {
				t.Fatal(err)
			}
			after.Window, before.Window = store.Window{}, store.Window{}
			if after.Requests != before.Requests || len(after.RPCs) != len(before.RPCs) || after.RPCs[0] != before.RPCs[0] {
				t.Errorf("Stats after reopen = %+v, want %+v", after, before)
			}
			if mode == "read-only" {
				if err := s.Write(ctx, recs[:1]); !errors.Is(err, badgerstore.ErrReadOnly) {
					t.Errorf("Write on a read-only store = %v, want ErrReadOnly", err)
				}
			}
		})
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := badgerstore.Open(t.TempDir(), badgerstore.Options{FoldInterval: time.Millisecond, RetentionInterval: time.Millisecond, SyncInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 100)); err != nil {
		t.Fatal(err)
	}
	if runtime.NumGoroutine() <= before {
		t.Fatal("store started no goroutines")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Badger's own goroutines finish asynchronously after Close returns.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []badgerstore.Options{
		{MemTableSize: 1000},
		{ValueLogFileSize: 1000},
		{NumCompactors: 1},
		{BaseTableSize: 10},
		{ValueThreshold: 1 << 30},
		{RingBytes: 1 << 40},
	} {
		if s, err := badgerstore.Open(t.TempDir(), o); err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded, want an error", o)
		}
	}
}
