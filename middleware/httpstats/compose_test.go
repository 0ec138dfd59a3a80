package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestInsideTimeoutHandler mounts the middleware inside http.TimeoutHandler,
// around a handler that overruns and writes after the timeout: the client
// gets TimeoutHandler's 503, and so does the record, with the handler's
// failed write as its error and the calls it made after the timeout (its
// record ends when it returns).
func TestInsideTimeoutHandler(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			werr := make(chan error, 1)
			answered := make(chan struct{})
			slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // TimeoutHandler's deadline
				<-answered           // and its 503 sent
				c := recording.StartCall(r.Context(), "db", "after the timeout")
				w.Header().Set("Content-Type", "text/plain")
				_, err := io.WriteString(w, "too late")
				c.End(err)
				werr <- err
			})
			h := http.TimeoutHandler(httpstats.NewHandler(rec, slow), time.Millisecond, "too slow")
			srv, client := startServer(t, h, p.tls, p.http2)
			code, body := get(t, client, srv.URL+"/slow")
			close(answered)
			if code != http.StatusServiceUnavailable || body != "too slow" {
				t.Fatalf("client got %d %q", code, body)
			}
			if err := <-werr; err != http.ErrHandlerTimeout {
				t.Fatalf("the handler's write: %v", err)
			}
			// The record ends when the handler returns, after its write.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusServiceUnavailable || r.Error != "response failed: write: http: Handler timeout" || r.ResponseBytes != 0 {
				t.Errorf("record: status %d, error %q, response bytes %d; want 503, the timeout, 0", r.Status, r.Error, r.ResponseBytes)
			}
			if len(r.Calls) != 1 || r.Calls[0].Error != "http: Handler timeout" || r.Calls[0].Running {
				t.Errorf("calls %+v", r.Calls)
			}
		})
	}
}

// TestInsideTimeoutHandlerNoWrite mounts the middleware inside
// http.TimeoutHandler, around a handler that waits for its context's end
// and returns without writing: the client gets TimeoutHandler's 503, and
// so does the record (it was 200, the status of a handler that wrote
// nothing). A handler that writes nothing in time is still recorded 200,
// as the client gets it.
func TestInsideTimeoutHandlerNoWrite(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			answered := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/quick" {
					return
				}
				<-r.Context().Done() // TimeoutHandler's deadline
				<-answered           // and its 503 sent
			})
			th := http.TimeoutHandler(httpstats.NewHandler(rec, h), time.Millisecond, "too slow")
			srv, client := startServer(t, th, p.tls, p.http2)
			code, body := get(t, client, srv.URL+"/slow")
			close(answered)
			if code != http.StatusServiceUnavailable || body != "too slow" {
				t.Fatalf("client got %d %q", code, body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if r := recs[0]; r.Status != http.StatusServiceUnavailable || r.Error != "response failed: write: http: Handler timeout" || r.ResponseBytes != 0 {
				t.Errorf("record: status %d, error %q, response bytes %d; want 503, the timeout, 0", r.Status, r.Error, r.ResponseBytes)
			}
			th = http.TimeoutHandler(httpstats.NewHandler(rec, h), time.Hour, "too slow")
			srv, client = startServer(t, th, p.tls, p.http2)
			if code, body := get(t, client, srv.URL+"/quick"); code != http.StatusOK || body != "" {
				t.Fatalf("quick: client got %d %q", code, body)
			}
			recs = sink.Wait(ctx, 2)
			if len(recs) != 2 {
				t.Fatalf("%d records", len(recs))
			}
			if r := recs[1]; r.Path != "/quick" || r.Status != http.StatusOK || r.Error != "" {
				t.Errorf("quick record: %s status %d, error %q; want 200, none", r.Path, r.Status, r.Error)
			}
		})
	}
}

