package appstats_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
)

// TestSlowTraces: with Config.SlowTraces, a request slower than the
// threshold gets an execution trace, which the dashboard serves for `go
// tool trace`; a fast one gets none.
func TestSlowTraces(t *testing.T) {
	as, err := appstats.Open(appstats.Config{Dir: t.TempDir(), NoOTLP: true,
		SlowTraces: recording.FlightRecording{Routes: map[string]time.Duration{"GET /slow": 20 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	if !as.Recorder().Stats().FlightRecorder {
		t.Fatal("the flight recorder is not running")
	}
	mux := http.NewServeMux()
	mux.Handle("/stats/", as.UI())
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) })
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) {})
	app := httptest.NewServer(as.Middleware(mux))
	defer app.Close()
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return b
	}
	get("/fast")
	get("/slow")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := as.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := as.Store().List(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*recording.Record
	for _, s := range page.Records {
		r, err := as.Store().Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records stored, want 2", len(recs))
	}
	for _, r := range recs {
		switch r.Route {
		case "GET /fast":
			if r.ExecTrace != nil {
				t.Errorf("the fast request got a trace: %s", r.ExecTrace.Reason)
			}
		case "GET /slow":
			if r.ExecTrace == nil {
				t.Fatal("the slow request got no trace")
			}
			data := get("/stats/api/records/" + r.ID.String() + "/trace")
			if int64(len(data)) != r.ExecTrace.Size || !bytes.HasPrefix(data, []byte("go 1.")) {
				t.Errorf("the dashboard served %d bytes (%q…), want the %d of a trace", len(data), data[:min(8, len(data))], r.ExecTrace.Size)
			}
		default:
			t.Errorf("unexpected record of route %q", r.Route)
		}
	}
}

// TestInMemoryTraceCap: Config.SlowTraces says the store bounds the traces
// it keeps by Store.MaxTraceBytes, but the in-memory store was opened
// without it and kept its own 64 MiB whatever was set: negative (no
// traces) and a small cap were ignored.
func TestInMemoryTraceCap(t *testing.T) {
	for _, tc := range []struct {
		max  int64
		kept bool
	}{{-1, false}, {1000, false}, {0, true}} {
		as, err := appstats.Open(appstats.Config{InMemory: true, NoOTLP: true, Store: badgerstore.Options{MaxTraceBytes: tc.max}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rec := &recording.Record{ID: recording.ID{0x18, 15: 1}, Start: start, Method: "GET", Path: "/slow",
			ExecTrace: &recording.ExecTrace{Data: bytes.Repeat([]byte{1}, 4000), Taken: start, Reason: "test"}}
		if err := as.Store().Write(context.Background(), []*recording.Record{rec}); err != nil {
			t.Fatal(err)
		}
		_, err = as.Store().(store.ExecTraceStore).ExecTrace(context.Background(), rec.ID)
		if kept := err == nil; kept != tc.kept {
			t.Errorf("Store.MaxTraceBytes %d: a 4,000-byte trace kept %v, want %v", tc.max, kept, tc.kept)
		}
		as.Close()
	}
}
