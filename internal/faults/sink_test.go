package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
)

// TestStuckSinkDoesNotStarveStore: an app records into Badger and into a
// sink of its own that blocks (a collector that hangs, say). Every request's
// record still reaches Badger and the live feed; the stuck sink drops and
// counts its own backlog; api/health shows each sink's counters; Close
// drains within its deadline and leaves no goroutine behind.
//
// Reported: with the sinks written in turn from one goroutine, 128 of
// 194,000 records reached Badger.
func TestStuckSinkDoesNotStarveStore(t *testing.T) {
	noLeaks(t)
	var stuckCalls atomic.Int64
	stuck := recording.SinkFunc(func(ctx context.Context, _ []*recording.Record) error {
		stuckCalls.Add(1)
		<-ctx.Done() // hangs until the recorder gives up on it
		return ctx.Err()
	})
	as, err := appstats.Open(appstats.Config{
		Dir:             t.TempDir(),
		Store:           badgerstore.Options{RecordBudget: -1}, // every record persisted: Len counts them
		NoOTLP:          true,
		CloseTimeout:    5 * time.Second,
		RecorderOptions: []recording.Option{recording.WithSinks(stuck), recording.WithSinkTimeout(time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := serveApp(t, as)

	const n = 3000
	var failed atomic.Int64
	var wg sync.WaitGroup
	client := loopbackClient(t)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				resp, err := client.Get(fmt.Sprintf("%s/items/%d", base, i))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
		// Pace the load a little, so that records are dropped because
		// the stuck sink holds them, not because 8 clients outran the
		// recorder's queue on 2 cores.
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed", f, n)
	}

	st := as.Store().(*badgerstore.Store)
	deadline := time.Now().Add(30 * time.Second)
	for st.Len() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Badger counts a record once its Write commits; the store sink's
	// counters follow Write's return, so wait for them too.
	rs := as.Recorder().Stats()
	for len(rs.Sinks) > 0 && rs.Sinks[0].Written+rs.Sinks[0].Dropped < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		rs = as.Recorder().Stats()
	}
	t.Logf("records in Badger: %d of %d requests; recorder %+v", st.Len(), n, rs)
	if got := st.Len(); got != n {
		t.Fatalf("Badger holds %d of %d records behind a stuck sink (%+v)", got, n, rs)
	}
	if len(rs.Sinks) != 2 || stuckCalls.Load() == 0 {
		t.Fatalf("sinks %+v, stuck sink called %d times", rs.Sinks, stuckCalls.Load())
	}
	storeSink, stuckSink := rs.Sinks[0], rs.Sinks[1]
	if storeSink.Written != n || storeSink.Dropped != 0 || storeSink.Errors != 0 {
		t.Errorf("store sink %+v, want all %d written", storeSink, n)
	}
	if stuckSink.Dropped == 0 || stuckSink.Written != 0 || stuckSink.QueueDepth > recording.DefaultQueueSize+recording.DefaultBatchSize {
		t.Errorf("stuck sink %+v: its backlog should be bounded and its drops counted", stuckSink)
	}
	if rs.Written != 0 {
		t.Errorf("written %d, but no record was accepted by every sink", rs.Written)
	}

	// api/health shows the same counters.
	var health struct {
		Recorder struct {
			Sinks []struct {
				Name    string `json:"name"`
				Written uint64 `json:"written"`
				Dropped uint64 `json:"dropped"`
			} `json:"sinks"`
		} `json:"recorder"`
	}
	getJSON(t, client, base+"/stats/api/health", &health)
	if s := health.Recorder.Sinks; len(s) != 2 || !strings.Contains(s[0].Name, "badgerstore") || s[0].Written != n || s[1].Dropped == 0 {
		t.Errorf("api/health sinks: %+v", s)
	}

	start := time.Now()
	if err := as.Close(); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("Close with a stuck sink: %v, want its deadline exceeded", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Close took %v with a 5s CloseTimeout", took)
	}
}

// serveApp serves a small app recorded by as, with its dashboard at
// /stats/, on a loopback port until the test ends; it returns the base URL.
func serveApp(t *testing.T, as *appstats.Appstats) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		recording.Do(r.Context(), "cache", "Get", func(context.Context) error { return nil })
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.Handle("/stats/", as.UI())
	return serveHandler(t, as.Middleware(mux))
}

// serveHandler serves h on a loopback port until the test ends; it returns
// the base URL.
func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// noLeaks fails t if a goroutine started during the test is still running
// once the test and its cleanups are done.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) }) // the first cleanup runs last
}

// loopbackClient returns a client whose idle connections are closed when
// the test ends.
func loopbackClient(t *testing.T) *http.Client {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: time.Minute}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func getJSON(t *testing.T, client *http.Client, url string, v any) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
