package recording_test

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// keyFinder is a ParentFinder that finds the calls a context holds under
// its own key: an OpenTelemetry bridge's spans, as far as recording sees.
type keyFinder struct{}

type foundKey struct{}
type parentKey struct{}

func (keyFinder) FindCall(ctx context.Context) *recording.ActiveCall {
	c, _ := ctx.Value(foundKey{}).(*recording.ActiveCall)
	return c
}

func (keyFinder) FindParent(ctx context.Context) *recording.ActiveCall {
	c, _ := ctx.Value(parentKey{}).(*recording.ActiveCall)
	return c
}

// TestScopeOfAsThreeFunctions checks that ScopeOf and its Scope's methods
// answer as FromContext, CallFromContext and ParentFromContext do, for
// contexts of every one of recording's nodes (and plain values over
// them), with and without finders, in records running, ended and of
// another recorder, and for contexts with no record.
func TestScopeOfAsThreeFunctions(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	type key struct{}
	for _, finders := range []bool{false, true} {
		for _, ended := range []bool{false, true} {
			rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			if finders {
				ar.AddCallFinder(keyFinder{})
			}
			c := ar.StartCall("svc", "call")
			inner := ar.StartChild(c, "svc", "inner")
			other, ar2 := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/other"})
			c2 := ar2.StartCall("svc", "other")
			var cc recording.CallContext
			var doCtx context.Context
			_ = recording.Do(rctx, "svc", "do", func(ctx context.Context) error {
				doCtx = ctx
				return nil
			})
			ctxs := map[string]context.Context{
				"nil":                           nil,
				"background":                    context.Background(),
				"NewContext(nil)":               recording.NewContext(rctx, nil),
				"the record's":                  rctx,
				"a second NewContext":           recording.NewContext(rctx, ar),
				"ContextWithCall":               recording.ContextWithCall(rctx, c),
				"ContextWithParent":             recording.ContextWithParent(rctx, c),
				"CallContext":                   cc.Init(rctx, c),
				"Do's":                          doCtx,
				"a value over ContextWithCall":  context.WithValue(recording.ContextWithCall(rctx, c), key{}, 1),
				"a found call":                  context.WithValue(rctx, foundKey{}, inner),
				"a found parent":                context.WithValue(rctx, parentKey{}, inner),
				"found under ContextWithParent": context.WithValue(context.WithValue(recording.ContextWithParent(rctx, c), foundKey{}, inner), parentKey{}, inner),
				"found outside the mark":        context.WithValue(context.WithValue(recording.ContextWithParent(rctx, inner), foundKey{}, c), parentKey{}, c),
				"another record's call found":   context.WithValue(context.WithValue(rctx, foundKey{}, c2), parentKey{}, c2),
				"another record over this":      recording.NewContext(recording.ContextWithCall(rctx, c), ar2),
				"another record's":              other,
			}
			if ended {
				inner.End(nil)
				c.End(nil)
				ar.Finish()
			}
			for name, ctx := range ctxs {
				s := recording.ScopeOf(ctx)
				if got, want := s.Record(), recording.FromContext(ctx); got != want {
					t.Errorf("finders %v, ended %v, %s: Record = %p, FromContext = %p", finders, ended, name, got, want)
				}
				if got, want := s.Call(), recording.CallFromContext(ctx); got != want {
					t.Errorf("finders %v, ended %v, %s: Call = %p, CallFromContext = %p", finders, ended, name, got, want)
				}
				if got, want := s.Parent(), recording.ParentFromContext(ctx); got != want {
					t.Errorf("finders %v, ended %v, %s: Parent = %p, ParentFromContext = %p", finders, ended, name, got, want)
				}
			}
			if s := recording.ScopeOf(rctx); s.Record() != ar || s.Call() != nil || s.Parent() != nil {
				t.Errorf("finders %v, ended %v: the record's own context: Scope = %p, %p, %p, want the record, nil, nil", finders, ended, s.Record(), s.Call(), s.Parent())
			}
			if ctx := recording.ContextWithCall(rctx, c); recording.ScopeOf(ctx).Call() != c {
				t.Errorf("finders %v, ended %v: ContextWithCall's context: Call is not its call", finders, ended)
			}
			c2.End(nil)
			ar2.Finish()
		}
	}
	var zero recording.Scope
	if zero.Record() != nil || zero.Call() != nil || zero.Parent() != nil {
		t.Error("the zero Scope names a record or call")
	}
}
