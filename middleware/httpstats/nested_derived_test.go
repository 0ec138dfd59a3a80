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

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// routerKey is the context key of withRouteValue.
type routerKey struct{}

// withRouteValue is middleware that gives the request a context of its own,
// as chi's router does (r.WithContext(context.WithValue(…))), and wraps
// nothing else.
func withRouteValue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routerKey{}, "route")))
	})
}

// withCancel is middleware that gives the request a context of its own
// made last with context.WithCancel, as http.TimeoutHandler's context is
// not (a timerCtx) and many a handler's is.
func withCancel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// TestNestedDerivedContext mounts the middleware twice on one recorder with
// middleware between that gives the request a derived context — a router
// that adds a value, as chi's does, and otelhttp's handler (which also
// wraps the writer, with httpsnoop) — over each protocol: each request is
// recorded once, with the inner's route and every call, as with one
// middleware (it was two records).
func TestNestedDerivedContext(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	betweens := []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"context value", withRouteValue},
		{"otelhttp", func(h http.Handler) http.Handler {
			return otelhttp.NewHandler(h, "app", otelhttp.WithTracerProvider(tp))
		}},
		{"both", func(h http.Handler) http.Handler {
			return withRouteValue(otelhttp.NewHandler(withRouteValue(h), "app", otelhttp.WithTracerProvider(tp)))
		}},
		// Contexts of the type of the one net/http gives a request (a
		// cancelCtx), over the record's context or over another's.
		{"WithCancel", withCancel},
		{"WithCancelCause", func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithCancelCause(r.Context())
				defer cancel(nil)
				h.ServeHTTP(w, r.WithContext(ctx))
			})
		}},
		{"WithCancel twice", func(h http.Handler) http.Handler { return withCancel(withCancel(h)) }},
		{"WithCancel over a value", func(h http.Handler) http.Handler { return withRouteValue(withCancel(h)) }},
		{"a value over WithCancel", func(h http.Handler) http.Handler { return withCancel(withRouteValue(h)) }},
		{"WithTimeout", func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
				defer cancel()
				h.ServeHTTP(w, r.WithContext(ctx))
			})
		}},
	}
	for _, b := range betweens {
		for _, p := range protocols {
			t.Run(b.name+"/"+p.name, func(t *testing.T) {
				rec, sink := newRecorder(t)
				mux := http.NewServeMux()
				mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
					recording.StartCall(r.Context(), "db", "SELECT users").End(nil)
					io.WriteString(w, "user")
				})
				mw := httpstats.NewMiddleware(rec)
				srv, client := startServer(t, mw(b.wrap(mw(mux))), p.tls, p.http2)
				if code, body := get(t, client, srv.URL+"/users/7"); code != 200 || body != "user" {
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
				if r.Route != "GET /users/{id}" || r.Status != 200 || len(r.Calls) != 1 || r.ResponseBytes != 4 {
					t.Errorf("record: route %q, status %d, %d calls, %d bytes", r.Route, r.Status, len(r.Calls), r.ResponseBytes)
				}
			})
		}
	}
}

// TestNestedDerivedSubRequests is TestNestedSubRequests with the batch's
// sub-requests made with a context derived from the batch's: each is a
// request of its own, recorded.
func TestNestedDerivedSubRequests(t *testing.T) {
	rec, sink := newRecorder(t)
	mw := httpstats.NewMiddleware(rec)
	items := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") })
	batch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 2 {
			ctx := context.WithValue(r.Context(), routerKey{}, i)
			sub := httptest.NewRequestWithContext(ctx, "GET", "/items/"+strconv.Itoa(i), nil)
			// The writer is the batch's, as a handler might hand it on.
			withRouteValue(mw(items)).ServeHTTP(w, sub)
		}
	})
	srv, client := startServer(t, mw(batch), false, false)
	if code, body := get(t, client, srv.URL+"/batch"); code != 200 || body != "itemitem" {
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

// TestNestedThroughTimeoutHandler mounts the middleware twice on one
// recorder with http.TimeoutHandler between, whose handler may outlive the
// outer's record (it runs in a goroutine of its own, and TimeoutHandler
// returns at the deadline): the inner records the request itself, as
// before, and never touches the outer's record once that has ended (the
// race detector would say so).
func TestNestedThroughTimeoutHandler(t *testing.T) {
	rec, sink := newRecorder(t)
	mw := httpstats.NewMiddleware(rec)
	inner := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		io.WriteString(w, "late")
	}))
	srv, client := startServer(t, mw(http.TimeoutHandler(inner, time.Millisecond, "too slow")), false, false)
	if code, body := get(t, client, srv.URL+"/slow"); code != http.StatusServiceUnavailable || body != "too slow" {
		t.Fatalf("client got %d %q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if recs := sink.Wait(ctx, 2); len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
}
