package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// testChat is the chat served on loopback for a test, its appstats in
// memory.
type testChat struct {
	*chat
	as           *appstats.Appstats
	appLn, hubLn string // the addresses listened on
}

func startChat(t testing.TB) *testChat {
	t.Helper()
	return startChatWith(t, nil)
}

// startChatWith is startChat with the hub's configuration changed by set,
// if not nil.
func startChatWith(t testing.TB, set func(*hubConfig)) *testChat {
	t.Helper()
	return startChatAt(t, "127.0.0.1:0", "127.0.0.1:0", set)
}

// startChatOn is startChat with the app and the hub listening on appAddr
// and hubAddr.
func startChatOn(t testing.TB, appAddr, hubAddr string) *testChat {
	t.Helper()
	return startChatAt(t, appAddr, hubAddr, nil)
}

func startChatAt(t testing.TB, appAddr, hubAddr string, set func(*hubConfig)) *testChat {
	t.Helper()
	hc := defaultHubConfig()
	if set != nil {
		set(&hc)
	}
	cfg := config("", slog.New(slog.DiscardHandler))
	cfg.Dir, cfg.InMemory, cfg.NoOTLP = "", true, true
	as, err := appstats.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	appLn := listen(t, appAddr)
	hubLn := listen(t, hubAddr)
	c, err := start(as, appLn, hubLn, filepath.Join(t.TempDir(), "chat.sqlite"), hc, slog.New(slog.DiscardHandler))
	if err != nil {
		as.Close()
		t.Fatal(err)
	}
	tc := &testChat{chat: c, as: as, appLn: appLn.Addr().String(), hubLn: hubLn.Addr().String()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := as.Close(); err != nil {
			t.Errorf("close appstats: %v", err)
		}
	})
	return tc
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// dialHub connects to the hub's websocket as a page of the app would.
func (tc *testChat) dialHub(t testing.TB) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, tc.app.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {tc.appURL}}})
	if err != nil {
		t.Fatalf("dial hub: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func readWS(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read from hub: %v", err)
	}
	return string(b)
}

