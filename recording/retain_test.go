package recording

import (
	"context"
	"runtime"
	"testing"
)

func TestEdgeRetention(t *testing.T) {
	var kept []*Record
	rec := New(WithSinks(SinkFunc(func(ctx context.Context, rs []*Record) error { kept = append(kept, rs...); return nil })))
	const N = 5000
	run := func() {
		for i := 0; i < N; i++ {
			_, a := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/"})
			for j := 0; j < 20; j++ {
				c := a.StartCall("sql", "SELECT x")
				c.End(nil)
			}
			a.Finish()
		}
	}
	run()
	rec.Close(context.Background())
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.HeapAlloc
	// Drop the ActiveRecord by copying Records.
	cp := make([]*Record, len(kept))
	for i, r := range kept {
		x := *r
		cp[i] = &x
	}
	kept = nil
	runtime.GC()
	runtime.ReadMemStats(&m)
	t.Logf("records=%d heap with *Record into ActiveRecord: %d KB; with copied Records: %d KB; per record %d B vs %d B",
		len(cp), before/1024, m.HeapAlloc/1024, before/uint64(len(cp)), m.HeapAlloc/uint64(len(cp)))
	runtime.KeepAlive(cp)
}
