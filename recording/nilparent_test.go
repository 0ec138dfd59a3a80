package recording_test

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// panicOf returns what fn panics with, or nil.
func panicOf(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// TestNilParentPanicsAtOnce checks that every exported function of
// recording that makes a context node over a context it is given panics at
// once, as context.WithValue does, with the standard library's message,
// when that context is nil — rather than returning a context whose Value,
// Done or Deadline panics later, somewhere else — and that a nil parent
// passes through unchanged where no node is made (a nil call).
func TestNilParentPanicsAtOnce(t *testing.T) {
	const want = "cannot create context from nil parent"
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	_, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	c := recording.StartCall(recording.NewContext(context.Background(), a), "svc", "M")
	t.Cleanup(func() { c.End(nil); a.Finish() })

	var nilCtx context.Context
	cases := []struct {
		name string
		make func() context.Context
	}{
		{"NewContext", func() context.Context { return recording.NewContext(nilCtx, a) }},
		{"NewContext of a second record", func() context.Context {
			_, b := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/b"})
			defer b.Finish()
			return recording.NewContext(nilCtx, b)
		}},
		{"NewContext of a nil record", func() context.Context { return recording.NewContext(nilCtx, nil) }},
		{"StartRecord", func() context.Context {
			ctx, b := rec.StartRecord(nilCtx, recording.RequestInfo{Method: "GET", Path: "/"})
			defer b.Finish()
			return ctx
		}},
		{"StartRecord of a nil recorder", func() context.Context {
			var r *recording.Recorder
			ctx, _ := r.StartRecord(nilCtx, recording.RequestInfo{Method: "GET", Path: "/"})
			return ctx
		}},
		{"StartRecordFrom", func() context.Context {
			ctx, b, _ := recording.StartRecordFrom[int](rec, nilCtx, &recording.RequestInfo{Method: "GET", Path: "/"})
			defer b.Finish()
			return ctx
		}},
		{"ContextWithCall", func() context.Context { return recording.ContextWithCall(nilCtx, c) }},
		{"ContextWithParent", func() context.Context { return recording.ContextWithParent(nilCtx, c) }},
		{"CallContext.Init", func() context.Context { return new(recording.CallContext).Init(nilCtx, c) }},
		{"ContextWithTrace", func() context.Context { return recording.ContextWithTrace(nilCtx, recording.TraceContext{}) }},
		{"Recorder.ContextWithTrace", func() context.Context { return rec.ContextWithTrace(nilCtx, recording.TraceContext{}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ctx context.Context
			got := panicOf(func() { ctx = tc.make() })
			if got == nil {
				later := panicOf(func() { ctx.Value(struct{}{}) })
				t.Fatalf("no panic: returned %v, whose Value panics with %v", ctx, later)
			}
			if fmt.Sprint(got) != want {
				t.Fatalf("panicked with %q, want %q", fmt.Sprint(got), want)
			}
		})
	}
	// No node is made for a nil call: the context given comes back.
	if ctx := recording.ContextWithCall(nilCtx, nil); ctx != nil {
		t.Errorf("ContextWithCall(nil, nil) = %v, want nil", ctx)
	}
	if ctx := recording.ContextWithParent(nilCtx, nil); ctx != nil {
		t.Errorf("ContextWithParent(nil, nil) = %v, want nil", ctx)
	}
}

// TestKnownClientTraceOddContexts checks KnownClientTrace and
// HasClientTrace with a nil context (nothing known, nothing found, no
// panic) and with a record's context asked after its call ended and the
// record finished: the answer kept while the record ran, as
// ContextClientTrace still finds it.
func TestKnownClientTraceOddContexts(t *testing.T) {
	var nilCtx context.Context
	if found, known := recording.KnownClientTrace(nilCtx); found || known {
		t.Errorf("KnownClientTrace(nil) = %v, %v, want false, false", found, known)
	}
	if recording.HasClientTrace(nilCtx) {
		t.Error("HasClientTrace(nil) = true")
	}
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	for _, withTrace := range []bool{false, true} {
		base := context.Background()
		if withTrace {
			base = httptrace.WithClientTrace(base, &httptrace.ClientTrace{})
		}
		rctx, a := rec.StartRecord(base, recording.RequestInfo{Method: "GET", Path: "/"})
		c := a.StartCall("svc", "M")
		cctx := recording.ContextWithCall(rctx, c)
		c.End(nil)
		a.Finish()
		if _, known := recording.KnownClientTrace(rctx); known {
			t.Errorf("trace %v: known before any question", withTrace)
		}
		if got := recording.HasClientTrace(cctx); got != withTrace {
			t.Errorf("trace %v: HasClientTrace of the ended call's context = %v", withTrace, got)
		}
		if found, known := recording.KnownClientTrace(rctx); found != withTrace || !known {
			t.Errorf("trace %v: KnownClientTrace after the record finished = %v, %v", withTrace, found, known)
		}
	}
}

// TestNilContextReadersAnswerNothing checks that the functions of
// recording that read a context answer a nil one as one that carries
// nothing, as FromContext, CallFromContext and HasClientTrace do, rather
// than panicking on a nil pointer: TraceFromContext and Passthrough did.
func TestNilContextReadersAnswerNothing(t *testing.T) {
	var nilCtx context.Context
	if got := panicOf(func() {
		if tc, ok := recording.TraceFromContext(nilCtx); ok || tc.IsValid() {
			t.Errorf("TraceFromContext(nil) = %v, %v, want nothing", tc, ok)
		}
	}); got != nil {
		t.Errorf("TraceFromContext(nil) panicked: %v", got)
	}
	if got := panicOf(func() {
		if tc, p, ok := recording.Passthrough(nilCtx); ok || tc.IsValid() || p != nil {
			t.Errorf("Passthrough(nil) = %v, %v, %v, want nothing", tc, p, ok)
		}
	}); got != nil {
		t.Errorf("Passthrough(nil) panicked: %v", got)
	}
}

// TestStartMessageNilParentStartsNothing checks that Stream.StartMessage
// with a nil context panics, as a nil parent does, before it starts the
// message's record: it started it first, and the record, never finished,
// stayed listed by Recorder.Active as running after the stream closed.
func TestStartMessageNilParentStartsNothing(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	ctx, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{})
	if s == nil {
		t.Fatal("StartStream of a recorded request = nil")
	}
	var nilCtx context.Context
	for _, dir := range []recording.Direction{recording.Receive, recording.Send} {
		if got := panicOf(func() { s.StartMessage(nilCtx, dir, "m", 1) }); fmt.Sprint(got) != "cannot create context from nil parent" {
			t.Errorf("StartMessage(nil, %v) panicked with %v, want the nil parent's message", dir, got)
		}
	}
	s.Close("")
	a.Finish()
	if recs, unlisted := rec.Active(100, 0); len(recs) != 0 || unlisted != 0 {
		t.Errorf("after the stream's record finished, Active lists %d records (%d unlisted), want none", len(recs), unlisted)
		for _, r := range recs {
			t.Logf("  still active: %v %s", r.Kind, r.Path)
		}
	}
}
