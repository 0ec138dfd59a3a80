package recording_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// recordRequest runs fn as one request of a new recorder and returns its record.
func recordRequest(t *testing.T, fn func(ctx context.Context, ar *recording.ActiveRecord)) *recording.Record {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	defer closeRec(t, rec)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/p"})
	fn(ctx, ar)
	ar.Finish()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs := sink.Wait(wctx, 1)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	return recs[0]
}

// parentNames maps each call's method to its parent's method ("" for none),
// through Record.Parents.
func parentNames(r *recording.Record) map[string]string {
	out := make(map[string]string)
	for i, p := range r.Parents() {
		name := ""
		if p >= 0 {
			name = r.Calls[p].Method
		}
		out[r.Calls[i].Method] = name
	}
	return out
}

func TestCallParents(t *testing.T) {
	r := recordRequest(t, func(ctx context.Context, ar *recording.ActiveRecord) {
		recording.StartCall(ctx, "svc", "top").End(nil)
		_ = recording.Do(ctx, "report", "Build", func(ctx context.Context) error {
			recording.StartCall(ctx, "http", "GET /a").End(nil)
			recording.Event(ctx, "note", "inside Build")
			return recording.Do(ctx, "report", "Render", func(ctx context.Context) error {
				done := make(chan struct{})
				go func() { // a goroutine the work starts: same parent
					defer close(done)
					recording.StartCall(ctx, "sql", "SELECT in goroutine").End(nil)
				}()
				<-done
				return nil
			})
		})
		c := recording.StartCall(ctx, "cache", "Get")
		recording.StartCall(recording.ContextWithCall(ctx, c), "net", "dial under own call").End(nil)
		recording.StartCall(recording.ContextWithParent(ctx, c), "sql", "under parent mark").End(nil)
		c.End(nil)
		recording.StartCall(ctx, "svc", "after").End(nil)
	})
	want := map[string]string{
		"top":                 "",
		"Build":               "",
		"GET /a":              "Build",
		"note":                "Build",
		"Render":              "Build",
		"SELECT in goroutine": "Render",
		"Get":                 "",
		"dial under own call": "Get",
		"under parent mark":   "Get",
		"after":               "",
	}
	got := parentNames(r)
	for m, p := range want {
		if got[m] != p {
			t.Errorf("parent of %q = %q, want %q", m, got[m], p)
		}
	}
	for i := range r.Calls {
		c := &r.Calls[i]
		if want[c.Method] == "" && c.ParentSpanID.IsValid() {
			t.Errorf("%s has a parent span %s", c.Method, c.ParentSpanID)
		}
	}
}

// A context under ContextWithParent is not inside the call as its own
// operation: wrappers under it record their calls; ContextWithCall says the
// opposite.
func TestCallFromContextMarks(t *testing.T) {
	recordRequest(t, func(ctx context.Context, ar *recording.ActiveRecord) {
		c := recording.StartCall(ctx, "svc", "outer")
		if got := recording.CallFromContext(recording.ContextWithCall(ctx, c)); got != c {
			t.Errorf("CallFromContext(ContextWithCall) = %p, want %p", got, c)
		}
		if got := recording.CallFromContext(recording.ContextWithParent(ctx, c)); got != nil {
			t.Errorf("CallFromContext(ContextWithParent) = %p, want nil", got)
		}
		if got := recording.ParentFromContext(recording.ContextWithParent(ctx, c)); got != c {
			t.Errorf("ParentFromContext(ContextWithParent) = %p, want %p", got, c)
		}
		// The innermost mark wins: a Do inside an own-call context.
		_ = recording.Do(recording.ContextWithCall(ctx, c), "svc", "inner", func(ctx context.Context) error {
			if got := recording.CallFromContext(ctx); got != nil {
				t.Errorf("CallFromContext inside Do = %p, want nil", got)
			}
			if p := recording.ParentFromContext(ctx); p == nil || p == c {
				t.Errorf("ParentFromContext inside Do = %p, want Do's call", p)
			}
			if recording.FromContext(ctx) != ar {
				t.Error("FromContext inside Do is not the request's record")
			}
			return nil
		})
		c.End(nil)
		if recording.ContextWithCall(ctx, nil) != ctx || recording.ContextWithParent(ctx, nil) != ctx {
			t.Error("a nil call changed the context")
		}
		// A nil record hides the request: nothing is recorded under it.
		if recording.StartCall(recording.NewContext(ctx, nil), "svc", "hidden") != nil {
			t.Error("a call was started under NewContext(ctx, nil)")
		}
	})
}

// A call whose parent is discarded is adopted by the nearest kept ancestor.
func TestDiscardedParent(t *testing.T) {
	r := recordRequest(t, func(ctx context.Context, ar *recording.ActiveRecord) {
		a := recording.StartCall(ctx, "svc", "a")
		b := recording.StartCall(recording.ContextWithParent(ctx, a), "svc", "b")
		recording.StartCall(recording.ContextWithParent(ctx, b), "svc", "c").End(nil)
		b.Discard()
		a.End(nil)
	})
	if len(r.Calls) != 2 {
		t.Fatalf("%d calls, want 2", len(r.Calls))
	}
	if got := parentNames(r)["c"]; got != "a" {
		t.Errorf("parent of c = %q, want a", got)
	}
}

type otherKey struct{}

// The context Do passes its function is the caller's, inside Do's call:
// its deadline, its cancellation, its cause and its values are the
// caller's; its record and its parent are Do's.
func TestDoContext(t *testing.T) {
	recordRequest(t, func(ctx context.Context, ar *recording.ActiveRecord) {
		deadline := time.Now().Add(time.Hour)
		ctx, cancelDeadline := context.WithDeadline(context.WithValue(ctx, otherKey{}, "v"), deadline)
		defer cancelDeadline()
		ctx, cancel := context.WithCancelCause(ctx)
		cause := errors.New("cause")
		var inner *recording.ActiveCall
		_ = recording.Do(ctx, "svc", "outer", func(dctx context.Context) error {
			outer := recording.ParentFromContext(dctx)
			if outer == nil || recording.FromContext(dctx) != ar || recording.CallFromContext(dctx) != nil {
				t.Errorf("inside Do: parent %p, record %p (want %p), call %p", outer, recording.FromContext(dctx), ar, recording.CallFromContext(dctx))
			}
			if d, ok := dctx.Deadline(); !ok || !d.Equal(deadline) {
				t.Errorf("Deadline() = %v, %v; want %v", d, ok, deadline)
			}
			if v := dctx.Value(otherKey{}); v != "v" {
				t.Errorf("Value(otherKey) = %v, want v", v)
			}
			if s := fmt.Sprint(dctx); s != "recording.ContextWithParent" {
				t.Errorf("String() = %q", s)
			}
			_ = recording.Do(dctx, "svc", "inner", func(ictx context.Context) error {
				inner = recording.ParentFromContext(ictx)
				if inner == nil || inner == outer {
					t.Errorf("inside the inner Do: parent %p (outer %p)", inner, outer)
				}
				if dctx.Err() != nil || ictx.Err() != nil {
					t.Errorf("Err() before the cancel: %v, %v", dctx.Err(), ictx.Err())
				}
				cancel(cause)
				select {
				case <-ictx.Done():
				default:
					t.Error("Done() is not closed after the caller's cancel")
				}
				if !errors.Is(ictx.Err(), context.Canceled) || context.Cause(ictx) != cause {
					t.Errorf("after the cancel: Err() %v, Cause %v", ictx.Err(), context.Cause(ictx))
				}
				// A context derived from Do's is cancelled with it, and is inside it.
				sub, stop := context.WithCancel(ictx)
				defer stop()
				if sub.Err() == nil || recording.ParentFromContext(sub) != inner {
					t.Errorf("a context derived inside Do: Err() %v, parent %p, want %p", sub.Err(), recording.ParentFromContext(sub), inner)
				}
				return nil
			})
			return nil
		})
	})
}

// Do costs no allocation more than StartCall and End.
func TestDoAllocations(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard), recording.WithMaxCalls(1<<20))
	defer closeRec(t, rec)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	fn := func(context.Context) error { return nil }
	start := testing.AllocsPerRun(200, func() { recording.StartCall(ctx, "svc", "m").End(nil) })
	do := testing.AllocsPerRun(200, func() { _ = recording.Do(ctx, "svc", "m", fn) })
	nested := testing.AllocsPerRun(200, func() {
		_ = recording.Do(ctx, "svc", "m", func(ctx context.Context) error {
			recording.StartCall(ctx, "svc", "child").End(nil)
			return nil
		})
	})
	if do > start || nested > 2*start {
		t.Errorf("allocations: StartCall+End %v, Do %v, Do with a child %v", start, do, nested)
	}
}

func TestParentsForest(t *testing.T) {
	sp := func(b byte) recording.SpanID { return recording.SpanID{0, 0, 0, 0, 0, 0, 0, b} }
	r := &recording.Record{Calls: []recording.Call{
		{Method: "0", SpanID: sp(1)},
		{Method: "1", SpanID: sp(2), ParentSpanID: sp(1)},
		{Method: "2", SpanID: sp(3), ParentSpanID: sp(9)}, // unknown parent
		{Method: "3", SpanID: sp(4), ParentSpanID: sp(5)}, // 3 and 4: a cycle
		{Method: "4", SpanID: sp(5), ParentSpanID: sp(4)},
		{Method: "5", SpanID: sp(6), ParentSpanID: sp(6)}, // its own parent
		{Method: "6", SpanID: sp(7), ParentSpanID: sp(2)},
	}}
	got := r.Parents()
	want := []int{-1, 0, -1, 4, -1, -1, 1} // the link that closes the cycle goes
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Parents() = %v, want %v", got, want)
		}
	}
	if ps := (&recording.Record{Calls: make([]recording.Call, 3)}).Parents(); ps[0] != -1 || ps[1] != -1 || ps[2] != -1 {
		t.Errorf("calls without parents: %v", ps)
	}
}

