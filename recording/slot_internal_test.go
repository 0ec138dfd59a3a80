package recording

import (
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/convention"
)

// TestSlotStateNotInCopies checks that the state of a call's slot, kept
// in its Call (the flags and the count of attributes not kept), is in
// none of the call's copies — the record's, an in-flight snapshot's,
// FinalCall's — which count the attributes not kept as an attribute, as
// before; and that the flags still say what they did: a discarded call is
// left out and its child adopted, a call running at the end is copied as
// running and may still end, one that ended may not change.
func TestSlotStateNotInCopies(t *testing.T) {
	clean := func(where string, calls ...Call) {
		t.Helper()
		for _, c := range calls {
			if c.slot != 0 || c.dropped != 0 {
				t.Errorf("%s: call %s has its slot's state: %d, dropped %d", where, c.Method, c.slot, c.dropped)
			}
		}
	}
	dropped := func(c Call) string {
		for _, at := range c.Attrs {
			if at.Key == convention.KeyDroppedAttrs {
				return at.Value
			}
		}
		return ""
	}
	var running *ActiveCall
	done := make(chan struct{})
	r := New(WithMaxAttrs(2, 100), WithSinks(borrowingSink{func(rec *Record) {
		defer close(done)
		clean("the record", rec.Calls...)
		var names []string
		for _, c := range rec.Calls {
			names = append(names, c.Method)
		}
		if want := []string{"ended", "running", "child"}; !slices.Equal(names, want) {
			t.Fatalf("the record's calls %q, want %q", names, want)
		}
		if d := dropped(rec.Calls[0]); d != "1" {
			t.Errorf("the ended call counts %q attributes dropped, want 1", d)
		}
		if d := dropped(rec.Calls[1]); d != "2" || !rec.Calls[1].Running {
			t.Errorf("the running call: %q attributes dropped (want 2), running %v", d, rec.Calls[1].Running)
		}
		if rec.Calls[2].ParentSpanID.IsValid() {
			t.Errorf("the discarded call's child has parent %s, want none", rec.Calls[2].ParentSpanID)
		}
		if _, final := rec.FinalCall(1); final {
			t.Error("FinalCall: the running call is final before it ends")
		}
		running.SetAttr("k4", "v") // after the request: still counted
		running.End(nil)
		c, final := rec.FinalCall(1)
		clean("FinalCall", c)
		if !final || dropped(c) != "3" || !c.Running {
			t.Errorf("FinalCall: final %v, %q attributes dropped (want 3), running %v", final, dropped(c), c.Running)
		}
	}}))
	defer r.Close(t.Context())
	ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
	ended := StartCall(ctx, "svc", "ended")
	ended.SetAttrs(Attr{"k0", "v"}, Attr{"k1", "v"}, Attr{"k2", "v"})
	ended.End(nil)
	running = StartCall(ctx, "svc", "running")
	running.SetAttrs(Attr{"k0", "v"}, Attr{"k1", "v"}, Attr{"k2", "v"}, Attr{"k3", "v"})
	disc := StartCall(ctx, "svc", "discarded")
	StartCall(ContextWithParent(ctx, disc), "svc", "child").End(nil)
	disc.Discard()
	disc.End(nil) // no effect
	s, ok := ar.snapshot(time.Now(), 0)
	if !ok || len(s.Calls) != 3 {
		t.Fatalf("snapshot: ok %v, %d calls, want 3", ok, len(s.Calls))
	}
	clean("the snapshot", s.Calls...)
	if dropped(s.Calls[0]) != "1" || dropped(s.Calls[1]) != "2" || !s.Calls[1].Running || s.Calls[0].Running {
		t.Errorf("snapshot: dropped %q and %q (want 1, 2), running %v and %v (want false, true)",
			dropped(s.Calls[0]), dropped(s.Calls[1]), s.Calls[0].Running, s.Calls[1].Running)
	}
	ar.Finish()
	ended.SetAttr("late", "v") // frozen: neither kept nor counted
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no record written")
	}
	// The ended call's slot no longer reads its call, which is the
	// record's; the running one's reads its own copy.
	if ended.c != nil || running.c.slot != slotEnded || !running.c.Running {
		t.Errorf("after the record: ended call's slot holds %p; running call's state %d, running %v",
			ended.c, running.c.slot, running.c.Running)
	}
}
