package httpstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// newRecorder returns a recorder writing into a collecting sink; the
// recorder is closed when the test ends.
func newRecorder(t *testing.T, opts ...recording.Option) (*recording.Recorder, *recordingtest.Sink) {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(append([]recording.Option{recording.WithSinks(sink), recording.WithBatch(64, 5*time.Millisecond)}, opts...)...)
	t.Cleanup(func() { _ = rec.Close(context.Background()) })
	return rec, sink
}

// flush closes the recorder, so every finished record is in the sink.
func flush(t *testing.T, rec *recording.Recorder, sink *recordingtest.Sink) []*recording.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("close recorder: %v", err)
	}
	return sink.Records()
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// TestConcurrentAttribution runs 1,000 concurrent requests over loopback, each
// making a distinct number of calls, part of them from child goroutines, and
// checks every call landed in its own request's record.
func TestConcurrentAttribution(t *testing.T) {
	// Stacks are covered elsewhere; half a million symbolizations under -race
	// would only slow this test down. The records hold half a million calls
	// (~125 MB) in all: the queue's byte bound is raised so that none is
	// dropped when the recorder falls behind.
	rec, sink := newRecorder(t, recording.WithQueueSize(2000), recording.WithQueueBytes(1<<30), recording.WithMaxStack(0))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		ctx := r.Context()
		var wg sync.WaitGroup
		for i := range n {
			if i%2 == 1 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := recording.StartCall(ctx, "svc", fmt.Sprintf("req%d", n))
					c.SetRequest(fmt.Sprintf("child %d", i))
					c.End(nil)
				}()
				continue
			}
			_ = recording.Do(ctx, "svc", fmt.Sprintf("req%d", n), func(context.Context) error { return nil })
		}
		wg.Wait()
		fmt.Fprint(w, n)
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()

	const requests = 1000
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, requests)
	for n := range requests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := client.Get(fmt.Sprintf("%s/work/%d", srv.URL, n))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	recs := flush(t, rec, sink)
	if len(recs) != requests {
		t.Fatalf("got %d records, want %d (stats %+v)", len(recs), requests, rec.Stats())
	}
	seen := make(map[int]bool)
	for _, r := range recs {
		var n int
		fmt.Sscanf(r.Path, "/work/%d", &n)
		if seen[n] {
			t.Fatalf("two records for /work/%d", n)
		}
		seen[n] = true
		if len(r.Calls) != n {
			t.Fatalf("%s: %d calls, want %d", r.Path, len(r.Calls), n)
		}
		for _, c := range r.Calls {
			if c.Method != fmt.Sprintf("req%d", n) {
				t.Fatalf("%s holds a call of another request: %s", r.Path, c.Method)
			}
		}
		if r.Route != "GET /work/{n}" || r.Status != 200 {
			t.Fatalf("%s: route %q status %d", r.Path, r.Route, r.Status)
		}
	}
}

func TestRecordFields(t *testing.T) {
	rec, sink := newRecorder(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "got %d bytes", len(b))
	})
	mux.HandleFunc("/plain/", func(w http.ResponseWriter, r *http.Request) {})
	h := httpstats.NewHandler(rec, mux, httpstats.WithUser(func(r *http.Request) string { return r.Header.Get("X-User") }))
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/users/42?token=s3cret&page=2", strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer abc")
	req.Header.Set("Cookie", "sid=xyz")
	req.Header.Set("X-User", "ann")
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	get(t, srv.Client(), srv.URL+"/plain/7/items/550e8400-e29b-41d4-a716-446655440000")

	recs := flush(t, rec, sink)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"method", r.Method, "POST"},
		{"path", r.Path, "/users/42"},
		{"route", r.Route, "POST /users/{id}"},
		{"status", r.Status, 201},
		{"query", r.Query, "token=[REDACTED]&page=2"},
		{"request bytes", r.RequestBytes, int64(5)},
		{"response bytes", r.ResponseBytes, int64(len("got 5 bytes"))},
		{"user", r.User, "ann"},
		{"authorization", r.Headers["Authorization"], []string{recording.Redacted}},
		{"cookie", r.Headers["Cookie"], []string{recording.Redacted}},
		{"x-user", r.Headers["X-User"], []string{"ann"}},
		{"trace id", r.TraceID.String(), "0af7651916cd43dd8448eb211c80319c"},
		{"parent span", r.ParentSpanID.String(), "b7ad6b7169203331"},
		{"kind", r.Kind, recording.KindHTTP},
		{"prefix route", recs[1].Route, "/plain/"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Overhead is not compared with Duration: it also counts the wrapper's
	// work before the handler and after the request's end (see
	// ActiveRecord.FinishAt), which on a loaded machine can exceed a
	// request of a few microseconds.
	if r.Duration <= 0 || r.Overhead <= 0 {
		t.Errorf("duration %v overhead %v", r.Duration, r.Overhead)
	}
	if !r.SpanID.IsValid() || r.ID.IsZero() || r.Remote == "" || r.Instance == "" {
		t.Errorf("ids/remote/instance missing: %+v", r)
	}
}

