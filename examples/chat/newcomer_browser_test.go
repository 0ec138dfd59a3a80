package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goappstats/appstats/internal/browsertest"
)

// The chat tried as a newcomer would: hostile text, a phone's width, the
// keyboard alone, a slow network, the network lost and back.

const liveJS = `document.getElementById('status').textContent === 'live'`

// emulateNetwork is Network.emulateNetworkConditions, which the cdproto
// version in go.mod no longer wraps (its successor, by rule, does not set
// navigator.onLine nor fire the offline and online events).
var emulateNetwork = cdp.Command[netConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

type netConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`            // ms
	DownloadThroughput float64 `json:"downloadThroughput"` // bytes/s, -1: no limit
	UploadThroughput   float64 `json:"uploadThroughput"`
}

func chatPages(t *testing.T, tc *testChat, n int) []*browsertest.Browser {
	t.Helper()
	opts := browsertest.Options{Hosts: []string{strings.TrimPrefix(tc.hubURL, "http://")}}
	var out []*browsertest.Browser
	for range n {
		p := browsertest.New(t, tc.appURL, opts)
		p.Navigate(t, "/")
		p.WaitFor(t, "the hub's websocket open", liveJS, browsertest.Patience)
		out = append(out, p)
	}
	return out
}

// TestBrowserHostileComment: a comment's text and name are shown as text,
// never run (html/template on the page, textContent on a push); a name's
// right-to-left override (U+202E) turned the rest of its line around —
// the time was drawn left of the name, on the page as served and as
// pushed, and "is typing…" in the typing notice; a word of 500 characters wraps
// at a phone's width.
func TestBrowserHostileComment(t *testing.T) {
	tc := startChat(t)
	ps := chatPages(t, tc, 2)
	a, b := ps[0], ps[1]
	if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	const evil = "\u202eevil"
	text := `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">` + strings.Repeat("W", 430)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {evil}, "text": {text}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.WaitFor(t, "the comment pushed", `document.querySelectorAll('#comments li').length === 1`, browsertest.Patience)
	a.Navigate(t, "/") // served by the app
	for _, p := range []struct {
		name string
		b    *browsertest.Browser
	}{{"pushed (375 px)", b}, {"served", a}} {
		got := p.b.Eval(t, `(function () {
			var li = document.querySelector('#comments li'), n = li.querySelector('.name').getBoundingClientRect(),
				tm = li.querySelector('time').getBoundingClientRect(), d = document.documentElement;
			return {pwned: String(window.pwned), text: li.querySelector('.text').textContent,
				nameRight: n.right, timeLeft: tm.left, wide: d.scrollWidth > d.clientWidth};
		})()`).(map[string]any)
		if got["pwned"] != "undefined" || got["text"] != text {
			t.Errorf("%s: the text ran (window.pwned %v) or was changed: %q", p.name, got["pwned"], got["text"])
		}
		if got["timeLeft"].(float64) < got["nameRight"].(float64) {
			t.Errorf("%s: the time is drawn at %v px, left of the name's end at %v: the name's override turned the line around",
				p.name, got["timeLeft"], got["nameRight"])
		}
		if got["wide"] != false {
			t.Errorf("%s: the page is wider than the window", p.name)
		}
	}
	// Typing under that name: the notice isolates it.
	b.Eval(t, `window.notices = [];
		new MutationObserver(() => window.notices.push(document.getElementById('typing').textContent))
			.observe(document.getElementById('typing'), {childList: true, characterData: true, subtree: true}), true`)
	a.Eval(t, `document.getElementById('name').value = `+browsertest.JSString(evil)+`, true`)
	if err := chromedp.Do(a.Ctx, chromedp.SendKeys(chromedp.CSS(`#text`), "hi")); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the typing notice", `window.notices.includes('`+evil+` is typing…')`, browsertest.Patience)
	if v := b.Eval(t, `(function () {
		var n = document.querySelector('#typing bdi');
		return !!n && n.textContent === `+browsertest.JSString(evil)+`;
	})()`); v != true {
		t.Error("the typing notice does not isolate the name (a <bdi>)")
	}
	a.Check(t)
	b.Check(t)
}

