package httpstats_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// writeWatcher is a listener whose connections note a failed write: the
// server has met a client that is gone.
type writeWatcher struct {
	net.Listener
	failed atomic.Bool
}

func (l *writeWatcher) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c, failed: &l.failed}, nil
}

type watchedConn struct {
	net.Conn
	failed *atomic.Bool
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

// TestFlushFailureRecorded checks, over each protocol, the record of a
// streamed response whose client goes away: the flush that fails — seen
// through http.ResponseController, or not seen through http.Flusher — or
// the write that fails marks the record's error, and the status stays the
// one the handler wrote. The handler sees what it sees without the
// middleware.
func TestFlushFailureRecorded(t *testing.T) {
	chunk := strings.Repeat("x", 64<<10)
	flushes := []struct {
		name string
		// step sends a part of the body, returning the error the
		// handler sees.
		step func(w http.ResponseWriter) error
		want string // the record's error starts so
	}{
		{"ResponseController", func(w http.ResponseWriter) error {
			io.WriteString(w, "x")
			return http.NewResponseController(w).Flush()
		}, "response failed: flush: "},
		{"Flusher", func(w http.ResponseWriter) error {
			io.WriteString(w, "x")
			w.(http.Flusher).Flush()
			return nil
		}, "response failed: flush: "},
		{"Write", func(w http.ResponseWriter) error {
			_, err := io.WriteString(w, chunk)
			return err
		}, "response failed: write: "},
	}
	for _, p := range protocols {
		for _, f := range flushes {
			t.Run(p.name+"/"+f.name, func(t *testing.T) {
				rec, sink := newRecorder(t)
				headerOut := make(chan struct{})
				type result struct {
					first, last error
					gone        bool
				}
				res := make(chan result, 1)
				var ln *writeWatcher
				h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusAccepted)
					first := http.NewResponseController(w).Flush()
					close(headerOut)
					// Stream until the client is seen gone: a write to
					// its connection failed (HTTP/1), or its stream was
					// reset (HTTP/2). A guard, not a measure: it comes
					// in milliseconds.
					guard := time.Now().Add(time.Minute)
					gone := false
					for !gone && time.Now().Before(guard) {
						gone = f.step(w) != nil || ln.failed.Load() || r.ProtoMajor == 2 && r.Context().Err() != nil
					}
					// The client is gone: this part cannot get through.
					res <- result{first, f.step(w), gone}
				}))
				served := make(chan struct{}) // h returned: its record is finished
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					defer close(served)
					h.ServeHTTP(w, r)
				}))
				srv.Config.ErrorLog = log.New(io.Discard, "", 0)
				ln = &writeWatcher{Listener: srv.Listener}
				srv.Listener = ln
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
				ctx, cancel := context.WithCancel(t.Context())
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/stream", nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				<-headerOut
				if resp.StatusCode != http.StatusAccepted || resp.ProtoMajor != map[bool]int{false: 1, true: 2}[p.http2] {
					t.Fatalf("response %s %s", resp.Proto, resp.Status)
				}
				cancel() // HTTP/1 closes the connection, HTTP/2 resets the stream
				resp.Body.Close()
				got := <-res
				<-served
				if !got.gone {
					t.Fatal("the server never saw the client gone")
				}
				if got.first != nil {
					t.Errorf("first flush failed: %v", got.first)
				}
				if f.name != "Flusher" && got.last == nil {
					t.Error("the handler's last flush or write did not fail")
				}
				recs := flush(t, rec, sink)
				if len(recs) != 1 {
					t.Fatalf("%d records", len(recs))
				}
				r := recs[0]
				if r.Status != http.StatusAccepted {
					t.Errorf("status %d, want the 202 the handler wrote", r.Status)
				}
				if !strings.HasPrefix(r.Error, f.want) {
					t.Errorf("record's error %q, want %s…", r.Error, f.want)
				}
				if !r.HasError() {
					t.Error("the record does not count as failed")
				}
			})
		}
	}
}

