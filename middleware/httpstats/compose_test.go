package httpstats_test

import (
	"context"
	"io"
	"net/http"
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
// request is recorded once, by the outer, with the mux's route and every
// call, as with one middleware (twice, it was two records in two traces,
// the outer's route unmatched and without the calls).
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
			if r.Route != "/api/" || r.Status != 200 || r.Path != "/api/users/7" || len(r.Calls) != 1 || r.ResponseBytes != 4 {
				t.Errorf("record: route %q, status %d, path %q, %d calls, %d bytes", r.Route, r.Status, r.Path, len(r.Calls), r.ResponseBytes)
			}
		})
	}
}
