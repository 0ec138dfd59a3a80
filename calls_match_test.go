package appstats_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
)

// chaosCall is what a handler saw of one of its calls.
type chaosCall struct {
	kind            string
	status          int
	reqSize, respSz int64
	err, running    bool
}

// opaque hides its reader's type from net/http: a body of unknown length.
type opaque struct{ io.Reader }

// TestRecordedCallsMatchWhatHappened sends concurrent requests through the
// real middleware whose handlers make calls through the real transport to
// a TLS backend over HTTP/1.1 and HTTP/2, from the handler and from
// goroutines: bodies of known and unknown length, responses read, left
// open past the request's end, cut by a cancel, 500s; some handlers panic
// (the client sends their GET again: another run). Every stored record
// holds its own run's calls, and each call's status, sizes, error, running
// mark and phases are what the handler saw (records, call slabs and rooms
// reused between requests, with memstore's memory form and badgerstore's
// ring).
func TestRecordedCallsMatchWhatHappened(t *testing.T) {
	for _, tc := range bothStores {
		for _, h2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/h2=%v", tc.name, h2), func(t *testing.T) {
				backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n, _ := io.Copy(io.Discard, r.Body)
					size, _ := strconv.Atoi(r.URL.Query().Get("size"))
					code, _ := strconv.Atoi(r.URL.Query().Get("code"))
					w.Header().Set("X-Got", strconv.FormatInt(n, 10))
					w.Header().Set("Content-Length", strconv.Itoa(size))
					w.WriteHeader(code)
					w.Write([]byte(strings.Repeat("r", size)))
				}))
				backend.EnableHTTP2 = true
				backend.StartTLS()
				defer backend.Close()
				base := backend.Client().Transport.(*http.Transport).Clone()
				base.Protocols = new(http.Protocols)
				base.Protocols.SetHTTP1(!h2)
				base.Protocols.SetHTTP2(h2)
				base.TLSClientConfig.NextProtos = nil
				defer base.CloseIdleConnections()

				cfg := tc.cfg(t)
				cfg.NoOTLP = true
				as, err := appstats.Open(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer as.Close()
				client := &http.Client{Transport: as.Transport(base)}
				var seen sync.Map // run -> its calls
				var runs atomic.Int64
				var leftOpen []io.Closer
				var leftMu sync.Mutex
				h := as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n, _ := strconv.Atoi(r.PathValue("n"))
					run := runs.Add(1) // a GET its panic cut is sent again: another run
					recording.FromContext(r.Context()).AddAttr("run", strconv.FormatInt(run, 10))
					rnd := rand.New(rand.NewPCG(uint64(n), 99))
					k := rnd.IntN(7)
					want := make(map[string]chaosCall)
					var mu sync.Mutex
					var wg sync.WaitGroup
					for i := range k {
						kind := []string{"get", "post", "stream", "unclosed", "cancel", "500", "empty"}[rnd.IntN(7)]
						size := rnd.IntN(20000)
						bodyLen := rnd.IntN(30000)
						call := func() {
							code := 200
							if kind == "500" {
								code = 500
							}
							if kind == "empty" {
								size = 0
							}
							u := fmt.Sprintf("%s/b/x?req=%d&run=%d&call=%d&size=%d&code=%d", backend.URL, n, run, i, size, code)
							var body io.Reader
							wc := chaosCall{kind: kind, status: code, respSz: int64(size)}
							switch kind {
							case "post":
								body = strings.NewReader(strings.Repeat("p", bodyLen))
								wc.reqSize = int64(bodyLen)
							case "stream":
								body = opaque{strings.NewReader(strings.Repeat("s", bodyLen))}
								wc.reqSize = int64(bodyLen)
							}
							method := "GET"
							if body != nil {
								method = "POST"
							}
							ctx, cancel := context.WithCancel(r.Context())
							defer cancel()
							req, _ := http.NewRequestWithContext(ctx, method, u, body)
							resp, err := client.Do(req)
							if err != nil {
								t.Errorf("request %d call %d: %v", n, i, err)
								return
							}
							switch kind {
							case "unclosed":
								if size > 0 {
									wc.running = true
									leftMu.Lock()
									leftOpen = append(leftOpen, resp.Body)
									leftMu.Unlock()
								} else {
									resp.Body.Close()
								}
							case "cancel":
								if size > 100 {
									b := make([]byte, 10)
									io.ReadFull(resp.Body, b)
									cancel()
									_, err := io.Copy(io.Discard, resp.Body)
									wc.err = err != nil
									if !wc.err {
										wc.respSz = int64(size)
									} else {
										wc.respSz = -2 // some of it: not checked
									}
								} else {
									io.Copy(io.Discard, resp.Body)
								}
								resp.Body.Close()
							default:
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
							}
							if code >= 500 {
								wc.err = true
							}
							mu.Lock()
							want[u] = wc
							mu.Unlock()
						}
						if rnd.IntN(2) == 0 {
							wg.Go(call)
						} else {
							call()
						}
					}
					wg.Wait()
					seen.Store(run, want)
					if n%11 == 0 {
						panic("chaos")
					}
					w.WriteHeader(200 + n%3)
				}))
				mux := http.NewServeMux()
				mux.Handle("/r/{n}", h)
				const workers, each = 4, 30
				getEach(t, as, mux, workers, each)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				checked := map[int]bool{}
				for _, s := range listAll(t, ctx, as.Store()) {
					rec, err := as.Store().Get(ctx, s.ID)
					if err != nil {
						t.Fatal(err)
					}
					n, _ := strconv.Atoi(strings.TrimPrefix(rec.Path, "/r/"))
					run, _ := strconv.ParseInt(rec.Attr("run"), 10, 64)
					v, ok := seen.Load(run)
					if !ok {
						t.Fatalf("record %s of no request", rec.Path)
					}
					checked[n] = true
					want := v.(map[string]chaosCall)
					if len(rec.Calls) != len(want) {
						t.Errorf("request %d: %d calls, want %d", n, len(rec.Calls), len(want))
					}
					wantStatus := 200 + n%3
					if n%11 == 0 {
						wantStatus = 500
					}
					if rec.Status != wantStatus {
						t.Errorf("request %d: status %d, want %d", n, rec.Status, wantStatus)
					}
					for _, c := range rec.Calls {
						u := c.Attr("url.full")
						w, ok := want[u]
						if !ok {
							t.Errorf("request %d: call %s of another request (or none)", n, u)
							continue
						}
						if !strings.Contains(u, fmt.Sprintf("req=%d&run=%d&", n, run)) {
							t.Errorf("request %d: call %s", n, u)
						}
						if got := c.Attr("http.response.status_code"); got != strconv.Itoa(w.status) {
							t.Errorf("request %d: %s (%s) status %q, want %d", n, u, w.kind, got, w.status)
						}
						if c.RequestSize != w.reqSize {
							t.Errorf("request %d: %s (%s) request size %d, want %d", n, u, w.kind, c.RequestSize, w.reqSize)
						}
						if c.Running != w.running {
							t.Errorf("request %d: %s (%s) running %v, want %v", n, u, w.kind, c.Running, w.running)
						}
						if !w.running && w.respSz >= 0 && c.ResponseSize != w.respSz {
							t.Errorf("request %d: %s (%s) response size %d, want %d", n, u, w.kind, c.ResponseSize, w.respSz)
						}
						if !w.running && (c.Error != "") != w.err {
							t.Errorf("request %d: %s (%s) error %q, want one: %v", n, u, w.kind, c.Error, w.err)
						}
						for _, ph := range c.Phases {
							if ph.Start < c.Start || ph.Duration < 0 || (!c.Running && ph.Start+ph.Duration > c.End()) {
								t.Errorf("request %d: %s (%s) phase %s [%v +%v], call [%v %v]", n, u, w.kind, ph.Name, ph.Start, ph.Duration, c.Start, c.End())
							}
						}
					}
				}
				if len(checked) != workers*each {
					t.Errorf("%d requests checked, want %d", len(checked), workers*each)
				}
				for _, c := range leftOpen {
					c.Close()
				}
			})
		}
	}
}