// TestRoutes checks where a record's route comes from: the router, never
// the path a client chose.
func TestRoutes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/plain/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /teapot", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name         string
		h            http.Handler
		opts         []httpstats.Option
		method, path string
		want         string
	}{
		{"pattern", mux, nil, "GET", "/users/42", "GET /users/{id}"},
		{"prefix pattern", mux, nil, "GET", "/plain/7/x", "/plain/"},
		{"pattern, handler's status", mux, nil, "GET", "/teapot", "GET /teapot"},
		{"not found", mux, nil, "GET", "/nf/" + long, "GET (unmatched 4xx)"},
		{"not found, other path", mux, nil, "GET", "/nf/abc", "GET (unmatched 4xx)"},
		{"method not allowed", mux, nil, "DELETE", "/users/42", "DELETE (unmatched 4xx)"},
		{"made-up method", mux, nil, "BREW", "/nf", "_OTHER (unmatched 4xx)"},
		{"trailing-slash redirect", mux, nil, "GET", "/plain", "/plain/"},
		{"no router", plain, nil, "GET", "/anything/" + long, "GET (unmatched 2xx)"},
		{"route func", plain, []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return "GET /things/{id}" })},
			"GET", "/things/1", "GET /things/{id}"},
		{"route func wins over the pattern", mux, []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return "users" })},
			"GET", "/users/1", "users"},
		{"route func empty: pattern", mux, []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return "" })},
			"GET", "/users/1", "GET /users/{id}"},
		{"route func empty: unmatched", mux, []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return "" })},
			"GET", "/nf", "GET (unmatched 4xx)"},
		{"long route cut", plain, []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return r.URL.Path })},
			"GET", "/" + long, "/" + long[:recording.DefaultMaxName-1] + recording.TruncatedMarker + "4745 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			srv := httptest.NewServer(httpstats.NewHandler(rec, tt.h, tt.opts...))
			defer srv.Close()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			recs := flush(t, rec, sink)
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if recs[0].Route != tt.want {
				t.Errorf("route %q (status %d), want %q", recs[0].Route, recs[0].Status, tt.want)
			}
			// An unmatched request's route is appstats' own, not the
			// router's: marked, so that exporters give it no http.route.
			if unmatched := strings.Contains(tt.want, "(unmatched"); (recs[0].Attr("appstats.route.unmatched") == "true") != unmatched {
				t.Errorf("attrs %v; want appstats.route.unmatched %v", recs[0].Attrs, unmatched)
			}
		})
	}
}