// TestDroppedBodyNoFailure checks that a body the server drops after a
// 204, the response sent all the same, is no failed response.
func TestDroppedBodyNoFailure(t *testing.T) {
	rec, sink := newRecorder(t)
	var werr error
	srv := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		_, werr = io.WriteString(w, "dropped")
	})))
	defer srv.Close()
	if code, _ := get(t, srv.Client(), srv.URL+"/empty"); code != http.StatusNoContent {
		t.Errorf("status %d", code)
	}
	if werr != http.ErrBodyNotAllowed {
		t.Fatalf("the handler's write returned %v", werr)
	}
	recs := flush(t, rec, sink)
	if len(recs) != 1 || recs[0].Error != "" || recs[0].HasError() {
		t.Errorf("records %+v, want one without error", recs)
	}
}

// TestEventStreamLeftNoFailure checks that a client leaving a Server-Sent
// Events stream, the way such a stream ends, does not mark the record
// failed, while the status and the bytes sent are kept.
func TestEventStreamLeftNoFailure(t *testing.T) {
	rec, sink := newRecorder(t)
	headerOut := make(chan struct{})
	gone := make(chan bool, 1)
	var ln *writeWatcher
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		io.WriteString(w, "data: hello\n\n")
		http.NewResponseController(w).Flush()
		close(headerOut)
		guard := time.Now().Add(time.Minute) // a guard, not a measure
		failed := false
		for !failed && time.Now().Before(guard) {
			_, err := io.WriteString(w, "data: "+strings.Repeat("x", 4096)+"\n\n")
			failed = err != nil || http.NewResponseController(w).Flush() != nil || ln.failed.Load()
		}
		gone <- failed
	}))
	served := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ln = &writeWatcher{Listener: srv.Listener}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-headerOut
	cancel()
	resp.Body.Close()
	if !<-gone {
		t.Fatal("the server never saw the client gone")
	}
	<-served
	recs := flush(t, rec, sink)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Error != "" || r.HasError() {
		t.Errorf("record's error %q: a client leaving an event stream is no failure", r.Error)
	}
	if r.Status != http.StatusOK || r.ResponseBytes == 0 {
		t.Errorf("status %d, %d bytes: want 200 and the bytes sent", r.Status, r.ResponseBytes)
	}
}

// TestFlushNotSupportedNoError: a flush through http.ResponseController
// that the writer below does not support (inside http.TimeoutHandler, whose
// writer cannot flush; a wrapper of other middleware without Flush) sends
// nothing and fails nothing — ErrNotSupported tells the handler so, and
// the response goes out whole when the handler returns. The record has no
// error: it said "response failed: flush: feature not supported" for a
// response the client got whole.
func TestFlushNotSupportedNoError(t *testing.T) {
	for name, outside := range map[string]func(http.Handler) http.Handler{
		"TimeoutHandler": func(h http.Handler) http.Handler { return http.TimeoutHandler(h, time.Minute, "too slow") },
		"no Flush": func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			var flushErr atomic.Value
			h := outside(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "first ")
				if err := http.NewResponseController(w).Flush(); err != nil {
					flushErr.Store(err)
				}
				io.WriteString(w, "second")
			})))
			srv, client := startServer(t, h, false, false)
			if code, body := get(t, client, srv.URL+"/stream"); code != 200 || body != "first second" {
				t.Fatalf("client got %d %q", code, body)
			}
			if err, _ := flushErr.Load().(error); !errors.Is(err, http.ErrNotSupported) {
				t.Fatalf("the handler's flush: %v, want ErrNotSupported", err)
			}
			recs := flush(t, rec, sink)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if r := recs[0]; r.Status != 200 || r.Error != "" || r.ResponseBytes != int64(len("first second")) {
				t.Errorf("record: status %d, error %q, %d bytes; want 200, no error, 12 bytes", r.Status, r.Error, r.ResponseBytes)
			}
		})
	}
}
