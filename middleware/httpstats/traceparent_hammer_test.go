package httpstats_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportTraceparentHammer sends, from several goroutines at once,
// calls through one recording transport over an *http.Transport base, on
// HTTP/1, HTTP/1 over TLS, h2c and HTTP/2 over TLS, in the ways that end a
// call before or after its request is written (a 417 and a 100 to
// "Expect: 100-continue", a 307 followed with the body rewound, a
// connection hung up after the request was read (retried through GetBody
// when it was reused), a body left unread, a response read in part and
// then its context cancelled, HEAD, 204), and checks that every request a
// server read carried the traceparent of its own call: the span ID of the
// one call, in the sink's records, whose URL names the request's call,
// and the trace ID of that call's record. A call whose header entry was
// reused while net/http still read its header would send another call's
// traceparent (its bytes are the pooled entry's). The caller's header is
// unchanged after each call.
func TestTransportTraceparentHammer(t *testing.T) {
	type seen struct{ id, tp string }
	var mu sync.Mutex
	var got []seen
	for _, p := range []struct {
		name       string
		tls, http2 bool
	}{{"http1", false, false}, {"http1-tls", true, false}, {"h2c", false, true}, {"h2-tls", true, true}} {
		t.Run(p.name, func(t *testing.T) {
			mu.Lock()
			got = got[:0]
			mu.Unlock()
			// hung and hijacks are the subtest's own: call IDs repeat from one
			// protocol to the next, and each must hang up its own connections.
			var hung sync.Map
			var hijacks atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The call's ID and mode are in the path, "/c/ID/MODE/": a
				// call may send no header of its own.
				parts := strings.Split(r.URL.Path, "/")
				if len(parts) < 4 {
					http.Error(w, "no call in "+r.URL.Path, http.StatusBadRequest)
					return
				}
				id, mode := parts[2], parts[3]
				mu.Lock()
				got = append(got, seen{id, r.Header.Get("Traceparent")})
				mu.Unlock()
				switch mode {
				case "continue417":
					w.WriteHeader(http.StatusExpectationFailed)
					return
				case "redirect":
					if strings.HasPrefix(r.URL.Path, "/r/") {
						io.Copy(io.Discard, r.Body)
						http.Redirect(w, r, "/d/"+id+"/"+mode+"/", http.StatusTemporaryRedirect)
						return
					}
				case "early":
					w.Header().Set("Connection", "close")
					io.WriteString(w, "early")
					return
				case "nocontent":
					w.WriteHeader(http.StatusNoContent)
					return
				case "cancel":
					w.Write(make([]byte, 1<<10))
					w.(http.Flusher).Flush()
					<-r.Context().Done()
					return
				case "hangup":
					if _, done := hung.LoadOrStore(id, true); !done && r.ProtoMajor == 1 {
						io.Copy(io.Discard, r.Body)
						if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
							hijacks.Add(1)
							c.Close()
						}
						return
					}
				}
				io.Copy(io.Discard, r.Body)
				io.WriteString(w, "ok")
			})
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.EnableHTTP2 = p.http2
			if p.http2 && !p.tls {
				srv.Config.Protocols = new(http.Protocols)
				srv.Config.Protocols.SetHTTP1(true)
				srv.Config.Protocols.SetUnencryptedHTTP2(true)
			}
			if p.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			base := srv.Client().Transport.(*http.Transport).Clone()
			base.MaxIdleConnsPerHost = 4
			if p.http2 && !p.tls {
				base.Protocols = new(http.Protocols)
				base.Protocols.SetUnencryptedHTTP2(true)
			}
			if p.tls && !p.http2 {
				base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
				base.ForceAttemptHTTP2 = false
			}
			defer base.CloseIdleConnections()
			rec, sink := newRecorder(t)
			client := &http.Client{Transport: httpstats.NewTransport(base)}
			hammerTraceparents(t, client, rec, srv.URL, p.http2)
			// Over HTTP/1, some hangup calls hang up their connection
			// (HTTP/2 has none to hijack).
			if !p.http2 && hijacks.Load() == 0 {
				t.Error("no connection was hung up")
			}
			recs := flush(t, rec, sink)
			// Each call ID's calls, by the URL that names it.
			type call struct {
				span  recording.SpanID
				trace recording.TraceID
			}
			calls := map[string][]call{}
			for _, r := range recs {
				for _, c := range r.Calls {
					if c.Service != "http" {
						continue
					}
					parts := strings.Split(c.Request, "/")
					if len(parts) < 5 {
						t.Errorf("a call's URL %q names no call ID", c.Request)
						continue
					}
					id := parts[4]
					calls[id] = append(calls[id], call{c.SpanID, r.TraceID})
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 {
				t.Fatal("the server read no request")
			}
			for _, s := range got {
				tc, ok := recording.ParseTraceparent(s.tp)
				if !ok {
					t.Errorf("call %s: traceparent %q", s.id, s.tp)
					continue
				}
				own := false
				for _, c := range calls[s.id] {
					own = own || c.span == tc.SpanID && c.trace == tc.TraceID
				}
				if !own {
					t.Errorf("call %s: the server got traceparent %s, not one of its own calls' %v", s.id, s.tp, calls[s.id])
				}
			}
		})
	}
}