// TestRequestAttrs: a record carries the request's scheme, protocol version
// and user agent, over HTTP/1.1 and over HTTP/2 with TLS.
func TestRequestAttrs(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		rec, sink := newRecorder(t)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /items/{id}", func(http.ResponseWriter, *http.Request) {})
		srv := httptest.NewUnstartedServer(httpstats.NewHandler(rec, mux))
		scheme, version := "http", "1.1"
		if h2 {
			srv.EnableHTTP2 = true
			srv.StartTLS()
			scheme, version = "https", "2"
		} else {
			srv.Start()
		}
		req, _ := http.NewRequest("GET", srv.URL+"/items/7", nil)
		req.Header.Set("User-Agent", "attrs-test/2.0")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		recs := flush(t, rec, sink)
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		r := recs[0]
		for k, want := range map[string]string{
			"url.scheme": scheme, "network.protocol.version": version, "user_agent.original": "attrs-test/2.0",
			"appstats.route.unmatched": "",
		} {
			if got := r.Attr(k); got != want {
				t.Errorf("h2 %v: %s = %q, want %q", h2, k, got, want)
			}
		}
	}
}

func TestPanicRecordedAndRepanicked(t *testing.T) {
	rec, sink := newRecorder(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		panic(http.ErrAbortHandler)
	})
	var repanicked []any
	var mu sync.Mutex
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			mu.Lock()
			repanicked = append(repanicked, v)
			mu.Unlock()
		}()
		httpstats.NewHandler(rec, mux).ServeHTTP(w, r)
	})
	srv := httptest.NewServer(outer)
	defer srv.Close()
	get(t, srv.Client(), srv.URL+"/boom")
	get(t, srv.Client(), srv.URL+"/abort")

	recs := flush(t, rec, sink)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	// A 500 for the dashboard, but marked: no response was sent.
	if recs[0].Status != 500 || recs[0].Panic != "kaboom" || !recs[0].HasError() || recs[0].Attr("appstats.http.no_response") != "true" {
		t.Errorf("panic record: status %d panic %q, attrs %v", recs[0].Status, recs[0].Panic, recs[0].Attrs)
	}
	// The 200 was set, never sent (see TestPanicNothingSent).
	if recs[1].Status != 500 || recs[1].Panic == "" || recs[1].Error != "handler aborted" || recs[1].Attr("appstats.http.no_response") != "true" {
		t.Errorf("abort record: status %d panic %q error %q, attrs %v", recs[1].Status, recs[1].Panic, recs[1].Error, recs[1].Attrs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(repanicked) != 2 || repanicked[0] != "kaboom" || repanicked[1] != http.ErrAbortHandler {
		t.Errorf("panics seen outside: %v", repanicked)
	}
}

// TestDashboardExcluded checks the way to leave a dashboard's requests out:
// a recorder filter on its prefix. An excluded request still passes its
// caller's trace context on.
func TestDashboardExcluded(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithExclude(recording.Filter{PathPrefix: "/stats/"}))
	var traceparent string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent = r.Header.Get("traceparent")
	}))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats/api/records", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
	})
	srv := httptest.NewServer(httpstats.NewMiddleware(rec)(mux))
	defer srv.Close()
	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req, _ := http.NewRequest("GET", srv.URL+"/stats/api/records", nil)
	req.Header.Set("traceparent", incoming)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get(t, srv.Client(), srv.URL+"/app")
	recs := flush(t, rec, sink)
	if len(recs) != 1 || recs[0].Path != "/app" || recs[0].Status != 404 {
		t.Fatalf("records %+v", recs)
	}
	if st := rec.Stats(); st.Filtered != 1 {
		t.Errorf("Filtered = %d, want 1", st.Filtered)
	}
	if traceparent != incoming {
		t.Errorf("downstream of an excluded request got traceparent %q, want the caller's %q", traceparent, incoming)
	}
}

