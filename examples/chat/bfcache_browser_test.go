package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
)

// TestBrowserBackForwardCache: navigated away from, the chat page was kept
// in Chromium's back-forward cache with its websocket open (25 s and more
// in Chromium 156), counted against the hub's caps. The page now closes it
// when hidden, and, shown again from the cache (Back), connects anew and
// gets the next push.
func TestBrowserBackForwardCache(t *testing.T) {
	tc := startChat(t)
	p := browsertest.New(t, tc.appURL, browsertest.Options{Hosts: []string{strings.TrimPrefix(tc.hubURL, "http://")}})
	p.Navigate(t, "/")
	p.WaitFor(t, "the hub's websocket open", liveJS, browsertest.Patience)
	waitConns(t, tc, 1)
	p.Eval(t, `window.addEventListener('pageshow', e => { window.shownFromCache = e.persisted }), true`)

	// Away to another page (about:blank: the app's JSON would have
	// Chromium ask for a favicon, and get a 404).
	if _, err := chromedp.Run(p.Ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	conn := tc.waitRecord(t, "the hidden page's connection closed", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && r.Calls[len(r.Calls)-1].Method == "close"
	})
	if why := conn.Calls[len(conn.Calls)-1].Request; !strings.Contains(why, "1000 page hidden") {
		t.Errorf("the hidden page's connection ended %q, want by the page, 1000 page hidden", why)
	}
	waitConns(t, tc, 0)

	p.Eval(t, `history.back(), true`)
	p.WaitAfterNav(t, "the page shown again, its websocket open", liveJS)
	if p.Eval(t, `window.shownFromCache === true`) != true {
		t.Fatal("the page was not shown from the back-forward cache: the test shows nothing")
	}
	waitConns(t, tc, 1)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"bo"}, "text": {"back again"}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// (chromedp's Poll, WaitFor's, does not answer on a page shown from
	// the cache: WaitAfterNav evaluates.)
	p.WaitAfterNav(t, "the comment pushed to the page shown again",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'back again')`)
	p.Check(t)
}
