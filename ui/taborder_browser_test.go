package ui_test

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserTabOrder: Tab moves through the dashboard in the order it is
// seen, top to bottom. The charts sit under the figures but came after
// the tables in the document, so Tab went from the last instance's link
// back up to the latency chart's "log scale" button.
func TestBrowserTabOrder(t *testing.T) {
	st, _ := demoStore(t)
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec), ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartLatency")
	// Each control Tab reaches, in the document's order, lies no higher on
	// the page than the one before it (a row's controls may differ by a
	// few pixels).
	if v := b.Eval(t, `(function () {
  var els = Array.from(document.querySelectorAll("main a[href], main button, main input:not([type=hidden]), main select, main summary"))
    .filter(function (e) { return e.getClientRects().length > 0 && e.tabIndex >= 0; });
  var out = [], prev = null;
  els.forEach(function (e) {
    var top = e.getBoundingClientRect().top + scrollY;
    if (prev && top < prev.top - 24) out.push(JSON.stringify(e.textContent.trim().slice(0, 30)) + " at " + Math.round(top) + " px after " + JSON.stringify(prev.text) + " at " + Math.round(prev.top) + " px");
    prev = { top: top, text: e.textContent.trim().slice(0, 30) };
  });
  return out.join("; ");
})()`); v != "" {
		t.Errorf("Tab goes back up the page: %v", v)
	}
	b.Check(t)
}
