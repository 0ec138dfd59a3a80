package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/recording"
)

// wsCountJS, run in a page before its scripts, counts in window.wsCounts
// the websocket messages the page sends and gets, and their bytes (UTF-8).
const wsCountJS = `(() => {
  const c = window.wsCounts = {sent: 0, sentBytes: 0, got: 0, gotBytes: 0};
  const enc = new TextEncoder();
  const WS = window.WebSocket;
  const send = WS.prototype.send;
  WS.prototype.send = function (d) { c.sent++; c.sentBytes += enc.encode(d).length; return send.call(this, d); };
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    (window.wsList = window.wsList || []).push(ws);
    ws.addEventListener('message', (e) => { c.got++; c.gotBytes += enc.encode(e.data).length; });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) window.WebSocket[k] = WS[k];
})()`

// proxyEvents are what the EventSource behind the proxy is sent.
var proxyEvents = []ssestats.Event{{Data: "one"}, {Name: "price", Data: "1\n2", ID: "7"}, {Data: strings.Repeat("é", 5000)}}

// TestBrowserThroughProxy opens the chat in Chromium through a reverse
// proxy (httputil.ReverseProxy, recorded as an instance of its own,
// "chat-proxy", its calls through appstats' transport; the chat trusts it:
// -trusted-proxy 127.0.0.1), which passes /ws on to the hub, /events on to
// an EventSource stream of ssestats (the chat serves none), and the rest
// to the app. The page's websocket types and gets a post's push, its
// EventSource gets its events, through the proxy: what the hub's and the
// stream's records count (messages and bytes) is what the page sent and
// got; the proxy's record of each and its call agree with the server's
// record on the bytes of the response; and each is one trace, the
// server's record a child of the proxy's call.
func TestBrowserThroughProxy(t *testing.T) {
	browsertest.Find(t)
	tc := startChatWith(t, func(hc *hubConfig) { hc.trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	rec := tc.as.Recorder()

	events := http.NewServeMux()
	events.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		for _, ev := range proxyEvents {
			ctx, m := s.StartEvent(r.Context(), ev.Name)
			m.End(s.Send(ctx, ev))
		}
		<-r.Context().Done()
	})
	eventsSrv := httptest.NewServer(httpstats.NewHandler(rec, events, httpstats.WithInstance("chat-events")))
	defer eventsSrv.Close()

	appU, _ := url.Parse(tc.appURL)
	hubU, _ := url.Parse(tc.hubURL)
	eventsU, _ := url.Parse(eventsSrv.URL)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			switch pr.In.URL.Path {
			case "/ws":
				pr.SetURL(hubU)
			case "/events":
				pr.SetURL(eventsU)
			default:
				pr.SetURL(appU)
			}
			pr.SetXForwarded()
		},
		Transport: tc.as.Transport(nil),
	}
	proxySrv := httptest.NewServer(httpstats.NewHandler(rec, proxy, httpstats.WithInstance("chat-proxy")))
	defer proxySrv.Close()

	b := browsertest.New(t, proxySrv.URL, browsertest.Options{})
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: wsCountJS})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	b.Navigate(t, "/")
	b.WaitFor(t, "the hub's websocket open through the proxy", `document.getElementById('status').textContent === 'live'`, browsertest.Patience)
	if hub := b.Eval(t, `document.body.dataset.hub`); hub != "ws"+strings.TrimPrefix(proxySrv.URL, "http")+"/ws" {
		t.Fatalf("the page names the hub %q, want the proxy's /ws", hub)
	}
	if err := chromedp.Do(b.Ctx, chromedp.SendKeys(chromedp.CSS(`#name`), "ada"), chromedp.SendKeys(chromedp.CSS(`#text`), "hi")); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the typing notice sent", `window.wsCounts.sent === 1`, browsertest.Patience)
	resp, err := http.PostForm(proxySrv.URL+"/comments", url.Values{"name": {"bo"}, "text": {"through the proxy"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.WaitFor(t, "the comment pushed through the proxy",
		`[...document.querySelectorAll('#comments .text')].some(e => e.textContent === 'through the proxy')`, browsertest.Patience)
	b.Eval(t, `(() => {
  const enc = new TextEncoder();
  window.sse = {got: 0, gotBytes: 0};
  const es = new EventSource('events');
  const on = (e) => {
    window.sse.got++; window.sse.gotBytes += enc.encode(e.data).length;
    if (window.sse.got === `+strconv.Itoa(len(proxyEvents))+`) { es.close(); window.sse.done = true; }
  };
  for (const type of ['message', 'price']) es.addEventListener(type, on);
})()`)
	b.WaitFor(t, "the events through the proxy", `window.sse.done === true`, browsertest.Patience)
	counts := map[string]int{}
	for _, k := range []string{"wsCounts.sent", "wsCounts.sentBytes", "wsCounts.got", "wsCounts.gotBytes", "sse.got", "sse.gotBytes"} {
		counts[k] = int(b.Eval(t, "window."+k).(float64))
	}
	b.Check(t)
	b.Eval(t, `window.wsList.forEach((ws) => { ws.onclose = null; ws.close(1000, 'bye'); }), true`)

	// Each server's record and the proxy's, once ended.
	pair := func(what, route, instance string) (server, prox *recording.Record, call recording.Call) {
		t.Helper()
		server = tc.waitRecord(t, what+" on its server", func(r *recording.Record) bool {
			return r.Route == route && r.Instance == instance && len(r.Calls) > 0 && r.Calls[len(r.Calls)-1].Method == "close"
		})
		prox = tc.waitRecord(t, what+" on the proxy", func(r *recording.Record) bool {
			return r.Instance == "chat-proxy" && r.TraceID == server.TraceID && strings.HasSuffix(r.Path, route[len("GET "):])
		})
		for _, c := range prox.Calls {
			if c.Service == "http" && c.SpanID == server.ParentSpanID {
				call = c
			}
		}
		if call.SpanID == (recording.SpanID{}) {
			t.Errorf("%s: the server's record (parent %s) is no child of a call of the proxy's record: %+v", what, server.ParentSpanID, prox.Calls)
		}
		return server, prox, call
	}
	hubConn, proxWS, callWS := pair("the websocket", "GET /ws", hubInstance)
	for key, want := range map[string]int{
		convention.KeyStreamMessagesReceived: counts["wsCounts.sent"], convention.KeyStreamBytesReceived: counts["wsCounts.sentBytes"],
		convention.KeyStreamMessagesSent: counts["wsCounts.got"], convention.KeyStreamBytesSent: counts["wsCounts.gotBytes"],
	} {
		if got := hubConn.Attr(key); got != strconv.Itoa(want) {
			t.Errorf("the hub's connection record: %s %s, the page's count %d", key, got, want)
		}
	}
	typing := tc.waitRecord(t, "the typing message", func(r *recording.Record) bool { return r.Route == "GET /ws typing" })
	if typing.TraceID != hubConn.TraceID || typing.ParentSpanID != hubConn.SpanID {
		t.Errorf("the typing message's record is not the connection's child: trace %s/%s, parent %s/%s", typing.TraceID, hubConn.TraceID, typing.ParentSpanID, hubConn.SpanID)
	}
	// The bytes after the upgrade are no HTTP body: neither the hub's
	// record nor the proxy's counts them, and the proxy's call agrees.
	if callWS.RequestSize != hubConn.RequestBytes || callWS.ResponseSize != hubConn.ResponseBytes ||
		proxWS.RequestBytes != hubConn.RequestBytes || proxWS.ResponseBytes != hubConn.ResponseBytes {
		t.Errorf("the websocket's bytes in/out: %d/%d on the hub, %d/%d in the proxy's call, %d/%d on the proxy",
			hubConn.RequestBytes, hubConn.ResponseBytes, callWS.RequestSize, callWS.ResponseSize, proxWS.RequestBytes, proxWS.ResponseBytes)
	}

	stream, proxSSE, callSSE := pair("the EventSource", "GET /events", "chat-events")
	// The events' data the page got is what was sent; the stream's
	// record counts them, their bytes those of the response (the events'
	// lines), which the proxy's call and record count alike.
	data := 0
	for _, ev := range proxyEvents {
		data += len(ev.Data)
	}
	if counts["sse.got"] != len(proxyEvents) || counts["sse.gotBytes"] != data {
		t.Errorf("the page got %d events, %d bytes of data; %d were sent, %d bytes", counts["sse.got"], counts["sse.gotBytes"], len(proxyEvents), data)
	}
	if got := stream.Attr(convention.KeyStreamMessagesSent); got != strconv.Itoa(counts["sse.got"]) {
		t.Errorf("the stream's record: %s events sent, the page got %d", got, counts["sse.got"])
	}
	if got := stream.Attr(convention.KeyStreamBytesSent); got != strconv.FormatInt(stream.ResponseBytes, 10) {
		t.Errorf("the stream's record: %s bytes sent, its response %d", got, stream.ResponseBytes)
	}
	if stream.ResponseBytes == 0 || stream.ResponseBytes != callSSE.ResponseSize || stream.ResponseBytes != proxSSE.ResponseBytes {
		t.Errorf("the stream's response bytes: %d on its server, %d in the proxy's call, %d on the proxy", stream.ResponseBytes, callSSE.ResponseSize, proxSSE.ResponseBytes)
	}
}
