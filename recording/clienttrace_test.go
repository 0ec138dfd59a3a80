package recording_test

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// countingCtx counts the look-ups of any key that reach it.
type countingCtx struct {
	context.Context
	n *atomic.Int32
}

func (c countingCtx) Value(key any) any {
	c.n.Add(1)
	return c.Context.Value(key)
}

// TestHasClientTraceAsContextClientTrace checks that HasClientTrace answers
// as httptrace.ContextClientTrace does, for a caller's trace wherever it
// lies: under the record's context (the request's), on a child made after
// the record started, under a value layered on top, composed of two, and
// under recording's own nodes (ContextWithCall, ContextWithParent, Do's,
// a CallContext) above either; for a second context NewContext made of
// the same record, a context that hides the record, and one with none.
// Each record is asked its plain context first, so that a kept answer a
// later context wrongly took would show.
func TestHasClientTraceAsContextClientTrace(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	type key struct{}
	trace := func() *httptrace.ClientTrace { return &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {}} }
	inner := func(base context.Context, c *recording.ActiveCall) map[string]context.Context {
		var n recording.CallContext
		m := map[string]context.Context{
			"":                       base,
			"ContextWithCall":        recording.ContextWithCall(base, c),
			"ContextWithParent":      recording.ContextWithParent(base, c),
			"CallContext":            n.Init(base, c),
			"ContextWithParent/Call": recording.ContextWithCall(recording.ContextWithParent(base, c), c),
		}
		recording.Do(base, "svc", "op", func(ctx context.Context) error {
			m["Do"] = ctx
			return nil
		})
		return m
	}
	for _, tc := range []struct {
		name  string
		below context.Context // the context the record starts in
		above func(rctx context.Context) context.Context
		want  bool
	}{
		{"none", context.Background(), nil, false},
		{"request", httptrace.WithClientTrace(context.Background(), trace()), nil, true},
		{"request under a value", context.WithValue(httptrace.WithClientTrace(context.Background(), trace()), key{}, 1), nil, true},
		{"child", context.Background(), func(r context.Context) context.Context { return httptrace.WithClientTrace(r, trace()) }, true},
		{"value over child", context.Background(), func(r context.Context) context.Context {
			return context.WithValue(httptrace.WithClientTrace(r, trace()), key{}, 1)
		}, true},
		{"value over request", httptrace.WithClientTrace(context.Background(), trace()), func(r context.Context) context.Context {
			return context.WithValue(r, key{}, 1)
		}, true},
		{"value, no trace", context.Background(), func(r context.Context) context.Context { return context.WithValue(r, key{}, 1) }, false},
		{"composed", httptrace.WithClientTrace(context.Background(), trace()), func(r context.Context) context.Context {
			return httptrace.WithClientTrace(r, trace())
		}, true},
		{"cancel over child", context.Background(), func(r context.Context) context.Context {
			ctx, cancel := context.WithCancel(httptrace.WithClientTrace(r, trace()))
			t.Cleanup(cancel)
			return ctx
		}, true},
		{"NewContext again", context.Background(), func(r context.Context) context.Context {
			return recording.NewContext(httptrace.WithClientTrace(context.Background(), trace()), recording.FromContext(r))
		}, true},
		{"NewContext hiding the record", httptrace.WithClientTrace(context.Background(), trace()), func(r context.Context) context.Context {
			return recording.NewContext(r, nil)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rctx, ar := rec.StartRecord(tc.below, recording.RequestInfo{Method: "GET", Path: "/"})
			defer ar.Finish()
			c := ar.StartCall("svc", "call")
			defer c.End(nil)
			// The record's own context first: its answer is kept.
			if got, want := recording.HasClientTrace(rctx), httptrace.ContextClientTrace(rctx) != nil; got != want {
				t.Errorf("the record's context: HasClientTrace = %v, ContextClientTrace found one: %v", got, want)
			}
			base := rctx
			if tc.above != nil {
				base = tc.above(rctx)
			}
			for name, ctx := range inner(base, c) {
				for i := range 2 { // asked again: a kept answer
					got := recording.HasClientTrace(ctx)
					if want := httptrace.ContextClientTrace(ctx) != nil; got != want || got != tc.want {
						t.Errorf("%q, asked %d: HasClientTrace = %v, ContextClientTrace found one: %v, want %v", name, i+1, got, want, tc.want)
					}
				}
			}
		})
	}
	if recording.HasClientTrace(context.Background()) || !recording.HasClientTrace(httptrace.WithClientTrace(context.Background(), trace())) {
		t.Error("a context without a record is not answered as ContextClientTrace answers")
	}
}

// countedRecord starts a record over a countingCtx and a call in it, both
// ended when t ends, and returns the record's context, the call and the
// count of look-ups that reach the context under the record.
func countedRecord(t *testing.T) (context.Context, *recording.ActiveCall, *atomic.Int32) {
	t.Helper()
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	n := new(atomic.Int32)
	rctx, ar := rec.StartRecord(countingCtx{context.Background(), n}, recording.RequestInfo{Method: "GET", Path: "/"})
	c := ar.StartCall("svc", "call")
	t.Cleanup(func() {
		c.End(nil)
		ar.Finish()
	})
	return rctx, c, n
}

// TestHasClientTraceLooksUpOnceARecord checks that HasClientTrace looks
// a record's own context up once, whatever number of times it is asked,
// through the record's context and recording's nodes inside it; a
// context of the caller's own on top is looked up each time.
func TestHasClientTraceLooksUpOnceARecord(t *testing.T) {
	rctx, c, n := countedRecord(t)
	var cc recording.CallContext
	for _, ctx := range []context.Context{rctx, recording.ContextWithCall(rctx, c), recording.ContextWithParent(rctx, c), cc.Init(rctx, c), rctx} {
		if recording.HasClientTrace(ctx) {
			t.Fatal("HasClientTrace found a trace in a context without one")
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("the record's context was looked up %d times in five questions, want once", got)
	}
	type key struct{}
	mine := context.WithValue(rctx, key{}, 1)
	n.Store(0)
	for range 3 {
		recording.HasClientTrace(mine)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("a context over the record's was looked up %d times in three questions, want each time", got)
	}
}

// TestHasClientTraceLooksUpOnceThroughCallNodes checks that HasClientTrace
// looks a record's own context up once when it is asked first, and every
// time after, through calls' nodes made over the record's context (as a
// wrapper that records a call and sends its request with the call's
// context does).
func TestHasClientTraceLooksUpOnceThroughCallNodes(t *testing.T) {
	rctx, c, n := countedRecord(t)
	for i := range 4 {
		var cc recording.CallContext
		ctx := recording.ContextWithCall(rctx, c)
		if i%2 == 1 {
			ctx = cc.Init(rctx, c)
		}
		if recording.HasClientTrace(ctx) {
			t.Fatal("HasClientTrace found a trace in a context without one")
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("the record's context was looked up %d times in four questions through calls' nodes, want once", got)
	}
}

// TestKnownClientTraceAsHasClientTrace checks that KnownClientTrace knows
// nothing of a record's own context before HasClientTrace looked it up
// (directly or through a call's context over it), and afterwards answers
// as HasClientTrace does; and that it knows nothing of any other context.
func TestKnownClientTraceAsHasClientTrace(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	type key struct{}
	for _, tc := range []struct {
		name  string
		base  context.Context
		trace bool
	}{
		{"no trace", context.Background(), false},
		{"a trace", httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{}), true},
	} {
		for _, via := range []string{"the record's context", "ContextWithParent", "ContextWithCall", "CallContext"} {
			rctx, ar := rec.StartRecord(tc.base, recording.RequestInfo{Method: "GET", Path: "/"})
			c := ar.StartCall("svc", "call")
			others := []context.Context{recording.ContextWithCall(rctx, c), recording.ContextWithParent(rctx, c), context.WithValue(rctx, key{}, 1), recording.NewContext(rctx, ar), tc.base}
			if found, known := recording.KnownClientTrace(rctx); known || found {
				t.Errorf("%s, %s: before any question: KnownClientTrace = %v, %v, want false, false", tc.name, via, found, known)
			}
			ask := rctx
			var cc recording.CallContext
			switch via {
			case "ContextWithParent":
				ask = recording.ContextWithParent(rctx, c)
			case "ContextWithCall":
				ask = recording.ContextWithCall(rctx, c)
			case "CallContext":
				ask = cc.Init(rctx, c)
			}
			if got := recording.HasClientTrace(ask); got != tc.trace {
				t.Fatalf("%s, %s: HasClientTrace = %v, want %v", tc.name, via, got, tc.trace)
			}
			for range 2 {
				if found, known := recording.KnownClientTrace(rctx); !known || found != tc.trace {
					t.Errorf("%s, %s: after a question: KnownClientTrace = %v, %v, want %v, true", tc.name, via, found, known, tc.trace)
				}
			}
			for i, o := range others {
				if found, known := recording.KnownClientTrace(o); known || found {
					t.Errorf("%s, %s: another context (%d): KnownClientTrace = %v, %v, want false, false", tc.name, via, i, found, known)
				}
			}
			c.End(nil)
			ar.Finish()
		}
	}
}