// hammerTraceparents makes TestTransportTraceparentHammer's calls to url
// through client, in records of rec.
func hammerTraceparents(t *testing.T, client *http.Client, rec *recording.Recorder, url string, http2 bool) {
	modes := []string{"plain", "continue417", "continue100", "redirect", "early", "head", "nocontent", "cancel", "hangup"}
	const goroutines, calls = 4, 30
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 29))
			rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			defer ar.Finish()
			for i := range calls {
				id := fmt.Sprintf("g%dc%d", g, i)
				mode := modes[r.IntN(len(modes))]
				method, path := "GET", "/c/"+id+"/"+mode+"/"
				var body func() io.Reader
				switch mode {
				case "continue417", "continue100", "redirect", "hangup":
					method = "POST"
					body = func() io.Reader { return strings.NewReader(strings.Repeat("b", 3000)) }
				case "early":
					method = "POST"
					body = func() io.Reader { return hidden{strings.NewReader(strings.Repeat("e", 1<<20))} }
				case "head":
					method = "HEAD"
				}
				if mode == "redirect" {
					path = "/r/" + id + "/" + mode + "/"
				}
				ctx, cancel := context.WithCancel(rctx)
				var rb io.Reader
				if body != nil {
					rb = body()
				}
				req, _ := http.NewRequestWithContext(ctx, method, url+path, rb)
				if body != nil {
					req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
				}
				// Half the calls send no header of their own (but Expect, for
				// the 100-continue modes): their header entries, given back
				// with the traceparent alone, are rewritten in place by the
				// calls after them (traceInto's kept path).
				if r.IntN(2) == 0 {
					for k := range 1 + r.IntN(3) {
						req.Header.Add(fmt.Sprintf("X-H%d", k), fmt.Sprintf("%s-%x", id, r.Uint32()))
					}
				}
				if strings.HasPrefix(mode, "continue") {
					req.Header.Set("Expect", "100-continue")
				}
				before := ownHeaders(req.Header)
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					if mode != "early" && (mode != "hangup" || http2) {
						t.Errorf("call %s (%s): %v", id, mode, err)
					}
					continue
				}
				switch mode {
				case "cancel":
					resp.Body.Read(make([]byte, 1))
					cancel()
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				cancel()
				if after := ownHeaders(req.Header); after != before || req.Header.Get("Traceparent") != "" {
					t.Errorf("call %s (%s): the caller's header became\n%s\nwant\n%s", id, mode, after, before)
				}
				if want := map[bool]int{false: 1, true: 2}[http2]; resp.ProtoMajor != want {
					t.Errorf("call %s (%s): HTTP/%d, want HTTP/%d", id, mode, resp.ProtoMajor, want)
				}
			}
		})
	}
	wg.Wait()
}
