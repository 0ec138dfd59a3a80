package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestBlocksRewrite: records written again with the same IDs (an import
// repeated, a record over budget written again), some of them with an
// execution trace the first time only, are read as written last, counted
// once, in Len, Size and TraceSize as a recount counts them, and deleting
// them leaves nothing counted.
func TestBlocksRewrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{RetentionInterval: -1, RecordBudget: -1, MaxAge: -1}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	recs := noisyRecords(1, start, 200, 300)
	for i, r := range recs[:20] {
		data := storetest.TraceData(uint64(i), 2000)
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	again := make([]*recording.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Status = 503
		if i%2 == 0 {
			c.ExecTrace = nil // the new version has none
		}
		again[i] = &c
	}
	if err := s.Write(ctx, again); err != nil {
		t.Fatal(err)
	}
	checkGet(t, s, again)
	size, n, traces := s.Size(), s.Len(), s.TraceSize()
	if n != len(recs) {
		t.Errorf("written twice: Len %d, want %d", n, len(recs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = recount(t, dir, opts)
	defer s.Close()
	if s.Size() != size || s.Len() != n || s.TraceSize() != traces {
		t.Errorf("written twice: Size %d, Len %d, TraceSize %d; recounted %d, %d, %d", size, n, traces, s.Size(), s.Len(), s.TraceSize())
	}
	checkGet(t, s, again)
	// Written a third time, then deleted without a recount between.
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxAge = time.Minute
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, size, traces, blocks := s.Len(), s.Size(), s.TraceSize(), len(blockKeys(t, s)); n != 0 || size != 0 || traces != 0 || blocks != 0 {
		t.Errorf("everything deleted: Len %d, Size %d, TraceSize %d, %d blocks; want 0", n, size, traces, blocks)
	}
}
