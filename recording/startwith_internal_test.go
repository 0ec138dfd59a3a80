package recording

import (
	"context"
	"reflect"
	"testing"
	"unsafe"
)

// TestStartChildWithAsSetters checks that a call started by StartChildWith
// is recorded as one started by StartChild and then given its request
// (SetRequest) and the update (Update): its names, parent, request (cut
// to WithMaxSummary), attributes (in the room Reserve made), sizes and
// phases; and that StartChildWith returns nil, setting nothing, where
// StartChild does: a nil record, a call over WithMaxCalls (counted as
// dropped), a record that has ended.
func TestStartChildWithAsSetters(t *testing.T) {
	sink := &keepingSink{}
	rec := New(WithSinks(sink), WithMaxSummary(8), WithMaxCalls(3))
	defer rec.Close(context.Background())
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/"})
	parent := ar.StartCall("app", "Parent")
	update := func() *CallUpdate {
		return &CallUpdate{
			Reserve:     true,
			Attrs:       []Attr{{Key: "a.one", Value: "1"}, {Key: "a.two", Value: "2"}},
			RequestSize: 5, HasRequestSize: true,
		}
	}
	const request = "GET /a/long/request/summary"
	byHand := ar.StartChild(parent, "http", "GET x")
	byHand.SetRequest(request)
	byHand.Update(update())
	with := ar.StartChildWith(parent, "http", "GET x", request, update())
	if with == nil {
		t.Fatal("StartChildWith returned nil with room for the call")
	}
	if with.parent != parent {
		t.Errorf("the call's parent is %p, want %p", with.parent, parent)
	}
	if c := ar.StartChildWith(parent, "http", "GET y", request, update()); c != nil {
		t.Error("StartChildWith over WithMaxCalls returned a call")
	}
	var none *ActiveRecord
	if c := none.StartChildWith(nil, "http", "GET z", request, update()); c != nil {
		t.Error("StartChildWith on a nil record returned a call")
	}
	end := func(c *ActiveCall) {
		c.EndWith(&CallUpdate{Phases: []Phase{{Name: "send", Start: 1, Duration: 2}}}, 10, nil)
	}
	end(byHand)
	end(with)
	parent.End(nil)
	ar.Finish()
	if c := ar.StartChildWith(nil, "http", "GET late", request, update()); c != nil {
		t.Error("StartChildWith after the record ended returned a call")
	}
	if err := rec.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.recs) != 1 {
		t.Fatalf("%d records written, want 1", len(sink.recs))
	}
	r := sink.recs[0]
	if r.DroppedCalls != 1 {
		t.Errorf("DroppedCalls %d, want 1 (the call over the limit)", r.DroppedCalls)
	}
	if len(r.Calls) != 3 {
		t.Fatalf("%d calls recorded, want 3", len(r.Calls))
	}
	a, b := r.Calls[1], r.Calls[2]
	if b.Request != a.Request || b.Request == request {
		t.Errorf("request %q, want %q (cut to WithMaxSummary, as SetRequest cuts it)", b.Request, a.Request)
	}
	if b.ParentSpanID != r.Calls[0].SpanID {
		t.Errorf("parent span %v, want the parent's %v", b.ParentSpanID, r.Calls[0].SpanID)
	}
	if cap(b.Attrs) != cap(a.Attrs) {
		t.Errorf("the attributes' room holds %d, want %d (Reserve's)", cap(b.Attrs), cap(a.Attrs))
	}
	// The two calls differ only in their span and times.
	a.SpanID, b.SpanID = SpanID{}, SpanID{}
	a.Start, b.Start = 0, 0
	for i := range a.Phases {
		a.Phases[i].Start -= r.Calls[1].Start
	}
	for i := range b.Phases {
		b.Phases[i].Start -= r.Calls[2].Start
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("a call started with StartChildWith is\n%+v\nwant it as started by hand:\n%+v", b, a)
	}
}

// startItem is a wrapper's state of some 200 bytes, as StartChildAlloc
// carves them.
type startItem struct {
	n    int
	fill [24]int64
}

// TestStartChildAllocCarvesAsAlloc checks that StartChildAlloc returns,
// with each call it starts, a zero value that shares no bytes with
// another, carved from the record's chunks as Alloc carves (all of the
// record's values counted, so the next record's chunks follow them), also
// when a chunk runs out; that a second type is no carve; and that where
// the call is not started (over the limit, a nil record, a record that
// has ended) it returns nil and nil and carves nothing.
func TestStartChildAllocCarvesAsAlloc(t *testing.T) {
	rec := New(WithSinks(), WithMaxCalls(12))
	defer rec.Close(context.Background())
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/"})
	var got []*startItem
	for i := range 10 {
		c, p := StartChildAlloc[startItem](ar, nil, "http", "GET x", "", nil)
		if c == nil || p == nil {
			t.Fatalf("call %d: StartChildAlloc returned %p, %p with room for the call", i, c, p)
		}
		if p.n != 0 || p.fill != [24]int64{} {
			t.Fatalf("call %d: the value is not zero", i)
		}
		p.n = i + 1
		for j := range p.fill {
			p.fill[j] = int64(p.n)
		}
		got = append(got, p)
	}
	ar.mu.Lock()
	made := ar.slab.made
	ar.mu.Unlock()
	if made != 10 {
		t.Errorf("the record counts %d values carved, want 10", made)
	}
	for i, p := range got {
		lo := uintptr(unsafe.Pointer(p))
		for _, q := range got[:i] {
			if ql := uintptr(unsafe.Pointer(q)); lo < ql+unsafe.Sizeof(*q) && ql < lo+unsafe.Sizeof(*p) {
				t.Fatalf("values %d and %d overlap", p.n, q.n)
			}
		}
		for _, f := range p.fill {
			if f != int64(p.n) {
				t.Fatalf("value %d was overwritten by another", p.n)
			}
		}
	}
	// A second type: a value of its own, not carved.
	if c, p := StartChildAlloc[[3]string](ar, nil, "http", "GET y", "", nil); c == nil || p == nil || *p != [3]string{} {
		t.Fatal("StartChildAlloc of a second type returned no call, or no zero value")
	}
	carved := func() int32 {
		ar.mu.Lock()
		defer ar.mu.Unlock()
		return ar.slab.made
	}
	if n := carved(); n != 10 {
		t.Errorf("a second type's value was counted as carved: %d, want 10", n)
	}
	// The twelfth call is the last: the thirteenth is over the limit.
	if c, p := StartChildAlloc[startItem](ar, nil, "http", "GET z", "", nil); c == nil || p == nil {
		t.Fatal("the twelfth call was not started")
	}
	if c, p := StartChildAlloc[startItem](ar, nil, "http", "GET over", "", nil); c != nil || p != nil {
		t.Error("StartChildAlloc over WithMaxCalls returned a call or a value")
	}
	if n := carved(); n != 11 {
		t.Errorf("%d values carved, want 11: the call over the limit carved one", n)
	}
	var none *ActiveRecord
	if c, p := StartChildAlloc[startItem](none, nil, "http", "GET none", "", nil); c != nil || p != nil {
		t.Error("StartChildAlloc on a nil record returned a call or a value")
	}
	ar.Finish()
	if c, p := StartChildAlloc[startItem](ar, nil, "http", "GET late", "", nil); c != nil || p != nil {
		t.Error("StartChildAlloc after the record ended returned a call or a value")
	}
}
