package recording_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"unsafe"
	"weak"

	"github.com/goappstats/appstats/recording"
)

// allocItem is a wrapper's value of some 200 bytes, as Alloc carves them.
type allocItem struct {
	big  *[1 << 16]byte // a request-scoped value it refers to
	n    int
	fill [24]int64
}

// allocBorrower borrows the records it is given, so the recorder reuses them.
type allocBorrower struct{}

func (allocBorrower) Write(context.Context, []*recording.Record) error { return nil }
func (allocBorrower) BorrowsRecords() bool                             { return true }

// TestAllocValuesAreZeroAndApart checks that Alloc gives zero values that
// share no bytes, in one record (across its chunks, and from goroutines at
// once), for a nil record, after the record ended, and for a second type.
func TestAllocValuesAreZeroAndApart(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	defer rec.Close(context.Background())
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	var mu sync.Mutex
	var got []*allocItem
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				p := recording.Alloc[allocItem](ar)
				if p.big != nil || p.n != 0 || p.fill != [24]int64{} {
					t.Errorf("Alloc gave a value that is not zero: n %d", p.n)
				}
				p.n = g*100 + i + 1
				for j := range p.fill {
					p.fill[j] = int64(p.n)
				}
				mu.Lock()
				got = append(got, p)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	other := recording.Alloc[[3]string](ar) // another type: new([3]string)
	if *other != [3]string{} {
		t.Error("Alloc of a second type gave a value that is not zero")
	}
	other[0] = "x"
	ar.Finish()
	late := recording.Alloc[allocItem](ar)
	var none *recording.ActiveRecord
	got = append(got, late, recording.Alloc[allocItem](none), recording.Alloc[allocItem](none))
	for _, p := range got[len(got)-3:] {
		if p.n != 0 {
			t.Errorf("Alloc after Finish or on a nil record gave a value that is not zero: n %d", p.n)
		}
		p.n = -1
	}
	seen := map[*allocItem]bool{}
	for i, p := range got {
		if seen[p] {
			t.Fatalf("Alloc gave the value %p twice", p)
		}
		seen[p] = true
		lo := uintptr(unsafe.Pointer(p))
		for _, q := range got[:i] {
			if ql := uintptr(unsafe.Pointer(q)); lo < ql+unsafe.Sizeof(*q) && ql < lo+unsafe.Sizeof(*p) {
				t.Fatalf("values %p and %p overlap", p, q)
			}
		}
		if p.n > 0 {
			for _, f := range p.fill {
				if f != int64(p.n) {
					t.Fatalf("value %d was overwritten by another", p.n)
				}
			}
		}
	}
}

