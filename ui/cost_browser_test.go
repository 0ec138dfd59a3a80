package ui_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// demoPrice prices the calls of demoRecords in USD, as a cloud bill
// would: per request, per query, per gRPC call, per cache operation.
func demoPrice(c *recording.Call) float64 {
	switch c.Service {
	case "http":
		return 0.40e-6 + float64(max(c.ResponseSize, 0))/1e9*0.09
	case "sql":
		return 0.25e-6
	case "grpc":
		return 0.50e-6
	case "memcache":
		return 0.05e-6
	}
	return 0
}

// flightSnapshot returns a real execution trace from the runtime's flight
// recorder.
func flightSnapshot(t *testing.T) []byte {
	t.Helper()
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: time.Second, MaxBytes: 1 << 20})
	if err := fr.Start(); err != nil {
		t.Skipf("no flight recorder: %v", err)
	}
	defer fr.Stop()
	done := make(chan int)
	for i := range 4 {
		go func() {
			s := 0
			for j := range 200000 {
				s += j * i
			}
			done <- s
		}()
	}
	for range 4 {
		<-done
	}
	time.Sleep(50 * time.Millisecond)
	var buf bytes.Buffer
	if _, err := fr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBrowserCostAndTrace opens a dashboard whose calls have costs and the
// details page of a slow request with an execution trace in Chromium: the
// Cost and Cost % columns show, the request's total shows, and the trace
// downloads.
func TestBrowserCostAndTrace(t *testing.T) {
	now := time.Now()
	recs := demoRecords(now, time.Hour, 600, 7)
	var slow *recording.Record
	for _, r := range recs {
		for i := range r.Calls {
			r.Calls[i].Cost = demoPrice(&r.Calls[i])
		}
		if r.Route == "POST /orders" && (slow == nil || r.Duration > slow.Duration) {
			slow = r
		}
	}
	data := flightSnapshot(t)
	slow.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: slow.Start.Add(slow.Duration),
		Reason: roundReason(slow.Duration)}
	st := memstore.New(0)
	defer st.Close()
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.NewHandler(st, ui.WithCostUnit("USD")))
	defer srv.Close()
	b := browsertest.New(t, srv.URL, browsertest.Options{Height: 1000})

	b.Navigate(t, "/stats/?window=1h")
	b.WaitFor(t, "the cost columns", `document.querySelectorAll("th.cost").length === 2`, browsertest.Patience)
	if n := b.Eval(t, `document.querySelectorAll(".rpc-table tr.main td.cost").length`).(float64); n == 0 {
		t.Error("no RPC row shows a cost")
	}
	if got := b.Eval(t, `document.querySelector(".rpc-table th.cost").textContent`).(string); got != "Cost USD" {
		t.Errorf("cost header = %q", got)
	}
	// The Cost % of the routes add up to 100%.
	sum := b.Eval(t, `Array.from(document.querySelectorAll(".path-table tr.main td.cost-share .share-v")).
		reduce(function (s, e) { return s + parseFloat(e.textContent); }, 0)`).(float64)
	if sum < 99.5 || sum > 100.5 {
		t.Errorf("the routes' Cost %% add up to %v", sum)
	}
	b.Eval(t, `document.querySelector(".path-card").scrollIntoView(); 0`)
	b.Check(t)
	b.Screenshot(t, filepath.Join("..", "docs", "cost.png"))

	b.Navigate(t, "/stats/records/"+slow.ID.String())
	b.WaitFor(t, "the execution trace", `!!document.querySelector("#exectrace a[download]")`, browsertest.Patience)
	if got := b.Eval(t, `document.querySelector("dd.cost").textContent`).(string); !strings.HasSuffix(got, " USD") {
		t.Errorf("the request's cost reads %q", got)
	}
	// A synchronous request: one byte a character with this charset.
	size := b.Eval(t, `(function () {
		var x = new XMLHttpRequest();
		x.open("GET", document.querySelector("#exectrace a[download]").href, false);
		x.overrideMimeType("text/plain; charset=x-user-defined");
		x.send();
		return x.status === 200 ? x.responseText.length : -x.status;
	})()`).(float64)
	if int(size) != len(data) {
		t.Errorf("the trace downloaded as %v bytes, want %d", size, len(data))
	}
	b.Check(t)
	b.Screenshot(t, filepath.Join("..", "docs", "exectrace.png"))
}

func roundReason(d time.Duration) string {
	return d.Round(time.Millisecond).String() + ", over the route's p99 of " + (d * 3 / 4).Round(time.Millisecond).String()
}
