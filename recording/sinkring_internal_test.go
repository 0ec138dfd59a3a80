package recording

import (
	"reflect"
	"slices"
	"testing"
)

// TestSinkBatchHoldsNoPointer checks that a batch sent to a sink's queue
// holds no pointer: the queue's channel has room for queueSize batches
// (1,024 by default), which a collection scans whole when its element
// holds pointers — 40 KiB each cycle until the twenty-seventh round, when
// a batch held its records' slice. The records lie in the queue's ring.
func TestSinkBatchHoldsNoPointer(t *testing.T) {
	typ := reflect.TypeFor[sinkBatch]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Int32, reflect.Uint32:
		default:
			t.Errorf("sinkBatch.%s is a %s, which may hold a pointer", f.Name, f.Type)
		}
	}
}

// TestSinkQueueRing checks that the records the preparer puts in a sink
// queue's ring come out in the order they went in, batch by batch, the
// ring wrapping around its end, and that taking them clears their slots
// (the ring keeps no record its sink is done with).
func TestSinkQueueRing(t *testing.T) {
	q := newSinkQueue(nil, 5)
	recs := make([]*Record, 12)
	for i := range recs {
		recs[i] = &Record{Path: string(rune('a' + i))}
	}
	var got []*Record
	// Batches of 3, 2, 4 (wrapping), 1, 2 (wrapping): never more in the
	// ring than its 5 slots, as depth admits.
	for _, n := range [][2]int{{0, 3}, {3, 5}, {5, 9}, {9, 10}, {10, 12}} {
		b := q.put(recs[n[0]:n[1]], int64(n[1]-n[0]), uint64(n[1]))
		if b.n != n[1]-n[0] || b.end != uint64(n[1]) || b.bytes != int64(b.n) {
			t.Fatalf("batch %v: %+v", n, b)
		}
		got = q.take(got, b)
		for i, rec := range q.ring {
			if rec != nil {
				t.Fatalf("after batch %v: slot %d holds %s", n, i, rec.Path)
			}
		}
	}
	if !slices.Equal(got, recs) {
		t.Errorf("records out of the ring in another order: %v", paths(got))
	}

	// Two batches in the ring at once, the second wrapping, taken in turn.
	got = got[:0]
	b1 := q.put(recs[:3], 0, 0)
	b2 := q.put(recs[3:5], 0, 0)
	got = q.take(q.take(got, b1), b2)
	if !slices.Equal(got, recs[:5]) {
		t.Errorf("two batches in the ring: %v", paths(got))
	}
}

func paths(recs []*Record) []string {
	var out []string
	for _, rec := range recs {
		out = append(out, rec.Path)
	}
	return out
}
