package badgerstore_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A directory a running store holds is refused to a second opener with
// ErrLocked, and its snapshots, taken while it keeps writing and
// compacting, open as consistent stores: every listed record reads back,
// and the rollups count exactly the records.
func TestSnapshotOfALiveStore(t *testing.T) {
	dir := t.TempDir()
	w, err := badgerstore.Open(dir, badgerstore.Options{RecordBudget: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Where the store does not lock the directory itself (AIX, Windows,
	// Plan 9, js and WASI: fs_lock_other.go), Badger's own lock, where
	// it has one, refuses it with an error of its own.
	r, err := badgerstore.OpenReadOnly(dir)
	if err == nil {
		r.Close()
	}
	if badgerstore.LocksDir && !errors.Is(err, badgerstore.ErrLocked) {
		t.Fatalf("OpenReadOnly of a directory in use = %v, want ErrLocked", err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := w.Write(ctx, storetest.Records(i, time.Now().Add(-time.Hour), time.Millisecond, 200)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	for i := range 3 {
		time.Sleep(100 * time.Millisecond)
		// Everything written before the copy started is in it.
		before := w.Len()
		for before == 0 {
			time.Sleep(10 * time.Millisecond)
			before = w.Len()
		}
		snap := filepath.Join(t.TempDir(), "snap")
		if err := badgerstore.Snapshot(dir, snap); err != nil {
			t.Fatal(err)
		}
		s, err := badgerstore.Open(snap, badgerstore.Options{RecordBudget: -1, RetentionInterval: -1})
		if err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		p, err := s.List(ctx, store.Query{Limit: store.MaxLimit})
		if err != nil || len(p.Records) == 0 {
			t.Fatalf("snapshot %d: List = %d records, %v", i, len(p.Records), err)
		}
		for _, r := range p.Records {
			if _, err := s.Get(ctx, r.ID); err != nil {
				t.Fatalf("snapshot %d: Get of a listed record: %v", i, err)
			}
		}
		st, err := s.Stats(ctx, store.Window{Since: time.Now().Add(-2 * time.Hour)})
		if err != nil || st.Requests != int64(s.Len()) {
			t.Errorf("snapshot %d: Stats counts %d requests, %v; the snapshot holds %d", i, st.Requests, err, s.Len())
		}
		if s.Len() < before {
			t.Errorf("snapshot %d holds %d records; %d were written before it was taken", i, s.Len(), before)
		}
		t.Logf("snapshot %d: %d records (the writer has %d)", i, s.Len(), w.Len())
		s.Close()
	}
}

func TestSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if _, err := badgerstore.OpenReadOnly(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly of a missing directory = %v, want ErrNotExist", err)
	}
	if err := badgerstore.Snapshot(missing, filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Snapshot of a missing directory = %v, want ErrNotExist", err)
	}
	if err := badgerstore.Snapshot(dir, filepath.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Snapshot of a directory without a store = %v, want ErrNotExist", err)
	}
}