// waitRecord waits for a stored record that match accepts.
func (tc *testChat) waitRecord(t *testing.T, what string, match func(*recording.Record) bool) *recording.Record {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		page, err := tc.as.Store().List(ctx, store.Query{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Records {
			r, err := tc.as.Store().Get(ctx, s.ID)
			if err == nil && match(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no record of %s stored", what)
	return nil
}

func callsNamed(r *recording.Record, service, prefix string) []recording.Call {
	var out []recording.Call
	for _, c := range r.Calls {
		if c.Service == service && strings.HasPrefix(c.Method, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// TestPushAndTrace posts a comment with two browsers' websockets open and
// checks the push, the fetch, and the trace the records make.
func TestPushAndTrace(t *testing.T) {
	tc := startChat(t)
	ws1, ws2 := tc.dialHub(t), tc.dialHub(t)

	// Both connections run on the hub, listed as active.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		active, _ := tc.as.Recorder().Active(0, 0)
		for _, r := range active {
			if r.Path == "/ws" && r.Instance == hubInstance && r.Route == "GET /ws" {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hub connections active, want 2", n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"ada"}, "text": {"hello <b>world</b>"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "hello &lt;b&gt;world&lt;/b&gt;") {
		t.Fatalf("after the post's redirect: %d, page lacks the comment", resp.StatusCode)
	}
	for _, ws := range []*websocket.Conn{ws1, ws2} {
		if got := readWS(t, ws); got != updated {
			t.Fatalf("pushed %q, want %q", got, updated)
		}
	}
	resp, err = http.Get(tc.appURL + "/comments?t=1")
	if err != nil {
		t.Fatal(err)
	}
	var cs []comment
	json.NewDecoder(resp.Body).Decode(&cs)
	resp.Body.Close()
	if len(cs) != 1 || cs[0].Name != "ada" || cs[0].Text != "hello <b>world</b>" {
		t.Fatalf("GET /comments = %+v", cs)
	}

	// One trace: the POST with its SQL and webhook calls, the hub's record
	// of the webhook as the child of that call, with the broadcast.
	post := tc.waitRecord(t, "POST /comments", func(r *recording.Record) bool { return r.Route == "POST /comments" })
	if post.Instance != appInstance || post.Status != http.StatusSeeOther {
		t.Errorf("POST record: instance %q, status %d", post.Instance, post.Status)
	}
	if len(callsNamed(post, "sql", "INSERT comments")) != 1 {
		t.Errorf("POST record lacks the INSERT: %+v", post.Calls)
	}
	hook := callsNamed(post, "http", "POST 127.0.0.1:")
	if len(hook) != 1 || !strings.HasSuffix(hook[0].Method, "/notify") || !strings.Contains(hook[0].Request, "/notify?t=") {
		t.Fatalf("POST record's webhook call: %+v", hook)
	}
	hub := tc.waitRecord(t, "the hub's POST /notify", func(r *recording.Record) bool { return r.Route == "POST /notify" })
	if hub.TraceID != post.TraceID || hub.ParentSpanID != hook[0].SpanID || hub.Instance != hubInstance {
		t.Errorf("hub record: trace %s (POST's %s), parent %s (call's %s), instance %q",
			hub.TraceID, post.TraceID, hub.ParentSpanID, hook[0].SpanID, hub.Instance)
	}
	if sends := callsNamed(hub, "websocket", "send UPDATED"); len(sends) != 2 {
		t.Errorf("hub record's broadcast: %+v", hub.Calls)
	}

	// A typing notice is a message record of its own, in the
	// connection's trace, passing the notice on to the other browser.
	if err := ws1.Write(context.Background(), websocket.MessageText, []byte(`{"type":"typing","name":"ada"}`)); err != nil {
		t.Fatal(err)
	}
	if got := readWS(t, ws2); got != `{"type":"typing","names":["ada"]}` {
		t.Errorf("ws2 got %q, want the typing notice", got)
	}
	msg := tc.waitRecord(t, "the typing message", func(r *recording.Record) bool { return r.Route == "GET /ws typing" })
	if msg.Kind != recording.KindMessage || msg.Method != "RECEIVE" || msg.Instance != hubInstance || len(callsNamed(msg, "websocket", "send typing")) != 1 {
		t.Errorf("typing message record %s %s %s %+v", msg.Kind, msg.Method, msg.Instance, msg.Calls)
	}
	var connTrace bool
	active, _ := tc.as.Recorder().Active(0, 0)
	for _, r := range active {
		if r.Path == "/ws" && r.TraceID == msg.TraceID && r.SpanID == msg.ParentSpanID {
			connTrace = true
		}
	}
	if !connTrace {
		t.Error("the typing message is not a child of an open connection's record")
	}
	// A made-up notice is an error of its message, under a known name.
	ws1.Write(context.Background(), websocket.MessageText, []byte(`{"type":"x<script>"}`))
	bad := tc.waitRecord(t, "the unknown notice", func(r *recording.Record) bool { return r.Route == "GET /ws text" })
	if bad.Error != "unknown notice type" {
		t.Errorf("unknown notice recorded with error %q", bad.Error)
	}

	// The hub's shutdown closes the connections, "going away", and their
	// records end with it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.hub.shutdown(ctx, tc.hubSrv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws1.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("client saw %v, want going away", err)
	}
	conn := tc.waitRecord(t, "a connection's record", func(r *recording.Record) bool { return r.Route == "GET /ws" && r.Instance == hubInstance })
	if last := conn.Calls[len(conn.Calls)-1]; last.Method != "close" || last.Request != "closed by the server: 1001 hub shutting down" {
		t.Errorf("connection's close event %+v", last)
	}
	if conn.Attr("appstats.stream.messages_sent") == "" {
		t.Errorf("connection's record lacks its counts: %v", conn.Attrs)
	}
}

func TestPostRefused(t *testing.T) {
	tc := startChat(t)
	for _, form := range []url.Values{
		{"name": {"ada"}},
		{"text": {"hi"}},
		{"name": {strings.Repeat("n", maxName+1)}, "text": {"hi"}},
		{"name": {"ada"}, "text": {strings.Repeat("t", maxText+1)}},
		{"name": {"ada"}, "text": {"\xff\xfe"}},
	} {
		resp, err := http.PostForm(tc.appURL+"/comments", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || len(body) == 0 {
			t.Errorf("post %v: %d %q, want 400 with a message", form, resp.StatusCode, body)
		}
	}
	// A page of another origin may not connect to the hub.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, tc.app.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("dial from another origin: %v", err)
	}
}

// With the hub down, a post is saved all the same; the failed webhook call
// is recorded with its error.
func TestHubDown(t *testing.T) {
	tc := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.hub.shutdown(ctx, tc.hubSrv); err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(tc.appURL+"/comments", url.Values{"name": {"bo"}, "text": {"anyone?"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post with the hub down: %d", resp.StatusCode)
	}
	post := tc.waitRecord(t, "POST /comments", func(r *recording.Record) bool { return r.Route == "POST /comments" })
	hook := callsNamed(post, "http", "POST 127.0.0.1:")
	if len(hook) != 1 || hook[0].Error == "" {
		t.Errorf("the webhook call with the hub down: %+v", hook)
	}
}

// TestTypingFlood: the page sends a typing notice at most every 2 s, but
// the hub took any number: a client sending them as fast as it could made
// the hub write each one to every other browser (a thousand clients sending
// five each made five million writes, the hub busy for minutes after they
// left). The hub now passes on at most one notice every typingEvery (a
// second) from each connection, and ends the others with an error. (A
// client that sends more than msgBurst messages in a row is closed:
// TestMessageFlood.) The test's typingEvery is an hour, so that the whole
// burst falls within one however slowly a loaded machine sends it: the
// first notice is passed on, every other refused, and the other browser
// gets that one alone.
func TestTypingFlood(t *testing.T) {
	if every := defaultHubConfig().typingEvery; every != time.Second {
		t.Errorf("the hub passes on a notice from a connection every %v at most, want a second", every)
	}
	tc := startChatWith(t, func(hc *hubConfig) { hc.typingEvery = time.Hour })
	ws1, ws2 := tc.dialHub(t), tc.dialHub(t)
	waitConns(t, tc, 2)
	for range msgBurst {
		if err := ws1.Write(context.Background(), websocket.MessageText, []byte(`{"type":"typing","name":"ada"}`)); err != nil {
			t.Fatal(err)
		}
	}
	// Every notice's record: one passed on, the others refused.
	var notices []*recording.Record
	for deadline := time.Now().Add(time.Minute); len(notices) < msgBurst; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d records of the %d notices sent in a minute", len(notices), msgBurst)
		}
		page, err := tc.as.Store().List(context.Background(), store.Query{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		notices = notices[:0]
		for _, sum := range page.Records {
			if r, err := tc.as.Store().Get(context.Background(), sum.ID); err == nil && r.Route == "GET /ws typing" {
				notices = append(notices, r)
			}
		}
	}
	passed, refused := 0, 0
	for _, r := range notices {
		switch {
		case r.Error == "":
			passed++
		case strings.Contains(r.Error, "too often"):
			refused++
		default:
			t.Errorf("a notice's record: error %q", r.Error)
		}
	}
	if passed != 1 || refused != msgBurst-1 {
		t.Errorf("%d notices sent at once: %d passed on, %d refused as too often; want 1 and %d", msgBurst, passed, refused, msgBurst-1)
	}
	// The other browser got that notice, and no other: its connection's
	// record, once it closed, counts one message sent.
	if got := readWS(t, ws2); !strings.Contains(got, `"ada"`) {
		t.Errorf("the other browser got %s, want the notice of ada typing", got)
	}
	if err := ws2.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	conn := tc.waitRecord(t, "the other browser's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && r.Attr("appstats.stream.messages_received") == "0"
	})
	if sent := conn.Attr("appstats.stream.messages_sent"); sent != "1" {
		t.Errorf("the other browser's connection was sent %s messages, want the one notice", sent)
	}
}

// waitConns waits until the hub holds n connections, and runs n handlers.
func waitConns(t testing.TB, tc *testChat, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tc.hub.mu.Lock()
		k, handlers := len(tc.hub.conns), tc.hub.n
		tc.hub.mu.Unlock()
		if k == n && handlers == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections on the hub, %d handlers, want %d", k, handlers, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLocalhostOrigin: the app listens on 127.0.0.1, and a newcomer opens
// it as http://localhost:8090/ as often as by the printed URL; the hub
// admitted the websocket of a page whose origin is 127.0.0.1:port only, so
// such a page never connected ("hub away: retrying" for ever). It admits
// localhost:port too; other origins are still refused.
func TestLocalhostOrigin(t *testing.T) {
	tc := startChat(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(tc.appURL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for origin, ok := range map[string]bool{
		"http://localhost:" + port:    true,
		"http://127.0.0.1:" + port:    true,
		"http://localhost:1":          false,
		"http://evil.example:" + port: false,
	} {
		ws, resp, err := websocket.Dial(ctx, tc.app.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if ws != nil {
			ws.CloseNow()
		}
		if got := err == nil; got != ok {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Errorf("a page of %s: connected %v (%d), want %v", origin, got, code, ok)
		}
	}
}

// TestCrossSitePost: any web page a user of the chat visited could post a
// comment in their name with a form aimed at 127.0.0.1:8090, since the app
// took a POST from any origin (the hub refuses other origins' websockets,
// the app did not refuse their posts). A cross-site POST is now refused; the
// page's own form, and a client that is not a browser, still post.
func TestCrossSitePost(t *testing.T) {
	tc := startChat(t)
	post := func(hdr http.Header) int {
		req, _ := http.NewRequest("POST", tc.appURL+"/comments", strings.NewReader(url.Values{"name": {"ada"}, "text": {"hi"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}); code != http.StatusForbidden {
		t.Errorf("a cross-site post: %d, want 403", code)
	}
	if code := post(http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {tc.appURL}}); code != http.StatusSeeOther {
		t.Errorf("the page's own post: %d, want 303", code)
	}
	if code := post(nil); code != http.StatusSeeOther {
		t.Errorf("a post of a client that is not a browser: %d, want 303", code)
	}
}
