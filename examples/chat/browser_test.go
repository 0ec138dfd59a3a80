package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
)

// pushLogJS, run in a page before its scripts, notes in window.pushLog each
// fetch the page makes: its URL, and the data of the websocket message in
// whose onmessage handler it was made (null: none).
const pushLogJS = `(() => {
  window.pushLog = [];
  let during = null;
  const WS = window.WebSocket;
  const onmessage = Object.getOwnPropertyDescriptor(WS.prototype, 'onmessage');
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    Object.defineProperty(ws, 'onmessage', {
      get() { return onmessage.get.call(ws); },
      set(h) {
        onmessage.set.call(ws, h && function (e) {
          during = String(e.data);
          try { return h.call(this, e); } finally { during = null; }
        });
      },
    });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) window.WebSocket[k] = WS[k];
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    window.pushLog.push({url: String(input), during: during});
    return fetch.apply(this, arguments);
  };
})()`

// TestBrowsers opens the chat in two headless Chromium pages: one posts, the
// other shows the new comment without a reload, fetched on the hub's push;
// the POST's
// record holds the SQL and webhook calls and the hub's record is in its
// trace; the dashboard shows the open connection as running; when the hub
// restarts, the page reconnects and gets the next push. No page has a script
// error.
func TestBrowsers(t *testing.T) {
	tc := startChat(t)
	hubHost := strings.TrimPrefix(tc.hubURL, "http://")
	opts := browsertest.Options{Hosts: []string{hubHost}}
	a := browsertest.New(t, tc.appURL, opts)
	b := browsertest.New(t, tc.appURL, opts)
	// B notes each fetch its page makes, and the websocket message (if
	// any) in whose handler it was made.
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: pushLogJS})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	const live = `document.getElementById('status').textContent === 'live'`
	for _, p := range []*browsertest.Browser{a, b} {
		p.Navigate(t, "/")
		p.WaitFor(t, "the hub's websocket open", live, browsertest.Patience)
	}
	b.Eval(t, `window.notReloaded = true`)

	// A types (B is told), then posts. B shows the notice for 3 s: B notes
	// every notice it shows, so that a test held up longer still sees it.
	b.Eval(t, `window.notices = [];
		new MutationObserver(() => window.notices.push(document.getElementById('typing').textContent))
			.observe(document.getElementById('typing'), {childList: true, characterData: true, subtree: true}), true`)
	if err := chromedp.Do(a.Ctx,
		chromedp.SendKeys(chromedp.CSS(`#name`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`#text`), "hello from A"),
	); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the typing notice", `window.notices.includes('ada is typing…')`, browsertest.Patience)
	// B shows it without a reload, fetched because the hub pushed
	// "UPDATED": every fetch B made from the post until the comment showed
	// was made in its handler of that message (a page that polled, or
	// reloaded, with the push broken or ignored, fails here however fast
	// it is).
	if err := chromedp.Do(a.Ctx, chromedp.SetValue(chromedp.CSS(`#text`), "hello from A")); err != nil {
		t.Fatal(err)
	}
	b.Eval(t, `window.pushLog.length = 0, true`)
	a.Eval(t, `document.getElementById('post').requestSubmit(), true`)
	a.WaitAfterNav(t, "the posted comment on the poster's page",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'hello from A')`)
	b.WaitFor(t, "the new comment on the other page",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'hello from A')`, browsertest.Patience)
	if b.Eval(t, `window.notReloaded === true`) != true {
		t.Error("the other page reloaded")
	}
	fetches := b.Eval(t, `JSON.stringify(window.pushLog)`).(string)
	var log []struct {
		URL    string  `json:"url"`
		During *string `json:"during"`
	}
	if err := json.Unmarshal([]byte(fetches), &log); err != nil {
		t.Fatal(err)
	}
	t.Logf("the other page's fetches from the post until it showed the comment: %s", fetches)
	if len(log) == 0 {
		t.Errorf("the other page showed the comment with no fetch since the post")
	}
	for _, f := range log {
		if f.During == nil || *f.During != "UPDATED" {
			t.Errorf("the other page fetched %s other than on the hub's UPDATED push: %s", f.URL, fetches)
		}
	}
	b.Screenshot(t, "../../docs/chat.png")
	a.Check(t)
	b.Check(t)

	// The POST's record holds the SQL and the webhook call; the hub's
	// record of the webhook is in its trace, with the broadcast.
	post := tc.waitRecord(t, "POST /comments", func(r *recording.Record) bool { return r.Route == "POST /comments" })
	if len(callsNamed(post, "sql", "INSERT comments")) != 1 {
		t.Errorf("the POST's record lacks its INSERT: %+v", post.Calls)
	}
	hook := callsNamed(post, "http", "POST 127.0.0.1:")
	if len(hook) != 1 || !strings.HasSuffix(hook[0].Method, "/notify") {
		t.Fatalf("the POST's record lacks the webhook call: %+v", post.Calls)
	}
	hub := tc.waitRecord(t, "the hub's POST /notify", func(r *recording.Record) bool {
		return r.Route == "POST /notify" && r.TraceID == post.TraceID
	})
	if hub.Instance != hubInstance || hub.ParentSpanID != hook[0].SpanID || len(callsNamed(hub, "websocket", "send UPDATED")) != 2 {
		t.Errorf("the hub's record: instance %q, parent %s (the call's %s), calls %+v", hub.Instance, hub.ParentSpanID, hook[0].SpanID, hub.Calls)
	}

	// The dashboard, on A: B's connection runs on the hub; the POST's page
	// shows its calls.
	a.Navigate(t, "/stats/")
	a.WaitFor(t, "B's connection listed as running",
		`[...document.querySelectorAll('.running-table tbody tr')].some(tr => tr.textContent.includes('chat-hub') && tr.textContent.includes('/ws'))`, browsertest.Patience)
	a.Navigate(t, "/stats/records/"+post.ID.String())
	a.WaitFor(t, "the POST's calls on its page",
		`document.body.textContent.includes('INSERT comments') && document.body.textContent.includes('/notify')`, browsertest.Patience)
	a.Screenshot(t, "../../docs/chat-post.png")
	a.Check(t)

	// The hub restarts: B reconnects, with backoff, and gets the next push.
	ctxErrs := len(b.Errors())
	if err := tc.hub.shutdown(a.Ctx, tc.hubSrv); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the page to see the hub go", `document.getElementById('status').textContent.startsWith('hub away')`, browsertest.Patience)
	// The hub comes back once the page has failed to reconnect (its
	// attempt logged), so that the reconnection is a retry's.
	failed := func() bool {
		for _, e := range b.Errors()[ctxErrs:] {
			if strings.Contains(e, "WebSocket connection to '"+tc.app.wsURL()+"' failed") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(browsertest.Patience); !failed(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the page logged no failed reconnection in %v: %q", browsertest.Patience, b.Errors()[ctxErrs:])
		}
	}
	tc.hubSrv = tc.hub.serve(tc.as.Recorder(), listen(t, hubHost))
	b.WaitFor(t, "the page reconnected", live, browsertest.Patience)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"bo"}, "text": {"after the restart"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.WaitFor(t, "the comment posted after the restart",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'after the restart')`, browsertest.Patience)
	if b.Eval(t, `window.notReloaded === true`) != true {
		t.Error("the other page reloaded")
	}
	// The record of B's first connection, ended by the restart: its
	// connect and close, its messages counted.
	// Pushed to it: an UPDATED per post, and A's typing notices (one every
	// 2 s while A types); nothing received from B. (A's page, reloaded by
	// its post, may keep its connection open after it moves to the
	// dashboard, until the restart: one with nothing pushed.)
	conn := tc.waitRecord(t, "B's first connection", func(r *recording.Record) bool {
		sent, _ := strconv.Atoi(r.Attr("appstats.stream.messages_sent"))
		return r.Route == "GET /ws" && sent >= 2 &&
			len(r.Calls) > 0 && r.Calls[len(r.Calls)-1].Request == "closed by the server: 1001 hub shutting down"
	})
	if conn.Attr("appstats.stream.messages_received") != "0" {
		t.Errorf("B's first connection: %v", conn.Attrs)
	}
	a.Navigate(t, "/stats/records/"+conn.ID.String())
	a.WaitFor(t, "the connection's page", `document.body.textContent.includes('appstats.stream.messages_sent') && document.body.textContent.includes('hub shutting down')`, browsertest.Patience)
	a.Screenshot(t, "../../docs/chat-connection.png")
	a.Check(t)

	// While the hub was away, the browser logged its failed connection
	// attempts; nothing else.
	for _, e := range b.Errors()[ctxErrs:] {
		if !strings.Contains(e, "WebSocket connection to '"+tc.app.wsURL()+"' failed") {
			t.Errorf("page error while the hub restarted: %s", e)
		}
	}
}

// TestBrowserPublicAddress: with -addr :8090 -hub :8091 the page told the
// browser the hub was at ws://[::]:8091/ws, and the hub admitted only pages
// of [::]:8090: a page opened by any name ("hub away: retrying" for ever).
// Opened as http://chat.test:port/, a name that resolves to this machine,
// the page now connects to the hub at chat.test, and gets the pushes.
func TestBrowserPublicAddress(t *testing.T) {
	tc := startChatOn(t, "0.0.0.0:0", "0.0.0.0:0")
	_, appPort, _ := net.SplitHostPort(tc.appLn)
	_, hubPort, _ := net.SplitHostPort(tc.hubLn)
	p := browsertest.New(t, "http://chat.test:"+appPort, browsertest.Options{
		Hosts: []string{"chat.test:" + hubPort},
		Flags: map[string]any{"host-resolver-rules": "MAP chat.test 127.0.0.1"},
	})
	p.Navigate(t, "/")
	if hub := p.Eval(t, `document.body.dataset.hub`); hub != "ws://chat.test:"+hubPort+"/ws" {
		t.Errorf("the page names the hub %v", hub)
	}
	p.WaitFor(t, "the hub's websocket open", `document.getElementById('status').textContent === 'live'`, browsertest.Patience)
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"bo"}, "text": {"from afar"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.WaitFor(t, "the pushed comment",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'from afar')`, browsertest.Patience)
	p.Check(t)
}

