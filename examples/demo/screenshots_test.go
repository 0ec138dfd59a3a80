package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
)

// DemoURLEnv names the running demo TestScreenshots takes its pictures of,
// e.g. http://127.0.0.1:8080.
const DemoURLEnv = "APPSTATS_DEMO_URL"

// TestScreenshots takes the README's screenshots (docs/*.png) of the pages of
// a running demo, in headless Chromium: the dashboard, the details page of a
// request with nested calls, a trace, a comparison of two requests and the
// in-flight requests. scripts/screenshots.sh starts the demo, lets it record
// its own traffic for a while and runs this test:
//
//	APPSTATS_SCREENSHOTS=1 APPSTATS_DEMO_URL=http://127.0.0.1:8080 go test -run TestScreenshots ./examples/demo/
//
// Without both variables it skips. It fails when a page does not draw, or
// logs a script error.
func TestScreenshots(t *testing.T) {
	base := os.Getenv(DemoURLEnv)
	if os.Getenv(browsertest.ScreenshotsEnv) != "1" || base == "" {
		t.Skipf("screenshots are taken of a running demo: set %s=1 and %s (scripts/screenshots.sh does)", browsertest.ScreenshotsEnv, DemoURLEnv)
	}
	docs, err := filepath.Abs(filepath.Join("..", "..", "docs"))
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, base, browsertest.Options{Timeout: 5 * time.Minute})

	b.Navigate(t, "/stats/?window=2m&limit=20")
	b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, 10*time.Second)
	b.Screenshot(t, filepath.Join(docs, "dashboard.png"))

	// A request with calls made inside others: the call tree.
	report := demoRecords(t, base, "route=GET+%2Freport&limit=1")[0]
	b.Navigate(t, "/stats/records/"+report.ID)
	b.WaitPainted(t, "chartGantt")
	b.Screenshot(t, filepath.Join(docs, "timeline.png"))

	// A request of one service that caused a record of another: the trace.
	var trace, record string
	for _, r := range demoRecords(t, base, "route=%2Fgrpc.health.v1.Health%2FCheck&limit=20") {
		if r.TraceID != "" && len(demoRecords(t, base, "trace_id="+r.TraceID)) > 1 {
			trace, record = r.TraceID, r.ID
			break
		}
	}
	if trace == "" {
		t.Fatal("no trace of two records in the demo's store")
	}
	b.Navigate(t, "/stats/traces/"+trace+"?record="+record)
	b.WaitPainted(t, "chartGantt")
	b.Screenshot(t, filepath.Join(docs, "trace.png"))

	// Two requests of the N+1 route, compared call by call.
	orders := demoRecords(t, base, "route=GET+%2Forders&limit=2")
	if len(orders) < 2 {
		t.Fatal("fewer than two GET /orders records")
	}
	b.Navigate(t, "/stats/compare?a="+orders[1].ID+"&b="+orders[0].ID)
	b.WaitFor(t, "the comparison", `document.querySelectorAll("table").length > 0`, 10*time.Second)
	b.Screenshot(t, filepath.Join(docs, "compare.png"))

	// Requests in flight: keep some slow ones running until the page lists
	// one, then stop its refresh and open the calls of the first.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range []string{"/orders", "/home", "/report", "/orders"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+p, nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	defer wg.Wait()
	defer stop()
	b.Navigate(t, "/stats/active")
	b.WaitFor(t, "a request in flight", `(function () {
		var row = document.querySelector("#active-section tr.main");
		if (!row) return false;
		var auto = document.getElementById("active-auto");
		if (auto.checked) auto.click();
		var tog = row.querySelector("button.toggle");
		if (tog && tog.getAttribute("aria-expanded") === "false") tog.click();
		return true;
	})()`, time.Minute)
	stop()
	time.Sleep(2500 * time.Millisecond) // a refresh already started lands
	b.WaitFor(t, "a request in flight, still listed", `document.querySelector("#active-section tr.main") !== null`, time.Second)
	b.Screenshot(t, filepath.Join(docs, "active.png"))
	b.Check(t)
}

// demoRecord is the part of an api/records summary the screenshots need.
type demoRecord struct {
	ID      string `json:"id"`
	TraceID string `json:"trace_id"`
}

// demoRecords lists the demo's records matching query (api/records
// parameters), newest first; it fails t when there are none.
func demoRecords(t *testing.T, base, query string) []demoRecord {
	t.Helper()
	resp, err := http.Get(base + "/stats/api/records?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Records []demoRecord `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("api/records?%s: %s, %v", query, resp.Status, err)
	}
	if len(page.Records) == 0 {
		q, _ := url.QueryUnescape(query)
		t.Fatalf("no record of the demo matches %s: let it run longer", q)
	}
	return page.Records
}
