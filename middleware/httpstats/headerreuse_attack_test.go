package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// ownHeaders returns the headers of h a caller sets in the attack below
// (secrets and X- headers), as "Key: v1, v2" lines, sorted.
func ownHeaders(h http.Header) string {
	var lines []string
	for k, vv := range h {
		if k == "Authorization" || k == "Cookie" || strings.HasPrefix(k, "X-") {
			lines = append(lines, k+": "+strings.Join(vv, ", "))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestTransportHeaderMapAttack sends, from several goroutines at once,
// calls through one recording transport over an *http.Transport base and
// HTTP/1 (whose header maps are reused from call to call), each with
// secrets of its own (Authorization, Cookie, X- headers, as many as nine
// names), in every way that ends a call before or after its request is
// written: a server that answers and keeps the connection, one that closes
// it, one that answers a large body of unknown length without reading it, a
// 417 to an "Expect: 100-continue" whose body is never sent, a 307 followed
// with the body rewound, HEAD, 204, a response body closed early, a context
// cancelled mid-body, and a connection hung up after the request was read
// (which net/http retries on a new connection when it was reused). The
// server checks that every request it reads carries exactly its caller's
// headers, and a traceparent; the caller, that the response's Request is its
// own request and its header unchanged. Under -race, nothing reads a header
// map once it is reused.
func TestTransportHeaderMapAttack(t *testing.T) {
	var want sync.Map // X-Call -> ownHeaders of the caller's request
	var hung sync.Map // X-Call -> the request was hung up on once
	var mu sync.Mutex
	var bad []string
	fail := func(format string, args ...any) {
		mu.Lock()
		bad = append(bad, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Call")
		wv, ok := want.Load(id)
		if !ok {
			fail("a request with X-Call %q, which no caller sent", id)
			return
		}
		if got := ownHeaders(r.Header); got != wv.(string) {
			fail("call %s: the server got\n%s\nwant\n%s", id, got, wv)
		}
		if len(r.Header.Get("Traceparent")) != recording.TraceparentLen {
			fail("call %s: traceparent %q", id, r.Header.Get("Traceparent"))
		}
		switch r.Header.Get("X-Mode") {
		case "close":
			w.Header().Set("Connection", "close")
			io.Copy(io.Discard, r.Body)
		case "early":
			w.Header().Set("Connection", "close")
			// The body is left unread.
		case "continue":
			w.WriteHeader(http.StatusExpectationFailed)
			return
		case "redirect":
			if r.URL.Path == "/r" {
				io.Copy(io.Discard, r.Body)
				http.Redirect(w, r, "/done", http.StatusTemporaryRedirect)
				return
			}
			io.Copy(io.Discard, r.Body)
		case "nocontent":
			w.WriteHeader(http.StatusNoContent)
			return
		case "big":
			w.Write(make([]byte, 256<<10))
			return
		case "cancel":
			w.Write(make([]byte, 1<<10))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		case "hangup":
			if _, done := hung.LoadOrStore(id, true); !done {
				c, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					c.Close()
				}
				return
			}
		default:
			io.Copy(io.Discard, r.Body)
		}
		io.WriteString(w, "ok")
	})
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			attackHeaderMaps(t, h, useTLS, &want)
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
}

// attackHeaderMaps makes TestTransportHeaderMapAttack's calls to a server
// of h, over HTTP/1 (with TLS when useTLS is set: ALPN picks HTTP/1.1),
// noting in want the headers each call sent.
func attackHeaderMaps(t *testing.T, h http.Handler, useTLS bool, want *sync.Map) {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	base := srv.Client().Transport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 4
	defer base.CloseIdleConnections()
	rec := recording.New()
	defer rec.Close(context.Background())
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	modes := []string{"plain", "close", "early", "continue", "redirect", "head", "nocontent", "big", "cancel", "hangup"}
	const goroutines, calls = 4, 36
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 26))
			rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			defer ar.Finish()
			for i := range calls {
				id := fmt.Sprintf("%v-%d-%d", useTLS, g, i)
				mode := modes[r.IntN(len(modes))]
				method, path := "GET", "/x"
				var body func() io.Reader
				switch mode {
				case "early":
					method = "POST"
					body = func() io.Reader { return hidden{strings.NewReader(strings.Repeat("e", 1<<20))} }
				case "continue", "redirect", "close":
					method = "POST"
					body = func() io.Reader { return strings.NewReader(strings.Repeat("b", 3000)) }
				case "head":
					method = "HEAD"
				}
				if mode == "redirect" {
					path = "/r"
				}
				ctx, cancel := context.WithCancel(rctx)
				var rb io.Reader
				if body != nil {
					rb = body()
				}
				req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, rb)
				if body != nil {
					req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
				}
				req.Header.Set("X-Call", id)
				req.Header.Set("X-Mode", mode)
				req.Header.Set("Authorization", fmt.Sprintf("Bearer secret-%s-%x", id, r.Uint64()))
				req.Header.Set("Cookie", fmt.Sprintf("session=%x", r.Uint64()))
				for k := range r.IntN(8) {
					req.Header.Add(fmt.Sprintf("X-H%d", r.IntN(10)), fmt.Sprintf("%s-%d-%x", id, k, r.Uint32()))
				}
				if mode == "continue" {
					req.Header.Set("Expect", "100-continue")
				}
				own := ownHeaders(req.Header)
				want.Store(id, own)
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					if mode != "hangup" && mode != "early" {
						t.Errorf("call %s (%s): %v", id, mode, err)
					}
					continue
				}
				if resp.Request != req && mode != "redirect" {
					t.Errorf("call %s (%s): the response's Request is not the caller's", id, mode)
				}
				switch mode {
				case "big":
					resp.Body.Read(make([]byte, 1))
				case "cancel":
					resp.Body.Read(make([]byte, 1))
					cancel()
					io.Copy(io.Discard, resp.Body)
				default:
					io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
				cancel()
				if got := ownHeaders(req.Header); got != own {
					t.Errorf("call %s (%s): the caller's header became\n%s\nwant\n%s", id, mode, got, own)
				}
				if resp.ProtoMajor != 1 {
					t.Errorf("call %s (%s): HTTP/%d, want HTTP/1", id, mode, resp.ProtoMajor)
				}
			}
		})
	}
	wg.Wait()
}
