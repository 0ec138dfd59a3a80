package httpstats

import (
	"context"
	"crypto/tls"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptrace"
	"reflect"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// TestHookCodesFound checks that the hooks' closures were laid out as a
// hookSet needs on this compiler, so that the calls' hooks take no
// allocations of their own (a fallback would pass every other test).
func TestHookCodesFound(t *testing.T) {
	if !traceHooks.ok {
		t.Fatal("findHookCodes found no usable closure code; the hooks fall back to closures of their own")
	}
}

// TestNetDNSStartSharesClosure checks that the net package's DNSStart of
// a call's trace is the ClientTrace's own closure, not a closure of its
// own (a hookSet has room for numSetHooks), and that findHookCodes shares
// it only for an argument passed as a string is.
func TestNetDNSStartSharesClosure(t *testing.T) {
	var st callState
	traceHooks.set(&st.hooks, &st.ctx.trace, &st.pt)
	trace := *(*unsafe.Pointer)(unsafe.Pointer(&st.ctx.trace.DNSStart))
	net := *(*unsafe.Pointer)(unsafe.Pointer(&st.rare().net.DNSStart))
	if trace == nil || net != trace {
		t.Errorf("the net package's DNSStart is closure %p, the ClientTrace's %p", net, trace)
	}
	if trace != unsafe.Pointer(&st.hooks.code[0]) {
		t.Errorf("the ClientTrace's DNSStart is closure %p, want the hookSet's first, %p", trace, &st.hooks.code[0])
	}
	if !oneStringField(reflect.TypeFor[httptrace.DNSStartInfo]()) {
		t.Error("DNSStartInfo is not a struct of one string")
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[httptrace.DNSDoneInfo](),
		reflect.TypeFor[string](),
		reflect.TypeFor[struct{ A []byte }](),
		reflect.TypeFor[struct{ A, B string }](),
	} {
		if oneStringField(typ) {
			t.Errorf("%v taken for a struct of one string", typ)
		}
	}
}

// TestHookSetFiresItsOwnEvent fires each hook of a trace set by a hookSet,
// and by the fallback, and of the net package's trace set with it, and
// checks that it notes its own event in its own
// phases, and GotConn the connection's reuse.
func TestHookSetFiresItsOwnEvent(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	fire := []struct {
		e    event
		fire func(*callState)
	}{
		{dnsStart, func(st *callState) { st.ctx.trace.DNSStart(httptrace.DNSStartInfo{}) }},
		{dnsDone, func(st *callState) { st.ctx.trace.DNSDone(httptrace.DNSDoneInfo{}) }},
		{connStart, func(st *callState) { st.ctx.trace.ConnectStart("tcp", "a:1") }},
		{connDone, func(st *callState) { st.ctx.trace.ConnectDone("tcp", "a:1", nil) }},
		{tlsStart, func(st *callState) { st.ctx.trace.TLSHandshakeStart() }},
		{tlsDone, func(st *callState) { st.ctx.trace.TLSHandshakeDone(tls.ConnectionState{}, nil) }},
		{gotConn, func(st *callState) { st.ctx.trace.GotConn(httptrace.GotConnInfo{Reused: true}) }},
		{wrote, func(st *callState) { st.ctx.trace.WroteRequest(httptrace.WroteRequestInfo{}) }},
		{firstByte, func(st *callState) { st.ctx.trace.GotFirstResponseByte() }},
		// The net package's hooks, as its resolver and dialer call them.
		{dnsStart, func(st *callState) { st.rare().net.DNSStart("a") }},
		{dnsDone, func(st *callState) { st.rare().net.DNSDone(nil, false, nil) }},
		{connStart, func(st *callState) { st.rare().net.ConnectStart("tcp", "a:1") }},
		{connDone, func(st *callState) { st.rare().net.ConnectDone("tcp", "a:1", nil) }},
	}
	if len(fire) != numHooks+2 {
		t.Fatalf("%d hooks fired, want %d", len(fire), numHooks+2)
	}
	for _, codes := range []struct {
		name string
		hc   *hookCodes
	}{{"hookSet", &traceHooks}, {"fallback", &hookCodes{}}} {
		for _, f := range fire {
			// Two states side by side: a hook of one must not write to the other.
			var st [2]callState
			for i := range st {
				codes.hc.set(&st[i].hooks, &st[i].ctx.trace, &st[i].pt)
			}
			f.fire(&st[1])
			if st[0].pt.seen != 0 {
				t.Errorf("%s: event %d noted in the other call's phases", codes.name, f.e)
			}
			if got, want := st[1].pt.seen, uint16(1)<<f.e; got != want {
				t.Errorf("%s: event %d noted events %b, want %b", codes.name, f.e, got, want)
			}
			if got, want := st[1].pt.reused, f.e == gotConn; got != want {
				t.Errorf("%s: event %d: reused %v, want %v", codes.name, f.e, got, want)
			}
			if st[1].ctx.trace.GetConn != nil || st[1].ctx.trace.Got100Continue != nil || st[1].ctx.trace.WroteHeaders != nil {
				t.Errorf("%s: hooks the phases do not use are set", codes.name)
			}
		}
	}
}

// TestHookClosuresCaptureOnlyP reads phases.hooks' source and checks that
// each of its closures refers to one variable of hooks, an after (p after
// words it does not read): a hookSet gives a closure room for its code and
// p, where p is shared with the closures before it, so a closure that
// captured anything more would read another closure's code. findHookCodes
// checks where p is, not what else a closure holds; this test is what
// stops such a change.
func TestHookClosuresCaptureOnlyP(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "transport.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var hooks *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "hooks" && fd.Recv != nil {
			hooks = fd
		}
	}
	if hooks == nil {
		t.Fatal("transport.go has no method hooks")
	}
	// The names hooks declares: its receiver, its parameters, and anything
	// declared in its body outside the closures; and which of them are
	// afters, set as after[W]{p: p}.
	outer := map[string]bool{}
	afters := map[string]bool{}
	for _, fl := range []*ast.FieldList{hooks.Recv, hooks.Type.Params} {
		for _, fld := range fl.List {
			for _, n := range fld.Names {
				outer[n.Name] = true
			}
		}
	}
	isAfter := func(e ast.Expr) bool {
		cl, ok := e.(*ast.CompositeLit)
		if !ok {
			return false
		}
		ix, ok := cl.Type.(*ast.IndexExpr)
		if !ok {
			return false
		}
		id, ok := ix.X.(*ast.Ident)
		return ok && id.Name == "after"
	}
	ast.Inspect(hooks.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						outer[id.Name] = true
						if len(n.Rhs) == len(n.Lhs) && isAfter(n.Rhs[i]) {
							afters[id.Name] = true
						}
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				outer[id.Name] = true
			}
		}
		return true
	})
	closures := 0
	ast.Inspect(hooks.Body, func(n ast.Node) bool {
		fl, ok := n.(*ast.FuncLit)
		if !ok {
			return true
		}
		closures++
		own := map[string]bool{}
		ast.Inspect(fl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				for _, id := range n.Names {
					own[id.Name] = true
				}
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE {
					for _, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							own[id.Name] = true
						}
					}
				}
			}
			return true
		})
		captured := map[string]bool{}
		var free func(n ast.Node) bool
		free = func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr: // x.f: f names a field or method, not a variable
				ast.Inspect(n.X, free)
				return false
			case *ast.KeyValueExpr: // T{f: v}: likewise f
				ast.Inspect(n.Value, free)
				return false
			case *ast.Ident:
				if outer[n.Name] && !own[n.Name] {
					captured[n.Name] = true
					if !afters[n.Name] {
						t.Errorf("%s: a hook's closure captures %s, not an after", fset.Position(n.Pos()), n.Name)
					}
				}
			}
			return true
		}
		ast.Inspect(fl.Body, free)
		if len(captured) != 1 {
			t.Errorf("%s: a hook's closure captures %d variables, want one after", fset.Position(fl.Pos()), len(captured))
		}
		return false
	})
	if closures != numHooks {
		t.Errorf("phases.hooks makes %d closures, a hookSet has room for %d", closures, numHooks)
	}
	if len(afters) != numSetHooks {
		t.Errorf("phases.hooks sets %d afters, want one for each of a hookSet's %d closures", len(afters), numSetHooks)
	}
}

