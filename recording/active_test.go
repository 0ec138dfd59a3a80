package recording

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// recordOne records one background request, in which fn makes its calls,
// and returns the record the sink received.
func recordOne(t *testing.T, fn func(ctx context.Context, ar *ActiveRecord), opts ...Option) *Record {
	t.Helper()
	var got []*Record
	rec := New(append(opts, WithSinks(SinkFunc(func(_ context.Context, rs []*Record) error {
		got = append(got, rs...)
		return nil
	})))...)
	ctx, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground, Path: "/" + t.Name()})
	fn(ctx, ar)
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
	return got[0]
}

func TestActiveCallDiscard(t *testing.T) {
	r := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		StartCall(ctx, "svc", "kept-1").End(nil)
		d := StartCall(ctx, "svc", "discarded")
		StartCall(ctx, "svc", "kept-2").End(nil)
		d.Discard()
		d.Discard() // again: no effect
		d.End(nil)  // after Discard: no effect
		ended := StartCall(ctx, "svc", "ended")
		ended.End(nil)
		ended.Discard() // an ended call stays
		var nilCall *ActiveCall
		nilCall.Discard()
	})
	var methods []string
	for _, c := range r.Calls {
		methods = append(methods, c.Method)
	}
	if want := []string{"kept-1", "kept-2", "ended"}; len(methods) != len(want) || methods[0] != want[0] || methods[1] != want[1] || methods[2] != want[2] {
		t.Errorf("calls = %q, want %q", methods, want)
	}
}

func TestActiveCallSetAttrs(t *testing.T) {
	r := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		c := StartCall(ctx, "svc", "m")
		c.SetAttr("a", "1")
		c.SetAttrs(Attr{"b", "2"}, Attr{"a", "3"}, Attr{"c", "4"}, Attr{"c", "5"})
		c.SetAttrs()
		c.End(nil)
		var nilCall *ActiveCall
		nilCall.SetAttrs(Attr{"x", "y"})
	})
	attrs := r.Calls[0].Attrs
	want := []Attr{{"a", "3"}, {"b", "2"}, {"c", "5"}}
	if len(attrs) != len(want) {
		t.Fatalf("attrs = %v, want %v", attrs, want)
	}
	for i := range want {
		if attrs[i] != want[i] {
			t.Errorf("attrs = %v, want %v", attrs, want)
		}
	}
}

// TestStartCallAtBeforeRecord checks that a call said to start before its
// request (a span with an earlier start time, say) starts with the request:
// its offset is 0, not negative, and its duration runs from there.
func TestStartCallAtBeforeRecord(t *testing.T) {
	r := recordOne(t, func(_ context.Context, ar *ActiveRecord) {
		c := ar.StartCallAt("x", "early", ar.Start().Add(-time.Second), SpanID{})
		c.EndAt(ar.Start().Add(5*time.Millisecond), nil)
		c = ar.StartCallAt("x", "later", ar.Start().Add(time.Millisecond), SpanID{})
		c.EndAt(ar.Start().Add(3*time.Millisecond), nil)
	})
	want := []struct{ start, dur time.Duration }{{0, 5 * time.Millisecond}, {time.Millisecond, 2 * time.Millisecond}}
	for i, c := range r.Calls {
		if c.Start != want[i].start || c.Duration != want[i].dur {
			t.Errorf("%s: start %v duration %v, want %v and %v", c.Method, c.Start, c.Duration, want[i].start, want[i].dur)
		}
	}
}

// TestFinishReleasesCalls checks that a sink keeping a finished *Record does
// not keep its calls' working state (an ActiveCall with its stack buffer)
// alive: each ActiveCall is collected once the record has been delivered.
func TestFinishReleasesCalls(t *testing.T) {
	const n = 20
	released := make(chan struct{}, n)
	kept := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		for range n {
			c := StartCall(ctx, "sql", "SELECT x")
			runtime.AddCleanup(c, func(ch chan struct{}) { ch <- struct{}{} }, released)
			c.End(nil)
		}
	})
	deadline := time.After(time.Minute)
	for got := 0; got < n; {
		runtime.GC()
		select {
		case <-released:
			got++
		case <-deadline:
			t.Fatalf("%d of %d calls released while the record is kept", got, n)
		default:
			runtime.Gosched()
		}
	}
	if len(kept.Calls) != n {
		t.Errorf("record has %d calls, want %d", len(kept.Calls), n)
	}
}

