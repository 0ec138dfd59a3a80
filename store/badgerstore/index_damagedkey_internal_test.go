package badgerstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestDamagedIndexKeyKeepsOrder puts a damaged i key (its first start a
// second before its last) among the keys of two index blocks of one
// second: the forward walk still takes their records oldest first, so
// that retention down to two records keeps the two newest.
func TestDamagedIndexKeyKeepsOrder(t *testing.T) {
	s, _ := openBlockDir(t)
	defer s.Close()
	ctx := context.Background()
	base, a, b, c := writeOverlapping(t, s)
	last := base.Add(700 * time.Millisecond).UnixNano()
	bad := indexKey(last-nsSecond, last, 1<<40)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(bad, []byte("damaged")) }); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxRecords, s.opts.MaxBytes = 2, -1
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	var got []recording.ID
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		got = append(got, sum.ID)
	}
	if !slices.Equal(got, []recording.ID{c.ID, b.ID}) {
		t.Fatalf("kept %v, want the two newest, %v and %v (oldest %v)", got, c.ID, b.ID, a.ID)
	}
}
