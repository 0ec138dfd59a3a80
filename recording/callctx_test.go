package recording_test

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestCallContextAsContextWithCall checks that a CallContext set by Init
// answers as ContextWithCall's context does — the record, the call as its
// own operation, the parent of a call started under it, the values of its
// parent — and that Init allocates nothing.
func TestCallContextAsContextWithCall(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard))
	defer closeRec(t, rec)
	type key struct{}
	base, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	base = context.WithValue(base, key{}, "v")
	c := recording.StartCall(base, "svc", "outer")
	var n recording.CallContext
	for _, ctx := range []context.Context{recording.ContextWithCall(base, c), n.Init(base, c)} {
		if got := recording.FromContext(ctx); got != ar {
			t.Errorf("%v: FromContext %p, want the record %p", ctx, got, ar)
		}
		if got := recording.CallFromContext(ctx); got != c {
			t.Errorf("%v: CallFromContext %p, want the call %p", ctx, got, c)
		}
		if got := recording.ParentFromContext(ctx); got != c {
			t.Errorf("%v: ParentFromContext %p, want the call %p", ctx, got, c)
		}
		if got := ctx.Value(key{}); got != "v" {
			t.Errorf("%v: Value(key) %v, want the parent's v", ctx, got)
		}
		if ctx.Done() != base.Done() {
			t.Errorf("%v: Done is not the parent's", ctx)
		}
	}
	if n.Call() != c {
		t.Errorf("Call %p, want %p", n.Call(), c)
	}
	var none recording.CallContext
	if got := none.Init(base, nil); got != base || none.Call() != nil {
		t.Errorf("Init with no call returned %v, call %p; want the parent, nil", got, none.Call())
	}
	if allocs := testing.AllocsPerRun(100, func() { n.Init(base, c) }); allocs != 0 {
		t.Errorf("Init: %v allocations, want 0", allocs)
	}
	c.End(nil)
	ar.Finish()
}