// TestSampling checks rates 0 and 1 exactly and 0.3 statistically.
func TestSampling(t *testing.T) {
	for _, tc := range []struct {
		rate     float64
		n        int
		min, max int
	}{
		{0, 200, 0, 0},
		{1, 200, 200, 200},
		// Binomial(2000, 0.3): mean 600, sd ≈ 20.5; ±6 sd.
		{0.3, 2000, 477, 723},
	} {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithSampleRate(tc.rate), recording.WithQueueSize(4096))
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			for range tc.n {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}
			recs := flush(t, rec, sink)
			st := rec.Stats()
			if len(recs) < tc.min || len(recs) > tc.max {
				t.Fatalf("rate %v: %d of %d recorded, want %d..%d", tc.rate, len(recs), tc.n, tc.min, tc.max)
			}
			if int(st.SampledOut)+len(recs) != tc.n {
				t.Fatalf("sampled out %d + recorded %d != %d", st.SampledOut, len(recs), tc.n)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	rec, sink := newRecorder(t,
		recording.WithInclude(recording.Filter{PathPrefix: "/api/"}, recording.Filter{Header: "X-Debug", Value: "1"}),
		recording.WithExclude(recording.Filter{Method: "DELETE"}, recording.Filter{Route: "GET /api/health"}),
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {})
	h := httpstats.NewHandler(rec, mux)
	serve := func(method, path string, hdr ...string) {
		r := httptest.NewRequest(method, path, nil)
		if len(hdr) == 2 {
			r.Header.Set(hdr[0], hdr[1])
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	serve("GET", "/api/users")            // included
	serve("DELETE", "/api/users")         // excluded by method
	serve("GET", "/api/health")           // excluded by route
	serve("GET", "/home")                 // not included
	serve("GET", "/home", "X-Debug", "1") // included by header
	serve("GET", "/home", "X-Debug", "0") // wrong value
	recs := flush(t, rec, sink)
	var got []string
	for _, r := range recs {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{"GET /api/users", "GET /home"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if st := rec.Stats(); st.Filtered != 4 {
		t.Fatalf("filtered %d, want 4", st.Filtered)
	}
}

// TestFiltersWithoutKeptHeaders checks that header filters see the request's
// headers also when WithHeaders(false) keeps them out of the record: at the
// start (include) and at the end, with a route (exclude).
func TestFiltersWithoutKeptHeaders(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opt    recording.Option
		header string
		want   int
	}{
		{"include by header", recording.WithInclude(recording.Filter{Header: "X-Debug"}), "X-Debug", 1},
		{"exclude by route and header", recording.WithExclude(recording.Filter{Route: "GET /x", Header: "X-Health"}), "X-Health", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, sink := newRecorder(t, tt.opt)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
			h := httpstats.NewHandler(rec, mux, httpstats.WithHeaders(false))
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set(tt.header, "1")
			h.ServeHTTP(httptest.NewRecorder(), req)
			recs := flush(t, rec, sink)
			if len(recs) != tt.want {
				t.Fatalf("%d records, want %d", len(recs), tt.want)
			}
			if len(recs) == 1 && recs[0].Headers != nil {
				t.Errorf("headers kept: %v", recs[0].Headers)
			}
			if st := rec.Stats(); int(st.Filtered) != 1-tt.want {
				t.Errorf("Filtered = %d, want %d", st.Filtered, 1-tt.want)
			}
		})
	}
}

// TestHeadersCopied checks that a record keeps the request's headers as they
// were when the handler returned: an outer middleware that edits r.Header
// afterwards changes neither the record nor races with the recorder's
// writer (which -race would report).
func TestHeadersCopied(t *testing.T) {
	rec, sink := newRecorder(t)
	inner := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Seen", "inner") // the handler's own edits are kept
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		r.Header.Set("X-Audit", "done") // e.g. a logging middleware annotating
		r.Header.Del("Authorization")
		r.Header.Set("X-Seen", "outer")
	})
	const n = 20
	for range n {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer SECRET")
		outer.ServeHTTP(httptest.NewRecorder(), req)
	}
	recs := flush(t, rec, sink)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		h := r.Headers
		if got := h["Authorization"]; len(got) != 1 || got[0] != recording.Redacted {
			t.Fatalf("Authorization = %q, want it kept and redacted", got)
		}
		if got := h["X-Seen"]; len(got) != 1 || got[0] != "inner" {
			t.Fatalf("X-Seen = %q, want [inner]", got)
		}
		if _, ok := h["X-Audit"]; ok {
			t.Fatalf("a header added after the handler returned is in the record: %v", h)
		}
	}
}

