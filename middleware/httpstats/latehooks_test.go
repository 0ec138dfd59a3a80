package httpstats_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportLateHooks fires every trace hook of the finished calls of a
// record again, as net/http may after a call ended (a dial that finished
// for another request, HTTP/2's late WroteRequest), while more calls run.
// Run with -race, it shows that a call's hooks touch only that call's
// state, which no other call reuses; and it checks that the late events
// changed no call: the calls that reused a connection have no dns,
// connect or tls phase, and none has a dns phase (the server's address is
// an IP). The net package's DNS and connect hooks, which a call's context
// holds apart from its ClientTrace, are fired by dials by name through the
// contexts of the finished calls.
func TestTransportLateHooks(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			const calls = 20
			srv, client := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}), p.tls, p.http2)
			// The calls' contexts, as base is given them (the response's
			// Request is the caller's).
			sent := &sentContexts{base: client.Transport}
			client.Transport = httpstats.NewTransport(sent)
			rec, sink := newRecorder(t, recording.WithMaxStack(0))
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			var traces []*httptrace.ClientTrace
			var ctxs []context.Context
			// Dials through a call's context connect here (the kernel
			// completes them; nothing accepts).
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			var wg sync.WaitGroup
			for range calls {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				callCtx := sent.last()
				tr := httptrace.ContextClientTrace(callCtx)
				if tr == nil {
					t.Fatal("no client trace in the request sent")
				}
				traces = append(traces, tr)
				ctxs = append(ctxs, callCtx)
				for _, tr := range traces {
					wg.Go(func() { fireAll(tr) })
				}
				for _, ctx := range ctxs {
					// The net package's hooks, which the call's context
					// holds apart from tr: a dial by name, as one the call
					// started may finish late, fires its DNS and connect hooks.
					wg.Go(func() {
						if c, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort("localhost", port)); err == nil {
							c.Close()
						}
					})
				}
			}
			wg.Wait()
			ar.Finish()
			recs := flush(t, rec, sink)
			if len(recs) != 1 || len(recs[0].Calls) != calls {
				t.Fatalf("got %d records, want 1 of %d calls", len(recs), calls)
			}
			reused := 0
			for i, c := range recs[0].Calls {
				var names []string
				for _, ph := range c.Phases {
					names = append(names, ph.Name)
				}
				if slices.Contains(names, "dns") {
					t.Errorf("call %d: a dns phase: %v", i, names)
				}
				if attrValue(c, "appstats.http.connection.reused") != "true" {
					continue
				}
				reused++
				if slices.Contains(names, "connect") || slices.Contains(names, "tls") {
					t.Errorf("call %d reused its connection, but has phases %v", i, names)
				}
			}
			if reused < calls-1 {
				t.Errorf("%d calls reused a connection, want at least %d", reused, calls-1)
			}
		})
	}
}

// sentContexts is a RoundTripper that notes the context of the last
// request it was given, and sends it through base.
type sentContexts struct {
	base http.RoundTripper
	mu   sync.Mutex
	ctx  context.Context
}

func (s *sentContexts) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.ctx = req.Context()
	s.mu.Unlock()
	return s.base.RoundTrip(req)
}

func (s *sentContexts) last() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// attrValue returns the value of c's attribute key, or "".
func attrValue(c recording.Call, key string) string {
	for _, a := range c.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// fireAll calls every hook of tr that the transport sets.
func fireAll(tr *httptrace.ClientTrace) {
	tr.DNSStart(httptrace.DNSStartInfo{Host: "x"})
	tr.DNSDone(httptrace.DNSDoneInfo{})
	tr.ConnectStart("tcp", "127.0.0.1:1")
	tr.ConnectDone("tcp", "127.0.0.1:1", nil)
	tr.TLSHandshakeStart()
	tr.TLSHandshakeDone(tls.ConnectionState{}, nil)
	tr.GotConn(httptrace.GotConnInfo{Reused: true})
	tr.WroteRequest(httptrace.WroteRequestInfo{})
	tr.GotFirstResponseByte()
}

// TestTransportUserTrace makes calls whose context carries a trace of the
// caller's own: httptrace composes the transport's hooks with it, and both
// must see their events — the caller's hooks fire, and the calls have
// their phases and connection reuse.
func TestTransportUserTrace(t *testing.T) {
	srv, client := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), false, false)
	client.Transport = httpstats.NewTransport(client.Transport)
	rec, sink := newRecorder(t, recording.WithMaxStack(0))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	// The hooks run on net/http's goroutines.
	var conns, firstBytes, connects atomic.Int32
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		ConnectDone:          func(string, string, error) { connects.Add(1) },
		GotConn:              func(httptrace.GotConnInfo) { conns.Add(1) },
		GotFirstResponseByte: func() { firstBytes.Add(1) },
	})
	const calls = 3
	for range calls {
		fetch(t, ctx, client, "GET", srv.URL+"/x", nil)
	}
	ar.Finish()
	recs := flush(t, rec, sink)
	if conns.Load() != calls || firstBytes.Load() != calls || connects.Load() != 1 {
		t.Errorf("the caller's hooks saw %d connections, %d first bytes and %d connects; want %d, %d and 1", conns.Load(), firstBytes.Load(), connects.Load(), calls, calls)
	}
	if len(recs) != 1 || len(recs[0].Calls) != calls {
		t.Fatalf("got %d records, want 1 of %d calls", len(recs), calls)
	}
	for i, c := range recs[0].Calls {
		var names []string
		for _, ph := range c.Phases {
			names = append(names, ph.Name)
		}
		want := []string{"send", "wait", "receive"}
		if i == 0 {
			want = []string{"connect", "send", "wait", "receive"}
		}
		if !slices.Equal(names, want) {
			t.Errorf("call %d: phases %v, want %v", i, names, want)
		}
		if got, want := attrValue(c, "appstats.http.connection.reused"), strconv.FormatBool(i > 0); got != want {
			t.Errorf("call %d: connection reused %q, want %q", i, got, want)
		}
	}
}
