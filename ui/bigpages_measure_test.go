package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestMeasureBigTraceCompare, with APPSTATS_MEASURE=1, is a measurement
// like TestMeasureBigRecordPage, of the trace and compare pages: a trace
// of two records of BIGRECORD_CALLS calls each (default 10,000), the
// second caused by the first's first call; a trace of 50 records of 59
// calls (just under the timeline's 3,000 rows); and the comparison of the
// two big records, and of two whose calls all have names of their own.
// It logs each page's bytes and Chromium's layout, style, script and task
// time from navigation to the load event; it asserts nothing about time.
func TestMeasureBigTraceCompare(t *testing.T) {
	if os.Getenv(measureEnv) != "1" {
		t.Skipf("a measurement: set %s=1 to run it", measureEnv)
	}
	n := 10000
	if s := os.Getenv("BIGRECORD_CALLS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a := makeRecord(now, 1, "/big", 200, n)
	b := makeRecord(now.Add(time.Millisecond), 2, "/big", 200, n)
	b.TraceID = a.TraceID
	b.SpanID[1] = 2
	a.Calls[0].SpanID[0], a.Calls[0].SpanID[1] = 9, 9
	b.ParentSpanID = a.Calls[0].SpanID
	// Calls with names of their own.
	da := makeRecord(now.Add(2*time.Millisecond), 3, "/distinct", 200, n)
	db := makeRecord(now.Add(3*time.Millisecond), 4, "/distinct", 200, n)
	for i := range da.Calls {
		da.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i)
		db.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i+n/2)
	}
	// A trace of 2,900 calls whose errors are 1 KiB of "<" each.
	lt := makeRecord(now.Add(4*time.Millisecond), 5, "/lt", 200, 2900)
	lt.TraceID[1] = 0x77
	for i := range lt.Calls {
		lt.Calls[i].Error = strings.Repeat("<", recording.DefaultMaxText)
	}
	recs := []*recording.Record{a, b, da, db, lt}
	var many recording.TraceID
	many[0], many[1] = 0xcd, 0xef
	for i := range 50 {
		r := makeRecord(now.Add(time.Duration(i)*time.Millisecond), uint64(100+i), "/many", 200, 59)
		r.TraceID = many
		r.SpanID[1] = byte(i + 1)
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	br := newBrowser(t, ui.NewHandler(st))
	for _, p := range []struct{ name, path, chart string }{
		{"trace of 2 big records", "/stats/traces/" + a.TraceID.String() + "?record=" + a.ID.String(), "chartGantt"},
		{"trace of 50x59 calls", "/stats/traces/" + many.String() + "?window=1h", "chartGantt"},
		{"trace of 2,900 escaped errors", "/stats/traces/" + lt.TraceID.String() + "?record=" + lt.ID.String(), "chartGantt"},
		{"compare 2 big records", "/stats/compare?a=" + a.ID.String() + "&b=" + b.ID.String(), ""},
		{"compare distinct names", "/stats/compare?a=" + da.ID.String() + "&b=" + db.ID.String(), ""},
	} {
		measurePage(t, br, p.name, p.path, p.chart)
	}
}

// measurePage logs path's bytes and Chromium's work loading it.
func measurePage(t *testing.T, b *browser, name, path, chart string) {
	t.Helper()
	resp, err := http.Get(b.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// From a blank page in the same renderer, the counters enabled anew.
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx, performance.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	metrics := func() map[string]float64 { return chromeMetrics(t, b) }
	before := metrics()
	start := time.Now()
	b.Navigate(t, path)
	b.Check(t)
	if chart != "" {
		b.WaitPainted(t, chart)
	}
	b.Eval(t, `document.body.getBoundingClientRect().height`) // the layout done
	wall := time.Since(start)
	after := metrics()
	// A navigation to another renderer starts the counters again.
	d := func(k string) float64 {
		if after[k] < before[k] {
			return after[k]
		}
		return after[k] - before[k]
	}
	nodes := b.Eval(t, `document.getElementsByTagName("*").length`).(float64)
	t.Logf("%s: status %d, %d bytes, %v elements; layout %.3f s (%v layouts), style %.3f s, script %.3f s, task %.3f s; wall %.2f s",
		name, resp.StatusCode, len(body), nodes, d("LayoutDuration"), d("LayoutCount"), d("RecalcStyleDuration"),
		d("ScriptDuration"), d("TaskDuration"), wall.Seconds())
}
