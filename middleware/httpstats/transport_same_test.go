package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportSameAsBase makes the same requests through a transport and
// through NewTransport of it, inside a recorded request, over HTTP/1.1
// and HTTP/2 (TLS): the answers are the same — status, headers, body,
// trailers — and the caller's own httptrace hooks see the same 1xx
// responses, 100-continue and first byte.
func TestTransportSameAsBase(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("X-Head", "h")
		io.WriteString(w, "body")
		w.(http.Flusher).Flush()
		io.WriteString(w, " more")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "tea")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Len", fmt.Sprint(len(b)))
		w.Write(b)
	})
	mux.HandleFunc("/head", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	type answer struct {
		proto, status, body string
		header, trailer     http.Header
		hooks               []string
	}
	do := func(t *testing.T, rt http.RoundTripper, ctx context.Context, method, path, body string, expect bool) answer {
		var mu sync.Mutex
		var hooks []string
		note := func(s string) { mu.Lock(); hooks = append(hooks, s); mu.Unlock() }
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				note(fmt.Sprintf("1xx %d %s", code, h.Get("Link")))
				return nil
			},
			Got100Continue:       func() { note("100-continue") },
			GotFirstResponseByte: func() { note("first byte") },
		})
		var rb io.Reader
		if body != "" {
			rb = strings.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, rb)
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := resp.Header.Clone()
		h.Del("Date")
		return answer{proto: resp.Proto, status: resp.Status, body: string(b), header: h, trailer: resp.Trailer, hooks: hooks}
	}
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			base := srv.Client().Transport.(*http.Transport).Clone()
			base.ExpectContinueTimeout = 5e9
			base.Protocols = new(http.Protocols)
			base.Protocols.SetHTTP1(!h2)
			base.Protocols.SetHTTP2(h2)
			base.TLSClientConfig = base.TLSClientConfig.Clone()
			base.TLSClientConfig.NextProtos = nil
			rec, _ := newRecorder(t)
			for _, c := range []struct {
				method, path, body string
				expect             bool
			}{
				{"GET", "/trailers", "", false},
				{"GET", "/hints", "", false},
				{"POST", "/echo", strings.Repeat("x", 100000), true},
				{"PUT", "/echo", "", false},
				{"HEAD", "/head", "", false},
			} {
				want := do(t, base, context.Background(), c.method, c.path, c.body, c.expect)
				ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
				got := do(t, httpstats.NewTransport(base), ctx, c.method, c.path, c.body, c.expect)
				ar.Finish()
				if wantProto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]; want.proto != wantProto {
					t.Fatalf("%s %s: %s, want %s", c.method, c.path, want.proto, wantProto)
				}
				if testing.Verbose() {
					t.Logf("%s %s: %+v", c.method, c.path, got)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s %s:\n wrapped %+v\n base    %+v", c.method, c.path, got, want)
				}
			}
		})
	}
}
