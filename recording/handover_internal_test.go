package recording

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// keepingSink keeps every record it is given (it borrows none: the
// recorder never reuses them), as memstore does.
type keepingSink struct {
	mu   sync.Mutex
	recs []*Record
}

func (s *keepingSink) Write(_ context.Context, recs []*Record) error {
	s.mu.Lock()
	s.recs = append(s.recs, recs...)
	s.mu.Unlock()
	return nil
}

// callAt returns the address of the call an ActiveCall records into,
// whether the slot holds it or points to it. Only while its record runs:
// FinishAt takes a slot's pointer.
func callAt(ac *ActiveCall) unsafe.Pointer {
	v := reflect.ValueOf(ac).Elem().FieldByName("c")
	if v.Kind() == reflect.Pointer {
		return v.UnsafePointer()
	}
	return v.Addr().UnsafePointer()
}

// TestCallsHandedOver checks that a record a sink keeps gets its calls as
// they were recorded, in the memory they were recorded in, rather than a
// copy (which took 224 bytes a call), and that they read as the copy did:
// the slot's state and dropped count zero, the dropped attributes noted,
// the strings, sizes, span IDs and parents as set; a call discarded left
// out (the calls after it moved down, its child adopted), a call still
// running at the end copied as running, with slices of its own, and
// ending later in FinalCall. A call ended late, or set after the end,
// changes nothing of the record. With more calls than the first array
// holds, the calls are copied into one array, as before.
func TestCallsHandedOver(t *testing.T) {
	for _, tc := range []struct {
		name     string
		calls    int
		discard  bool // the second call discarded, with a child
		running  bool // the last call still runs at the end
		handOver bool
	}{
		{name: "ended", calls: 10, handOver: true},
		{name: "one", calls: 1, handOver: true},
		{name: "discarded", calls: 10, discard: true, handOver: true},
		{name: "running", calls: 10, running: true, handOver: true},
		{name: "grown", calls: 40}, // the first array holds 4 (no hint)
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &keepingSink{}
			r := New(WithSinks(sink), WithMaxAttrs(3, 0))
			if tc.calls < 20 {
				r.callHint.Store(int32(tc.calls + 2)) // one array for them all
			}
			ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
			var acs []*ActiveCall
			var first unsafe.Pointer
			for i := range tc.calls {
				c := StartCall(ctx, "svc", fmt.Sprintf("M%d", i))
				if i == 0 {
					first = callAt(c)
				}
				c.SetRequest(fmt.Sprintf("request %d", i))
				c.SetAttrs(Attr{Key: "a", Value: "1"}, Attr{Key: "b", Value: "2"}, Attr{Key: "c", Value: "3"}, Attr{Key: "d", Value: "4"})
				c.SetRequestSize(int64(i))
				acs = append(acs, c)
				if tc.discard && i == 1 {
					d := StartCall(ctx, "svc", "skipped")
					StartCall(ContextWithParent(ctx, d), "svc", "child").End(nil)
					d.Discard()
				}
				if tc.running && i == tc.calls-1 {
					continue
				}
				c.End(nil)
			}
			ar.Finish()
			acs[0].SetAttr("late", "x") // after the end: frozen
			acs[0].SetRequest("late")
			acs[0].End(nil)
			last := acs[len(acs)-1]
			last.SetRequest("after the end")
			last.End(nil)
			if err := r.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if len(sink.recs) != 1 {
				t.Fatalf("%d records, want 1", len(sink.recs))
			}
			rec := sink.recs[0]
			want := tc.calls
			if tc.discard {
				want++ // the child
			}
			if len(rec.Calls) != want {
				t.Fatalf("%d calls, want %d", len(rec.Calls), want)
			}
			if same := unsafe.Pointer(&rec.Calls[0]) == first; same != tc.handOver {
				t.Errorf("the record's calls are the recorded ones: %v, want %v", same, tc.handOver)
			}
			k := 0
			for i := range rec.Calls {
				c := &rec.Calls[i]
				if tc.discard && i == 2 {
					if c.Method != "child" || c.ParentSpanID.IsValid() {
						t.Errorf("call %d: %s of parent %v, want the discarded call's child, adopted by none", i, c.Method, c.ParentSpanID)
					}
					continue
				}
				if c.Method != fmt.Sprintf("M%d", k) || c.Request != fmt.Sprintf("request %d", k) || c.RequestSize != int64(k) {
					t.Errorf("call %d: %s %q, request size %d", i, c.Method, c.Request, c.RequestSize)
				}
				if c.SpanID != acs[k].SpanID() || c.ParentSpanID.IsValid() {
					t.Errorf("call %d: span %v (want %v), parent %v", i, c.SpanID, acs[k].SpanID(), c.ParentSpanID)
				}
				if c.Start != acs[k].StartTime().Sub(ar.Start()) {
					t.Errorf("call %d: start %v, its slot says %v", i, c.Start, acs[k].StartTime().Sub(ar.Start()))
				}
				if c.slot != 0 || c.dropped != 0 {
					t.Errorf("call %d: slot %d, dropped %d in the record", i, c.slot, c.dropped)
				}
				want := []Attr{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, droppedAttrs(1)}
				if !reflect.DeepEqual(c.Attrs, want) {
					t.Errorf("call %d: attributes %v, want %v", i, c.Attrs, want)
				}
				running := tc.running && k == tc.calls-1
				if c.Running != running {
					t.Errorf("call %d: running %v, want %v", i, c.Running, running)
				}
				if f, final := rec.FinalCall(i); !final || running != (f.Request == "after the end") {
					t.Errorf("call %d: FinalCall final %v, request %q", i, final, f.Request)
				}
				k++
			}
		})
	}
}