// spanFinder is a CallFinder that finds a call by a context value, as
// otelexport's bridge finds a bridged span's call by the span in a context.
type spanFinder struct {
	key   any
	calls map[any]*ActiveCall
}

func (f *spanFinder) FindCall(ctx context.Context) *ActiveCall { return f.calls[ctx.Value(f.key)] }

type finderKey struct{}

// TestCallFinder checks CallFromContext: the innermost ContextWithCall
// first, then the finders of the context's record, added once each, and
// never a call of another record.
func TestCallFinder(t *testing.T) {
	rec := New()
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground, Path: "/"})
	defer ar.Finish()
	_, other := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground, Path: "/other"})
	defer other.Finish()

	span := ar.StartCall("http", "GET x")
	foreign := other.StartCall("http", "GET y")
	f := &spanFinder{key: finderKey{}, calls: map[any]*ActiveCall{"span": span, "foreign": foreign}}
	inSpan := context.WithValue(ctx, finderKey{}, "span")
	if c := CallFromContext(inSpan); c != nil {
		t.Fatalf("call %v found before a finder was added", c)
	}
	ar.AddCallFinder(f)
	ar.AddCallFinder(f)
	ar.AddCallFinder(nil)
	if n := len(*ar.finders.Load()); n != 1 {
		t.Errorf("%d finders after adding one twice, want 1", n)
	}
	if c := CallFromContext(inSpan); c != span {
		t.Errorf("CallFromContext found %v, want the finder's call", c)
	}
	if c := CallFromContext(context.WithValue(ctx, finderKey{}, "foreign")); c != nil {
		t.Errorf("CallFromContext found a call of another record")
	}
	if c := CallFromContext(ctx); c != nil {
		t.Errorf("CallFromContext found %v in a context inside no call", c)
	}
	own := ar.StartCall("sql", "SELECT t")
	if c := CallFromContext(ContextWithCall(inSpan, own)); c != own {
		t.Errorf("CallFromContext found %v, want the ContextWithCall call first", c)
	}
	var nilRecord *ActiveRecord
	nilRecord.AddCallFinder(f) // no effect, no panic

	// A finder of a type that cannot be compared is added, not compared.
	ar.AddCallFinder(finderFunc(func(context.Context) *ActiveCall { return nil }))
	ar.AddCallFinder(finderFunc(func(context.Context) *ActiveCall { return nil }))
	if n := len(*ar.finders.Load()); n != 3 {
		t.Errorf("%d finders, want 3", n)
	}
}

type finderFunc func(context.Context) *ActiveCall

func (f finderFunc) FindCall(ctx context.Context) *ActiveCall { return f(ctx) }

// TestFinishAfter checks that FinishAfter and FinishAt give a record the
// same duration.
func TestFinishAfter(t *testing.T) {
	sink, records := keptRecords()
	rec := New(WithSinks(sink))
	start := time.Now()
	_, a := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/after", Start: start})
	a.FinishAfter(1500 * time.Millisecond)
	_, b := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/at", Start: start})
	b.FinishAt(start.Add(1500 * time.Millisecond))
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := records()
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	for _, r := range got {
		if r.Duration != 1500*time.Millisecond {
			t.Errorf("%s: duration %v, want 1.5s", r.Path, r.Duration)
		}
	}
}

