package memstore

import (
	"context"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// TestWriteEncodesInSlab checks that Write encodes a record that shares a
// slab straight into the free part of the slab being filled, where put
// would have copied it: scratch is not used, each record lies right after
// the one before, and each reads back. A record too large to share a slab
// (more than slabSize/4 bytes), whether it fitted in the slab's free part
// or went past its end, takes a slab of its own as before and leaves the
// slab being filled as it was; the records after it go on filling it.
func TestWriteEncodesInSlab(t *testing.T) {
	ctx := context.Background()
	s := New(100)
	defer s.Close()
	base := time.Unix(1_700_000_000, 0)
	id := func(i int) recording.ID {
		var x recording.ID
		x[0], x[15] = 1, byte(i)
		return x
	}
	rec := func(i int, path string) *recording.Record {
		return &recording.Record{ID: id(i), Start: base.Add(time.Duration(i) * time.Millisecond),
			Method: "GET", Path: path, Status: 200, Instance: "i"}
	}
	if err := s.Write(ctx, []*recording.Record{rec(1, "/a")}); err != nil {
		t.Fatal(err)
	}
	// scratch marked: a record encoded there would overwrite the marks.
	scratch := s.scratch[:cap(s.scratch)]
	for i := range scratch {
		scratch[i] = 0xEE
	}
	first := s.recs[0]
	if err := s.Write(ctx, []*recording.Record{rec(2, "/b"), rec(3, "/c")}); err != nil {
		t.Fatal(err)
	}
	if unsafe.SliceData(s.scratch) != unsafe.SliceData(scratch) || strings.Count(string(scratch), "\xee") != len(scratch) {
		t.Error("a small record was encoded into scratch, not into the slab")
	}
	for i := 1; i < 3; i++ {
		prev, e := s.recs[i-1], s.recs[i]
		if e.slab != first.slab || e.off != prev.off+prev.size {
			t.Errorf("record %d at slab %d offset %d, want slab %d offset %d", i+1, e.slab, e.off, first.slab, prev.off+prev.size)
		}
	}
	filled := len(s.data.bufs[first.slab])

	// 20 KiB fits in the slab's free part; 100 KiB goes past its end.
	if err := s.Write(ctx, []*recording.Record{rec(4, strings.Repeat("x", 20<<10)), rec(5, strings.Repeat("y", 100<<10)), rec(6, "/d")}); err != nil {
		t.Fatal(err)
	}
	for i, path := range []string{"/a", "/b", "/c", strings.Repeat("x", 20<<10), strings.Repeat("y", 100<<10), "/d"} {
		got, err := s.Get(ctx, id(i+1))
		if err != nil || got.Path != path {
			t.Fatalf("record %d: err %v, path of %d bytes, want %d", i+1, err, len(got.Path), len(path))
		}
	}
	for _, i := range []int{3, 4} {
		if e := s.recs[i]; e.slab == first.slab || len(s.data.bufs[e.slab]) != int(e.size) {
			t.Errorf("record %d of %d bytes in slab %d of %d bytes, want a slab of its own", i+1, e.size, e.slab, len(s.data.bufs[e.slab]))
		}
	}
	if e := s.recs[5]; e.slab != first.slab || int(e.off) != filled {
		t.Errorf("record after the large ones at slab %d offset %d, want slab %d offset %d", e.slab, e.off, first.slab, filled)
	}
}
