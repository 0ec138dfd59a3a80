package httpstats

import (
	"context"
	"crypto/tls"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptrace"
	"testing"

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

// TestHookSetFiresItsOwnEvent fires each hook of a trace set by a hookSet,
// and by the fallback, and checks that it notes its own event in its own
// phases, and GotConn the connection's reuse.
func TestHookSetFiresItsOwnEvent(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	fire := []struct {
		e    event
		fire func(*httptrace.ClientTrace)
	}{
		{dnsStart, func(tr *httptrace.ClientTrace) { tr.DNSStart(httptrace.DNSStartInfo{}) }},
		{dnsDone, func(tr *httptrace.ClientTrace) { tr.DNSDone(httptrace.DNSDoneInfo{}) }},
		{connStart, func(tr *httptrace.ClientTrace) { tr.ConnectStart("tcp", "a:1") }},
		{connDone, func(tr *httptrace.ClientTrace) { tr.ConnectDone("tcp", "a:1", nil) }},
		{tlsStart, func(tr *httptrace.ClientTrace) { tr.TLSHandshakeStart() }},
		{tlsDone, func(tr *httptrace.ClientTrace) { tr.TLSHandshakeDone(tls.ConnectionState{}, nil) }},
		{gotConn, func(tr *httptrace.ClientTrace) { tr.GotConn(httptrace.GotConnInfo{Reused: true}) }},
		{wrote, func(tr *httptrace.ClientTrace) { tr.WroteRequest(httptrace.WroteRequestInfo{}) }},
		{firstByte, func(tr *httptrace.ClientTrace) { tr.GotFirstResponseByte() }},
	}
	if len(fire) != numHooks {
		t.Fatalf("%d hooks fired, want %d", len(fire), numHooks)
	}
	for _, codes := range []struct {
		name string
		hc   *hookCodes
	}{{"hookSet", &traceHooks}, {"fallback", &hookCodes{}}} {
		for _, f := range fire {
			// Two states side by side: a hook of one must not write to the other.
			var st [2]callState
			for i := range st {
				st[i].pt.c = ar.StartCall("test", "call")
				codes.hc.set(&st[i].hooks, &st[i].trace, &st[i].pt)
			}
			f.fire(&st[1].trace)
			if st[0].pt.seen != 0 {
				t.Errorf("%s: event %d noted in the other call's phases", codes.name, f.e)
			}
			if got, want := st[1].pt.seen, uint16(1)<<f.e; got != want {
				t.Errorf("%s: event %d noted events %b, want %b", codes.name, f.e, got, want)
			}
			if got, want := st[1].pt.reused, f.e == gotConn; got != want {
				t.Errorf("%s: event %d: reused %v, want %v", codes.name, f.e, got, want)
			}
			if st[1].trace.GetConn != nil || st[1].trace.Got100Continue != nil || st[1].trace.WroteHeaders != nil {
				t.Errorf("%s: hooks the phases do not use are set", codes.name)
			}
		}
	}
}

// TestHookClosuresCaptureOnlyP reads phases.hooks' source and checks that
// each of its closures refers to no variable of hooks but p: a hookSet
// gives a closure room for p alone, so a closure that captured anything
// more would read past it. findHookCodes checks where p is, not what else
// a closure holds; this test is what stops such a change.
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
	// declared in its body outside the closures.
	outer := map[string]bool{}
	for _, fl := range []*ast.FieldList{hooks.Recv, hooks.Type.Params} {
		for _, fld := range fl.List {
			for _, n := range fld.Names {
				outer[n.Name] = true
			}
		}
	}
	ast.Inspect(hooks.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						outer[id.Name] = true
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
				if outer[n.Name] && !own[n.Name] && n.Name != "p" {
					t.Errorf("%s: a hook's closure captures %s", fset.Position(n.Pos()), n.Name)
				}
			}
			return true
		}
		ast.Inspect(fl.Body, free)
		return false
	})
	if closures != numHooks {
		t.Errorf("phases.hooks makes %d closures, a hookSet has room for %d", closures, numHooks)
	}
}
