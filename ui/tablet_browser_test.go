package ui_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/ui"
)

// TestBrowserTablet: at a tablet's width (768 px, 820 px), between the
// phone's layout (700 px and below) and the desktop's, no page is wider than
// the window: the dashboard's RPC table (848 px wide with the demo's
// records) made the whole page scroll sideways.
func TestBrowserTablet(t *testing.T) {
	st, rec, caller, callee := traceStore(t)
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	pages := tracePages(caller, callee)
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