// TestAllocChunksFollowTheLastRecord checks that a record's values are
// carved several to an allocation, as many as the last record took (the
// first chunk at most four), and that a record taking one value pays one
// chunk of at most four values after a record that took forty, and of one
// after a record that took one.
func TestAllocChunksFollowTheLastRecord(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	defer rec.Close(context.Background())
	size := uint64(unsafe.Sizeof(allocItem{}))
	// allocs carves n values in a new record: the allocations and bytes.
	allocs := func(n int) (mallocs, bytes uint64) {
		// The writer handles the last record's Finish: let it be done
		// before counting the process's allocations.
		if err := rec.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		defer ar.Finish()
		keep := make([]*allocItem, 0, n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			keep = append(keep, recording.Alloc[allocItem](ar))
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
	}
	allocs(10) // the hint: ten
	if n, _ := allocs(10); n != 2 {
		t.Errorf("ten values after a record of ten took %d allocations, want 2 (four, then six)", n)
	}
	if n, _ := allocs(40); n > 5 {
		t.Errorf("forty values took %d allocations, want at most 5", n)
	}
	if n, _ := allocs(40); n > 5 {
		t.Errorf("forty values after a record of forty took %d allocations, want at most 5", n)
	}
	// A record of one value after one of forty pays a first chunk: four.
	if n, b := allocs(1); n != 1 || b > 4*size+128 {
		t.Errorf("one value after a record of forty took %d allocations, %d bytes; want 1, at most four values' (%d) and the chunk's header", n, b, 4*size)
	}
	// The hint is now one: a record of one value takes a chunk of one.
	if n, b := allocs(1); n != 1 || b > size+128 {
		t.Errorf("one value after a record of one took %d allocations, %d bytes; want 1, at most one value's (%d) and the chunk's header", n, b, size)
	}
}

// TestAllocKeepsNothingPastFinish checks that a record lets go of its
// chunks when it ends: a value carved before Finish, and what it refers
// to, can be collected once its holder drops it, while a value carved
// after Finish, a value of the next request (which reuses the pooled
// record) and that request's record are still held; and that the next
// request's values never lie in the last request's chunks.
func TestAllocKeepsNothingPastFinish(t *testing.T) {
	rec := recording.New(recording.WithSinks(allocBorrower{}))
	defer rec.Close(context.Background())
	start := func() *recording.ActiveRecord {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		return ar
	}
	for range 2 { // the hint: three values a record
		ar := start()
		for range 3 {
			recording.Alloc[allocItem](ar)
		}
		ar.Finish()
	}
	ar1 := start()
	r1 := ar1.Record()
	var bigs []weak.Pointer[[1 << 16]byte]
	// The three values, held (so that their chunk is not freed and its
	// memory given to the next request) until the next request's values
	// are checked against their addresses.
	var held []*allocItem
	addr := func(i int) uintptr { return uintptr(unsafe.Pointer(held[i])) }
	for range 3 {
		p := recording.Alloc[allocItem](ar1)
		p.big = new([1 << 16]byte)
		bigs = append(bigs, weak.Make(p.big))
		held = append(held, p)
	}
	if addr(1)-addr(0) != unsafe.Sizeof(allocItem{}) || addr(2)-addr(1) != unsafe.Sizeof(allocItem{}) {
		t.Fatalf("a record of three values after records of three did not carve them from one chunk: %p %p %p", held[0], held[1], held[2])
	}
	ar1.Finish()
	late := recording.Alloc[allocItem](ar1) // after Finish: a value of its own
	late.big = new([1 << 16]byte)
	if err := rec.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ar2 := start()
	if ar2.Record() != r1 {
		t.Log("the next request did not get the pooled record back")
	}
	var next []*allocItem
	for range 3 {
		p := recording.Alloc[allocItem](ar2)
		next = append(next, p)
		// The last request's three lie in one chunk, held here.
		if a := uintptr(unsafe.Pointer(p)); a >= addr(0) && a < addr(2)+unsafe.Sizeof(*p) {
			t.Errorf("the next request's value %p lies in the last request's chunk (%p to %p)", p, held[0], held[2])
		}
	}
	held = nil // the ended request's values: let go of them
	for i := 0; i < 5 && liveCount(bigs) > 0; i++ {
		runtime.GC()
	}
	if n := liveCount(bigs); n > 0 {
		t.Errorf("%d of 3 values referred to by an ended record's carved values are still reachable", n)
	}
	for _, p := range next {
		if p.big != nil || p.n != 0 {
			t.Error("the next request's value is not zero")
		}
	}
	if late.big == nil {
		t.Error("the value carved after Finish lost what it refers to")
	}
	ar2.Finish()
	runtime.KeepAlive(ar1) // as a context of the request kept past its end keeps it
	runtime.KeepAlive(next)
	runtime.KeepAlive(late)
}

func liveCount(ps []weak.Pointer[[1 << 16]byte]) int {
	n := 0
	for _, p := range ps {
		if p.Value() != nil {
			n++
		}
	}
	return n
}

// TestAllocFirstChunkKeepsNoLaterChunk checks that a value of a record's
// first chunk, kept past the request, keeps no later chunk alive: the
// record's chunk bookkeeping lies in the first chunk's allocation, and it
// must not point at the last chunk once the record has ended.
func TestAllocFirstChunkKeepsNoLaterChunk(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	defer rec.Close(context.Background())
	// A record of eight values: the next one's first chunk holds four,
	// its second the four beyond those.
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	for range 8 {
		recording.Alloc[allocItem](ar)
	}
	ar.Finish()
	first, bigs := carveFirstKeepRest(rec)
	for i := 0; i < 5 && liveCount(bigs) > 0; i++ {
		runtime.GC()
	}
	if n := liveCount(bigs); n > 0 {
		t.Errorf("%d of 4 values referred to by the second chunk's values are still reachable through a kept value of the first chunk", n)
	}
	if first.n != 1 {
		t.Error("the kept value changed")
	}
	runtime.KeepAlive(first)
}

// carveFirstKeepRest carves 4+4 values in a new record of rec, the second
// chunk's values each referring to a weak-watched array, finishes the
// record and returns only its first value.
func carveFirstKeepRest(rec *recording.Recorder) (*allocItem, []weak.Pointer[[1 << 16]byte]) {
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	first := recording.Alloc[allocItem](ar)
	first.n = 1
	var bigs []weak.Pointer[[1 << 16]byte]
	for i := range 7 {
		p := recording.Alloc[allocItem](ar)
		if i >= 3 {
			p.big = new([1 << 16]byte)
			bigs = append(bigs, weak.Make(p.big))
		}
	}
	ar.Finish()
	return first, bigs
}