// Reserve changes what a call allocates, never what it records: the calls
// of each case, made with and without Reserve, record the same attributes
// and phases (a call without any keeps nil slices).
func TestReserveRecordsTheSame(t *testing.T) {
	attrs := func(n int) []Attr {
		out := make([]Attr, n)
		for i := range out {
			out[i] = Attr{Key: "k" + strconv.Itoa(i), Value: "v"}
		}
		return out
	}
	phases := func(c *ActiveCall, n int) {
		start := c.StartTime()
		for i := range n {
			c.AddPhase("p"+strconv.Itoa(i), start, start.Add(time.Duration(i+1)*time.Millisecond))
		}
	}
	cases := []struct {
		name string
		fn   func(c *ActiveCall)
	}{
		{"none", func(*ActiveCall) {}},
		{"attrs", func(c *ActiveCall) { c.SetAttrs(attrs(4)...) }},
		{"one attr", func(c *ActiveCall) { c.SetAttr("status", "200") }},
		{"phases", func(c *ActiveCall) { phases(c, 3) }},
		{"http", func(c *ActiveCall) {
			c.SetAttrs(attrs(4)...)
			phases(c, 6)
			c.SetAttr("status", "200")
			c.SetAttr("reused", "true")
		}},
		{"past the room", func(c *ActiveCall) {
			c.SetAttrs(attrs(5)...)
			phases(c, 9)
			c.SetAttrs(attrs(9)...)
		}},
		{"over the cap", func(c *ActiveCall) { c.SetAttrs(attrs(12)...) }},
		{"error", func(c *ActiveCall) { phases(c, 1) }},
	}
	record := func(reserve bool) *Record {
		return recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
			for _, tc := range cases {
				c := StartCall(ctx, "svc", tc.name)
				if reserve {
					c.Reserve()
				}
				tc.fn(c)
				var err error
				if tc.name == "error" {
					err = errors.New("refused")
				}
				c.End(err)
			}
			// A call still running when the request ends.
			c := StartCall(ctx, "svc", "running")
			if reserve {
				c.Reserve()
			}
			c.SetAttrs(attrs(2)...)
			phases(c, 2)
		}, WithMaxAttrs(8, 64))
	}
	without, with := record(false), record(true)
	if len(with.Calls) != len(without.Calls) {
		t.Fatalf("%d calls with Reserve, %d without", len(with.Calls), len(without.Calls))
	}
	for i := range with.Calls {
		w, wo := with.Calls[i], without.Calls[i]
		for _, p := range [][]Phase{w.Phases, wo.Phases} {
			for j := range p {
				p[j].Start = 0 // the calls of two records start at other offsets
			}
		}
		if !reflect.DeepEqual(w.Attrs, wo.Attrs) || !reflect.DeepEqual(w.Phases, wo.Phases) {
			t.Errorf("call %s: with Reserve %#v %#v, without %#v %#v", w.Method, w.Attrs, w.Phases, wo.Attrs, wo.Phases)
		}
	}
}

// Reserve after an attribute, or after the record ended, has no effect.
func TestReserveLate(t *testing.T) {
	var late *ActiveCall
	r := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		c := StartCall(ctx, "svc", "set")
		c.SetAttr("a", "1")
		c.Reserve()
		if c.room != nil {
			t.Error("Reserve after an attribute made room")
		}
		c.End(nil)
		late = StartCall(ctx, "svc", "late")
		late.End(nil)
	})
	late.Reserve()
	if late.room != nil {
		t.Error("Reserve after the record ended made room")
	}
	var none *ActiveCall
	none.Reserve() // no call: no effect, no panic
	if len(r.Calls) != 2 || len(r.Calls[0].Attrs) != 1 {
		t.Errorf("calls %+v", r.Calls)
	}
}

// parentFinderFunc is a ParentFinder that finds every context's parent
// with f (and no call as the context's own).
type parentFinderFunc func(context.Context) *ActiveCall

func (f parentFinderFunc) FindCall(context.Context) *ActiveCall       { return nil }
func (f parentFinderFunc) FindParent(ctx context.Context) *ActiveCall { return f(ctx) }

// TestStartCallOwnContextFinders checks StartCall with a record's own
// context, the path that asks nothing of the context: no parent without
// finders, and the parent a ParentFinder finds once the record has one.
func TestStartCallOwnContextFinders(t *testing.T) {
	rec := New()
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground, Path: "/"})
	defer ar.Finish()
	if _, ok := ctx.(*recordCtx); !ok {
		t.Fatalf("StartRecord's context is a %T, not the record's own node", ctx)
	}
	p := ar.StartCall("span", "parent")
	if c := StartCall(ctx, "svc", "before"); c.parent != nil || c.c.ParentSpanID.IsValid() {
		t.Fatalf("a call without finders has parent %v", c.c.ParentSpanID)
	}
	ar.AddCallFinder(parentFinderFunc(func(context.Context) *ActiveCall { return p }))
	if c := StartCall(ctx, "svc", "after"); c.parent != p || c.c.ParentSpanID != p.c.SpanID {
		t.Fatalf("a call under a ParentFinder's call has parent %v, want %v", c.c.ParentSpanID, p.c.SpanID)
	}
}
