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
		big[i] = &Record{spare: new(spare)}
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

// TestRecordPoolReserved checks that the reserve's count of bytes follows
// its records when get takes off what put counted (the spare's reserved)
// rather than counting again: back to zero once every record is taken.
func TestRecordPoolReserved(t *testing.T) {
	p := newRecordPool()
	var recs []*Record
	for i := range 10 {
		rec := &Record{spare: new(spare)}
		rec.spare.pcs = make([]uintptr, 0, 100*i)
		rec.hdrFlat = make([]string, 0, i)
		recs = append(recs, rec)
	}
	p.putAll(recs[:5])
	for _, rec := range recs[5:] {
		p.put(rec)
	}
	var sum int64
	for _, rec := range p.reserve {
		if rec.spare.reserved != spareBytes(rec) {
			t.Errorf("a record in the reserve is noted at %d bytes, keeps %d", rec.spare.reserved, spareBytes(rec))
		}
		sum += spareBytes(rec)
	}
	if sum != p.bytes {
		t.Errorf("reserve counts %d bytes, holds %d", p.bytes, sum)
	}
	for range recs {
		p.get()
	}
	if p.bytes != 0 || len(p.reserve) != 0 {
		t.Errorf("emptied reserve counts %d bytes, %d records", p.bytes, len(p.reserve))
	}
}
