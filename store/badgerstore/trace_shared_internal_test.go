package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestLegacyTrace: a trace stored before snapshots were shared (under
// t | id alone, no u keys) is still its record's: Get and ExecTrace serve
// it, the record given again as a snapshot's first record keeps it as the
// snapshot, and a record deleted by age takes it with it; TraceSize
// agrees with a recount at Open.
func TestLegacyTrace(t *testing.T) {
	ctx := context.Background()
	s, dir := openBlockDir(t)
	start := time.Now().Add(-2 * time.Hour)
	recs := make([]*recording.Record, 2)
	for i := range recs {
		r := storetest.Record20(start.Add(time.Duration(i)*time.Second), uint32(i+1))
		data := storetest.TraceData(uint64(i), 100<<10)
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
		recs[i] = r
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// The layout of before: no references.
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, r := range recs {
			if err := txn.Delete(traceRefKey(r.ID)); err != nil {
				return err
			}
			if err := txn.Delete(referrerKey(r.ID, r.ID)); err != nil {
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
	s = recount(t, dir, blockOpts())
	defer func() { s.Close() }()
	legacy := s.TraceSize()
	if want := int64(2 * (len(recs[0].ExecTrace.Data) + 2 + 17)); legacy < want || legacy > want+32 {
		t.Fatalf("TraceSize of two traces of before = %d, want %d", legacy, want)
	}
	for i, r := range recs {
		got, err := s.Get(ctx, r.ID)
		if err != nil || got.ExecTrace == nil {
			t.Fatalf("record %d: Get: %v, trace %v", i, err, got.ExecTrace)
		}
		if d, err := s.ExecTrace(ctx, r.ID); err != nil || len(d) != len(r.ExecTrace.Data) {
			t.Errorf("record %d: ExecTrace %d bytes, %v", i, len(d), err)
		}
	}
	// Given again as the first record of a shared snapshot, without the
	// data, the record keeps its trace of before as the snapshot.
	again := *recs[1]
	et := *recs[1].ExecTrace
	et.Data, et.Snapshot = nil, recs[1].ID
	again.ExecTrace = &et
	if err := s.Write(ctx, []*recording.Record{&again}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.ExecTrace(ctx, recs[1].ID); err != nil || len(d) != len(recs[1].ExecTrace.Data) {
		t.Errorf("given again as a snapshot's first record: ExecTrace %d bytes, %v", len(d), err)
	}
	if got := s.TraceSize(); got != legacy+refBytes {
		t.Errorf("TraceSize = %d, want %d: the trace of before and a reference", got, legacy+refBytes)
	}
	// Past MaxAge, the records go with their traces.
	s.opts.MaxAge = time.Hour
	res, err := s.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || res.Traces != 2 {
		t.Errorf("age retention deleted %d records, %d traces; want 2, 2", res.Deleted, res.Traces)
	}
	if got := s.TraceSize(); got != 0 {
		t.Errorf("TraceSize = %d after retention, want 0", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, blockOpts())
	if got := s.TraceSize(); got != 0 {
		t.Errorf("TraceSize recounted = %d, want 0", got)
	}
}

// TestSharedTraceRacingRetention: a record referring to a snapshot whose
// last record a retention pass deletes, written while the pass has read
// what it deletes (before or after it took the records, see claims):
// afterwards the new record has the snapshot, whole, and TraceSize and
// Size agree with a recount at Open.
func TestSharedTraceRacingRetention(t *testing.T) {
	for _, at := range []string{"read", "claimed"} {
		ctx := context.Background()
		s, dir := openBlockDir(t)
		old := storetest.Record20(time.Now().Add(-2*time.Hour), 1)
		data := storetest.TraceData(1, 100<<10)
		old.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: old.Start, Reason: "slow", Snapshot: old.ID}
		if err := s.Write(ctx, []*recording.Record{old}); err != nil {
			t.Fatal(err)
		}
		fresh := storetest.Record20(time.Now().Add(-time.Minute), 2)
		fresh.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: old.Start, Reason: "slow too", Snapshot: old.ID}
		s.opts.MaxAge = time.Hour
		written, reached := writeDuringPass(t, s, fresh, at, at == "claimed", "at "+at)
		res, err := s.Retain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.trimHook = nil
		if !reached() {
			s.Close()
			t.Fatalf("at %s: the pass did not reach it (%+v)", at, res)
		}
		<-written
		if res.Deleted != 1 {
			t.Errorf("at %s: retention deleted %d records, want 1", at, res.Deleted)
		}
		got, err := s.Get(ctx, fresh.ID)
		if err != nil || got.ExecTrace == nil {
			t.Fatalf("at %s: Get: %v, trace %v; want the shared snapshot", at, err, got.ExecTrace)
		}
		if d, err := s.ExecTrace(ctx, fresh.ID); err != nil || len(d) != len(data) {
			t.Errorf("at %s: ExecTrace %d bytes, %v; want %d", at, len(d), err, len(data))
		}
		size, traces := s.Size(), s.TraceSize()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = recount(t, dir, blockOpts())
		// Write counts a trace as Badger reports it (reportedValueSize), as
		// a rewrite, retention and the recount do: exactly.
		const slack = 0
		if d := s.TraceSize() - traces; d < -slack || d > slack {
			t.Errorf("at %s: TraceSize %d; recounted %d", at, traces, s.TraceSize())
		}
		if d := s.Size() - size; d < -slack || d > slack {
			t.Errorf("at %s: Size %d; recounted %d", at, size, s.Size())
		}
		s.Close()
	}
}
