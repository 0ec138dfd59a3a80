package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

func phaseNames(c recording.Call) []string {
	var out []string
	for _, p := range c.Phases {
		out = append(out, p.Name)
	}
	return out
}

// TestTransportPhasesTLSReuse makes two calls to a TLS loopback server within
// one request: the first dials (connect, tls), the second reuses the
// connection.
func TestTransportPhasesTLSReuse(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from backend")
	}))
	defer backend.Close()
	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.Transport(backend.Client().Transport)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL+"/items/12?api_key=k", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ar.Finish()
	recs := flush(t, rec, sink)
	calls := recs[0].Calls
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	host := strings.TrimPrefix(backend.URL, "https://")
	for i, c := range calls {
		if c.Service != "http" || c.Method != "GET "+host+"/items/{id}" {
			t.Errorf("call %d: %s %s", i, c.Service, c.Method)
		}
		if c.Attr("http.response.status_code") != "200" || c.ResponseSize != int64(len("hello from backend")) {
			t.Errorf("call %d: status %q size %d", i, c.Attr("http.response.status_code"), c.ResponseSize)
		}
		full := backend.URL + "/items/12?api_key=%5BREDACTED%5D"
		if c.Request != "GET "+full || c.Attr("url.full") != full {
			t.Errorf("call %d: request summary %q, url.full %q; want them redacted: %q", i, c.Request, c.Attr("url.full"), full)
		}
		if _, port, _ := net.SplitHostPort(host); c.Attr("server.address") != "127.0.0.1" || c.Attr("server.port") != port ||
			c.Attr("http.request.method") != "GET" {
			t.Errorf("call %d: attrs %v", i, c.Attrs)
		}
		if c.Running || c.Error != "" {
			t.Errorf("call %d: running %v error %q", i, c.Running, c.Error)
		}
		var sum time.Duration
		for _, p := range c.Phases {
			if p.Start < c.Start || p.Start+p.Duration > c.End()+time.Millisecond {
				t.Errorf("call %d: phase %s [%v,+%v] outside call [%v,%v]", i, p.Name, p.Start, p.Duration, c.Start, c.End())
			}
			sum += p.Duration
		}
	}
	if got := fmt.Sprint(phaseNames(calls[0])); got != "[connect tls send wait receive]" {
		t.Errorf("first call phases %s", got)
	}
	if calls[0].Attr("http.connection.reused") != "false" || calls[1].Attr("http.connection.reused") != "true" {
		t.Errorf("reuse attrs: %q %q", calls[0].Attr("http.connection.reused"), calls[1].Attr("http.connection.reused"))
	}
	if got := fmt.Sprint(phaseNames(calls[1])); got != "[send wait receive]" {
		t.Errorf("second call phases %s", got)
	}
}

func TestTransportRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.Transport(nil)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/x", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	ar.Finish()
	recs := flush(t, rec, sink)
	c := recs[0].Calls
	if len(c) != 1 || !strings.Contains(c[0].Error, "refused") || c[0].Running {
		t.Fatalf("calls %+v", c)
	}
}

// TestTransportBodyReadCounted checks that reading a slow body is part of
// the call: the call lasts until EOF, and the receive phase covers it.
func TestTransportBodyReadCounted(t *testing.T) {
	const pause = 150 * time.Millisecond
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "head;")
		http.NewResponseController(w).Flush()
		time.Sleep(pause)
		fmt.Fprint(w, "tail")
	}))
	defer backend.Close()
	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.Transport(nil)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	b, _ := io.ReadAll(resp.Body)
	read := time.Since(returned)
	resp.Body.Close()
	ar.Finish()
	recs := flush(t, rec, sink)
	c := recs[0].Calls[0]
	if string(b) != "head;tail" || c.ResponseSize != 9 {
		t.Fatalf("body %q size %d", b, c.ResponseSize)
	}
	// The body read took at least pause (the server slept); the call must
	// include it, and the receive phase must cover most of it.
	if read < pause || c.Duration < read {
		t.Fatalf("call %v, body read %v: reading is not inside the call", c.Duration, read)
	}
	recv := c.Phases[len(c.Phases)-1]
	if recv.Name != "receive" || recv.Duration < pause {
		t.Fatalf("receive phase %+v", recv)
	}
}

// TestTransportUnclosedBodyIsRunning: a body never read nor closed leaves the
// call running when the request ends, and the record says so.
func TestTransportUnclosedBodyIsRunning(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	defer backend.Close()
	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.Transport(nil)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	resp.Body.Close() // after the request ended: no effect on the record
	recs := flush(t, rec, sink)
	c := recs[0].Calls[0]
	if !c.Running || len(recs[0].Warnings) != 1 || recs[0].Warnings[0].Kind != recording.WarnRunning {
		t.Fatalf("call running=%v warnings %+v", c.Running, recs[0].Warnings)
	}
}

// TestTransportPropagates checks that a recorded service calling a recorded
// service makes one trace: the callee's record takes the caller's trace ID
// and has the caller's call span as parent.
func TestTransportPropagates(t *testing.T) {
	rec, sink := newRecorder(t)
	b := httptest.NewServer(httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "b")
	})))
	defer b.Close()
	client := &http.Client{Transport: httpstats.Transport(nil)}
	a := httptest.NewServer(httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", b.URL+"/b", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	})))
	defer a.Close()
	get(t, a.Client(), a.URL+"/a")
	recs := flush(t, rec, sink)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	recB, recA := recs[0], recs[1]
	if recA.Path != "/a" {
		recA, recB = recB, recA
	}
	call := recA.Calls[0]
	if recB.TraceID != recA.TraceID || recB.ParentSpanID != call.SpanID {
		t.Fatalf("B trace %s parent %s; A trace %s call span %s", recB.TraceID, recB.ParentSpanID, recA.TraceID, call.SpanID)
	}
}

func TestTransportPassThrough(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") != "" {
			t.Errorf("traceparent injected without a recorded request")
		}
	}))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.Transport(nil)}
	resp, err := client.Get(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
