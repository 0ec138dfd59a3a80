package httpstats

import (
	"context"
	"crypto/tls"
	"net"
	"net/http/httptrace"
	"reflect"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// A hookSet holds the closures of a call's httptrace hooks (nine of
// [httptrace.ClientTrace]'s, and the net package's DNSDone, see
// [traceCtx]), which all capture the call's phases and nothing else, inside
// the call's own allocation rather than in allocations of their own.
//
// A Go func value points to its closure: the address of the function's
// code, followed by the variables it captured. The closures of a hookSet
// share one p: the code of each is a word of code, and p follows them
// all, so that closure i, which starts at code[i], has p
// numSetHooks - i words after its code. The hooks that [phases.hooks]
// makes each capture p, by value, after that many words less one that it
// does not read (an [after]), so each of their closures reads p where the
// hookSet has it. Their code is found once by [findHookCodes]. It checks
// that the compiler laid the closures out so; if it did not (one that
// captured its variable by reference, say), the trace gets phases.hooks'
// own closures, as it did before.
//
// The net package's DNSStart shares the closure of the ClientTrace's:
// a func([httptrace.DNSStartInfo]) and a func(string) take their argument
// alike (a struct of one string field is passed as that string), and the
// hook reads no argument. findHookCodes checks that DNSStartInfo is such a
// struct.
//
// The hooks may fire after the call ended (a dial that finished for
// another request, HTTP/2's late WroteRequest): a hookSet lives in its
// call's callState, which is never reused, so a late hook writes only to
// phases that are no longer read.
type hookSet struct {
	code [numSetHooks]uintptr // closure i's code, in hookFields' order
	p    *phases
}

// after is p, after words a closure does not read: the one variable a
// hook of [phases.hooks] captures, so that its closure has p as far after
// its code as a [hookSet] has it.
type after[W any] struct {
	_ W
	p *phases
}

// numHooks is how many hooks the phases set: nine of
// [httptrace.ClientTrace]'s, and the DNS hooks of the net package's trace
// (its connect hooks are the ClientTrace's).
const numHooks = 11

// numSetHooks is how many closures a hookSet holds: numHooks but the net
// package's DNSStart, which shares the ClientTrace's.
const numSetHooks = numHooks - 1

// hookCodes holds the code of phases.hooks' closures, in hookFields'
// order, and whether a hookSet can use them.
type hookCodes struct {
	code [numSetHooks]uintptr
	ok   bool
}

// traceHooks is the code of the hooks, found as the package is
// initialized and never changed after.
var traceHooks = findHookCodes()

// findHookCodes returns the code of the closures phases.hooks makes, after
// checking that each is a closure that captured p by value where a hookSet
// has it (closure i: numSetHooks - i words after its code), and that
// [httptrace.DNSStartInfo] is passed as a string is: ok is false
// otherwise.
func findHookCodes() hookCodes {
	if !oneStringField(reflect.TypeFor[httptrace.DNSStartInfo]()) {
		return hookCodes{}
	}
	probe := &new(callState).pt // a phases lives in a callState (phases.state)
	var t httptrace.ClientTrace
	var n netTrace
	probe.hooks(&t, &n)
	var hc hookCodes
	for i, f := range hookFields(&t, &n) {
		// Closure i must hold its code, then p numSetHooks - i words after.
		c := *(*unsafe.Pointer)(f)
		if c == nil {
			return hookCodes{}
		}
		code := *(*uintptr)(c)
		p := *(**phases)(unsafe.Add(c, (numSetHooks-i)*int(unsafe.Sizeof(uintptr(0)))))
		if code == 0 || p != probe {
			return hookCodes{}
		}
		hc.code[i] = code
	}
	hc.ok = true
	return hc
}

// oneStringField reports whether t is a struct of one field, a string.
func oneStringField(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 1 && t.Field(0).Type == reflect.TypeFor[string]() && t.Size() == reflect.TypeFor[string]().Size()
}

// hookFields returns the addresses of the func fields of t and n that
// phases.hooks sets with closures of their own and a hookSet holds: all
// but n's DNSStart.
func hookFields(t *httptrace.ClientTrace, n *netTrace) [numSetHooks]unsafe.Pointer {
	return [numSetHooks]unsafe.Pointer{
		unsafe.Pointer(&t.DNSStart),
		unsafe.Pointer(&t.DNSDone),
		unsafe.Pointer(&t.ConnectStart),
		unsafe.Pointer(&t.ConnectDone),
		unsafe.Pointer(&t.TLSHandshakeStart),
		unsafe.Pointer(&t.TLSHandshakeDone),
		unsafe.Pointer(&t.GotConn),
		unsafe.Pointer(&t.WroteRequest),
		unsafe.Pointer(&t.GotFirstResponseByte),
		unsafe.Pointer(&n.DNSDone),
	}
}

// set sets t's hooks to record into p, as p.hooks does, with their
// closures in s. t must have no hooks set (a new call's state): the
// fields the phases do not use are left as they are. The fields are set
// in hookFields' order, one by one, rather than in a loop over
// hookFields: a third of the instructions. The net package's trace is
// set apart, by setNet, only for a call that dials.
func (hc *hookCodes) set(s *hookSet, t *httptrace.ClientTrace, p *phases) {
	if !hc.ok {
		var n netTrace
		p.hooks(t, &n)
		return
	}
	s.code = hc.code
	s.p = p
	t.DNSStart = hook[func(httptrace.DNSStartInfo)](s, 0)
	t.DNSDone = hook[func(httptrace.DNSDoneInfo)](s, 1)
	t.ConnectStart = hook[func(string, string)](s, 2)
	t.ConnectDone = hook[func(string, string, error)](s, 3)
	t.TLSHandshakeStart = hook[func()](s, 4)
	t.TLSHandshakeDone = hook[func(tls.ConnectionState, error)](s, 5)
	t.GotConn = hook[func(httptrace.GotConnInfo)](s, 6)
	t.WroteRequest = hook[func(httptrace.WroteRequestInfo)](s, 7)
	t.GotFirstResponseByte = hook[func()](s, 8)
}

// setNet sets n's hooks to record into p, as p.hooks(t, n) sets them,
// once set(s, t, p) has set t: n's DNS hooks are closures in s (the net
// package's DNSStart shares the ClientTrace's), its connect hooks t's.
// After set's fallback, which leaves s empty, n gets closures of its own.
func setNet(n *netTrace, s *hookSet, t *httptrace.ClientTrace, p *phases) {
	if s.p == nil {
		var t2 httptrace.ClientTrace
		p.hooks(&t2, n)
		return
	}
	n.DNSStart = *(*func(string))(unsafe.Pointer(&t.DNSStart))
	n.DNSDone = hook[func([]any, bool, error)](s, 9)
	n.ConnectStart, n.ConnectDone = t.ConnectStart, t.ConnectDone
}

// hook returns a func value of type F whose closure starts at s.code[i]
// (its code, and s.p after the code of the closures after it). F must be
// the type of hookFields' field i.
func hook[F any](s *hookSet, i int) F {
	c := &s.code[i]
	return *(*F)(unsafe.Pointer(&c))
}

// A traceCtx is the context of a recorded call's outgoing request: its
// parent inside the call ([recording.ContextWithCall]'s node, a
// [recording.CallContext] here) with the call's trace, as
// [httptrace.WithClientTrace] makes it, inside the call's own allocation. WithClientTrace adds two context
// nodes, one for the [httptrace.ClientTrace] and one for the net package's
// trace of the same hooks (DNS and connect), whose two DNS hooks are
// closures of their own: five allocations a call. A traceCtx answers
// both keys itself, found once by [findTraceKeys]; the net package's trace
// is a netTrace, a struct of the same fields as that trace's type, which
// findTraceKeys checks field by field, made at the first look-up (a dial:
// most calls get a connection already open) in the call's room for what
// few calls have ([callState.rare]). A traceCtx is used only as a [callState]'s ctx.
//
// It answers for the trace only when the parent holds no trace of the
// caller's own, which WithClientTrace composes with the call's (the hooks
// of both fire), and when the keys were found; otherwise the request gets
// WithClientTrace's context over the traceCtx's CallContext.
type traceCtx struct {
	recording.CallContext
	trace httptrace.ClientTrace
}

// state returns the call's state c is the context of.
func (c *traceCtx) state() *callState {
	return (*callState)(unsafe.Add(unsafe.Pointer(c), -int(unsafe.Offsetof(callState{}.ctx))))
}

// netTrace has the layout of the net package's trace (internal/nettrace's
// Trace), which the dialer and resolver look up in a dial's context.
type netTrace struct {
	DNSStart     func(name string)
	DNSDone      func(netIPs []any, coalesced bool, err error)
	ConnectStart func(network, addr string)
	ConnectDone  func(network, addr string, err error)
}

// Value returns the call's traces for their keys, and the parent's value
// for any other.
func (c *traceCtx) Value(key any) any {
	switch (*eface)(unsafe.Pointer(&key)).typ {
	case traceKeys.client:
		return &c.trace
	case traceKeys.net:
		// An interface value of the net package's own pointer type, to the
		// call's net trace.
		v := eface{typ: traceKeys.netType, data: unsafe.Pointer(&c.state().rare().net)}
		return *(*any)(unsafe.Pointer(&v))
	}
	return c.CallContext.Value(key)
}

func (c *traceCtx) String() string { return "httpstats.callContext" }

// eface is the layout of an interface value of type any.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// traceKeysFound holds the types of the context keys of httptrace's and
// the net package's traces, and of the net package's trace pointer. The
// keys are empty structs, so a key's type is the key.
type traceKeysFound struct {
	client, net, netType unsafe.Pointer
	ok                   bool
}

// traceKeys are the trace keys, found as the package is initialized and
// never changed after.
var traceKeys = findTraceKeys()

// keyProbe is a context that notes the keys it is asked for.
type keyProbe struct {
	context.Context
	keys []any
}

func (p *keyProbe) Value(key any) any {
	p.keys = append(p.keys, key)
	return p.Context.Value(key)
}

// findTraceKeys finds the keys that httptrace and the net package look up
// a trace by: the keys they ask a context for (ContextClientTrace, and a
// dial of a network that does not exist, which fails before any I/O),
// which WithClientTrace's context answers with the trace it was given, and
// with a net package trace of netTrace's layout. ok is false if any is
// not found so.
func findTraceKeys() traceKeysFound {
	probe := &new(callState).pt // a phases lives in a callState (phases.state)
	var tr httptrace.ClientTrace
	var nt netTrace
	probe.hooks(&tr, &nt)
	ctx := httptrace.WithClientTrace(context.Background(), &tr)
	asked := &keyProbe{Context: context.Background()}
	httptrace.ContextClientTrace(asked)
	var found traceKeysFound
	for _, k := range asked.keys {
		if v, ok := ctx.Value(k).(*httptrace.ClientTrace); ok && v == &tr {
			found.client = (*eface)(unsafe.Pointer(&k)).typ
		}
	}
	asked.keys = nil
	if _, err := (&net.Dialer{}).DialContext(asked, "appstats-probe", ""); err == nil {
		return traceKeysFound{}
	}
	want := reflect.TypeFor[netTrace]()
	for _, k := range asked.keys {
		v := ctx.Value(k)
		t := reflect.TypeOf(v)
		if t == nil || t.Kind() != reflect.Pointer || !sameLayout(t.Elem(), want) {
			continue
		}
		found.net = (*eface)(unsafe.Pointer(&k)).typ
		found.netType = (*eface)(unsafe.Pointer(&v)).typ
	}
	found.ok = found.client != nil && found.net != nil && found.client != found.net
	if !found.ok {
		return traceKeysFound{}
	}
	return found
}

// sameLayout reports whether struct types a and b have the same fields,
// by name, type and offset, and the same size.
func sameLayout(a, b reflect.Type) bool {
	if a.Kind() != reflect.Struct || b.Kind() != reflect.Struct || a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}

// withCallTrace returns parent inside call c, not nil, with the call's
// trace, ctx.trace, and its net package hooks: ctx, a traceCtx
// in the call's state, when it can serve, else [httptrace.WithClientTrace]'s
// context over ctx's CallContext. Whether parent holds a ClientTrace of
// the caller's own is asked of [recording.KnownClientTrace] (inlined: the
// record's kept answer), and of [recording.HasClientTrace] when none is
// kept, which looks the record's own context up once a record rather than
// once a call.
func withCallTrace(ctx *traceCtx, parent context.Context, c *recording.ActiveCall) context.Context {
	inCall := ctx.CallContext.Init(parent, c)
	callerTrace, known := recording.KnownClientTrace(parent)
	if !known && traceKeys.ok {
		callerTrace = recording.HasClientTrace(parent)
	}
	if !traceKeys.ok || callerTrace {
		return httptrace.WithClientTrace(inCall, &ctx.trace)
	}
	return ctx
}