// TestOutsideTimeoutHandler mounts the middleware outside
// http.TimeoutHandler, around a handler that overruns: the record is what
// the client got, TimeoutHandler's 503 and its body, and ends when
// TimeoutHandler gives up (it is written while the handler still runs);
// the calls the handler makes after that are late, counted and not
// recorded, and its write fails as it does unwrapped.
func TestOutsideTimeoutHandler(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			release := make(chan struct{})
			werr := make(chan error, 1)
			slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-release
				c := recording.StartCall(r.Context(), "db", "after the timeout")
				_, err := io.WriteString(w, "too late")
				c.End(err)
				werr <- err
			})
			h := httpstats.NewHandler(rec, http.TimeoutHandler(slow, time.Millisecond, "too slow"))
			srv, client := startServer(t, h, p.tls, p.http2)
			code, body := get(t, client, srv.URL+"/slow")
			if code != http.StatusServiceUnavailable || body != "too slow" {
				t.Fatalf("client got %d %q", code, body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1) // while the handler is still held
			close(release)
			if err := <-werr; err != http.ErrHandlerTimeout {
				t.Fatalf("the handler's write: %v", err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records before the handler returned", len(recs))
			}
			r := recs[0]
			if r.Status != http.StatusServiceUnavailable || r.Error != "" || r.ResponseBytes != int64(len("too slow")) {
				t.Errorf("record: status %d, error %q, response bytes %d; want 503, none, 8", r.Status, r.Error, r.ResponseBytes)
			}
			if len(r.Calls) != 0 {
				t.Errorf("calls %+v", r.Calls)
			}
			if late := rec.Stats().LateCalls; late != 1 {
				t.Errorf("%d late calls, want 1", late)
			}
		})
	}
}

// TestNestedOnce mounts the middleware twice on one recorder, directly and
// through http.StripPrefix (which keeps the request's context): each
// request is recorded once, by the outer, with every call, as with one
// middleware (twice, it was two records in two traces, the outer's route
// unmatched and without the calls), and the route the inner one found, the
// inner mux's, not the outer mux's "/api/".
func TestNestedOnce(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
				recording.StartCall(r.Context(), "db", "SELECT users").End(nil)
				io.WriteString(w, "user")
			})
			mw := httpstats.NewMiddleware(rec)
			inner := http.NewServeMux()
			inner.Handle("/api/", http.StripPrefix("/api", mw(mux)))
			h := mw(mw(inner))
			srv, client := startServer(t, h, p.tls, p.http2)
			if code, body := get(t, client, srv.URL+"/api/users/7"); code != 200 || body != "user" {
				t.Fatalf("client got %d %q", code, body)
			}
			recs := flush(t, rec, sink)
			if len(recs) != 1 {
				for _, r := range recs {
					t.Logf("record: route %q, %d calls, trace %s", r.Route, len(r.Calls), r.TraceID)
				}
				t.Fatalf("%d records of one request, want 1", len(recs))
			}
			r := recs[0]
			if r.Route != "GET /users/{id}" || r.Status != 200 || r.Path != "/api/users/7" || len(r.Calls) != 1 || r.ResponseBytes != 4 {
				t.Errorf("record: route %q, status %d, path %q, %d calls, %d bytes", r.Route, r.Status, r.Path, len(r.Calls), r.ResponseBytes)
			}
		})
	}
}

// TestNestedInnerHooks mounts the middleware twice on one recorder, the
// inner with route and user hooks, the outer without: the one record has
// the inner's route and user, which the outer would not have found (the
// outer's own are kept when the inner's find none).
func TestNestedInnerHooks(t *testing.T) {
	rec, sink := newRecorder(t)
	leaf := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	inner := httpstats.NewHandler(rec, leaf,
		httpstats.WithRouteFunc(func(*http.Request) string { return "GET /orders/{id}" }),
		httpstats.WithUser(func(*http.Request) string { return "alice" }))
	outer := httpstats.NewHandler(rec, inner, httpstats.WithUser(func(*http.Request) string { return "outer" }))
	srv, client := startServer(t, outer, false, false)
	if code, body := get(t, client, srv.URL+"/orders/7"); code != 200 || body != "ok" {
		t.Fatalf("client got %d %q", code, body)
	}
	recs := flush(t, rec, sink)
	if len(recs) != 1 {
		t.Fatalf("%d records of one request, want 1", len(recs))
	}
	r := recs[0]
	if r.Route != "GET /orders/{id}" || r.User != "alice" {
		t.Errorf("record: route %q, user %q; want the inner's, GET /orders/{id} and alice", r.Route, r.User)
	}
	for _, a := range r.Attrs {
		if a.Key == "appstats.route.unmatched" {
			t.Errorf("the inner's route is marked unmatched: %+v", r.Attrs)
		}
	}
}

