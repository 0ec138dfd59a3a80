package httpstats_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// an include filter on a header drops every record when headers are not kept.
func TestEdgeIncludeHeaderFilterWithoutHeaders(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithInclude(recording.Filter{Header: "X-Debug"}))
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), httpstats.WithHeaders(false))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("X-Debug", "1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	recs := flush(t, rec, sink)
	st := rec.Stats()
	if len(recs) != 1 {
		t.Errorf("include{Header} + WithHeaders(false): %d records (filtered=%d), want 1", len(recs), st.Filtered)
	}
}

// R1b: an exclude filter on route+header never excludes when headers are not kept.
func TestEdgeExcludeRouteHeaderWithoutHeaders(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithExclude(recording.Filter{Route: "GET /x", Header: "X-Health"}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	h := httpstats.Handler(rec, mux, httpstats.WithHeaders(false))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("X-Health", "1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	recs := flush(t, rec, sink)
	if len(recs) != 0 {
		t.Errorf("exclude{Route,Header} + WithHeaders(false): %d records, want 0", len(recs))
	}
}

// outgoing body of unknown length (ContentLength 0, non-nil Body) recorded as 0 bytes.
func TestEdgeTransportStreamingBodySize(t *testing.T) {
	rec, sink := newRecorder(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.Transport(nil)}
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, pw := io.Pipe()
		go func() { pw.Write([]byte(strings.Repeat("x", 1000))); pw.Close() }()
		req, _ := http.NewRequestWithContext(r.Context(), "POST", backend.URL, pr)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	recs := flush(t, rec, sink)
	if got := recs[0].Calls[0].RequestSize; got != 1000 {
		t.Errorf("RequestSize = %d, want 1000 (ContentLength 0 + Body = unknown length for clients)", got)
	}
}

// sampled-out request: trace context not propagated downstream.
func TestEdgeUnsampledNoPropagation(t *testing.T) {
	rec, _ := newRecorder(t, recording.WithSampleRate(0))
	var got string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("traceparent") }))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.Transport(nil)}
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got == "" {
		t.Errorf("unsampled request: incoming traceparent not propagated downstream")
	}
}

// tracestate dropped on outgoing requests.
func TestEdgeTracestateDropped(t *testing.T) {
	rec, _ := newRecorder(t)
	var got string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("tracestate") }))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.Transport(nil)}
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("tracestate", "vendor=abc")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got == "" {
		t.Errorf("tracestate not propagated downstream")
	}
}

// hijack through ResponseController when the wrapped writer only exposes Unwrap.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestEdgeHijackViaController(t *testing.T) {
	rec, sink := newRecorder(t)
	inner := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		brw.Flush()
		c.Close()
	}))
	done := make(chan struct{})
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		inner.ServeHTTP(unwrapOnly{w}, r)
	})
	srv := httptest.NewServer(outer)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	<-done // a hijacked handler outlives srv.Close
	srv.Close()
	recs := flush(t, rec, sink)
	t.Logf("client saw %q", strings.TrimSpace(line))
	if recs[0].Status == 200 || recs[0].Attr("http.hijacked") == "" {
		t.Errorf("hijacked via ResponseController: Status=%d hijacked attr=%q", recs[0].Status, recs[0].Attr("http.hijacked"))
	}
}

// response body Close concurrently with Read (the documented way to abort a read) races.
func TestEdgeBodyCloseDuringRead(t *testing.T) {
	rec, _ := newRecorder(t)
	block := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
		w.(http.Flusher).Flush()
		<-block
	}))
	defer backend.Close()
	defer close(block)
	client := &http.Client{Transport: httpstats.Transport(nil)}
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, resp.Body); close(done) }()
		resp.Body.Close()
		<-done
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

var _ = context.Background
