package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportOutsideProxyRedirectLate: through a forward proxy and
// straight, a redirect chain (its responses' Request and Request.Response
// links), bodies closed late or never while other calls take and give
// back header entries: the wrapped transport answers as its base does,
// and every traceparent the server got is a call's of the record.
func TestTransportOutsideProxyRedirectLate(t *testing.T) {
	var mu sync.Mutex
	var tps []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := r.Header.Get("Traceparent"); tp != "" {
			mu.Lock()
			tps = append(tps, tp)
			mu.Unlock()
		}
		if n, ok := strings.CutPrefix(r.URL.Path, "/redir/"); ok && n != "0" {
			var i int
			fmt.Sscan(n, &i)
			http.Redirect(w, r, fmt.Sprintf("/redir/%d", i-1), http.StatusFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s %d", r.Method, r.URL.Path, r.Header.Get("X-Mine"), len(b))
	}))
	defer srv.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Via", "test-proxy")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)

	run := func(t *testing.T, rt http.RoundTripper, ctx context.Context) string {
		c := &http.Client{Transport: rt}
		var out []string
		get := func(path string) *http.Response {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
			req.Header.Set("X-Mine", path)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		read := func(resp *http.Response) string {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			chain := ""
			for r := resp; r != nil; r = r.Request.Response {
				chain += r.Request.URL.Path + "<"
			}
			return fmt.Sprintf("%s %q %v via=%q chain=%s", resp.Status, b, err, resp.Header.Get("Via"), chain)
		}
		never := get("/never")
		never.Body.Read(make([]byte, 2)) // never read further, never closed
		late := get("/late")
		for i := range 5 {
			out = append(out, read(get(fmt.Sprintf("/redir/%d", i))))
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/post", strings.NewReader(strings.Repeat("p", i*1000)))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, read(resp))
		}
		out = append(out, read(late))
		return strings.Join(out, "\n")
	}
	for _, viaProxy := range []bool{false, true} {
		t.Run(fmt.Sprintf("proxy=%v", viaProxy), func(t *testing.T) {
			base := http.DefaultTransport.(*http.Transport).Clone()
			if viaProxy {
				base.Proxy = http.ProxyURL(pu)
			}
			defer base.CloseIdleConnections()
			want := run(t, base, context.Background())
			rec, sink := newRecorder(t)
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			mu.Lock()
			tps = nil
			mu.Unlock()
			got := run(t, httpstats.NewTransport(base), ctx)
			ar.Finish()
			if got != want {
				t.Errorf("wrapped:\n%s\nbase:\n%s", got, want)
			}
			recs := flush(t, rec, sink)
			spans := map[recording.SpanID]bool{}
			for _, r := range recs {
				for _, c := range r.Calls {
					spans[c.SpanID] = true
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(tps) == 0 {
				t.Fatal("no traceparent reached the server")
			}
			for _, tp := range tps {
				tc, ok := recording.ParseTraceparent(tp)
				if !ok || !spans[tc.SpanID] {
					t.Errorf("traceparent %q is no call's of the record", tp)
				}
			}
		})
	}
}
