package badgerstore

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

func TestCorruptEntriesSkipped(t *testing.T) {
	var logs testlog.Buffer
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	recs := storetest.Records(1, start, time.Second, 10)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	bad := recs[4]
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(summaryKey(bad.Start.UnixNano(), bad.ID), []byte("garbage")); err != nil {
			return err
		}
		return txn.Set(recordKey(bad.ID), []byte{'F', 1, 1, 2, 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.List(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 9 {
		t.Errorf("List returned %d records, want 9 (the corrupt one skipped)", len(p.Records))
	}
	for _, sum := range p.Records {
		if sum.ID == bad.ID {
			t.Error("List returned the corrupt record")
		}
	}
	if !strings.Contains(logs.String(), "skipping a damaged summary") {
		t.Errorf("no warning logged; logs:\n%s", logs.String())
	}
	if _, err := s.Get(ctx, bad.ID); !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a corrupt record = %v, want a corrupt-data error that is also not-found", err)
	}
	if h := s.Health(); h.Skipped != 2 || h.State != store.StateOK {
		t.Errorf("Health = %+v, want 2 skipped (the summary and the record), state ok", h)
	}
	// Stats over the corrupt summary's minute edge still works.
	if _, err := s.Stats(ctx, store.Window{Since: bad.Start.Add(-time.Second)}); err != nil {
		t.Errorf("Stats: %v", err)
	}
}

func TestBadgerLogsRoutedToSlog(t *testing.T) {
	var logs testlog.Buffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(t.TempDir(), Options{Logger: l})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "component=badger") {
		t.Errorf("no Badger log line reached the slog logger; got:\n%s", logs.String())
	}
	// Below the handler's level, nothing is formatted or written.
	var quiet testlog.Buffer
	l = slog.New(slog.NewTextHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelError}))
	s, err = Open(t.TempDir(), Options{Logger: l})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if quiet.String() != "" {
		t.Errorf("logged below the handler's level:\n%s", quiet.String())
	}
}

// TestStoredRollupsBounded checks that the per-minute and per-hour rollups
// on disk keep at most MaxKeys routes, RPCs and route×RPC pairs, plus the
// Other entry, however many distinct ones were written.
func TestStoredRollupsBounded(t *testing.T) {
	const maxKeys = 10
	s, err := Open(t.TempDir(), Options{MaxKeys: maxKeys, FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	var recs []*recording.Record
	for i := range 500 {
		st := start.Add(time.Duration(i) * time.Second)
		r := storetest.Records(uint64(i), st, time.Millisecond, 1)[0]
		r.Route = "GET /r/" + strconv.Itoa(i)
		r.Calls = []recording.Call{{Service: "svc", Method: "M" + strconv.Itoa(i), Duration: time.Millisecond}}
		recs = append(recs, r)
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	seen := map[byte]int{}
	var scratch sketch.Sketch
	err = s.db.View(func(txn *badger.Txn) error {
		for _, p := range []byte{pMinute, pHour} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
			for it.Rewind(); it.Valid(); it.Next() {
				ru := codec.NewRollup() // unbounded: counts what is stored
				if err := it.Item().Value(func(v []byte) error { return ru.MergeEncoded(v, false, &scratch) }); err != nil {
					it.Close()
					return err
				}
				st := ru.Stats(store.Window{})
				if len(st.Routes) > maxKeys+1 || len(st.RPCs) > maxKeys+1 || len(st.RouteRPCs) > maxKeys+1 {
					t.Errorf("stored rollup %x: %d routes, %d RPCs, %d route×RPCs; want at most %d", it.Item().Key(),
						len(st.Routes), len(st.RPCs), len(st.RouteRPCs), maxKeys+1)
				}
				seen[p]++
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen[pMinute] < 8 || seen[pHour] < 1 {
		t.Fatalf("rollups stored: %d minutes, %d hours", seen[pMinute], seen[pHour])
	}
}

// TestDamagedRollupsRecounted damages a minute rollup, an hour rollup and a
// pending delta: Stats and Series count those buckets again from finer
// data, so they keep agreeing with List, before and after folding.
func TestDamagedRollupsRecounted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{FoldInterval: -1, RetentionInterval: -1}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	if err := s.Write(ctx, storetest.Records(1, start, 6*time.Second, 900)); err != nil { // 90 minutes
		t.Fatal(err)
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	m := floorDiv(start.Add(70*time.Minute).UnixNano(), nsMinute) // in the second hour
	h := floorDiv(start.UnixNano(), nsMinute*60)                  // the first hour
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{bucketKey(pMinute, m), bucketKey(pHour, h)} {
			if err := txn.Set(k, []byte("garbage")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A pending delta found damaged when the store opened (as load marks
	// it): its records are stored, their delta lost.
	more := start.Add(100 * time.Minute)
	if err := s.Write(ctx, storetest.Records(2, more, time.Second, 30)); err != nil {
		t.Fatal(err)
	}
	s.pmu.Lock()
	md := floorDiv(more.UnixNano(), nsMinute)
	if len(s.pending[md]) != 1 {
		t.Fatalf("%d pending deltas for the minute written, want 1", len(s.pending[md]))
	}
	s.pending[md] = []pendingDelta{{key: s.pending[md][0].key}}
	s.pmu.Unlock()

	w := store.Window{Since: start.Add(-time.Minute), Until: start.Add(3 * time.Hour)}
	check := func(when string) {
		t.Helper()
		p, err := s.List(ctx, store.Query{Since: w.Since, Until: w.Until, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		series, err := s.Series(ctx, w, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var inSeries int64
		for _, b := range series {
			inSeries += b.Requests
		}
		if st.Requests != int64(len(p.Records)) || inSeries != st.Requests || len(p.Records) != 930 {
			t.Errorf("%s: Stats %d, Series %d, List %d; want 930 each", when, st.Requests, inSeries, len(p.Records))
		}
	}
	check("before folding")
	if h := s.Health(); h.Skipped < 2 {
		t.Errorf("Health = %+v, want the damaged rollups counted as skipped", h)
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	check("after folding")
}
