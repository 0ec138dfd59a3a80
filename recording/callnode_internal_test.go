package recording

import (
	"context"
	"testing"
)

// TestCallNodeForwardsPastRecordNode checks that a ContextWithCall node and
// a CallContext made over a NewContext node forward to the context under
// that node (which answers no question the call's node does not answer
// itself) — over the record's own node only once its answer to
// HasClientTrace is kept, and to that node before — and that one made over
// any other context forwards to it.
func TestCallNodeForwardsPastRecordNode(t *testing.T) {
	r := New(WithSinks())
	t.Cleanup(func() { r.Close(context.Background()) })
	type key struct{}
	base := context.WithValue(context.Background(), key{}, 1)
	rctx, ar := r.StartRecord(base, RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	c := ar.StartCall("svc", "call")
	defer c.End(nil)
	second := NewContext(base, ar) // a node of its own, not the record's
	over := context.WithValue(rctx, key{}, 2)
	check := func(name string, parent, fwd context.Context) {
		t.Helper()
		var cc CallContext
		for _, n := range []*callCtx{ContextWithCall(parent, c).(*callCtx), &cc.Init(parent, c).(*CallContext).callCtx} {
			if !sameWords(n.Context, fwd) {
				t.Errorf("%s: the call's node forwards to %v, want %v", name, n.Context, fwd)
			}
		}
	}
	check("the record's context, its answer not kept yet", rctx, rctx)
	if HasClientTrace(rctx) {
		t.Fatal("HasClientTrace found a trace in a context without one")
	}
	for _, tc := range []struct {
		name        string
		parent, fwd context.Context
	}{
		{"the record's context, its answer kept", rctx, base},
		{"a second NewContext", second, base},
		{"a value over the record's context", over, over},
		{"a context without a record", base, base},
	} {
		check(tc.name, tc.parent, tc.fwd)
	}
}
