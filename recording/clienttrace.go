package recording

import (
	"context"
	"net/http/httptrace"
	"unsafe"
)

// Answers of a record's traceOnCtx: not looked up yet, or whether the
// record's own context carries an [httptrace.ClientTrace].
const (
	traceUnknown uint32 = iota
	traceNone
	traceFound
)

// HasClientTrace reports whether ctx carries an [httptrace.ClientTrace]
// of the caller's own: whether [httptrace.ContextClientTrace](ctx) is not
// nil. A wrapper that composes its own trace with the caller's (as
// middleware/httpstats' transport does) asks it on every call, though
// the answer for one request's context never changes.
//
// When ctx is the record's own context (the one [NewContext],
// [Recorder.StartRecord] or [StartRecordFrom] returned, not a copy made of
// it by a later NewContext), or a context that recording made inside it
// ([ContextWithCall], [ContextWithParent], [Do]'s, a [CallContext]) with
// nothing else in between, the answer is looked up once a record and kept
// on the record (a [ContextWithCall] or CallContext node uses the kept
// answer once one of the others has kept it, and is looked up before):
// those nodes answer no key of httptrace's, and a context's
// Value returns the same result for the same key every time (as
// [context.Context] requires). Any other context is looked up as
// ContextClientTrace looks it up.
func HasClientTrace(ctx context.Context) bool {
	// The usual case, a call made with the request's context asked again:
	// one type test and the kept answer.
	if found, known := KnownClientTrace(ctx); known {
		return found
	}
	return lookUpClientTrace(ctx)
}

// KnownClientTrace reports whether [HasClientTrace](ctx)'s answer is known
// without a look-up (known), and if so what it is (found). When known is
// false, found means nothing: ask HasClientTrace.
//
// The answer is known when ctx is the record's own context (the one
// [NewContext], [Recorder.StartRecord] or [StartRecordFrom] returned) and
// the answer is kept on the record already: a HasClientTrace of it, or of
// a context recording made inside it ([ContextWithCall], [ContextWithParent],
// [Do]'s, a [CallContext]), looked it up. KnownClientTrace looks nothing up
// and is small enough for the compiler to inline, which HasClientTrace is
// not (its look-up is a call): a wrapper that asks on every call (as
// middleware/httpstats' transport does) asks it first, and HasClientTrace
// only when known is false.
func KnownClientTrace(ctx context.Context) (found, known bool) {
	if c, ok := ctx.(*recordCtx); ok && c.a != nil && c == &c.a.ctx {
		v := c.a.traceOnCtx.Load()
		return v == traceFound, v != traceUnknown
	}
	return false, false
}

// lookUpClientTrace is [HasClientTrace] past its first test: it passes
// over recording's nodes to the record's own context, whose answer it
// looks up and keeps in the record's traceOnCtx if not kept yet, and
// looks any other context up as ContextClientTrace does. Goroutines that
// ask at once each look it up, and store the same answer.
func lookUpClientTrace(ctx context.Context) bool {
	for {
		switch c := ctx.(type) {
		case *recordCtx:
			if a := c.a; a != nil && c == &a.ctx && c.Context != nil {
				switch a.traceOnCtx.Load() {
				case traceNone:
					return false
				case traceFound:
					return true
				}
				found := httptrace.ContextClientTrace(c.Context) != nil
				if found {
					a.traceOnCtx.Store(traceFound)
				} else {
					a.traceOnCtx.Store(traceNone)
				}
				return found
			}
		case *CallContext:
			if v, ok := keptUnder(c.c.a, c.Context); ok {
				return v
			}
			ctx = c.Context
			continue
		case *callCtx:
			if v, ok := keptUnder(c.c.a, c.Context); ok {
				return v
			}
			ctx = c.Context
			continue
		case *parentCtx:
			ctx = c.Context
			continue
		case *doCtx:
			ctx = c.ctx
			continue
		}
		return ctx != nil && httptrace.ContextClientTrace(ctx) != nil
	}
}

// keptUnder returns a's kept answer and true when one is kept and parent
// is the context under a's own context: the context a callCtx made over
// a's own context forwards to ([pastRecord]), whose answer is the answer
// of a's own context, a node that answers no key of httptrace's. The
// answer is read before a's context: it is kept only once a's context was
// seen, so a goroutine that loads a kept answer sees the context set.
// parent is compared with it word by word, which never panics (the
// dynamic type of a context need not be comparable) and finds the same
// context passed on, as pastRecord passes it.
func keptUnder(a *ActiveRecord, parent context.Context) (found, ok bool) {
	if a == nil {
		return false, false
	}
	v := a.traceOnCtx.Load()
	if v == traceUnknown || parent == nil || !sameWords(parent, a.ctx.Context) {
		return false, false
	}
	return v == traceFound, true
}

// sameWords reports whether x and y are the same interface value word for
// word: the same dynamic type and the same data word.
func sameWords(x, y context.Context) bool {
	type words struct{ tab, data unsafe.Pointer }
	return *(*words)(unsafe.Pointer(&x)) == *(*words)(unsafe.Pointer(&y))
}
