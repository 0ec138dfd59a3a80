package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserLongWords: a request can record a word of thousands of
// characters without a break (a path, a query value, a header, an error, a
// call's name or SQL text) and a right-to-left override (U+202E). No page
// then grows wider than the window, which would push its other columns
// and rows out of sight, at a desktop's width and at a phone's.
func TestBrowserLongWords(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	// Words as long as the recorder's default caps keep (paths and errors
	// 1 KiB, names 256 bytes), and longer where nothing caps them.
	word := strings.Repeat("A", 3000)
	text, name := word[:recording.DefaultMaxText], word[:recording.DefaultMaxName-8]
	rlo := "\u202eevil\u202c"
	now := time.Now()
	caller, callee := traceRecords(now)
	for _, r := range []*recording.Record{caller, callee} {
		r.Path, r.Route, r.Query, r.Error, r.User = "/"+text+rlo, "GET /"+name, "q="+text, text, name
		r.Instance = name
		r.Headers = map[string][]string{"X-" + word: {word}}
		r.Attrs = []recording.Attr{{Key: word, Value: word}}
		for i := range r.Calls {
			c := &r.Calls[i]
			c.Service, c.Method, c.Error, c.Request, c.Response = "svc"+word[:40], name+rlo, text, word, word
			c.Attrs = []recording.Attr{{Key: word, Value: word}}
			c.Stack[0].Function, c.Stack[0].File = word, "/"+word+".go"
		}
		r.Warnings = recording.Analyze(r, 2)
	}
	callee.Route = caller.Route
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	rec := recording.New()
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/" + text})
	c := recording.StartCall(ctx, "svc", name)
	defer ar.Finish()
	defer c.End(nil)
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	pages := []string{
		"/stats/",
		"/stats/?route=" + url.QueryEscape(caller.Route),
		"/stats/records/" + caller.ID.String(),
		"/stats/traces/" + caller.TraceID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(),
		"/stats/active",
	}
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			b.Navigate(t, p)
			b.WaitFor(t, "the page's script", `typeof AppStats === "object"`, time.Minute)
			b.Eval(t, `document.querySelectorAll("button.toggle").forEach(b => b.click()), document.querySelectorAll("details.call").forEach(d => d.open = true), true`)
			if v := b.Eval(t, wordsOutside); v != "" {
				t.Errorf("%.60s at %d px: the page is wider than the window: %v", p, width, v)
			}
			// The neighbours of the long words stay legible: a number, a
			// time or a status on one line, not squeezed to a letter a line.
			if v := b.Eval(t, `(function () {
  var out = [];
  document.querySelectorAll("td.num, time, .status, .call-row > span:not(.name)").forEach(function (el) {
    var w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), n;
    while ((n = w.nextNode())) {
      var r = document.createRange(), tops = {};
      r.selectNodeContents(n);
      Array.from(r.getClientRects()).forEach(function (q) { if (q.width > 0) tops[Math.round(q.top)] = true; });
      if (Object.keys(tops).length > 1) out.push(n.textContent.trim());
    }
  });
  return out.slice(0, 5).join("; ");
})()`); v != "" {
				t.Errorf("%.60s at %d px: these break across lines: %v", p, width, v)
			}
		}
	}
	b.Check(t)
}

// wordsOutside says how wide the page is when wider than the window, and
// which texts stick out past its right edge outside a box that scrolls.
const wordsOutside = `(function () {
  var w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return "";
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (!(r.width > 0 && r.right > w + 1) || !Array.from(e.childNodes).some(function (n) { return n.nodeType === 3 && n.textContent.length > 30; })) return;
    for (var p = e.parentElement; p; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") return;
    }
    out.push(e.parentElement.tagName.toLowerCase() + "." + e.parentElement.className + " > " + e.tagName.toLowerCase() + "." + e.className + " to " + Math.round(r.right) + " px");
  });
  return document.documentElement.scrollWidth + " px, " + out.slice(0, 6).join(", ");
})()`
