package httpstats

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"reflect"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestLateHooksAndCloseAfterReuse checks that what a call hands out that
// may be used after the call ended (its request's context, the trace that
// context carries, and its response body) still reaches that call alone
// once a later call has taken the request copy it left: the later call's
// record, request and body are not touched by the first call's late
// hooks, by its body closed and read again, or by its context asked for
// its trace. The late events are forced, one after another, while the
// second call's body is still unread: the first call's DNS and TLS hooks
// (which a dial net/http began for it and then gave to another request
// fires late; the second call, over a new plain connection to an IP
// address, has neither), its GotConn, WroteRequest and first byte, and
// its body's Close and Read.
func TestLateHooksAndCloseAfterReuse(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Traceparent"))
		if r.URL.Path == "/slow" {
			w.(http.Flusher).Flush() // the response's head, and part of its body
			<-release
			io.WriteString(w, "-end")
		}
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := NewTransport(base)
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	defer rec.Close(context.Background())

	// The two calls, each in a record of its own path, until the second
	// takes the entry the first gave back: sync.Pool may drop what is
	// put (the race detector makes it do so at random, a quarter of the
	// time).
	var (
		ar             *recording.ActiveRecord
		path           string
		resp1, resp2   *http.Response
		st2            *callState
		ctx1           context.Context
		trace1         *httptrace.ClientTrace
		body1          []byte
		attempts, done int
	)
	for {
		attempts++
		if attempts > 100 {
			t.Fatal("in 100 attempts, the second call never took the entry the first gave back")
		}
		var ctx context.Context
		path = fmt.Sprintf("/attempt-%d", attempts)
		ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})

		// The first call, read to its end and closed: its entry goes back.
		req1, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/one", nil)
		var err error
		resp1, err = rt.RoundTrip(req1)
		if err != nil {
			t.Fatal(err)
		}
		st1 := resp1.Body.(*callState)
		out1 := &st1.out.req
		ctx1 = out1.Context()
		trace1 = httptrace.ContextClientTrace(ctx1)
		if trace1 == nil {
			t.Fatal("the first call's context carries no trace")
		}
		if body1, err = io.ReadAll(resp1.Body); err != nil {
			t.Fatal(err)
		}
		resp1.Body.Close()
		if st1.out != nil {
			t.Fatal("the first call's entry was not given back")
		}

		// The second call dials (a plain connection to an IP address: no
		// DNS, no TLS), and waits with its body half sent.
		base.CloseIdleConnections()
		req2, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
		resp2, err = rt.RoundTrip(req2)
		if err != nil {
			t.Fatal(err)
		}
		st2 = resp2.Body.(*callState)
		if &st2.out.req == out1 {
			break
		}
		release <- struct{}{}
		io.Copy(io.Discard, resp2.Body)
		resp2.Body.Close()
		ar.Finish()
		done++
	}
	sent2 := st2.out.req.Header.Get("Traceparent")

	// The first call's late events.
	trace1.DNSStart(httptrace.DNSStartInfo{Host: "late"})
	trace1.DNSDone(httptrace.DNSDoneInfo{})
	trace1.TLSHandshakeStart()
	trace1.TLSHandshakeDone(tls.ConnectionState{}, nil)
	trace1.GotConn(httptrace.GotConnInfo{})
	trace1.WroteRequest(httptrace.WroteRequestInfo{})
	trace1.GotFirstResponseByte()
	if err := resp1.Body.Close(); err != nil {
		t.Errorf("the first body's second Close: %v", err)
	}
	if n, err := resp1.Body.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Errorf("a Read of the first body after its Close: %d bytes, %v; want none and an error", n, err)
	}
	if got := httptrace.ContextClientTrace(ctx1); got != trace1 {
		t.Errorf("the first call's context now carries trace %p, want its own %p", got, trace1)
	}
	if got := httptrace.ContextClientTrace(st2.out.req.Context()); got == trace1 {
		t.Error("the second call's context carries the first call's trace")
	}

	release <- struct{}{}
	body2, err := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if err != nil || string(body2) != sent2+"-end" {
		t.Errorf("the second body: %q, %v; want %q", body2, err, sent2+"-end")
	}
	ar.Finish()
	var r *recording.Record
	for _, x := range sink.Wait(context.Background(), done+1) {
		if x.Path == path {
			r = x
		}
	}
	if r == nil || len(r.Calls) != 2 {
		t.Fatalf("the record of %s: %+v; want one of 2 calls", path, r)
	}
	c1, c2 := r.Calls[0], r.Calls[1]
	if c1.ResponseSize != int64(len(body1)) || c2.ResponseSize != int64(len(body2)) {
		t.Errorf("response sizes %d and %d, want %d and %d", c1.ResponseSize, c2.ResponseSize, len(body1), len(body2))
	}
	for _, ph := range c2.Phases {
		if ph.Name == "dns" || ph.Name == "tls" {
			t.Errorf("the second call has a %s phase (%v), which only the first call's late hooks could give it", ph.Name, c2.Phases)
		}
	}
	var names []string
	for _, ph := range c2.Phases {
		names = append(names, ph.Name)
	}
	if got := strings.Join(names, ","); got != "connect,send,wait,receive" {
		t.Errorf("the second call's phases are %s, want connect,send,wait,receive", got)
	}
	for _, a := range c2.Attrs {
		if a.Key == "appstats.http.connection.reused" && a.Value != "false" {
			t.Errorf("the second call, on a new connection, says reused %s", a.Value)
		}
	}
}

// TestRequestWithCancelKeepsEntry checks that a request with a
// (deprecated) Cancel channel does not give its entry back: net/http
// watches the channel from a goroutine of its own, which reads the
// request copy's field when it first runs, maybe after the call ended,
// when the copy would be another call's.
func TestRequestWithCancelKeepsEntry(t *testing.T) {
	srv, base := echoServer(t)
	rt := NewTransport(base)
	ctx := inRecord(t)
	for _, withCancel := range []bool{false, true} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
		if withCancel {
			//lint:ignore SA1019 callers still set the deprecated field; its entry must not be reused
			req.Cancel = make(chan struct{})
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		st := resp.Body.(*callState)
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if given := st.out == nil; given == withCancel {
			t.Errorf("a request with a Cancel channel %v: entry given back %v, want %v", withCancel, given, !withCancel)
		}
	}
}

// TestGivenBackEntryKeepsNoCall checks that an entry given back to the
// transport's pool keeps nothing of the call that ended: its request
// copy, whose context is the call's (its state, its record and the
// caller's context), URL and body, is emptied, so that the pool keeps no
// ended request alive.
func TestGivenBackEntryKeepsNoCall(t *testing.T) {
	srv, base := echoServer(t)
	rt := NewTransport(base)
	req, _ := http.NewRequestWithContext(inRecord(t), "GET", srv.URL+"/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	st := resp.Body.(*callState)
	e := st.out
	if e.req.Context() != context.Context(&st.ctx) {
		t.Fatalf("the request copy's context is %v, want the call's", e.req.Context())
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if st.out != nil {
		t.Fatal("the entry was not given back")
	}
	if !reflect.ValueOf(&e.req).Elem().IsZero() {
		t.Errorf("the entry given back keeps a request copy (URL %v, header %v)", e.req.URL, e.req.Header)
	}
}
