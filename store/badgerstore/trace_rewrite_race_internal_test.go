package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestTraceRewriteBeforeCount: a record written again, without its trace,
// by a batch that began once the batch storing the trace had committed and
// ended but before that batch counted the trace's bytes, kept its snapshot
// references (and the snapshot, whose last record it was) until
// retention: the rewrite looked for an old trace only while the count was
// above zero. It now drops them: no reference, no snapshot, and TraceSize
// agrees with a recount at Open.
func TestTraceRewriteBeforeCount(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	rec := storetest.Record20(time.Now().Add(-time.Minute), 1)
	data := storetest.TraceData(1, 100<<10)
	rec.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: rec.Start, Reason: "slow"}
	again := *rec
	again.ExecTrace = nil
	rewritten := false
	s.writeHook = func(at string) {
		if at != "ended" || rewritten {
			return
		}
		rewritten = true
		// The first batch has ended, its trace not counted yet.
		if err := s.Write(ctx, []*recording.Record{&again}); err != nil {
			t.Error(err)
		}
	}
	if err := s.Write(ctx, []*recording.Record{rec}); err != nil {
		t.Fatal(err)
	}
	s.writeHook = nil
	if !rewritten {
		t.Fatal("the record was not written again")
	}
	if _, err := s.ExecTrace(ctx, rec.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ExecTrace of the record written again without its trace: %v, want not found", err)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		for what, k := range map[string][]byte{
			"its reference":           traceRefKey(rec.ID),
			"the snapshot's referrer": referrerKey(rec.ID, rec.ID),
			"the snapshot":            traceKey(rec.ID),
		} {
			if _, err := txn.Get(k); !errors.Is(err, badger.ErrKeyNotFound) {
				t.Errorf("%s is still stored (%v)", what, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	size, traces := s.Size(), s.TraceSize()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	defer s.Close()
	// Write counts a trace as Badger reports it (reportedValueSize), as
	// a rewrite, retention and the recount do: exactly.
	const slack = 0
	if traces < -slack || traces > slack || s.TraceSize() != 0 {
		t.Errorf("TraceSize %d, recounted %d; want 0", traces, s.TraceSize())
	}
	if d := s.Size() - size; d < -slack || d > slack {
		t.Errorf("Size %d; recounted %d", size, s.Size())
	}
}
