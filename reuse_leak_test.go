package appstats_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
)

// TestRecordsKeepTheirOwnRequest sends concurrent requests whose headers,
// attributes and calls differ from one request to the next (mostly the same
// names, as real clients send, so that the recorder's reuse of records,
// header maps and attributes between requests is taken) and checks that
// each record holds its own request's, and no other's: with a store that
// keeps records (memstore) and with one that borrows them (badgerstore).
func TestRecordsKeepTheirOwnRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) appstats.Config
	}{
		{"memstore", func(*testing.T) appstats.Config { return appstats.Config{InMemory: true, MemoryCapacity: 4096} }},
		{"badgerstore", func(t *testing.T) appstats.Config { return appstats.Config{Dir: t.TempDir()} }},
		// An exporter keeps records for its batches: badgerstore's
		// records are then not reused, but kept, as memstore's.
		{"badgerstore+otlp", func(t *testing.T) appstats.Config {
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-protobuf")
			}))
			t.Cleanup(collector.Close)
			return appstats.Config{Dir: t.TempDir(), OTLPEndpoint: collector.URL}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			cfg.NoOTLP = cfg.OTLPEndpoint == ""
			as, err := appstats.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var seen sync.Map // request number -> what its handler saw
			type want struct {
				hdr   http.Header
				attrs map[string]string
				calls []string
			}
			h := as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.PathValue("n"))
				wt := want{hdr: r.Header.Clone(), attrs: map[string]string{}}
				a := recording.FromContext(r.Context())
				a.AddAttr("req", strconv.Itoa(n))
				wt.attrs["req"] = strconv.Itoa(n)
				if n%3 == 0 {
					a.AddAttr("tenant", "acme")
					wt.attrs["tenant"] = "acme"
				}
				for i := range n % 4 {
					m := fmt.Sprintf("op%d-%d", n, i)
					c := recording.StartCall(r.Context(), "svc", m)
					c.SetAttr("call.req", strconv.Itoa(n))
					c.End(nil)
					wt.calls = append(wt.calls, m)
				}
				seen.Store(n, wt)
				w.WriteHeader(200 + n%3)
			}))
			mux := http.NewServeMux()
			mux.Handle("/r/{n}", h)
			srv := httptest.NewServer(mux)
			defer srv.Close()

			const workers, each = 8, 60
			names := []string{"Accept", "Accept-Language", "X-Tenant", "X-Feature", "Cache-Control", "X-Trace-Tag", "Pragma", "X-Client"}
			var wg sync.WaitGroup
			for g := range workers {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(g), 7))
					for i := range each {
						n := g*each + i
						req, _ := http.NewRequest("GET", fmt.Sprintf("%s/r/%d", srv.URL, n), nil)
						req.Header.Set("User-Agent", fmt.Sprintf("client/%d", rnd.IntN(3)))
						if rnd.IntN(8) == 0 {
							req.Header.Set("X-Req", strconv.Itoa(n))
						}
						common := rnd.IntN(10) < 6 // most requests send the same headers but their secrets
						for _, k := range names[:2+rnd.IntN(len(names)-1)] {
							if common {
								break
							}
							switch rnd.IntN(8) {
							case 0: // left out
							case 1:
								req.Header.Set(k, fmt.Sprintf("only-%d", n))
							case 2:
								req.Header[k] = []string{"a", fmt.Sprintf("b%d", n)}
							case 3:
								req.Header.Set(k, "")
							default:
								req.Header.Set(k, "v1")
							}
						}
						if common {
							req.Header.Set("Accept", "v1")
							req.Header.Set("User-Agent", "client/0")
						}
						switch rnd.IntN(6) {
						case 0:
							req.Header.Set("X-Note", fmt.Sprintf("Bearer secret%dtoken", n))
						case 1:
							req.Header.Set("X-Note", fmt.Sprintf("%d %s", n, strings.Repeat("x", 1500)))
						}
						switch rnd.IntN(3) {
						case 0:
							req.Header.Set("Authorization", fmt.Sprintf("Bearer secret%dtoken", n))
						case 1:
							req.Header["Authorization"] = []string{fmt.Sprintf("Bearer secret%dtoken", n), "Basic secretsecret"}
						}
						if rnd.IntN(2) == 0 {
							req.Header.Set("Cookie", fmt.Sprintf("session=cookie%dvalue", n))
						}
						if rnd.IntN(2) == 0 {
							req.Header.Set("X-Api-Key", fmt.Sprintf("secret%dkey", n))
						}
						resp, err := srv.Client().Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			defer as.Close()
			const total = workers * each
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := as.ForceFlush(ctx); err != nil {
				t.Fatal(err)
			}
			if w := as.Recorder().Stats().Written; w != total {
				t.Fatalf("%d of %d records written", w, total)
			}
			st := as.Store()
			checked := 0
			for _, s := range listAll(t, ctx, st) {
				rec, err := st.Get(ctx, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				n, err := strconv.Atoi(strings.TrimPrefix(rec.Path, "/r/"))
				if err != nil {
					t.Fatalf("record path %q", rec.Path)
				}
				v, ok := seen.Load(n)
				if !ok {
					t.Fatalf("record of request %d, which no handler saw", n)
				}
				wt := v.(want)
				checked++
				if s.Path != rec.Path || s.Status != rec.Status || s.CallCount != len(rec.Calls) {
					t.Errorf("request %d: summary %s %d %d calls, record %s %d %d calls", n, s.Path, s.Status, s.CallCount, rec.Path, rec.Status, len(rec.Calls))
				}
				if rec.Status != 200+n%3 {
					t.Errorf("request %d: status %d, want %d", n, rec.Status, 200+n%3)
				}
				for k, vs := range rec.Headers {
					sent, ok := wt.hdr[k]
					if !ok {
						t.Errorf("request %d: header %s: %q, which it did not send (it sent %v)", n, k, vs, wt.hdr)
						continue
					}
					switch k {
					case "Authorization", "Cookie", "X-Api-Key", "X-Note":
						for _, x := range vs {
							if strings.Contains(x, "secret") || strings.Contains(x, "cookie") {
								t.Errorf("request %d: %s shown: %q", n, k, x)
							}
							if k == "X-Note" && strings.HasPrefix(sent[0], strconv.Itoa(n)+" ") && !strings.HasPrefix(x, strconv.Itoa(n)+" ") {
								t.Errorf("request %d: %s: %.40q, want %.40q", n, k, x, sent[0])
							}
						}
					default:
						if !slices.Equal(vs, sent) {
							t.Errorf("request %d: header %s: %q, want %q", n, k, vs, sent)
						}
					}
				}
				for k := range wt.hdr {
					if _, ok := rec.Headers[k]; !ok {
						t.Errorf("request %d: header %s left out", n, k)
					}
				}
				got := map[string]string{}
				for _, a := range rec.Attrs {
					if a.Key == "req" || a.Key == "tenant" {
						got[a.Key] = a.Value
					}
				}
				if ua := rec.Attr("user_agent.original"); ua != wt.hdr.Get("User-Agent") {
					t.Errorf("request %d: user_agent.original %q, want %q", n, ua, wt.hdr.Get("User-Agent"))
				}
				if !maps.Equal(got, wt.attrs) {
					t.Errorf("request %d: attributes %v, want %v", n, got, wt.attrs)
				}
				var calls []string
				for _, c := range rec.Calls {
					calls = append(calls, c.Method)
					if a := c.Attr("call.req"); a != strconv.Itoa(n) {
						t.Errorf("request %d: call %s has call.req %q", n, c.Method, a)
					}
				}
				if !slices.Equal(calls, wt.calls) {
					t.Errorf("request %d: calls %v, want %v", n, calls, wt.calls)
				}
			}
			if checked != total {
				t.Errorf("checked %d records, want %d", checked, total)
			}
		})
	}
}
