package ui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserTablet: at a tablet's width (768 px, 820 px), between the
// phone's layout (700 px and below) and the desktop's, no page is wider than
// the window: the dashboard's RPC table (848 px wide with the demo's
// records) made the whole page scroll sideways.
func TestBrowserTablet(t *testing.T) {
	st, _ := demoStore(t)
	caller, callee := traceRecords(time.Now())
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	pages := []string{
		"/stats/",
		"/stats/records/" + caller.ID.String(),
		"/stats/traces/" + caller.TraceID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(),
		"/stats/active",
	}
	const wider = `(function () {
  var w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return "";
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect(), p = el.parentElement.getBoundingClientRect();
    if (r.right > w + 1 && p.right <= w + 1 && out.length < 4) out.push(el.tagName.toLowerCase() + "." + el.className + " to " + Math.round(r.right));
  });
  return "page " + document.documentElement.scrollWidth + " px wide: " + out.join(", ");
})()`
	for _, width := range []int64{701, 768, 820, 1024} {
		if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			b.Navigate(t, p)
			b.WaitFor(t, "the page's script", `typeof AppStats === "object"`, time.Minute)
			if p == "/stats/" {
				b.Screenshot(t, fmt.Sprintf("/tmp/appstats-screenshots/tablet-%d.png", width))
			}
			if v := b.Eval(t, wider); v != "" {
				t.Errorf("%s at %d px: %v", p, width, v)
			}
		}
	}
}
