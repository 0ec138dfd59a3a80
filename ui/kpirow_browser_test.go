package ui_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserKPIRows: with both health cards (the recorder's and the
// store's), no figure card of the dashboard's top row sits alone on a row
// of its own with the rest of the row empty, at the widths of common
// screens; at 1440 px the Store card sat alone on a second row, a fifth of
// its width.
func TestBrowserKPIRows(t *testing.T) {
	mem, _ := demoStore(t)
	var down atomic.Bool
	rec := recording.New(recording.WithSinks(mem))
	defer rec.Close(context.Background())
	b := newBrowser(t, ui.NewHandler(flakyStore{mem, &down}, ui.WithRecorder(rec)))
	const rows = `(function () {
  var kpis = document.querySelector(".kpis"), cards = Array.from(kpis.children), byTop = {};
  cards.forEach(function (c) { var t = Math.round(c.getBoundingClientRect().top); (byTop[t] = byTop[t] || []).push(c); });
  var w = kpis.getBoundingClientRect().width, out = [];
  Object.keys(byTop).forEach(function (t) {
    var row = byTop[t], used = 0;
    row.forEach(function (c) { used += c.getBoundingClientRect().width; });
    if (row.length === 1 && cards.length > 1 && used < w * 0.6) out.push(row[0].querySelector(".kpi-label").textContent.trim() + " alone on a row, " + Math.round(used) + " of " + Math.round(w) + " px");
  });
  return cards.length + " cards; " + out.join("; ");
})()`
	for _, width := range []int64{375, 1024, 1180, 1280, 1366, 1440, 1536, 1680, 1920, 2560} {
		if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		b.Navigate(t, "/stats/")
		b.WaitFor(t, "the page's script", `typeof AppStats === "object"`, time.Minute)
		b.Screenshot(t, fmt.Sprintf("/tmp/ui18-shots/kpis-%d.png", width))
		if v := b.Eval(t, rows); v != "6 cards; " {
			t.Errorf("at %d px: %v", width, v)
		}
	}
}
