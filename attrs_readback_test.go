package appstats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
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
	"github.com/goappstats/appstats/store"
)

// wantCall is what a handler did to one call.
type wantCall struct {
	service, method, err string
	attrs                [][2]string
}

// TestCallAttrsReadBack sends concurrent requests through the real
// middleware whose calls set random sequences of attributes (keys and values
// the same strings as the previous call's, equal bytes elsewhere, fewer or
// more than the previous call's, empty, replaced), errors and panics, then
// reads every record back through the JSON API: each call's attributes are
// exactly what its handler set, in order, with the stores that write
// records in the memory form (memstore, badgerstore's ring).
func TestCallAttrsReadBack(t *testing.T) {
	for _, tc := range bothStores {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			cfg.NoOTLP = true
			as, err := appstats.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			keys := []string{"k.a", "k.b", "k.c", "k.d", "k.e"}
			vals := []string{"v1", "v2", "", "200", "true"}
			var seen sync.Map // request number -> []wantCall
			h := as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.PathValue("n"))
				rnd := rand.New(rand.NewPCG(uint64(n), 25))
				var want []wantCall
				for i := range rnd.IntN(12) {
					wc := wantCall{service: "svc", method: []string{"Get", "Put", fmt.Sprintf("M%d", n)}[rnd.IntN(3)]}
					c := recording.StartCall(r.Context(), wc.service, wc.method)
					for range rnd.IntN(6) {
						k := keys[rnd.IntN(len(keys))]
						if rnd.IntN(3) == 0 {
							k = strings.Clone(k) // equal bytes, another string
						}
						var v string
						switch rnd.IntN(4) {
						case 0:
							v = vals[rnd.IntN(len(vals))]
						case 1:
							v = strings.Clone(vals[rnd.IntN(len(vals))])
						default:
							v = fmt.Sprintf("r%d-c%d-%d", n, i, rnd.IntN(3))
						}
						c.SetAttr(k, v)
						j := slices.IndexFunc(wc.attrs, func(a [2]string) bool { return a[0] == k })
						if j >= 0 {
							wc.attrs[j][1] = v
						} else {
							wc.attrs = append(wc.attrs, [2]string{k, v})
						}
					}
					var err error
					if rnd.IntN(4) == 0 {
						err = fmt.Errorf("fail r%d c%d", n, i)
						wc.err = err.Error()
					}
					c.End(err)
					want = append(want, wc)
				}
				recording.FromContext(r.Context()).AddAttr("req", strconv.Itoa(n))
				seen.Store(n, want)
				if n%7 == 0 {
					panic(fmt.Sprintf("request %d panics", n))
				}
				if n%5 == 0 {
					w.WriteHeader(503)
				}
			}))
			mux := http.NewServeMux()
			mux.Handle("/r/{n}", h)
			mux.Handle("/stats/", as.UI())
			const workers, each = 6, 50
			srv := getEach(t, as, mux, workers, each)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			const total = workers * each
			checked := map[int]bool{} // a GET whose connection a panic closed is sent again
			for _, s := range listAll(t, ctx, as.Store()) {
				var got struct {
					Path   string
					Status int
					Attrs  []struct{ Key, Value string }
					Calls  []struct {
						Service, Method, Error string
						Attrs                  []struct{ Key, Value string }
					}
				}
				getJSON(t, srv.URL+"/stats/api/records/"+s.ID.String(), &got)
				n, err := strconv.Atoi(strings.TrimPrefix(got.Path, "/r/"))
				if err != nil {
					t.Fatalf("record path %q", got.Path)
				}
				v, ok := seen.Load(n)
				if !ok {
					t.Fatalf("record of request %d, which no handler saw", n)
				}
				checked[n] = true
				want := v.([]wantCall)
				if len(got.Calls) != len(want) {
					t.Errorf("request %d: %d calls, want %d", n, len(got.Calls), len(want))
					continue
				}
				for i, c := range got.Calls {
					w := want[i]
					var attrs [][2]string
					for _, a := range c.Attrs {
						if a.Key == "error.type" && w.err != "" {
							continue
						}
						attrs = append(attrs, [2]string{a.Key, a.Value})
					}
					if c.Service != w.service || c.Method != w.method || c.Error != w.err || !slices.Equal(attrs, w.attrs) {
						t.Errorf("request %d call %d: %s %s %q %q, want %s %s %q %q", n, i, c.Service, c.Method, c.Error, attrs, w.service, w.method, w.err, w.attrs)
					}
				}
			}
			if len(checked) != total {
				t.Errorf("checked the records of %d requests, want %d", len(checked), total)
			}
		})
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// getEach serves mux on loopback until the test ends, sends GET /r/N for
// N in [0, workers*each) from workers goroutines at once, and returns
// once as has flushed their records. A panicking handler's GET may fail
// (net/http closes its connection): the test reads the store for what
// was recorded.
func getEach(t *testing.T, as *appstats.Appstats, mux http.Handler, workers, each int) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				resp, err := srv.Client().Get(fmt.Sprintf("%s/r/%d", srv.URL, g*each+i))
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := as.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	return srv
}

// listAll returns the summaries of every record st holds, newest first,
// reading page after page.
func listAll(t *testing.T, ctx context.Context, st store.Store) []recording.Summary {
	t.Helper()
	var all []recording.Summary
	for cursor := ""; ; {
		p, err := st.List(ctx, store.Query{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Records...)
		if cursor = p.Next; cursor == "" {
			return all
		}
	}
}

// bothStores configures an Appstats over each of the stores a test reads
// its records back from: memstore and badgerstore.
var bothStores = []struct {
	name string
	cfg  func(t *testing.T) appstats.Config
}{
	{"memstore", func(*testing.T) appstats.Config { return appstats.Config{InMemory: true, MemoryCapacity: 4096} }},
	{"badgerstore", func(t *testing.T) appstats.Config { return appstats.Config{Dir: t.TempDir()} }},
}
