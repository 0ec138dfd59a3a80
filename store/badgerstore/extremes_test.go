package badgerstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

// TestHugeLimits: the largest limits a caller can give (math.MaxInt64 for
// "no limit", where the documented way is a negative value) keep records as
// no limit does. MaxBytes of math.MaxInt64 plus half its slack wrapped
// around to a negative size limit, and Write dropped every record as over
// it.
func TestHugeLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts badgerstore.Options
	}{
		{"MaxBytes", badgerstore.Options{MaxBytes: math.MaxInt64}},
		{"MaxAge", badgerstore.Options{MaxAge: math.MaxInt64}},
		{"MaxRecords", badgerstore.Options{MaxRecords: math.MaxInt64}},
		{"MaxTraceBytes", badgerstore.Options{MaxTraceBytes: math.MaxInt64}},
		{"RecordBudget", badgerstore.Options{RecordBudget: math.MaxInt}},
		{"intervals", badgerstore.Options{RetentionInterval: math.MaxInt64, SyncInterval: math.MaxInt64, FoldInterval: math.MaxInt64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, tc.opts)
			ctx := context.Background()
			now := time.Now()
			recs := []*recording.Record{storetest.FullRecord(now, 1), storetest.Record20(now.Add(time.Millisecond), 2)}
			if err := s.Write(ctx, recs); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if _, err := s.Get(ctx, r.ID); err != nil {
					t.Errorf("Get(%s): %v", r.Path, err)
				}
			}
			if err := s.EnforceRetention(ctx); err != nil {
				t.Errorf("EnforceRetention: %v", err)
			}
			for _, r := range recs {
				if _, err := s.Get(ctx, r.ID); err != nil {
					t.Errorf("after retention, Get(%s): %v", r.Path, err)
				}
			}
			if h := s.Health(); h.Dropped != 0 {
				t.Errorf("%d records dropped", h.Dropped)
			}
		})
	}
}

// TestHugeBadgerSizes: Badger's sizes and counts past their bounds are
// refused by Open with an error that names them. Badger allocates a
// memtable and its caches' counters whole, and starts a goroutine a
// compactor: MemTableSize or a cache size of 2⁴⁰ and more made the process
// die out of memory, NumMemtables of math.MaxInt made Open panic, and
// NumCompactors of 2²⁰ made it not return.
func TestHugeBadgerSizes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts badgerstore.Options
	}{
		{"MemTableSize", badgerstore.Options{MaxBytes: -1, MemTableSize: 1 << 40}},
		{"NumMemtables", badgerstore.Options{NumMemtables: math.MaxInt}},
		{"BlockCacheSize", badgerstore.Options{BlockCacheSize: 1 << 60}},
		{"IndexCacheSize", badgerstore.Options{IndexCacheSize: 1 << 60}},
		{"NumCompactors", badgerstore.Options{NumCompactors: 1 << 20}},
	} {
		testBadgerSizeRefused(t, tc.name, tc.name, tc.opts)
	}
}

// TestNegativeCacheSizes: a negative BlockCacheSize or IndexCacheSize is
// refused by Open with an error that names it, as a size past its bound
// is (the error named no option: "negative cache size").
func TestNegativeCacheSizes(t *testing.T) {
	testBadgerSizeRefused(t, "BlockCacheSize", "BlockCacheSize -1", badgerstore.Options{BlockCacheSize: -1, Compress: true})
	testBadgerSizeRefused(t, "IndexCacheSize", "IndexCacheSize -1", badgerstore.Options{IndexCacheSize: -1})
}

// testBadgerSizeRefused checks that Open refuses opts with an error
// holding want.
func testBadgerSizeRefused(t *testing.T, name, want string, opts badgerstore.Options) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		s, err := badgerstore.Open(t.TempDir(), opts)
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded")
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open: %v; want an error holding %q", err, want)
		}
	})
}

// TestMaxBytesCutWarns: a MaxBytes past 2⁶² is not cut silently: Open
// logs one warning through Logger naming MaxBytes and the 2⁶² it uses.
// A MaxBytes within, or none, logs nothing.
func TestMaxBytesCutWarns(t *testing.T) {
	for _, tc := range []struct {
		maxBytes int64
		want     []string
	}{
		{math.MaxInt64, []string{fmt.Sprintf("MaxBytes %d", int64(1)<<62)}},
		{1 << 62, nil},
		{0, nil},
		{-1, nil},
	} {
		t.Run(fmt.Sprint(tc.maxBytes), func(t *testing.T) {
			var logged strings.Builder // slog's handler writes a record at a time
			s, err := badgerstore.Open(t.TempDir(), badgerstore.Options{MaxBytes: tc.maxBytes, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// Each warning about an option, as "option used".
			var warns []string
			for _, line := range strings.Split(logged.String(), "\n") {
				_, attrs, ok := strings.Cut(line, " option=")
				if !ok || !strings.Contains(line, "level=WARN") {
					continue
				}
				option, _, _ := strings.Cut(attrs, " ")
				_, used, _ := strings.Cut(attrs, " used=")
				used, _, _ = strings.Cut(used, " ")
				warns = append(warns, option+" "+used)
			}
			if !slices.Equal(warns, tc.want) {
				t.Errorf("MaxBytes %d: warnings %q; want %q", tc.maxBytes, warns, tc.want)
			}
		})
	}
}
