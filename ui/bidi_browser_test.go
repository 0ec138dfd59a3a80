package ui_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserBidiOverride: a request can record a right-to-left override
// (U+202E) that it never closes, at the end of its path, its route, a
// call's name and the other strings it controls. What the page writes
// after such a string (the route beside a path, a status, the next fact)
// must still read left to right: the override must not reach past the
// string, which would let a request rewrite what the page says about it.
func TestBrowserBidiOverride(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	const rlo = "\u202e"
	caller, callee := traceRecords(time.Now())
	for _, r := range []*recording.Record{caller, callee} {
		r.Path, r.Route, r.Error, r.User, r.Instance = r.Path+rlo, r.Route+rlo, "failed"+rlo, "user"+rlo, "web-1"+rlo
		r.Headers = map[string][]string{"X-Evil" + rlo: {"value" + rlo}}
		r.Attrs = []recording.Attr{{Key: "key" + rlo, Value: "value" + rlo}}
		for i := range r.Calls {
			c := &r.Calls[i]
			c.Service, c.Method, c.Error = c.Service+rlo, c.Method+rlo, "refused"+rlo
		}
		r.Warnings = recording.Analyze(r, 2)
	}
	callee.Route = caller.Route
	if err := st.Write(context.Background(), []*recording.Record{caller, callee}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ui.NewHandler(st))
	// reversed lists the text nodes without an override of their own that
	// the browser lays out right to left: their first letter right of
	// their last.
	const reversed = `(function () {
  var out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), n;
  while ((n = w.nextNode())) {
    var s = n.textContent;
    if (s.indexOf("\u202e") >= 0 || !n.parentElement || n.parentElement.closest("script, style, template")) continue;
    var a = s.search(/[A-Za-z0-9]/), z = -1;
    for (var i = s.length - 1; i > a; i--) if (/[A-Za-z0-9]/.test(s[i])) { z = i; break; }
    if (a < 0 || z < 0) continue;
    var r = document.createRange();
    r.setStart(n, a); r.setEnd(n, a + 1);
    var ra = r.getBoundingClientRect();
    r.setStart(n, z); r.setEnd(n, z + 1);
    var rz = r.getBoundingClientRect();
    if (ra.width === 0 || rz.width === 0 || Math.abs(ra.top - rz.top) > 2) continue; // hidden, or on two lines
    if (ra.left > rz.left) out.push(JSON.stringify(s.trim()));
  }
  return out.slice(0, 6).join(", ");
})()`
	for _, p := range []string{
		"/stats/",
		"/stats/?route=" + url.QueryEscape(caller.Route),
		"/stats/records/" + caller.ID.String(),
		"/stats/records/" + callee.ID.String(),
		"/stats/traces/" + caller.TraceID.String(),
		"/stats/compare?a=" + caller.ID.String() + "&b=" + callee.ID.String(),
	} {
		b.Navigate(t, p)
		b.WaitFor(t, "the page's script", `typeof AppStats === "object"`, time.Minute)
		b.Eval(t, `document.querySelectorAll("button.toggle").forEach(b => b.click()), document.querySelectorAll("details.call").forEach(d => d.open = true), true`)
		if v := b.Eval(t, reversed); v != "" {
			t.Errorf("%.60s: an override in a recorded string reverses what follows it: %v", p, v)
		}
		// The window's title: the page's name after the record's.
		if v := b.Eval(t, `document.title.replace(/[^\u202a-\u202e\u2066-\u2069]/g, "").replace(/\u2068[\u202a-\u202e]*\u2069/g, "")`); v != "" {
			t.Errorf("%.60s: the title %q leaves an override open before its own words", p, b.Eval(t, `document.title`))
		}
		// Text the server composes of recorded strings and its own words
		// ("called by sql SELECT of GET /checkout"): its words read left
		// to right.
		if v := b.Eval(t, `(function () {
  var out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), n;
  while ((n = w.nextNode())) {
    var i = n.textContent.indexOf(" of ");
    if (n.textContent.indexOf("\u202e") < 0 || i < 0) continue;
    var r = document.createRange();
    r.setStart(n, i + 1); r.setEnd(n, i + 2);
    var o = r.getBoundingClientRect();
    r.setStart(n, i + 2); r.setEnd(n, i + 3);
    if (o.left > r.getBoundingClientRect().left) out.push(JSON.stringify(n.textContent.trim()));
  }
  return out.join(", ");
})()`); v != "" {
			t.Errorf("%.60s: an override in a recorded string reverses the page's words after it: %v", p, v)
		}
	}
	b.Check(t)
}