func TestSelfTimes(t *testing.T) {
	ms := time.Millisecond
	sp := func(b byte) recording.SpanID { return recording.SpanID{0, 0, 0, 0, 0, 0, 0, b} }
	r := &recording.Record{Duration: 100 * ms, Calls: []recording.Call{
		{Method: "parent", SpanID: sp(1), Start: 10 * ms, Duration: 50 * ms},
		// Two children in parallel overlap by 5 ms; a third sticks out of
		// the parent by 10 ms; an event takes no time.
		{Method: "a", SpanID: sp(2), ParentSpanID: sp(1), Start: 15 * ms, Duration: 10 * ms},
		{Method: "b", SpanID: sp(3), ParentSpanID: sp(1), Start: 20 * ms, Duration: 10 * ms},
		{Method: "c", SpanID: sp(4), ParentSpanID: sp(1), Start: 50 * ms, Duration: 20 * ms},
		{Method: "ev", SpanID: sp(5), ParentSpanID: sp(1), Start: 40 * ms, Event: true},
		{Method: "grandchild", SpanID: sp(6), ParentSpanID: sp(2), Start: 16 * ms, Duration: 2 * ms},
		{Method: "root", SpanID: sp(7), Start: 0, Duration: 5 * ms},
	}}
	got := r.SelfTimes()
	// parent: 50 - (15..30 = 15) - (50..60 = 10) = 25; a: 10 - 2 = 8.
	want := []time.Duration{25 * ms, 8 * ms, 10 * ms, 20 * ms, 0, 2 * ms, 5 * ms}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("self time of %s = %v, want %v", r.Calls[i].Method, got[i], want[i])
		}
	}
}

// Errors from Do's function reach the call and the caller.
func TestDoError(t *testing.T) {
	boom := errors.New("boom")
	var got error
	r := recordRequest(t, func(ctx context.Context, ar *recording.ActiveRecord) {
		got = recording.Do(ctx, "svc", "fails", func(context.Context) error { return boom })
	})
	if got != boom || r.Calls[0].Error != "boom" {
		t.Errorf("Do returned %v; call error %q", got, r.Calls[0].Error)
	}
}

// A call's phases and the attributes a wrapper adds at its end take one
// allocation beyond what its first attributes take.
func TestPhaseAttrAllocations(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard), recording.WithMaxCalls(1<<20))
	defer closeRec(t, rec)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	attrs := []recording.Attr{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}
	base := testing.AllocsPerRun(200, func() {
		c := recording.StartCall(ctx, "svc", "m")
		c.SetAttrs(attrs...)
		c.End(nil)
	})
	now := time.Now()
	got := testing.AllocsPerRun(200, func() {
		c := recording.StartCall(ctx, "svc", "m")
		c.SetAttrs(attrs...)
		c.AddPhase("connect", now, now.Add(time.Millisecond))
		c.AddPhase("send", now, now.Add(time.Millisecond))
		c.AddPhase("wait", now, now.Add(time.Millisecond))
		c.AddPhase("receive", now, now.Add(time.Millisecond))
		c.SetAttr("status", "200")
		c.SetAttr("reused", "true")
		c.End(nil)
	})
	if got > base+1 {
		t.Errorf("a call with 2 attributes: %v allocations; with 4 phases and 2 more attributes: %v, want at most %v (one for the phases)", base, got, base+1)
	}
}

// With Reserve, the attributes and phases of an HTTP client call on a
// connection already open (four attributes at its start; send, wait and
// receive and two attributes at its end) take one allocation; a call that
// dialed (six phases) takes one more, as its phases outgrow the room.
func TestReserveAllocations(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard), recording.WithMaxCalls(1<<20))
	defer closeRec(t, rec)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	base := testing.AllocsPerRun(200, func() {
		c := recording.StartCall(ctx, "svc", "m")
		c.End(nil)
	})
	attrs := []recording.Attr{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}}
	now := time.Now()
	for _, tc := range []struct {
		phases []string
		extra  float64
	}{
		{[]string{"send", "wait", "receive"}, 1},
		{[]string{"dns", "connect", "tls", "send", "wait", "receive"}, 2},
	} {
		got := testing.AllocsPerRun(200, func() {
			c := recording.StartCall(ctx, "svc", "m")
			c.Reserve()
			c.SetAttrs(attrs...)
			for _, p := range tc.phases {
				c.AddPhase(p, now, now.Add(time.Millisecond))
			}
			c.SetAttr("status", "200")
			c.SetAttr("reused", "true")
			c.End(nil)
		})
		if got > base+tc.extra {
			t.Errorf("a call: %v allocations; with Reserve, 6 attributes and %d phases: %v, want at most %v", base, len(tc.phases), got, base+tc.extra)
		}
	}
}
