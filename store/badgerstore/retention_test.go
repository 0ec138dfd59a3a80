package badgerstore_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func count(t *testing.T, s store.Store, w store.Window) (listed int, requests int64) {
	t.Helper()
	ctx := context.Background()
	listed = len(storetest.ListAll(t, s, store.Query{Since: w.Since, Until: w.Until, Limit: store.MaxLimit}))
	st, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	return listed, st.Requests
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	old := now.Add(-8 * 24 * time.Hour).Truncate(time.Hour)
	recent := now.Add(-3 * time.Hour).Truncate(time.Hour)
	oldW := store.Window{Since: old.Add(-time.Hour), Until: old.Add(2 * time.Hour)}
	recentW := store.Window{Since: recent.Add(-time.Hour), Until: now}
	tests := []struct {
		name      string
		opts      badgerstore.Options
		wantOld   int // records left in the old window
		wantTotal func(s *badgerstore.Store) bool
	}{
		{"MaxAge", badgerstore.Options{}, 0, func(s *badgerstore.Store) bool { return s.Len() == 600 }},
		{"MaxRecords", badgerstore.Options{MaxAge: -1, MaxRecords: 500}, 0, func(s *badgerstore.Store) bool { return s.Len() == 500 }},
		// Badger's own files take more than so small a MaxBytes: records
		// go down to half of it, no further.
		{"MaxBytes", badgerstore.Options{MaxAge: -1, MaxBytes: 250 << 10}, 0, func(s *badgerstore.Store) bool {
			return s.Size() <= 250<<10 && s.Size() > 100<<10
		}},
		{"none", badgerstore.Options{MaxAge: -1}, 600, func(s *badgerstore.Store) bool { return s.Len() == 1200 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.RetentionInterval = -1
			s := openTest(t, tt.opts)
			oldRecs := storetest.Records(1, old, 10*time.Second, 600)
			newRecs := storetest.Records(2, recent, 10*time.Second, 600)
			if err := s.Write(ctx, append(oldRecs, newRecs...)); err != nil {
				t.Fatal(err)
			}
			if l, r := count(t, s, oldW); l != 600 || r != 600 {
				t.Fatalf("before retention: old window lists %d, counts %d; want 600", l, r)
			}
			res, err := s.Retain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v; %d records, %d bytes left", res, s.Len(), s.Size())
			if !tt.wantTotal(s) {
				t.Errorf("after retention: %d records, %d bytes", s.Len(), s.Size())
			}
			if l, r := count(t, s, oldW); l != tt.wantOld || r != int64(tt.wantOld) {
				t.Errorf("old window lists %d, counts %d; want %d: records or rollups survived", l, r, tt.wantOld)
			}
			if tt.wantOld == 0 {
				if _, err := s.Get(ctx, oldRecs[0].ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Get(old record) = %v, want ErrNotFound", err)
				}
			}
			if tt.name == "MaxAge" || tt.name == "none" {
				if l, r := count(t, s, recentW); l != 600 || r != 600 {
					t.Errorf("recent window lists %d, counts %d; want 600", l, r)
				}
			}
		})
	}
}

// TestRetentionShrinksDisk checks that deleting most records and collecting
// the value log gives the disk space back.
func TestRetentionShrinksDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~60 MB")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := badgerstore.Open(dir, badgerstore.Options{
		MaxAge: -1, MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1,
		ValueLogFileSize: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-time.Hour)
	recs := make([]*recording.Record, 0, 10000)
	for i := range 10000 {
		r := storetest.FullRecord(start.Add(time.Duration(i)*time.Millisecond), uint32(i))
		for range 3 {
			r.Calls = append(r.Calls, r.Calls...)
		}
		badgerstore.Noisy(r, uint64(i), 4096)
		recs = append(recs, r)
	}
	for i := 0; i < len(recs); i += 500 {
		if err := s.Write(ctx, recs[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	full := dirSize(t, dir)
	// Reopen keeping a tenth.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = badgerstore.Open(dir, badgerstore.Options{
		MaxAge: -1, MaxRecords: 1000, MaxBytes: -1, RetentionInterval: -1,
		ValueLogFileSize: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := dirSize(t, dir)
	t.Logf("directory %d MB before, %d MB after deleting %d records (%d MB); %d value-log files rewritten",
		full>>20, after>>20, res.Deleted, res.DeletedBytes>>20, res.GCRewrites)
	if s.Len() != 1000 {
		t.Errorf("Len = %d, want 1000", s.Len())
	}
	if after > full/2 {
		t.Errorf("directory shrank from %d to only %d bytes", full, after)
	}
	if res.GCRewrites == 0 {
		t.Error("value-log GC rewrote nothing")
	}
}
