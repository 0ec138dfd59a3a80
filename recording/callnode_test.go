package recording_test

import (
	"context"
	"errors"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestCallNodeOverRecordAsWithValue checks that a call's context made over
// the record's context (ContextWithCall, a CallContext; each also over a
// second NewContext node) behaves as the same chain built from plain
// context.WithValue nodes: the values below, httptrace's trace, Deadline,
// Done, Err, context.Cause, context.AfterFunc, a child of its own and
// context.WithoutCancel over it, before and after the context below is
// canceled with a cause; and that it still names its call and record.
func TestCallNodeOverRecordAsWithValue(t *testing.T) {
	type srvKey struct{}
	type k1 struct{}
	type k2 struct{}
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	trace := &httptrace.ClientTrace{}
	bases := []struct {
		name  string
		make  func() (context.Context, context.CancelCauseFunc)
		trace bool
	}{
		{"cancel", func() (context.Context, context.CancelCauseFunc) {
			return context.WithCancelCause(context.WithValue(context.Background(), srvKey{}, "srv"))
		}, false},
		{"deadline over cancel, with a trace", func() (context.Context, context.CancelCauseFunc) {
			ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), srvKey{}, "srv"))
			ctx, stop := context.WithDeadline(ctx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
			return httptrace.WithClientTrace(ctx, trace), func(err error) { cancel(err); stop() }
		}, true},
		{"no cancel", func() (context.Context, context.CancelCauseFunc) {
			return context.WithValue(context.Background(), srvKey{}, "srv"), nil
		}, false},
	}
	shapes := []struct {
		name string
		make func(base context.Context, a *recording.ActiveRecord, rctx context.Context, c *recording.ActiveCall) context.Context
	}{
		{"ContextWithCall", func(_ context.Context, _ *recording.ActiveRecord, rctx context.Context, c *recording.ActiveCall) context.Context {
			return recording.ContextWithCall(rctx, c)
		}},
		{"CallContext", func(_ context.Context, _ *recording.ActiveRecord, rctx context.Context, c *recording.ActiveCall) context.Context {
			return new(recording.CallContext).Init(rctx, c)
		}},
		{"ContextWithCall over a second NewContext", func(base context.Context, a *recording.ActiveRecord, _ context.Context, c *recording.ActiveCall) context.Context {
			return recording.ContextWithCall(recording.NewContext(base, a), c)
		}},
		{"CallContext over a second NewContext", func(base context.Context, a *recording.ActiveRecord, _ context.Context, c *recording.ActiveCall) context.Context {
			return new(recording.CallContext).Init(recording.NewContext(base, a), c)
		}},
	}
	cause := errors.New("the server's cause")
	for _, b := range bases {
		for _, sh := range shapes {
			name := b.name + "/" + sh.name
			base, cancel := b.make()
			rctx, a := rec.StartRecord(base, recording.RequestInfo{Method: "GET", Path: "/"})
			c := a.StartCall("svc", "call")
			ours := sh.make(base, a, rctx, c)
			plain := context.WithValue(context.WithValue(base, k1{}, 1), k2{}, 2)
			if recording.FromContext(ours) != a || recording.CallFromContext(ours) != c || recording.ParentFromContext(ours) != c {
				t.Errorf("%s: the call's context does not name its record and call", name)
			}
			type observed struct {
				srv, other                any
				trace                     bool
				deadline                  time.Time
				hasDeadline               bool
				err, cause                error
				childErr, childCause      error
				without                   any
				withoutTrace, withoutDone bool
				withoutErr                error
			}
			observe := func(ctx context.Context, child context.Context) observed {
				var o observed
				o.srv, o.other = ctx.Value(srvKey{}), ctx.Value(struct{ x int }{})
				o.trace = httptrace.ContextClientTrace(ctx) == trace
				o.deadline, o.hasDeadline = ctx.Deadline()
				o.err, o.cause = ctx.Err(), context.Cause(ctx)
				o.childErr, o.childCause = child.Err(), context.Cause(child)
				w := context.WithoutCancel(ctx)
				o.without, o.withoutTrace, o.withoutDone, o.withoutErr = w.Value(srvKey{}), httptrace.ContextClientTrace(w) == trace, w.Done() != nil, w.Err()
				return o
			}
			if ours.Done() != base.Done() || plain.Done() != base.Done() {
				t.Errorf("%s: Done is not the context below's", name)
			}
			ourChild, ourStop := context.WithCancel(ours)
			plainChild, plainStop := context.WithCancel(plain)
			ourFired, plainFired := make(chan struct{}), make(chan struct{})
			stopOurs := context.AfterFunc(ours, func() { close(ourFired) })
			stopPlain := context.AfterFunc(plain, func() { close(plainFired) })
			if o, p := observe(ours, ourChild), observe(plain, plainChild); o != p || o.trace != b.trace {
				t.Errorf("%s: before cancel: ours %+v, plain WithValue %+v", name, o, p)
			}
			if cancel != nil {
				cancel(cause)
				<-ourFired
				<-plainFired
				<-ourChild.Done()
				<-plainChild.Done()
				if stopOurs() || stopPlain() {
					t.Errorf("%s: AfterFunc's stop reported a function not run", name)
				}
				if o, p := observe(ours, ourChild), observe(plain, plainChild); o != p || o.cause != cause || o.childCause != cause {
					t.Errorf("%s: after cancel: ours %+v, plain WithValue %+v", name, o, p)
				}
			} else if !stopOurs() || !stopPlain() {
				t.Errorf("%s: AfterFunc's stop did not stop a function over a context never canceled", name)
			}
			ourStop()
			plainStop()
			c.End(nil)
			a.Finish()
		}
	}
}
