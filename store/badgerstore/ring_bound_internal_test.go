package badgerstore

import (
	"encoding/binary"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// TestRingBytesBoundsBufferAndIndex fills a ring of 64 KiB with minimal
// records (a start and an ID, nothing else), many times over: its
// buffer and its index together take at most its 64 KiB, and it still
// holds the newest records, each found by ID.
func TestRingBytesBoundsBufferAndIndex(t *testing.T) {
	const size = 64 << 10
	g := newRing(size)
	start := time.Unix(1700000000, 0)
	var ids []recording.ID
	for i := range 20000 {
		r := &recording.Record{Start: start.Add(time.Duration(i) * time.Millisecond)}
		binary.BigEndian.PutUint64(r.ID[8:], uint64(i)+1)
		ids = append(ids, r.ID)
		g.newWrite()
		g.add(r)
		if i%7 == 0 {
			g.flush()
		}
	}
	g.flush()
	if used := len(g.buf) + cap(g.ents)*int(unsafe.Sizeof(ringEntry{})); used > size {
		t.Fatalf("the ring's buffer (%d bytes) and index (%d entries of %d bytes) take %d bytes; want at most %d",
			len(g.buf), cap(g.ents), unsafe.Sizeof(ringEntry{}), used, size)
	}
	if g.n < 100 || g.n >= len(ids) {
		t.Fatalf("the ring holds %d of %d records; want the newest, and not all", g.n, len(ids))
	}
	for i, id := range ids {
		_, ok, err := g.get(id)
		if want := i >= len(ids)-g.n; err != nil || ok != want {
			t.Fatalf("record %d: get: %v, %v; want found = %v", i, ok, err, want)
		}
	}
}

// TestRingEntrySize: an entry of the ring's index is 48 bytes (see
// Options.RingBytes).
func TestRingEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(ringEntry{}); n != 48 {
		t.Fatalf("a ringEntry is %d bytes, want 48", n)
	}
}