// TestPostTooLarge: a comment of 100 KB is refused for its size; the form
// over the app's bound of 8 KiB read as empty, and the answer said "a
// comment needs a name and a text".
func TestPostTooLarge(t *testing.T) {
	tc := startChat(t)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"ada"}, "text": {strings.Repeat("y", 100<<10)}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "at most 500 characters") {
		t.Errorf("100 KB: %d %q, want 413 saying a comment has at most 500 characters", resp.StatusCode, body)
	}
	if cs := comments(t, tc); len(cs) != 0 {
		t.Errorf("%d comments saved", len(cs))
	}
}

func comments(t *testing.T, tc *testChat) []comment {
	t.Helper()
	resp, err := http.Get(tc.appURL + "/comments")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cs []comment
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestBrowserKeyboardSlowPost: the keyboard alone posts (Tab to the name,
// the text, the button; Enter), on a slow network (1.5 s a round trip),
// and Enter pressed again while the post is on its way saves it once (the
// page sends no second post while one is on its way:
// TestBrowserDoubleSubmit). The other page gets it by the push.
func TestBrowserKeyboardSlowPost(t *testing.T) {
	tc := startChat(t)
	ps := chatPages(t, tc, 2)
	a, b := ps[0], ps[1]
	if _, err := chromedp.Call(a.Ctx, emulateNetwork, netConditions{Latency: 1500, DownloadThroughput: 20000, UploadThroughput: 10000}); err != nil {
		t.Fatal(err)
	}
	var focus []string
	tab := func() {
		if err := chromedp.Do(a.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		focus = append(focus, a.Eval(t, `document.activeElement.id || document.activeElement.tagName`).(string))
	}
	for a.Eval(t, `document.activeElement.id`) != "name" && len(focus) < 10 {
		tab()
	}
	if err := chromedp.Do(a.Ctx, chromedp.KeyEvent("kim")); err != nil {
		t.Fatal(err)
	}
	tab()
	if err := chromedp.Do(a.Ctx, chromedp.KeyEvent("typed, not clicked")); err != nil {
		t.Fatal(err)
	}
	tab()
	if want := []string{"name", "text", "BUTTON"}; strings.Join(focus[len(focus)-3:], " ") != strings.Join(want, " ") {
		t.Fatalf("Tab went %v, want to end with %v", focus, want)
	}
	if err := chromedp.Do(a.Ctx, chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the comment pushed to the other page",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'typed, not clicked')`, browsertest.Patience)
	a.WaitAfterNav(t, "the poster's page reloaded with it",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'typed, not clicked')`)
	if cs := comments(t, tc); len(cs) != 1 {
		t.Errorf("%d comments saved, want 1: %+v", len(cs), cs)
	}
	a.Check(t)
	b.Check(t)
}

// TestBrowserOffline: the network lost, the page says so (it said "live",
// with no push coming through); back online it connects anew at once (its
// old socket may be dead without knowing it: the hub dropped it) and shows
// what was posted meanwhile.
func TestBrowserOffline(t *testing.T) {
	tc := startChat(t)
	a := chatPages(t, tc, 1)[0]
	a.Eval(t, `window.sockets = 0; (function () {
		var WS = window.WebSocket;
		window.WebSocket = function (u, p) { window.sockets++; return new WS(u, p); };
		window.WebSocket.prototype = WS.prototype;
		['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) { window.WebSocket[k] = WS[k]; });
	})(), true`)
	if _, err := chromedp.Call(a.Ctx, emulateNetwork, netConditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	a.WaitFor(t, "the page to say it is offline", `document.getElementById('status').textContent.startsWith('offline')`, browsertest.Patience)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"bo"}, "text": {"while you were away"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := chromedp.Call(a.Ctx, emulateNetwork, netConditions{DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	a.WaitFor(t, "a new socket, live", `window.sockets >= 1 && `+liveJS, browsertest.Patience)
	a.WaitFor(t, "the comment posted while offline",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'while you were away')`, browsertest.Patience)
	a.Check(t)
}

// TestBrowserLineBreaks: a comment of as many characters as the form
// takes (the textarea's maxlength, 500), with line breaks, is saved and
// shown with them. A browser counts a line break as one character, and
// sends it as two, CR LF (a form's line breaks are sent so): the app
// counted those, and refused ten lines of 49 letters with "a comment has
// at most 500 characters". Posted by a client other than a browser, a CR
// LF is one line break too.
func TestBrowserLineBreaks(t *testing.T) {
	tc := startChat(t)
	ps := chatPages(t, tc, 2)
	a, b := ps[0], ps[1]
	line := strings.Repeat("a", 49) + "\n"
	text := strings.Repeat(line, 9) + strings.Repeat("a", 49) + "b" // 500 characters, 9 line breaks
	if err := chromedp.Do(a.Ctx, chromedp.SendKeys(chromedp.CSS(`#name`), "kim"), chromedp.SendKeys(chromedp.CSS(`#text`), text)); err != nil {
		t.Fatal(err)
	}
	if got := a.Eval(t, `document.getElementById('text').value`); got != text {
		t.Fatalf("the textarea holds %q, want the %d characters typed", got, len(text))
	}
	if err := chromedp.Do(a.Ctx, chromedp.Click(chromedp.CSS(`button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	shown := `[...document.querySelectorAll('#comments .text')].some(p => p.textContent === ` + browsertest.JSString(text) + `)`
	// The page with the comment, or an answer that is no chat page.
	a.WaitAfterNav(t, "the page after the post", shown+` || !document.getElementById('post')`)
	if got := a.Eval(t, shown); got != true {
		t.Fatalf("after the post the page says %q, want the comment shown", a.Eval(t, `document.body.innerText.slice(0, 200)`))
	}
	b.WaitFor(t, "the comment pushed to the other page", shown, browsertest.Patience)
	// Stored with its line breaks as a browser shows them, LF.
	if cs := comments(t, tc); len(cs) != 1 || cs[0].Text != text {
		t.Errorf("comments stored: %+v, want one of the text typed", cs)
	}
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"ada"}, "text": {strings.ReplaceAll(text, "\n", "\r\n")}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // the redirect, followed, to the page
		t.Errorf("500 characters with CR LF line breaks, posted: %d %q", resp.StatusCode, body)
	}
	a.Check(t)
	b.Check(t)
}

// TestBrowserDoubleSubmit: a second submit while the first post is on its
// way (Enter pressed twice on a slow network, a double click) saves the
// comment once. The first post has reached the app and is saved, its
// answer held in the browser (the Fetch domain pauses it), when the page
// submits again: Chromium drops the first navigation and sends the form
// anew, and the app saved the comment twice (TestBrowserKeyboardSlowPost
// flaked so under load: "2 comments saved, want 1").
func TestBrowserDoubleSubmit(t *testing.T) {
	tc := startChat(t)
	a := chatPages(t, tc, 1)[0]
	paused := make(chan *fetch.EventRequestPaused, 16)
	if err := chromedp.Listen(a.Ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The posts' answers are held; the page's own request that says it
	// submitted again ("?resubmitted") too, to tell the test.
	if _, err := chromedp.Call(a.Ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/comments", RequestStage: fetch.RequestStageResponse},
		{URLPattern: "*resubmitted*", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		t.Fatal(err)
	}
	// The page submits, waits until the app has the comment (its answer
	// held), submits again and says so.
	a.Eval(t, `(function () {
		var f = document.getElementById('post');
		document.getElementById('name').value = 'kim';
		document.getElementById('text').value = 'sent twice';
		f.requestSubmit();
		(async function () {
			for (;;) {
				var cs = await (await fetch('comments?probe=' + Date.now(), { cache: 'no-store' })).json();
				if (cs.length) break;
				await new Promise(function (r) { setTimeout(r, 20); });
			}
			f.requestSubmit();
			fetch('comments?resubmitted=1');
		})();
		return true;
	})()`)
	var held []fetch.RequestID
	for done := false; !done; {
		select {
		case e := <-paused:
			held = append(held, e.RequestID)
			done = strings.Contains(e.Request.URL, "resubmitted")
		case <-time.After(browsertest.Patience):
			t.Fatal("the page never submitted again")
		}
	}
	// Let everything go on, now and from now on.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case e := <-paused:
				continueRequest(a.Ctx, e.RequestID)
			case <-stop:
				return
			}
		}
	}()
	for _, id := range held {
		continueRequest(a.Ctx, id)
	}
	a.WaitAfterNav(t, "the page reloaded with the comment",
		`!!document.getElementById('comments') && [...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'sent twice')`)
	if cs := comments(t, tc); len(cs) != 1 {
		t.Errorf("%d comments saved, want 1: %+v", len(cs), cs)
	}
	a.Check(t)
}

// continueRequest lets a request the Fetch domain paused go on (an error,
// for a request the page gave up meanwhile, is no matter).
func continueRequest(ctx context.Context, id fetch.RequestID) {
	_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
}
