package httpstats_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestCurlForwardedSecrets runs curl, many transfers in parallel over
// HTTP/1.1 and h2c, against an application wrapped by NewHandler that
// forwards each request's Authorization and Cookie to a backend through
// NewTransport over an *http.Transport and HTTP/1 (the header maps reused
// from call to call, across records): three calls a request, a GET, a POST
// with a body and a GET whose response the handler closes unread. The
// backend checks that every call carried its own request's secrets and a
// traceparent of its own request's trace; each record holds its own
// request's calls, and no secret in its headers, calls or attributes.
func TestCurlForwardedSecrets(t *testing.T) {
	curl := testservers.Curl(t)
	var mu sync.Mutex
	var bad []string
	traceOf := map[string]string{} // X-Id -> the trace ID its calls carried
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get("X-Id")
		tp := r.Header.Get("Traceparent")
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer secret-"+id || r.Header.Get("Cookie") != "s=cookie-"+id {
			bad = append(bad, fmt.Sprintf("backend: %s %s for X-Id %s got Authorization %q, Cookie %q", r.Method, r.URL.Path, id, r.Header.Get("Authorization"), r.Header.Get("Cookie")))
		}
		if len(tp) != recording.TraceparentLen {
			bad = append(bad, fmt.Sprintf("backend: X-Id %s: traceparent %q", id, tp))
		} else if prev, ok := traceOf[id]; ok && prev != tp[3:35] {
			bad = append(bad, fmt.Sprintf("backend: X-Id %s: calls in traces %s and %s", id, prev, tp[3:35]))
		} else {
			traceOf[id] = tp[3:35]
		}
		if r.URL.Path == "/big" {
			w.Write(make([]byte, 64<<10))
			return
		}
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	base := &http.Transport{MaxIdleConnsPerHost: 4}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []struct{ method, path, body string }{{"GET", "/a", ""}, {"POST", "/b", strings.Repeat("p", 3000)}, {"GET", "/big", ""}} {
			req, _ := http.NewRequestWithContext(r.Context(), c.method, backend.URL+c.path, strings.NewReader(c.body))
			for _, k := range []string{"Authorization", "Cookie", "X-Id"} {
				req.Header[k] = r.Header[k]
			}
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			if c.path != "/big" {
				io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
		}
		io.WriteString(w, "done\n")
	})
	for _, p := range protocols {
		if p.tls {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			// This protocol's failures only: the last one's were reported.
			mu.Lock()
			bad = nil
			mu.Unlock()
			rec, sink := newRecorder(t, recording.WithMaxStack(0))
			srv, _ := startServer(t, httpstats.NewHandler(rec, app), false, p.http2, true)
			flag := "--http1.1"
			if p.http2 {
				flag = "--http2-prior-knowledge"
			}
			// One curl a request, eight at a time: curl 7.88 fails its
			// second h2c transfer on a connection to Go's server (bare too).
			const n = 32
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for i := range n {
				id := fmt.Sprintf("%s-%d", p.name, i)
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					out, err := exec.Command(curl, "-sS", flag, "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}",
						"-H", "Authorization: Bearer secret-"+id, "-H", "Cookie: s=cookie-"+id, "-H", "X-Id: "+id,
						fmt.Sprintf("%s/r/%d", srv.URL, i)).CombinedOutput()
					if err != nil || string(out) != "200" {
						t.Errorf("curl %s: %v %s", id, err, out)
					}
				})
			}
			wg.Wait()
			recs := flush(t, rec, sink)
			if len(recs) != n {
				t.Fatalf("%d records, want %d", len(recs), n)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, b := range bad {
				t.Error(b)
			}
			for _, r := range recs {
				id := strings.Join(r.Headers["X-Id"], ",")
				if got := r.TraceID.String(); got != traceOf[id] {
					t.Errorf("record of X-Id %q: trace %s, its calls went out in trace %s", id, got, traceOf[id])
				}
				if len(r.Calls) != 3 {
					t.Errorf("record of X-Id %q: %d calls, want 3", id, len(r.Calls))
				}
				if s := fmt.Sprint(r.Headers, r.Attrs, r.Calls); strings.Contains(s, "secret-") || strings.Contains(s, "cookie-") {
					t.Errorf("record of X-Id %q holds a secret: %s", id, s)
				}
			}
		})
	}
}
