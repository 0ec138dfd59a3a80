package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserWhereAmI: a newcomer on any page of the dashboard, by eye,
// screen reader or keyboard, is told where they are and can get past the
// header: the title and the page's one h1 name the page; the first Tab
// shows a "Skip to content" link, whose Enter moves the focus to the
// page's main part; and every control Tab reaches shows that it has the
// focus. On main the dashboard, the in-flight and the compare pages had no
// h1 (titles "dashboard", "in flight"), and no page had a skip link.
func TestBrowserWhereAmI(t *testing.T) {
	st, _ := demoStore(t)
	caller, callee := traceRecords(time.Now())
	writeRecs(t, st, caller, callee)
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/slow/export"})
	defer ar.Finish()
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	for _, p := range []struct{ path, title, h1 string }{
		{"/stats/", "Dashboard", "Dashboard"},
		{"/stats/records/" + caller.ID.String(), "GET /checkout", "/checkout"},
		{"/stats/traces/" + caller.TraceID.String() + "?record=" + caller.ID.String(), "Trace " + caller.TraceID.String(), caller.TraceID.String()},
		{"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(), "Compare", "Compare two requests"},
		{"/stats/active", "In flight", "In flight"},
		{"/stats/records/00000000000000000000000000000001", "Not Found", "404 Not Found"},
	} {
		b.Navigate(t, p.path)
		title := strings.NewReplacer("\u2068", "", "\u2069", "").Replace(b.Eval(t, `document.title`).(string))
		if !strings.HasPrefix(title, p.title) || !strings.HasSuffix(title, " · appstats") {
			t.Errorf("%s: title %q, want %q · appstats", p.path, title, p.title)
		}
		h1 := b.Eval(t, `Array.from(document.querySelectorAll("h1")).map(function (e) { return e.textContent.replace(/\s+/g, " ").trim(); }).join(" | ")`).(string)
		if !strings.HasPrefix(h1, p.h1) || strings.Contains(h1, " | ") {
			t.Errorf("%s: h1 %q, want one, %q", p.path, h1, p.h1)
		}
		// The first Tab: a visible skip link.
		if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		skip := b.Eval(t, `(function () {
  var e = document.activeElement, r = e.getBoundingClientRect();
  return e.tagName + " " + e.getAttribute("href") + " " + JSON.stringify(e.textContent.trim()) +
    (r.width > 20 && r.height > 10 && r.top >= 0 && r.left >= 0 ? " visible" : " hidden");
})()`)
		if skip != `A #main "Skip to content" visible` {
			t.Errorf("%s: the first Tab focuses %v, want a visible skip link", p.path, skip)
		}
		if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		if v := b.Eval(t, `!!document.activeElement.closest("main")`); v != true {
			t.Errorf("%s: Enter on the skip link leaves the focus on %v", p.path, b.Eval(t, `document.activeElement.outerHTML.slice(0, 80)`))
		}
		// Each control Tab reaches shows the focus: an outline or a ring.
		b.Navigate(t, p.path)
		for i := range 30 {
			if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatal(err)
			}
			v := b.Eval(t, `(function () {
  var e = document.activeElement;
  if (e === document.body) return "body";
  var s = getComputedStyle(e);
  if ((s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none") return "";
  return e.outerHTML.slice(0, 100);
})()`).(string)
			if v == "body" {
				break
			}
			if v != "" {
				t.Errorf("%s: Tab %d focuses %s, which shows no focus", p.path, i+1, v)
			}
		}
	}
	for _, e := range b.Errors() {
		if !strings.Contains(e, "404 (Not Found) "+b.srv.URL+"/stats/records/00000000000000000000000000000001") {
			t.Errorf("page error: %s", e)
		}
	}
}