func TestMaxCallsOverflow(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithMaxCalls(10))
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 25 {
			recording.StartCall(r.Context(), "svc", fmt.Sprint(i)).End(nil)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	recs := flush(t, rec, sink)
	if len(recs[0].Calls) != 10 || recs[0].DroppedCalls != 15 || rec.Stats().DroppedCalls != 15 {
		t.Fatalf("calls %d dropped %d", len(recs[0].Calls), recs[0].DroppedCalls)
	}
	if recs[0].Calls[9].Method != "9" {
		t.Fatalf("kept calls are not the first ten: last is %q", recs[0].Calls[9].Method)
	}
}

func TestStackPointsAtCaller(t *testing.T) {
	rec, sink := newRecorder(t)
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callSite(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	recs := flush(t, rec, sink)
	st := recs[0].Calls[0].Stack
	if len(st) == 0 || !strings.HasSuffix(st[0].Function, "httpstats_test.callSite") || !strings.HasSuffix(st[0].File, "handler_test.go") {
		t.Fatalf("stack does not start at the call site: %+v", st)
	}
	for _, f := range st {
		if strings.HasPrefix(f.Function, "net/http.") || strings.Contains(f.Function, "appstats/middleware/httpstats.") || strings.HasPrefix(f.Function, "runtime.") {
			t.Fatalf("internal frame kept: %s", f.Function)
		}
	}
}

//go:noinline
func callSite(ctx context.Context) {
	recording.StartCall(ctx, "svc", "m").End(errors.New("x"))
}

// Two servers sharing one recorder tell their records apart by instance; a
// request is listed by the recorder as active while its handler runs.
func TestWithInstance(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithInstance("proc-1"))
	inHandler := make(chan []recording.Record, 1)
	app := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active, _ := rec.Active(0, 0)
		inHandler <- active
	})))
	defer app.Close()
	hub := httptest.NewServer(httpstats.NewHandler(rec, http.NotFoundHandler(), httpstats.WithInstance("hub")))
	defer hub.Close()

	get(t, app.Client(), app.URL+"/a")
	if active := <-inHandler; len(active) != 1 || active[0].Path != "/a" || active[0].Instance != "proc-1" {
		t.Errorf("active while the handler ran: %+v", active)
	}
	get(t, hub.Client(), hub.URL+"/b")
	got := map[string]string{}
	for _, r := range flush(t, rec, sink) {
		got[r.Path] = r.Instance
	}
	if got["/a"] != "proc-1" || got["/b"] != "hub" {
		t.Errorf("instances by path = %v, want /a proc-1 and /b hub", got)
	}
}

// TestUserAgentPastHeaderCaps checks that user_agent.original is the
// request's User-Agent whatever the header caps did to the record's copy
// of it (the attribute has its own cap): cut to the header value cap, left
// out past the headers' total, or not kept at all (WithHeaders(false)).
func TestUserAgentPastHeaderCaps(t *testing.T) {
	ua := "agent/" + strings.Repeat("x", 60)
	for _, tc := range []struct {
		name string
		opts []recording.Option
		hopt []httpstats.Option
	}{
		{"kept", nil, nil},
		{"value cut", []recording.Option{recording.WithMaxHeaders(20, 0)}, nil},
		{"left out", []recording.Option{recording.WithMaxHeaders(0, 60)}, nil},
		{"no headers", nil, []httpstats.Option{httpstats.WithHeaders(false)}},
	} {
		rec, sink := newRecorder(t, tc.opts...)
		h := httpstats.NewHandler(rec, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), tc.hopt...)
		req := httptest.NewRequest("GET", "/ua", nil)
		req.Header.Set("X-Before", strings.Repeat("b", 40))
		req.Header.Set("User-Agent", ua)
		h.ServeHTTP(httptest.NewRecorder(), req)
		recs := flush(t, rec, sink)
		if len(recs) != 1 {
			t.Fatalf("%s: %d records", tc.name, len(recs))
		}
		if got := recs[0].Attr("user_agent.original"); got != ua {
			t.Errorf("%s: user_agent.original = %q, want %q (headers %q)", tc.name, got, ua, recs[0].Headers)
		}
	}
}
