package httpstats

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestServerMadeContexts: the context each of net/http's servers (HTTP/1,
// HTTP/1 over TLS, h2c, TLS h2) gives a request is told as the server's by
// serverMade, without a walk through it, and so is one a handler derives
// from it with context.WithCancel; a WithCancel over a record's context, or
// over a value of the application's, is not (handler.outerRecord searches
// it). It fails should a Go release lay out the context package's nodes
// otherwise (ctxLayout false: correct, ~150 instructions a request dearer),
// or make a server's request context of other nodes.
func TestServerMadeContexts(t *testing.T) {
	if !ctxLayout {
		t.Fatal("ctxLayout false: the context package's nodes are not laid out as serverMade reads them")
	}
	type key struct{}
	for _, p := range []struct {
		name       string
		tls, http2 bool
		base       bool // a BaseContext and a ConnContext with values of the application's
	}{
		{"http1", false, false, false},
		{"http1-tls", true, false, false},
		{"h2c", false, true, false},
		{"h2-tls", true, true, false},
		{"http1 BaseContext", false, false, true},
		{"h2-tls BaseContext", true, true, true},
	} {
		t.Run(p.name, func(t *testing.T) {
			got := make(chan [4]bool, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				var res [4]bool
				res[0] = typeWord(&ctx) == serverCtxTab && serverMade(&ctx)
				c1, cancel := context.WithCancel(ctx)
				defer cancel()
				res[1] = serverMade(&c1)
				c2, cancel2 := context.WithCancel(recording.NewContext(ctx, nil))
				defer cancel2()
				res[2] = serverMade(&c2)
				c3, cancel3 := context.WithCancel(context.WithValue(ctx, key{}, 1))
				defer cancel3()
				res[3] = serverMade(&c3)
				got <- res
			}))
			if p.base {
				srv.Config.BaseContext = func(net.Listener) context.Context {
					return context.WithValue(context.Background(), key{}, 1)
				}
				srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
					return context.WithValue(ctx, key{}, 2)
				}
			}
			srv.EnableHTTP2 = p.http2
			if p.tls {
				srv.StartTLS()
			} else {
				if p.http2 {
					srv.Config.Protocols = new(http.Protocols)
					srv.Config.Protocols.SetUnencryptedHTTP2(true)
				}
				srv.Start()
			}
			defer srv.Close()
			client := srv.Client()
			if p.http2 && !p.tls {
				tr := client.Transport.(*http.Transport).Clone()
				tr.Protocols = new(http.Protocols)
				tr.Protocols.SetUnencryptedHTTP2(true)
				client = &http.Client{Transport: tr}
			}
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.ProtoMajor != 1+btoi(p.http2) {
				t.Fatalf("served over %s", resp.Proto)
			}
			res := <-got
			// A BaseContext's values lie under the server's own.
			if want := [4]bool{true, true, false, false}; res != want {
				t.Errorf("serverMade: the request's context %v, a WithCancel over it %v, over a record's %v, over a value of the application's %v; want %v",
					res[0], res[1], res[2], res[3], want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCtxLayoutOf: the check of the context package's layout that comes
// before ctxLayout reads a node's memory takes the types context.WithCancel
// and context.WithValue make, and refuses types of another layout — a
// parent not first, not at offset 0, not a context.Context; a key not
// second, not an interface, not at its offset — from the types alone (the
// nodes given here are never read: ctxLayoutOf takes no memory).
func TestCtxLayoutOf(t *testing.T) {
	base := context.WithValue(context.Background(), http.LocalAddrContextKey, 1)
	c, cancel := context.WithCancel(base)
	defer cancel()
	cancelT, valueT := reflect.TypeOf(c), reflect.TypeOf(base)
	if !ctxLayoutOf(cancelT, valueT) {
		t.Fatalf("ctxLayoutOf(%v, %v) false: the context package's own types refused", cancelT, valueT)
	}
	type (
		doneFirst struct {
			done   chan struct{}
			parent context.Context
		}
		parentNotContext struct {
			parent any
		}
		keySwapped struct {
			context.Context
			val, key any
		}
		keyNotInterface struct {
			context.Context
			key string
			val any
		}
		keyLate struct {
			context.Context
			pad int
		}
		valueNoKey struct{ context.Context }
	)
	// The fields are read through reflect only (staticcheck's U1000
	// would call them unused).
	_ = []any{doneFirst{}.done, doneFirst{}.parent, parentNotContext{}.parent, keySwapped{}.val, keySwapped{}.key,
		keyNotInterface{}.key, keyNotInterface{}.val, keyLate{}.pad}
	for _, tt := range []struct {
		name          string
		cancel, value reflect.Type
	}{
		{"cancel: parent second", reflect.TypeFor[*doneFirst](), valueT},
		{"cancel: parent not a Context", reflect.TypeFor[*parentNotContext](), valueT},
		{"cancel: not a pointer", cancelT.Elem(), valueT},
		{"cancel: nil", nil, valueT},
		{"value: parent second", cancelT, reflect.TypeFor[*doneFirst]()},
		{"value: key third", cancelT, reflect.TypeFor[*keySwapped]()},
		{"value: key not an interface", cancelT, reflect.TypeFor[*keyNotInterface]()},
		{"value: no key", cancelT, reflect.TypeFor[*valueNoKey]()},
		{"value: second field not the key", cancelT, reflect.TypeFor[*keyLate]()},
		{"value: not a pointer", cancelT, valueT.Elem()},
	} {
		if ctxLayoutOf(tt.cancel, tt.value) {
			t.Errorf("%s: ctxLayoutOf(%v, %v) true, want false", tt.name, tt.cancel, tt.value)
		}
	}
}