// TestNestedSubRequests serves a batch whose handler serves each item in
// process, through the same middleware, with a new request made with the
// batch's context: each sub-request is recorded, as the batch is (a new
// request has a header map of its own: it is not the batch's request
// passing through).
func TestNestedSubRequests(t *testing.T) {
	rec, sink := newRecorder(t)
	mw := httpstats.NewMiddleware(rec)
	items := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") })
	batch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 2 {
			sub := httptest.NewRequestWithContext(r.Context(), "GET", "/items/"+strconv.Itoa(i), nil)
			mw(items).ServeHTTP(httptest.NewRecorder(), sub)
		}
		io.WriteString(w, "batch")
	})
	srv, client := startServer(t, mw(batch), false, false)
	if code, body := get(t, client, srv.URL+"/batch"); code != 200 || body != "batch" {
		t.Fatalf("client got %d %q", code, body)
	}
	recs := flush(t, rec, sink)
	var paths []string
	for _, r := range recs {
		paths = append(paths, r.Path)
	}
	slices.Sort(paths)
	if want := []string{"/batch", "/items/0", "/items/1"}; !slices.Equal(paths, want) {
		t.Errorf("records of %q, want %q", paths, want)
	}
}

// TestNestedTwoRecorders mounts the middleware of two recorders one around
// the other: each records the request.
func TestNestedTwoRecorders(t *testing.T) {
	rec1, sink1 := newRecorder(t)
	rec2, sink2 := newRecorder(t)
	leaf := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	h := httpstats.NewHandler(rec1, httpstats.NewHandler(rec2, leaf))
	srv, client := startServer(t, h, false, false)
	if code, body := get(t, client, srv.URL+"/x"); code != 200 || body != "ok" {
		t.Fatalf("client got %d %q", code, body)
	}
	if n1, n2 := len(flush(t, rec1, sink1)), len(flush(t, rec2, sink2)); n1 != 1 || n2 != 1 {
		t.Errorf("%d and %d records, want one each", n1, n2)
	}
}

// TestInsideTimeoutHandlerWroteThenLate mounts the middleware inside
// http.TimeoutHandler, around a handler that writes all of its response
// and returns just after the deadline (here: as soon as its context says
// so): TimeoutHandler, woken by the deadline, sends its 503 and drops what
// the handler wrote, and the record says so (it said 200, what the
// handler wrote).
func TestInsideTimeoutHandlerWroteThenLate(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "all of it")
				<-r.Context().Done() // TimeoutHandler's deadline, just passed
			})
			th := http.TimeoutHandler(httpstats.NewHandler(rec, h), time.Millisecond, "too slow")
			srv, client := startServer(t, th, p.tls, p.http2)
			code, body := get(t, client, srv.URL+"/late")
			if code != http.StatusServiceUnavailable || body != "too slow" {
				t.Fatalf("client got %d %q", code, body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if r := recs[0]; r.Status != http.StatusServiceUnavailable || r.Error != "response failed: write: http: Handler timeout" || r.ResponseBytes != 0 {
				t.Errorf("record: status %d, error %q, response bytes %d; want 503, the timeout, 0", r.Status, r.Error, r.ResponseBytes)
			}
		})
	}
}
