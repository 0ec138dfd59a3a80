package appstats_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/otlptest"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
)

// TestFacade wires everything the way the README says and checks a request
// reaches the store, the dashboard, and an OTLP/HTTP collector.
func TestFacade(t *testing.T) {
	rcv := &otlptest.Receiver{}
	collector := httptest.NewServer(rcv)
	defer collector.Close()

	as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: collector.URL, ServiceName: "facade-test"})
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	client := &http.Client{Transport: as.Transport(nil)}
	mux := http.NewServeMux()
	mux.Handle("/stats/", as.UI())
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	})
	app := httptest.NewServer(as.Middleware(mux))
	defer app.Close()

	for _, path := range []string{"/hello", "/stats/"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
	}
	// Close flushes: the store is closed afterwards, so read it first by
	// flushing through a second, idempotent path: Close returns only when
	// the records were delivered.
	st := as.Store()
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	if err := as.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := st.List(context.Background(), store.Query{}); err == nil {
		t.Fatal("store still open after Close")
	}
	if st := as.Recorder().Stats(); st.Written != 1 || st.Filtered != 1 {
		t.Fatalf("recorded %d requests, want 1 (the dashboard's own request is not recorded): %+v", st.Written, st)
	}
	spans := rcv.Spans()
	if len(spans) != 2 || spans[0].GetName() != "GET /hello" {
		t.Fatalf("collector got spans %v", spans)
	}
	if string(spans[0].GetTraceId()) != string(spans[1].GetTraceId()) {
		t.Fatal("server and client spans are in different traces")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, cfg := range []appstats.Config{
		{InMemory: true, SampleRate: 2},
		{InMemory: true, SampleRate: -0.5},
		{InMemory: true, OTLPEndpoint: "http://127.0.0.1:1", OTLPProtocol: "carrier-pigeon"},
		{StoreURL: "http://127.0.0.1:6379", NoOTLP: true},
		{StoreURL: "redis://127.0.0.1:1", NoOTLP: true},
		{StoreURL: "redis://127.0.0.1:1", Dir: "x", NoOTLP: true},
	} {
		if as, err := appstats.Open(cfg); err == nil {
			as.Close()
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}

// TestBadgerDefaultPersists: with a Dir, records go to the embedded Badger
// store and survive a restart.
func TestBadgerDefaultPersists(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		as, err := appstats.Open(appstats.Config{Dir: dir, NoOTLP: true})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(as.Middleware(http.NotFoundHandler()))
		resp, err := http.Get(srv.URL + "/round")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if err := as.Close(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	as, err := appstats.Open(appstats.Config{Dir: dir, NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	page, err := as.Store().List(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[0].Path != "/round" || page.Records[0].Status != 404 {
		t.Fatalf("after two runs the store lists %+v", page.Records)
	}
}

// TestRedisStore: with a StoreURL, two instances share one Redis: each
// dashboard lists the other's requests and is told of them live, and
// requests keep succeeding while Redis is down.
func TestRedisStore(t *testing.T) {
	r := testservers.StartRedis(t)
	open := func(name string) (*appstats.Appstats, *httptest.Server) {
		as, err := appstats.Open(appstats.Config{
			StoreURL: "redis://" + r.Addr, NoOTLP: true,
			RecorderOptions: []recording.Option{recording.WithInstance(name), recording.WithBatch(0, 10*time.Millisecond)},
		})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/stats/", as.UI())
		mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
		srv := httptest.NewServer(as.Middleware(mux))
		t.Cleanup(func() { srv.Close(); as.Close() })
		return as, srv
	}
	a, srvA := open("a")
	_, srvB := open("b")
	get := func(srv *httptest.Server, path string) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	events := get(srvA, "/stats/events")
	if events.StatusCode != 200 {
		t.Fatalf("A's events: %s", events.Status)
	}
	lines := bufio.NewScanner(events.Body)
	// Each instance subscribes to the store's announcements in a goroutine
	// of its own: wait for both subscriptions, or B's writes could be
	// published before A listens.
	r.WaitSubscribed(t, redisstore.DefaultPrefix+":events", 2)
	for i := range 3 {
		if resp := get(srvB, fmt.Sprintf("/hello?i=%d", i)); resp.StatusCode != 200 {
			t.Fatalf("B: %s", resp.Status)
		}
	}
	// A's live stream announces B's records.
	for lines.Scan() && lines.Text() != "event: records" {
	}
	if lines.Err() != nil {
		t.Fatal(lines.Err())
	}
	// A's dashboard lists them, with B's instance.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Records []struct {
				Instance string `json:"instance"`
			} `json:"records"`
		}
		resp := get(srvA, "/stats/api/records?instance=b")
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		if len(list.Records) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A lists %d of B's records, want 3", len(list.Records))
		}
		time.Sleep(20 * time.Millisecond)
	}

	r.Stop()
	for i := range 20 {
		if resp := get(srvA, fmt.Sprintf("/hello?down=%d", i)); resp.StatusCode != 200 {
			t.Fatalf("a request while Redis is down: %s", resp.Status)
		}
	}
	if resp := get(srvA, "/stats/api/records"); resp.StatusCode < 500 {
		t.Errorf("the dashboard's list while Redis is down: %s, want a 5xx", resp.Status)
	}
	r.Start()
	if err := a.Close(); err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Close after the outage: %v", err)
	}
}

// TestUIHosts: the dashboard admits loopback clients asking for localhost
// or a loopback IP, and the names of Config.LocalHosts; any other Host is
// refused (DNS rebinding), unless Config.Auth decides.
func TestUIHosts(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  appstats.Config
		host string
		code int
	}{
		{"loopback IP", appstats.Config{}, "", 200},
		{"localhost", appstats.Config{}, "localhost", 200},
		{"other name", appstats.Config{}, "devbox", 403},
		{"configured name", appstats.Config{LocalHosts: []string{"devbox"}}, "devbox", 200},
		{"configured name, other name", appstats.Config{LocalHosts: []string{"devbox"}}, "rebind.attacker.test", 403},
		{"Auth decides", appstats.Config{Auth: func(*http.Request) bool { return true }}, "rebind.attacker.test", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.InMemory, tt.cfg.NoOTLP = true, true
			as, err := appstats.Open(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			srv := httptest.NewServer(as.UI())
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/stats/api/health", nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("Host %q: %d, want %d", req.Host, resp.StatusCode, tt.code)
			}
		})
	}
}

// TestForceFlush: a request's record is in the store and its spans at the
// collector once ForceFlush returns, without Close; after Close,
// ForceFlush returns ErrClosed.
func TestForceFlush(t *testing.T) {
	rcv := &otlptest.Receiver{}
	collector := httptest.NewServer(rcv)
	defer collector.Close()
	as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: collector.URL, ServiceName: "flush-test",
		// Batches that would otherwise wait an hour for more records.
		RecorderOptions: []recording.Option{recording.WithBatch(100, time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	app := httptest.NewServer(as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer app.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 3 {
		resp, err := http.Get(app.URL + "/flush")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := as.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		page, err := as.Store().List(ctx, store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != i+1 {
			t.Fatalf("request %d: the store holds %d records after ForceFlush, want %d", i, len(page.Records), i+1)
		}
		if n := len(rcv.Spans()); n != i+1 {
			t.Fatalf("request %d: the collector got %d spans after ForceFlush, want %d", i, n, i+1)
		}
	}
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	if err := as.ForceFlush(ctx); !errors.Is(err, recording.ErrClosed) {
		t.Fatalf("ForceFlush after Close: %v, want recording.ErrClosed", err)
	}
}
