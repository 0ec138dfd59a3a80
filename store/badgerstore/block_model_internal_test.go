package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// blockModel is what a store written by TestBlocksModel should hold: the
// last version written of each record, by ID.
type blockModel struct {
	recs   map[recording.ID]*recording.Record
	writes int64 // records written, each counted in the rollups
}

// stored returns the latest start of the records held: a record written
// again later than that is taken as new (see replaced).
func (m *blockModel) stored() int64 {
	n := int64(-1 << 63)
	for _, r := range m.recs {
		n = max(n, r.Start.UnixNano())
	}
	return n
}

// sorted returns the model's records as List orders them: newest first.
func (m *blockModel) sorted() []*recording.Record {
	var out []*recording.Record
	for _, r := range m.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *recording.Record) int {
		ka, kb := ringKey(a.Start.UnixNano(), a.ID), ringKey(b.Start.UnixNano(), b.ID)
		return bytes.Compare(kb[:], ka[:])
	})
	return out
}

// TestBlocksModel writes random batches to a store, records written again
// with the same ID among them (at the same start, at another, twice in one
// Write), with IDs that hold their start and IDs of random bytes, records
// and summaries larger than a block, and checks after each Write, reopen
// and retention pass that Get, List (paged, filtered), Stats, Len and Size
// agree with what was written; once everything is deleted, no block and
// no byte is left counted.
//
// Records spread over an hour mostly have index blocks of their own;
// records within three seconds share them, so that retention deletes
// some of a block's records and keeps the others (see trimRecords).
func TestBlocksModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run("", func(t *testing.T) { testBlocksModel(t, seed, time.Hour) })
	}
	for seed := range uint64(4) {
		t.Run("dense", func(t *testing.T) { testBlocksModel(t, 100+seed, 3*time.Second) })
	}
}

func testBlocksModel(t *testing.T, seed uint64, spread time.Duration) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	defer func() { s.Close() }()
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	m := &blockModel{recs: make(map[recording.ID]*recording.Record)}
	var ids []recording.ID // IDs used so far
	n := 0
	newRecord := func() *recording.Record {
		n++
		start := base.Add((time.Hour-spread)/2 + time.Duration(rng.Int64N(int64(spread))))
		r := storetest.Records(seed*1000+uint64(n), start, time.Millisecond, 1)[0]
		r.Start = start
		Noisy(r, seed*100000+uint64(n), 100+rng.IntN(400))
		switch x := rng.IntN(20); {
		case x == 0: // a record larger than a block
			Noisy(r, uint64(n), blockBytes+rng.IntN(blockBytes))
		case x == 1: // a summary larger than a block
			r.Error = strings.Repeat("e", blockBytes+rng.IntN(blockBytes))
		}
		return r
	}
	check := func(stage string) {
		t.Helper()
		want := m.sorted()
		if s.Len() != len(want) {
			t.Fatalf("%s: Len %d, want %d", stage, s.Len(), len(want))
		}
		checkGet(t, s, want)
		if t.Failed() {
			t.Fatalf("%s: Get fails", stage)
		}
		got := listIDs(t, s, store.Query{})
		if w := wantIDs(reverse(want), func(*recording.Record) bool { return true }); !slices.Equal(got, w) {
			t.Fatalf("%s: List: %d IDs, want %d (or another order)", stage, len(got), len(w))
		}
		route := "GET /c"
		got = listIDs(t, s, store.Query{Route: route, Since: base.Add(10 * time.Minute), Until: base.Add(50 * time.Minute)})
		w := wantIDs(reverse(want), func(r *recording.Record) bool {
			return r.Route == route && !r.Start.Before(base.Add(10*time.Minute)) && r.Start.Before(base.Add(50*time.Minute))
		})
		if !slices.Equal(got, w) {
			t.Fatalf("%s: List by route and time: %d IDs, want %d", stage, len(got), len(w))
		}
	}
	for step := range 12 {
		batch := make([]*recording.Record, 1+rng.IntN(150))
		for i := range batch {
			var r *recording.Record
			if len(ids) > 0 && rng.IntN(3) == 0 {
				// Written again: same start, or another no later than
				// the newest (see replaced), at times as a new version.
				id := ids[rng.IntN(len(ids))]
				old := m.recs[id]
				r = newRecord()
				r.ID = id
				switch {
				case old != nil && rng.IntN(2) == 0:
					r.Start = old.Start
				case rng.IntN(2) == 0 && idTime(id) >= base.UnixNano() && idTime(id) < base.Add(time.Hour).UnixNano():
					r.Start = time.Unix(0, idTime(id)) // back to the ID's time
				}
				if n := m.stored(); r.Start.UnixNano() > n {
					r.Start = time.Unix(0, n)
				}
			} else {
				r = newRecord()
				if rng.IntN(4) == 0 {
					// An ID made elsewhere: random bytes.
					for j := range r.ID {
						r.ID[j] = byte(rng.Uint32())
					}
				} else {
					binary.BigEndian.PutUint64(r.ID[:8], uint64(r.Start.UnixNano()))
				}
				ids = append(ids, r.ID)
			}
			if i > 0 && rng.IntN(10) == 0 {
				// The same ID twice in one Write.
				r.ID = batch[rng.IntN(i)].ID
				if n := m.stored(); r.Start.UnixNano() > n {
					r.Start = time.Unix(0, n)
				}
			}
			batch[i] = r
			m.recs[r.ID] = r
			m.writes++
		}
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		check("step " + string(rune('a'+step)))
		if step < 2 {
			// Before retention deletes rollups: every record written
			// counted, written again or not.
			st, err := s.Stats(ctx, store.Window{Since: base.Add(-time.Hour), Until: base.Add(2 * time.Hour)})
			if err != nil || st.Requests != m.writes {
				t.Fatalf("Stats: %d requests, %v; want %d", st.Requests, err, m.writes)
			}
		}
		if step%4 == 3 {
			size, nrec := s.Size(), s.Len()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = recount(t, dir, blockOpts())
			if s.Size() != size || s.Len() != nrec {
				t.Fatalf("step %d: Size %d, Len %d; recounted %d, %d", step, size, nrec, s.Size(), s.Len())
			}
			check("reopened")
		}
		if step%3 == 2 {
			// Retention keeps the newest half.
			keep := len(m.recs) / 2
			s.opts.MaxRecords = int64(keep)
			if _, err := s.Retain(ctx); err != nil {
				t.Fatal(err)
			}
			s.opts.MaxRecords = 0
			sorted := m.sorted()
			for _, r := range sorted[keep:] {
				delete(m.recs, r.ID)
			}
			check("retained")
		}
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	checkAllDeleted(t, s)
}

// checkAllDeleted checks that s, whose records were all deleted, holds no
// summary, record or block, and counts no record or byte.
func checkAllDeleted(t *testing.T, s *Store) {
	t.Helper()
	for _, p := range []byte{pSummary, pRecord, pBlock, pSumBlock, pIndex} {
		if n := countKeys(t, s, p); n != 0 {
			t.Errorf("everything deleted: %d keys %q left", n, p)
		}
	}
	if s.Len() != 0 || s.Size() != 0 {
		t.Errorf("everything deleted: Len %d, Size %d; want 0", s.Len(), s.Size())
	}
}

// reverse returns recs in the reverse order, for wantIDs.
func reverse(recs []*recording.Record) []*recording.Record {
	out := slices.Clone(recs)
	slices.Reverse(out)
	return out
}
