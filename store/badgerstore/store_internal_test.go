package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestCorruptEntriesSkipped(t *testing.T) {
	var logs syncBuffer
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
	if !strings.Contains(logs.String(), "skipping corrupt summary") {
		t.Errorf("no warning logged; logs:\n%s", logs.String())
	}
	if _, err := s.Get(ctx, bad.ID); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a corrupt record = %v, want a corrupt-data error", err)
	}
	// Stats over the corrupt summary's minute edge still works.
	if _, err := s.Stats(ctx, store.Window{Since: bad.Start.Add(-time.Second)}); err != nil {
		t.Errorf("Stats: %v", err)
	}
}

func TestBadgerLogsRoutedToSlog(t *testing.T) {
	var logs syncBuffer
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
	var quiet syncBuffer
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
