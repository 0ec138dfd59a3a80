package ui_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// MeasureEnv, set to 1, runs TestMeasureBigRecordPage: not a test but a
// measurement, of the details page of a record of BIGRECORD_CALLS calls
// (default 10,000: above the recorder's default cap, as
// recording.WithMaxCalls allows): the page's bytes, and the time Chromium
// spends laying it out, styling it and running its scripts
// (Performance.getMetrics) from navigation to the load event and the
// timeline painted. It asserts nothing about time.
const measureEnv = "APPSTATS_MEASURE"

func TestMeasureBigRecordPage(t *testing.T) {
	if os.Getenv(measureEnv) != "1" {
		t.Skipf("a measurement: set %s=1 to run it", measureEnv)
	}
	n := 10000
	if s := os.Getenv("BIGRECORD_CALLS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st))
	path := "/stats/records/" + r.ID.String()
	resp, err := http.Get(b.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, err := chromedp.Call(b.Ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	metrics := func() map[string]float64 { return chromeMetrics(t, b) }
	before := metrics()
	start := time.Now()
	b.Navigate(t, path)
	b.Check(t)
	b.WaitPainted(t, "chartGantt")
	wall := time.Since(start)
	after := metrics()
	d := func(k string) float64 { return after[k] - before[k] }
	rows := b.Eval(t, `document.querySelectorAll("#calls details.call").length`).(float64)
	nodes := b.Eval(t, `document.getElementsByTagName("*").length`).(float64)
	t.Logf("calls %d: page %d bytes, %v call rows, %v elements; layout %.3f s (%v layouts), style %.3f s, script %.3f s, task %.3f s; wall %.2f s",
		n, len(body), rows, nodes, d("LayoutDuration"), d("LayoutCount"), d("RecalcStyleDuration"),
		d("ScriptDuration"), d("TaskDuration"), wall.Seconds())
}

// chromeMetrics returns Chromium's performance metrics of b's page by
// name (performance.Enable must have been called).
func chromeMetrics(t *testing.T, b *browser) map[string]float64 {
	t.Helper()
	res, err := chromedp.Call(b.Ctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, x := range res.Metrics {
		m[x.Name] = x.Value
	}
	return m
}
