package faults_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// randomLetters returns n random lowercase letters.
func randomLetters(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// floodCount is the number of requests of a flood: n, the figure of the
// reproduction, or a tenth of it with -short or under the race detector.
func floodCount(n int) int {
	if testing.Short() || raceDetector {
		return n / 10
	}
	return n
}

// runParallel runs fn(i) for i in [0, n) on workers goroutines.
func runParallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// waitWritten waits until the recorder has handed every finished record
// to its sinks (which accepted or dropped it).
func waitWritten(t *testing.T, as *appstats.Appstats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := as.Recorder().ForceFlush(ctx); err != nil {
		t.Fatalf("records still queued after 60s (%v): %+v", err, as.Recorder().Stats())
	}
}

// fetch fetches url from a loopback client and returns the status, the body's
// size and the time to the last byte.
func fetch(t *testing.T, c *http.Client, url string) (int, int64, time.Duration) {
	t.Helper()
	t0 := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, n, time.Since(t0)
}

// maxDashboardAnswer is the size every dashboard page and API answer must stay
// under, whatever was recorded.
const maxDashboardAnswer = 1 << 20

// checkAnswers fetches every page and API answer of the dashboard at base
// (".../stats/") and fails t for an error status or an answer over
// maxDashboardAnswer. It logs each answer's size and time.
func checkAnswers(t *testing.T, c *http.Client, base string) {
	t.Helper()
	// A record of the flood, for the details page.
	var list struct {
		Records []struct{ ID string } `json:"records"`
	}
	getJSON(t, c, base+"api/records?limit=1", &list)
	if len(list.Records) == 0 {
		t.Fatal("api/records: no records")
	}
	id := list.Records[0].ID
	for _, p := range []string{
		"", "?window=7d", "?limit=1000", "?window=15m&limit=1000",
		"part/stats", "part/stats?window=7d", "part/history?limit=1000",
		"api/stats", "api/stats?window=31d", "api/series?window=7d", "api/health", "api/active?limit=1000",
		"api/records", "api/records?limit=1000", "api/records?limit=1000&status=4xx",
		"records/" + id, "api/records/" + id,
	} {
		code, n, d := fetch(t, c, base+p)
		t.Logf("%-40s %3d %9d bytes %8.1f ms", "/stats/"+p, code, n, float64(d.Microseconds())/1000)
		if code != http.StatusOK {
			t.Errorf("%s: status %d", p, code)
		}
		if n > maxDashboardAnswer {
			t.Errorf("%s: %d bytes, want at most %d", p, n, maxDashboardAnswer)
		}
	}
}

// TestRouteFlood is issue 11's unbounded route cardinality: 20,000 requests
// to /nf/<2,000 random letters> (404s) and 5,000 calls to unknown gRPC
// methods /evil.Svc/<2,000 letters>, through the facade with its Badger
// store. They must become one route each, and every dashboard answer stay
// under 1 MiB.
func TestRouteFlood(t *testing.T) {
	as, err := appstats.Open(appstats.Config{Dir: t.TempDir(), NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user") })
	mux.Handle("/stats/", as.UI())
	srv := httptest.NewServer(as.Middleware(mux))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer c.CloseIdleConnections()

	gs := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(as.Recorder())))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(ln)
	defer gs.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	rng := rand.New(rand.NewPCG(11, 3))
	nHTTP, nGRPC := floodCount(20000), floodCount(5000)
	paths := make([]string, nHTTP)
	for i := range paths {
		paths[i] = "/nf/" + randomLetters(rng, 2000)
	}
	methods := make([]string, nGRPC)
	for i := range methods {
		methods[i] = "/evil.Svc/" + randomLetters(rng, 2000)
	}

	t0 := time.Now()
	for i := range 50 {
		if code, _, _ := fetch(t, c, fmt.Sprintf("%s/users/%d", srv.URL, i)); code != 200 {
			t.Fatalf("/users/%d: %d", i, code)
		}
	}
	runParallel(nHTTP, 8, func(i int) {
		resp, err := c.Get(srv.URL + paths[i])
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", paths[i][:20], resp.StatusCode)
		}
	})
	runParallel(nGRPC, 8, func(i int) {
		err := conn.Invoke(context.Background(), methods[i], &emptypb.Empty{}, &emptypb.Empty{})
		if err == nil || !strings.Contains(err.Error(), "Unimplemented") {
			t.Errorf("unknown method: %v", err)
		}
	})
	waitWritten(t, as)
	t.Logf("flood: %d HTTP requests and %d gRPC calls in %v; recorder %+v", nHTTP, nGRPC, time.Since(t0).Round(time.Millisecond), as.Recorder().Stats())

	st, err := as.Store().Stats(context.Background(), store.Window{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("routes %d, RPCs %d, route×RPC %d", len(st.Routes), len(st.RPCs), len(st.RouteRPCs))
	want := map[string]bool{"GET /users/{id}": true, "GET (unmatched 4xx)": true, "(unknown gRPC method)": true}
	for _, r := range st.Routes {
		if !want[r.Route] {
			t.Errorf("route %.80q (%d requests): want only %v", r.Route, r.Requests, want)
		}
		delete(want, r.Route)
	}
	if len(want) > 0 {
		t.Errorf("routes missing: %v", want)
	}
	checkAnswers(t, c, srv.URL+"/stats/")
	t.Logf("RSS %.0f MiB, peak %.0f MiB", mib(procStatus(os.Getpid(), "VmRSS")), mib(procStatus(os.Getpid(), "VmHWM")))
}

// TestKeyFlood is the same flood against an app that defeats the route
// rules: its route hook returns the raw path (WithRouteFunc still wins),
// and each request calls a distinct URL, so every request brings a new
// route, RPC and route×RPC pair. The store keeps at most its maximum of
// each (store.DefaultMaxKeys), folding the rest into store.Other, and the
// dashboard's answers stay under 1 MiB.
func TestKeyFlood(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	as, err := appstats.Open(appstats.Config{Dir: t.TempDir(), NoOTLP: true,
		MiddlewareOptions: []httpstats.Option{httpstats.WithRouteFunc(func(r *http.Request) string { return r.URL.Path })}})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	client := &http.Client{Transport: as.Transport(nil)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /k/{key}", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL+"/"+r.PathValue("key"), nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	mux.Handle("/stats/", as.UI())
	srv := httptest.NewServer(as.Middleware(mux))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer c.CloseIdleConnections()

	rng := rand.New(rand.NewPCG(11, 4))
	n := 3 * store.DefaultMaxKeys
	keys := make([]string, n)
	for i := range keys {
		keys[i] = randomLetters(rng, 2000)
	}
	runParallel(n, 4, func(i int) {
		// Few enough at once that the recorder's queue keeps them all.
		resp, err := c.Get(srv.URL + "/k/" + keys[i])
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	waitWritten(t, as)
	st, err := as.Store().Stats(context.Background(), store.Window{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests: %d routes, %d RPCs, %d route×RPCs; recorder %+v", n, len(st.Routes), len(st.RPCs), len(st.RouteRPCs), as.Recorder().Stats())
	if len(st.Routes) > store.DefaultMaxKeys+1 || len(st.RPCs) > store.DefaultMaxKeys+1 || len(st.RouteRPCs) > store.DefaultMaxKeys+1 {
		t.Errorf("%d routes, %d RPCs, %d route×RPCs kept; want at most %d each", len(st.Routes), len(st.RPCs), len(st.RouteRPCs), store.DefaultMaxKeys+1)
	}
	if !slices.ContainsFunc(st.Routes, func(r store.RouteStats) bool { return r.Route == store.Other }) {
		t.Error("no route folded into store.Other")
	}
	for _, r := range st.Routes {
		if len(r.Route) > recording.DefaultMaxName+len(recording.TruncatedMarker)+16 {
			t.Errorf("a route of %d bytes was kept", len(r.Route))
		}
	}
	checkAnswers(t, c, srv.URL+"/stats/")
}