// TestPooledCallsInSpare checks that a record a sink borrows, and the
// recorder reuses, has its calls made in its own array, kept with it from
// one request to the next: a request's calls are recorded straight into
// the record's Calls (no copy at the end), and the next request that gets
// the record records into the same memory (no array allocated), its
// calls zero before they start. The requests run one at a time, each
// after the last one's record is back in the pool, so that one record
// serves them all.
func TestPooledCallsInSpare(t *testing.T) {
	var mu sync.Mutex
	seen := make(map[unsafe.Pointer]int) // the records' first calls, by address
	r := New(WithSinks(borrowingSink{func(rec *Record) {
		mu.Lock()
		seen[unsafe.Pointer(&rec.Calls[0])]++
		mu.Unlock()
	}}), WithBatch(1, time.Millisecond))
	r.callHint.Store(5)
	var recorded []unsafe.Pointer
	for i := range 40 {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		for j := range 5 {
			c := StartCall(ctx, "svc", "M")
			if j == 0 {
				recorded = append(recorded, callAt(c))
			}
			if cc := (*Call)(callAt(c)); cc.Error != "" || cc.Attrs != nil || cc.Duration != 0 {
				t.Fatalf("request %d, call %d: not zero at its start: %+v", i, j, *cc)
			}
			c.SetAttr("i", fmt.Sprint(i))
			if j == 2 {
				c.SetError("failed")
			}
			c.End(nil)
		}
		ar.Finish()
		backInPool(t, r, i) // for the next request to take
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, p := range recorded {
		if seen[p] == 0 {
			t.Fatalf("request %d: its calls were recorded at %p, which no record written holds", i, p)
		}
	}
	if n := len(seen); n != 1 {
		t.Errorf("40 requests, one at a time, one record reused, wrote their calls in %d arrays, want 1", n)
	}
}

// TestHandedOverCallsNotReused checks that the slots of a request whose
// record a sink borrows, and the recorder reuses, never read or write the
// calls' array once their request has ended, though their caller keeps
// them and calls every setter on them while the record's memory serves the
// next requests (run with -race: it reports a slot's access to the array
// beside another request's): each still reads its own span ID and start,
// no record written has a late call's attributes, error, phases or sizes,
// and a call still running at its request's end goes on in a copy of its
// own, which FinalCall reads.
func TestHandedOverCallsNotReused(t *testing.T) {
	late := func(c *Call) bool {
		return slices.ContainsFunc(c.Attrs, func(a Attr) bool { return a.Key == "late" }) ||
			c.Error == "late" || c.Request == "late" || len(c.Phases) > 0 || c.RequestSize == 99
	}
	var bad sync.Once
	var badCall string
	r := New(WithSinks(borrowingSink{func(rec *Record) {
		for i := range rec.Calls {
			if late(&rec.Calls[i]) {
				bad.Do(func() { badCall = fmt.Sprintf("%s: %+v", rec.Path, rec.Calls[i]) })
			}
		}
	}}))
	var first []*ActiveCall
	var spans []SpanID
	var starts []time.Time
	ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/0"})
	for i := range 3 {
		c := StartCall(ctx, "svc", "M")
		if i < 2 {
			c.End(nil)
		}
		first = append(first, c)
		spans = append(spans, c.SpanID())
		starts = append(starts, c.StartTime())
	}
	ar.Finish()

	var rounds atomic.Int64 // the caller's rounds of setters
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the caller, still holding the first request's calls
		defer close(done)
		for n := 0; ; n++ {
			rounds.Store(int64(n))
			select {
			case <-stop:
				return
			default:
			}
			for _, c := range first {
				c.SetAttr("late", "x")
				c.SetAttrs(Attr{Key: "late", Value: "y"})
				c.SetError("late")
				c.SetRequest("late")
				c.AddPhase("late", time.Now(), time.Now())
				c.SetRequestSize(99)
				c.AddSizes(1, 1)
				c.Reserve()
				c.Update(&CallUpdate{Attrs: []Attr{{Key: "late", Value: "z"}}, RequestSize: 99, HasRequestSize: true})
				if n > 100 {
					c.End(nil)
					c.Discard()
				}
			}
		}
	}()
	// The next requests run until the caller has ended its calls (after
	// its hundredth round), on a busy machine too.
	for i := 1; i < 300 || rounds.Load() <= 101; i++ {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: fmt.Sprintf("/%d", i)})
		for range 3 {
			StartCall(ctx, "svc", "N").End(nil)
		}
		ar.Finish()
	}
	close(stop)
	<-done
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if badCall != "" {
		t.Errorf("a record has a call set by a slot of the first request after its end: %s", badCall)
	}
	for i, c := range first {
		if c.SpanID() != spans[i] || !c.StartTime().Equal(starts[i]) {
			t.Errorf("call %d of the first request: span %v, start %v; was %v, %v", i, c.SpanID(), c.StartTime(), spans[i], starts[i])
		}
	}
	// The running call went on in its own copy: the setters reached it.
	f, final := first[2].final(Call{})
	if !final || f.Error != "late" || f.RequestSize != 99 {
		t.Errorf("the call running at the end: final %v, error %q, request size %d", final, f.Error, f.RequestSize)
	}
}