// TestTraceKeysFound checks that the keys of httptrace's and the net
// package's traces were found on this Go, so that a call's context takes
// no allocations of its own (a fallback to httptrace.WithClientTrace would
// pass every other test).
func TestTraceKeysFound(t *testing.T) {
	if !traceKeys.ok {
		t.Fatal("findTraceKeys found no trace keys; calls fall back to httptrace.WithClientTrace")
	}
}

// TestTraceCtxAnswersAsWithClientTrace checks that a call's traceCtx
// answers httptrace's key with the call's trace, the net package's key
// with a trace of that package's type holding the call's net hooks (as
// the dialer finds it), and any other key as its parent does; and that a
// parent holding a caller's own trace gets WithClientTrace's context,
// which composes both. Either way the context is inside the call, as
// recording.ContextWithCall's is.
func TestTraceCtxAnswersAsWithClientTrace(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	c := ar.StartCall("test", "call")
	defer c.End(nil)
	type key struct{}
	parent := context.WithValue(rctx, key{}, "v")
	var st callState
	traceHooks.set(&st.hooks, &st.ctx.trace, &st.pt)
	ctx := withCallTrace(&st.ctx, parent, c)
	if ctx != context.Context(&st.ctx) {
		t.Fatalf("withCallTrace returned %T, want the call's own context", ctx)
	}
	if got := recording.CallFromContext(ctx); got != c || st.ctx.Call() != c {
		t.Errorf("CallFromContext = %p, the node's call %p, want the call %p", got, st.ctx.Call(), c)
	}
	if got := recording.FromContext(ctx); got != ar {
		t.Errorf("FromContext = %p, want the record %p", got, ar)
	}
	if ctx.Done() != parent.Done() {
		t.Error("Done is not the parent's")
	}
	if got := httptrace.ContextClientTrace(ctx); got != &st.ctx.trace {
		t.Errorf("ContextClientTrace = %p, want the call's trace %p", got, &st.ctx.trace)
	}
	if got := ctx.Value(key{}); got != "v" {
		t.Errorf("Value(key) = %v, want the parent's v", got)
	}
	// WithClientTrace's context answers the net package's key with a
	// value of its type: the call's context must answer with the same type.
	std := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{ConnectStart: func(string, string) {}})
	nk := *(*any)(unsafe.Pointer(&eface{typ: traceKeys.net}))
	want, got := std.Value(nk), ctx.Value(nk)
	if reflect.TypeOf(got) != reflect.TypeOf(want) || reflect.TypeOf(got) == nil {
		t.Fatalf("the net trace is a %T, want a %T", got, want)
	}
	if p := reflect.ValueOf(got).UnsafePointer(); p != unsafe.Pointer(&st.rare().net) {
		t.Errorf("the net trace is at %p, want the call's %p", p, &st.rare().net)
	}
	st.rare().net.ConnectDone("tcp", "a:1", nil)
	if st.pt.seen != 1<<connDone {
		t.Errorf("the net trace's ConnectDone noted %b, want %b", st.pt.seen, 1<<connDone)
	}

	user := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {}}
	var st2 callState
	traceHooks.set(&st2.hooks, &st2.ctx.trace, &st2.pt)
	ctx = withCallTrace(&st2.ctx, httptrace.WithClientTrace(parent, user), c)
	if ctx == context.Context(&st2.ctx) {
		t.Fatal("a parent with a trace of its own got the call's own context, which does not compose them")
	}
	if got := recording.CallFromContext(ctx); got != c {
		t.Errorf("composed: CallFromContext = %p, want the call %p", got, c)
	}
	if httptrace.ContextClientTrace(ctx) != &st2.ctx.trace {
		t.Error("the composed context does not carry the call's trace")
	}
}
