package badgerstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestTrimTracesRacingRewrite: a record given again with a trace of
// another size while a retention pass that deletes its old trace
// (MaxTraceBytes) has read the traces it deletes but not yet deleted them
// (before or after it took their records, see claims): afterwards the
// record's trace, if Get says it has one, is the new one, whole; and
// TraceSize and Size agree with a recount at Open.
func TestTrimTracesRacingRewrite(t *testing.T) {
	for _, at := range []string{"traces read", "traces claimed"} {
		ctx := context.Background()
		s, dir := openBlockDir(t)
		start := time.Now().Add(-time.Hour)
		var recs []*recording.Record
		for i := range 3 {
			r := storetest.Record20(start.Add(time.Duration(i)*time.Second), uint32(i+1))
			data := storetest.TraceData(uint64(i), 100<<10)
			r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
			recs = append(recs, r)
		}
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// The oldest trace goes (300 KiB over a cap of 250 KiB); the
		// oldest record is given again, at the same start, with a
		// trace twice as large.
		s.opts.MaxTraceBytes = 250 << 10
		again := *recs[0]
		data := storetest.TraceData(9, 200<<10)
		again.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: again.Start, Reason: "again"}
		written, reached := writeDuringPass(t, s, &again, at, at == "traces claimed", "at "+at)
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
		got, err := s.Get(ctx, again.ID)
		if err != nil {
			t.Fatalf("at %s: Get: %v", at, err)
		}
		d, err := s.ExecTrace(ctx, again.ID)
		switch {
		case got.ExecTrace != nil && err == nil:
			if !slices.Equal(d, data) {
				t.Errorf("at %s: the trace read is %d bytes, not the new one's %d", at, len(d), len(data))
			}
		case got.ExecTrace == nil && errors.Is(err, store.ErrNotFound):
			if at == "traces claimed" {
				// The pass deleted the old trace before the
				// Write stored the new one.
				t.Errorf("at %s: the new trace was deleted", at)
			}
		default:
			t.Errorf("at %s: Get says trace %v, ExecTrace says %v", at, got.ExecTrace != nil, err)
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
