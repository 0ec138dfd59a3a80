package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestBlocksRefToAnotherRecord: a pair of refs damaged so that it points
// at another record of the same blocks (its offset and length changed, as
// one flipped bit does between records of one length) makes Get and
// ExecTrace say the record is damaged, and List skip its summary, rather
// than give the other record's as this one's.
// The pairs are those of testdata/v3-store; TestIndexRefToAnotherRecord
// does the same with an index block.
func TestBlocksRefToAnotherRecord(t *testing.T) {
	recs := layoutRecords()
	s, _ := openLayout(t, "v3-store", blockOpts())
	defer s.Close()
	pairOf := func(r *recording.Record) (k, v []byte) {
		k = summaryKey(r.Start.UnixNano(), r.ID)
		err := s.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(k)
			if err != nil {
				return err
			}
			v, err = item.ValueCopy(nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return k, v
	}
	k7, v7 := pairOf(recs[7])
	_, v8 := pairOf(recs[8])
	sum7, rec7, err := decodePair(v7)
	if err != nil {
		t.Fatal(err)
	}
	sum8, rec8, err := decodePair(v8)
	if err != nil {
		t.Fatal(err)
	}
	sum7.off, sum7.n = sum8.off, sum8.n
	rec7.off, rec7.n = rec8.off, rec8.n
	setValue(t, s, k7, appendPair(nil, sum7, rec7))
	checkDamaged(t, s, recs, 7, "ref")
}

// TestIndexRefToAnotherRecord: an index entry damaged so that it points
// at another record's summary and record (the index block written again
// with a valid checksum, as its checksum would not see) makes Get and
// ExecTrace say the record is damaged, and List skip its summary.
func TestIndexRefToAnotherRecord(t *testing.T) {
	// Within one second: one index block.
	recs := noisyRecords(1, time.Now().Add(-time.Hour).Truncate(time.Second), 20, 100)
	s := openWritten(t, recs)
	ik := prefixKeys(t, s, pIndex)
	if len(ik) != 1 {
		t.Fatalf("%d index blocks, want 1", len(ik))
	}
	var b *idxBlock
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		b, err = s.readIndex(txn, ik[0])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Written again, entry 7 taking entry 8's summary and record.
	w := &idxWriter{}
	var slots []ref
	for i := range b.ents {
		e := b.ents[i]
		if i == 7 {
			e.rec, e.sumOff, e.sumLen = b.ents[8].rec, b.ents[8].sumOff, b.ents[8].sumLen
		}
		if _, err := b.summary(0, 1<<30); err != nil {
			t.Fatal(err)
		}
		off := len(w.raw)
		w.raw = append(w.raw, b.raw[e.sumOff:e.sumOff+e.sumLen]...)
		w.ents = append(w.ents, idxPending{id: b.ents[i].id(), start: e.start, off: off, n: e.sumLen, slot: i})
		slots = append(slots, e.rec)
	}
	v, _, _, _ := appendIndex(nil, w, slots, nil)
	setValue(t, s, ik[0], sealIndex(v, b.total))
	checkDamaged(t, s, recs, 7, "entry")
	checkGet(t, s, append(recs[:7:7], recs[8:]...))
}

// checkDamaged checks that recs[bad], whose index entry was damaged
// (what says how), is reported damaged by Get, not found by ExecTrace,
// and left out of List, which gives every other record once.
func checkDamaged(t *testing.T, s *Store, recs []*recording.Record, bad int, what string) {
	t.Helper()
	ctx := context.Background()
	r, err := s.Get(ctx, recs[bad].ID)
	if err == nil {
		t.Errorf("Get(%v) of a damaged %s = record %v, want an error", recs[bad].ID, what, r.ID)
	} else if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a damaged %s: %v, want ErrCorrupt", what, err)
	}
	if _, err := s.ExecTrace(ctx, recs[bad].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ExecTrace of a damaged %s: %v, want ErrNotFound", what, err)
	}
	p, err := s.List(ctx, store.Query{Limit: len(recs) + 10})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[recording.ID]int)
	for _, sum := range p.Records {
		if seen[sum.ID]++; seen[sum.ID] > 1 {
			t.Errorf("List gives %v twice", sum.ID)
		}
	}
	if len(p.Records) != len(recs)-1 || seen[recs[bad].ID] != 0 {
		t.Errorf("List: %d records, %d of the damaged one; want %d, 0", len(p.Records), seen[recs[bad].ID], len(recs)-1)
	}
}