// TestBrowserTypingNames: the hub tells every page who is typing, the
// page's own user included; the page leaves its own name out, and names
// the others ("bo and cy are typing…").
func TestBrowserTypingNames(t *testing.T) {
	tc := startChat(t)
	hubHost := strings.TrimPrefix(tc.hubURL, "http://")
	p := browsertest.New(t, tc.appURL, browsertest.Options{Hosts: []string{hubHost}})
	p.Navigate(t, "/")
	p.WaitFor(t, "the hub's websocket open", `document.getElementById('status').textContent === 'live'`, browsertest.Patience)
	p.Eval(t, `document.getElementById('name').value = 'ada'; window.notices = [];
		new MutationObserver(() => window.notices.push(document.getElementById('typing').textContent))
			.observe(document.getElementById('typing'), {childList: true, characterData: true, subtree: true}), true`)
	waitConns(t, tc, 1)
	for i, name := range []string{"ada", "bo", "cy"} { // "ada" from another window of the page's user
		ws := tc.dialHub(t)
		waitConns(t, tc, 2+i)
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"typing","name":"`+name+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	p.WaitFor(t, "the others typing", `window.notices.some(n => n === 'bo and cy are typing…' || n === 'cy and bo are typing…')`, browsertest.Patience)
	if got := p.Eval(t, `window.notices.filter(n => n.includes('ada')).join(' | ')`); got != "" {
		t.Errorf("the page of ada showed %q", got)
	}
	p.Check(t)
}
