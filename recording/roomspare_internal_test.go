package recording

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestPooledRoomsInSpare checks that a record a sink borrows, and the
// recorder reuses, keeps the rooms its calls' attributes and phases were
// made in (Reserve's, as an HTTP client call takes one) from one request
// to the next: once the record has served a request, the next one that
// gets it takes its rooms from the same array (no room allocated), each
// room zero before its call sets anything, and the records written have
// each call's own attributes and phases. The requests run one at a time,
// each after the last one's record is back in the pool, so that one
// record serves them all.
func TestPooledRoomsInSpare(t *testing.T) {
	const calls = 10
	var mu sync.Mutex
	var bad []string
	r := New(WithSinks(borrowingSink{func(rec *Record) {
		mu.Lock()
		defer mu.Unlock()
		if len(rec.Calls) != calls {
			bad = append(bad, fmt.Sprintf("%s: %d calls", rec.Path, len(rec.Calls)))
			return
		}
		for j, c := range rec.Calls {
			want := []Attr{{Key: "req", Value: rec.Path}, {Key: "call", Value: fmt.Sprint(j)}}
			wantPh := []Phase{{Name: "send", Start: c.Start, Duration: time.Duration(j+1) * time.Microsecond},
				{Name: "wait", Start: c.Start, Duration: time.Duration(j+2) * time.Microsecond}}
			if !slices.Equal(c.Attrs, want) || !slices.Equal(c.Phases, wantPh) {
				bad = append(bad, fmt.Sprintf("%s call %d: attrs %v phases %v", rec.Path, j, c.Attrs, c.Phases))
			}
		}
	}}), WithBatch(1, time.Millisecond))
	if r.pool == nil {
		t.Fatal("a recorder whose sink borrows records does not reuse them")
	}
	arrays := make(map[unsafe.Pointer]int) // the arrays the requests' rooms lie in, by their first room's address
	for i := range 40 {
		path := fmt.Sprintf("/%d", i)
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: path})
		var first unsafe.Pointer
		for j := range calls {
			c := StartCall(ctx, "svc", "M")
			c.Reserve()
			if *c.room != (callRoom{}) {
				t.Fatalf("request %d, call %d: its room is not zero before the call sets anything: %+v", i, j, *c.room)
			}
			if j == 0 {
				first = unsafe.Pointer(c.room)
			} else if i > 0 && uintptr(unsafe.Pointer(c.room)) != uintptr(first)+uintptr(j)*unsafe.Sizeof(callRoom{}) {
				t.Errorf("request %d, call %d: its room does not follow call 0's in one array", i, j)
			}
			c.Update(&CallUpdate{Attrs: []Attr{{Key: "req", Value: path}, {Key: "call", Value: fmt.Sprint(j)}}})
			c.EndWith(&CallUpdate{Phases: []Phase{{Name: "send", Duration: time.Duration(j+1) * time.Microsecond},
				{Name: "wait", Duration: time.Duration(j+2) * time.Microsecond}}}, time.Millisecond, nil)
		}
		if i > 0 {
			arrays[first]++
		}
		ar.Finish()
		backInPool(t, r, i) // for the next request to take
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
	if n := len(arrays); n != 1 {
		t.Errorf("39 requests after the first, one at a time, one record reused, took their rooms from %d arrays, want 1", n)
	}
}

// TestHandedOverRoomsNotReused checks that a call of a request whose
// record a sink borrows, and the recorder reuses, never writes to the
// rooms of that record once their request has ended, though its caller
// keeps it and calls every setter on it while the record's memory serves
// the next requests (run with -race: it reports a write to a room beside
// another request's read of it): a call still running at its request's
// end goes on in a copy of its own, whose attributes and phases are its
// own (FinalCall reads them), and no record written has a late call's
// attributes or phases; the record of the request that ended keeps the
// running call's attributes as they were at its end.
func TestHandedOverRoomsNotReused(t *testing.T) {
	late := func(c *Call) bool {
		return slices.ContainsFunc(c.Attrs, func(a Attr) bool { return a.Value == "late" }) ||
			slices.ContainsFunc(c.Phases, func(p Phase) bool { return p.Name == "late" })
	}
	var bad sync.Once
	var badCall string
	var firstCalls []Call // the first record's, as written
	r := New(WithSinks(borrowingSink{func(rec *Record) {
		if rec.Path == "/0" {
			for i := range rec.Calls {
				c := rec.Calls[i]
				c.Attrs, c.Phases = slices.Clone(c.Attrs), slices.Clone(c.Phases)
				firstCalls = append(firstCalls, c)
			}
		}
		for i := range rec.Calls {
			if late(&rec.Calls[i]) {
				bad.Do(func() { badCall = fmt.Sprintf("%s: %+v", rec.Path, rec.Calls[i]) })
			}
		}
	}}))
	ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/0"})
	var running []*ActiveCall
	for i := range 4 {
		c := StartCall(ctx, "svc", "M")
		c.Update(&CallUpdate{Reserve: true, Attrs: []Attr{{Key: "k", Value: "v"}}})
		if i%2 == 0 {
			c.End(nil)
		} else {
			running = append(running, c)
		}
	}
	// The second running call has its room, and nothing in it yet.
	c := StartCall(ctx, "svc", "M")
	c.Reserve()
	running = append(running, c)
	ar.Finish()

	var rounds atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the caller, still holding the first request's running calls
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, c := range running {
				// "k" is the key the next requests' calls set first:
				// its value lies where theirs do in a room.
				c.SetAttr("k", "late")
				c.SetAttrs(Attr{Key: "k", Value: "late"})
				c.AddPhase("late", time.Now(), time.Now())
				c.Reserve()
				c.Update(&CallUpdate{Reserve: true, Attrs: []Attr{{Key: "k", Value: "late"}},
					Phases: []Phase{{Name: "late"}}})
			}
			rounds.Add(1)
		}
	}()
	for i := 1; i < 300 || rounds.Load() < 100; i++ {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: fmt.Sprintf("/%d", i)})
		for range 5 {
			c := StartCall(ctx, "svc", "N")
			c.Update(&CallUpdate{Reserve: true, Attrs: []Attr{{Key: "k", Value: "w"}}})
			c.EndWith(&CallUpdate{Phases: []Phase{{Name: "send", Duration: time.Microsecond}}}, time.Millisecond, nil)
		}
		ar.Finish()
	}
	close(stop)
	<-done
	for _, c := range running {
		c.End(nil)
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if badCall != "" {
		t.Errorf("a record has a call set by a call of the first request after its end: %s", badCall)
	}
	if len(firstCalls) != 5 {
		t.Fatalf("the first record has %d calls, want 5", len(firstCalls))
	}
	for i, c := range firstCalls {
		want := []Attr{{Key: "k", Value: "v"}}
		if i == 4 {
			want = nil
		}
		if !slices.Equal(c.Attrs, want) || len(c.Phases) != 0 {
			t.Errorf("first record, call %d: attributes %v, phases %v; want %v and none", i, c.Attrs, c.Phases, want)
		}
	}
	// The running calls went on in copies of their own: the setters
	// reached them.
	for i, c := range running {
		f, final := c.final(Call{})
		if !final || !slices.ContainsFunc(f.Attrs, func(a Attr) bool { return a.Value == "late" }) ||
			!slices.ContainsFunc(f.Phases, func(p Phase) bool { return p.Name == "late" }) {
			t.Errorf("running call %d: final %v, attributes %v, phases %v; want the late ones", i, final, f.Attrs, f.Phases)
		}
	}
}
