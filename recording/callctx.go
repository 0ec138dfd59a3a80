package recording

import "context"

// A CallContext is the context node [ContextWithCall] makes, for a wrapper
// that keeps it inside an allocation of its own rather than in one of the
// node's own: middleware/httpstats' transport keeps it, and the context
// of the call's request that embeds it, in the call's state. Init makes
// it the context ContextWithCall(ctx, c) returns; a CallContext not set
// by Init must not be used as a context.
type CallContext struct {
	callCtx
}

// Init sets n to ctx inside call c, as [ContextWithCall] does, and returns
// n; a nil c returns ctx, and leaves n as it was. Otherwise a nil ctx
// panics at once, as [context.WithValue]'s nil parent does.
func (n *CallContext) Init(ctx context.Context, c *ActiveCall) context.Context {
	if c == nil {
		return ctx
	}
	if ctx == nil {
		panic(nilParent)
	}
	n.callCtx = callCtx{Context: pastRecord(ctx), c: c}
	return n
}

// Call returns the call n was set to be inside of, or nil.
func (n *CallContext) Call() *ActiveCall { return n.c }
