package recording

import (
	"fmt"
	"testing"
)

// TestRecordPoolPutAll checks that putAll keeps the reserve within its
// bounds, in records and in bytes, as put does: the records it does not
// keep go to the sync.Pool, and a record that fits after one that did not
// is kept.
func TestRecordPoolPutAll(t *testing.T) {
	p := newRecordPool()
	recs := make([]*Record, reserveRecords+10)
	for i := range recs {
		recs[i] = &Record{Method: fmt.Sprint(i)}
	}
	p.putAll(recs)
	if len(p.reserve) != reserveRecords {
		t.Fatalf("reserve holds %d, want %d", len(p.reserve), reserveRecords)
	}
	kept := map[*Record]bool{}
	for _, rec := range p.reserve {
		if kept[rec] {
			t.Fatal("a record kept twice")
		}
		kept[rec] = true
	}

	p = newRecordPool()
	big := make([]*Record, 20)
	for i := range big {
		big[i] = &Record{}
		big[i].spare.pcs = make([]uintptr, 0, maxSparePCs) // 512 KB kept for the next use
	}
	small := &Record{}
	p.putAll(append(big, small))
	if p.bytes > maxReserveBytes || len(p.reserve) < 2 || len(p.reserve) >= 20 {
		t.Fatalf("reserve holds %d records, %d bytes (bound %d)", len(p.reserve), p.bytes, maxReserveBytes)
	}
	if p.reserve[len(p.reserve)-1] != small {
		t.Error("a small record after those over the byte bound not kept")
	}
	var sum int64
	for _, rec := range p.reserve {
		sum += spareBytes(rec)
	}
	if sum != p.bytes {
		t.Errorf("reserve counts %d bytes, holds %d", p.bytes, sum)
	}
}
