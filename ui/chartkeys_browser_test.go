package ui_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goappstats/appstats/ui"
)

// TestBrowserChartKeyboard: a chart's points list their requests on a
// click; the keyboard reaches the same lists. Tab focuses the chart, the
// arrow keys choose a point, which a live region says, and Enter (or
// Space) opens the point's list, the very URL a click opens. On main a
// chart took no focus: Tab went past it.
func TestBrowserChartKeyboard(t *testing.T) {
	st, _ := demoStore(t)
	b := newBrowser(t, ui.NewHandler(st))
	tabTo := func(id string) {
		t.Helper()
		for range 60 {
			if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatal(err)
			}
			if b.Eval(t, `document.activeElement && document.activeElement.id`) == id {
				return
			}
		}
		t.Fatalf("Tab never reaches #%s", id)
	}
	keys := func(k ...string) {
		t.Helper()
		for _, s := range k {
			if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(s)); err != nil {
				t.Fatal(err)
			}
		}
	}

	b.Navigate(t, "/stats/?window=1h")
	b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
	tabTo("chartRequests")
	n := int(b.Eval(t, `JSON.parse(document.getElementById("series-data").textContent).buckets.length`).(float64))
	// Focus chooses the last point; two to the left is the third last.
	keys(kb.ArrowLeft, kb.ArrowLeft)
	want := n - 3
	if v := b.Eval(t, `document.getElementById("chartRequests").dataset.point`); v != itoa(want) {
		t.Fatalf("the chosen point is %v, want %d", v, want)
	}
	say := b.Eval(t, `document.getElementById("chartRequests-point").textContent`).(string)
	wantURL := b.Eval(t, `(function () {
		var sd = JSON.parse(document.getElementById("series-data").textContent), a = sd.buckets[`+itoa(want)+`].start_unix_ms;
		return [a, a + sd.step_ms, sd.buckets[`+itoa(want)+`].requests];
	})()`).([]any)
	if !strings.Contains(say, " requests, ") || !strings.HasPrefix(strings.SplitN(say, ": ", 2)[1], ftoa(wantURL[2])+" requests") {
		t.Errorf("the live region says %q, want the point's %v requests", say, wantURL[2])
	}
	keys(kb.Enter)
	b.WaitAfterNav(t, "the point's requests listed", `new URLSearchParams(location.search).get("since") === "`+ftoa(wantURL[0])+
		`" && new URLSearchParams(location.search).get("until") === "`+ftoa(wantURL[1])+`" && location.hash === "#history"`)

	// The histogram: Home is its first bar, and Space opens it.
	b.Navigate(t, "/stats/?window=1h")
	b.WaitPainted(t, "chartHistogram")
	tabTo("chartHistogram")
	keys(kb.Home, " ")
	b.WaitAfterNav(t, "the first bar's requests listed", `(function () {
		var p = new URLSearchParams(location.search);
		return p.get("max_ms") === "1" && !p.has("min_ms") && p.get("sort") === "duration";
	})()`)
	b.Check(t)
}

func itoa(n int) string { return strconv.Itoa(n) }

// ftoa writes a number from a page as JavaScript's String() does for an
// integer.
func ftoa(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }
