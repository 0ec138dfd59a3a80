package wsstats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// The messages each client sends: one of no bytes, one of 30 KB (which
// gorilla's client sends in 100-byte writes, so in fragments), one not
// ASCII; "bye" makes the server close.
var clientMsgs = []string{"hello", "", strings.Repeat("abc", 10000), "ünïcödé", "bye"}

// recordedServer serves "GET /ws" on loopback, on mux (a new one when
// nil) behind httpstats, recorded into a sink: it accepts one connection
// with wsstats.Accept and opts and hands each message it receives to
// answer, until a Receive fails or answer says stop. served is closed once
// the handler has returned; the server closes when the test ends.
func recordedServer(t *testing.T, mux *http.ServeMux, opts *websocket.AcceptOptions, answer func(ctx context.Context, c *wsstats.Conn, m *wsstats.Message) (stop bool)) (*httptest.Server, *recording.Recorder, *recordingtest.Sink, <-chan struct{}) {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	served := make(chan struct{})
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		c, err := wsstats.Accept(w, r, opts)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		for {
			ctx, m, err := c.Receive(r.Context())
			if err != nil || answer(ctx, c, m) {
				return
			}
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	t.Cleanup(srv.Close)
	return srv, rec, sink, served
}

// echoServer answers each message received with it twice: once with Write,
// once with Writer in three writes. It accepts with compression mode.
func echoServer(t *testing.T, mode websocket.CompressionMode) (*httptest.Server, *recording.Recorder, *recordingtest.Sink, <-chan struct{}) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>client</title><link rel=\"icon\" href=\"data:,\">")
	})
	return recordedServer(t, mux, &websocket.AcceptOptions{CompressionMode: mode, InsecureSkipVerify: true}, func(ctx context.Context, c *wsstats.Conn, m *wsstats.Message) bool {
		err := c.Write(ctx, m.Type, m.Data)
		if err == nil {
			var w interface {
				Write([]byte) (int, error)
				Close() error
			}
			if w, err = c.Writer(ctx, m.Type); err == nil {
				third := len(m.Data) / 3
				for _, p := range [][]byte{m.Data[:third], m.Data[third : 2*third], m.Data[2*third:]} {
					w.Write(p)
				}
				err = w.Close()
			}
		}
		m.End(err)
		if string(m.Data) == "bye" {
			c.Close(websocket.StatusNormalClosure, "bye")
			return true
		}
		return false
	})
}

// clientCounts is what a client sent and got, in messages and bytes of
// their payloads (uncompressed).
type clientCounts struct{ sent, sentBytes, got, gotBytes int }

// agree asserts that the connection's record counts what the client sent
// and got, with the server's close, and that each message received has a
// record of its own.
func agree(t *testing.T, name string, rec *recording.Recorder, sink *recordingtest.Sink, cc clientCounts) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !recordingtest.WaitIdle(ctx, rec) {
		t.Fatalf("%s: records still in the making", name)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	conns := sink.ByRoute()["GET /ws"]
	if len(conns) != 1 {
		t.Fatalf("%s: %d connection records", name, len(conns))
	}
	r := conns[0]
	for _, c := range []struct {
		key  string
		want int
	}{
		{convention.KeyStreamMessagesReceived, cc.sent},
		{convention.KeyStreamBytesReceived, cc.sentBytes},
		{convention.KeyStreamMessagesSent, cc.got},
		{convention.KeyStreamBytesSent, cc.gotBytes},
	} {
		if got := r.Attr(c.key); got != fmt.Sprint(c.want) {
			t.Errorf("%s: %s recorded %s, the client counts %d", name, c.key, got, c.want)
		}
	}
	if last := r.Calls[len(r.Calls)-1]; last.Method != "close" || last.Request != "closed by the server: 1000 bye" {
		t.Errorf("%s: the connection's last call %s %q, want its close by the server", name, last.Method, last.Request)
	}
	if n := len(sink.ByRoute()["GET /ws text"]); n != cc.sent {
		t.Errorf("%s: %d message records, want one for each of the %d messages", name, n, cc.sent)
	}
}

// TestClientsAgree: the counts of a connection's record agree with what
// the client sent and got, whoever the client — gorilla/websocket's,
// coder/websocket's, Chromium's WebSocket — with and without
// permessage-deflate (the bytes are the messages', uncompressed), a
// message fragmented or empty.
func TestClientsAgree(t *testing.T) {
	modes := []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionContextTakeover, websocket.CompressionNoContextTakeover}
	for _, compress := range []bool{false, true} {
		for _, mode := range modes {
			name := fmt.Sprintf("gorilla client (compression %v), server mode %d", compress, mode)
			srv, rec, sink, served := echoServer(t, mode)
			d := gorilla.Dialer{EnableCompression: compress}
			c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			var cc clientCounts
			for _, m := range clientMsgs {
				w, err := c.NextWriter(gorilla.TextMessage)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(m); i += 100 {
					w.Write([]byte(m[i:min(i+100, len(m))]))
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				cc.sent++
				cc.sentBytes += len(m)
				for range 2 {
					_, p, err := c.ReadMessage()
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					cc.got++
					cc.gotBytes += len(p)
				}
			}
			if _, _, err := c.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
				t.Errorf("%s: the end %v, want the server's close", name, err)
			}
			c.Close()
			<-served
			agree(t, name, rec, sink, cc)
		}
	}
	for _, mode := range modes {
		name := fmt.Sprintf("coder/websocket client (context takeover), server mode %d", mode)
		srv, rec, sink, served := echoServer(t, mode)
		ctx := context.Background()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(-1)
		var cc clientCounts
		for _, m := range clientMsgs {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				t.Fatal(err)
			}
			cc.sent++
			cc.sentBytes += len(m)
			for range 2 {
				_, p, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				cc.got++
				cc.gotBytes += len(p)
			}
		}
		if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Errorf("%s: the end %v, want the server's close", name, err)
		}
		c.CloseNow()
		<-served
		agree(t, name, rec, sink, cc)
	}
	browsertest.Find(t)
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionContextTakeover} {
		name := fmt.Sprintf("Chromium, server mode %d", mode)
		srv, rec, sink, served := echoServer(t, mode)
		b := browsertest.New(t, srv.URL, browsertest.Options{})
		b.Navigate(t, "/")
		b.Eval(t, `(() => {
  const msgs = `+jsArray(clientMsgs)+`;
  const enc = new TextEncoder();
  const cc = {sent: 0, sentBytes: 0, got: 0, gotBytes: 0};
  const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws');
  ws.onopen = () => { for (const m of msgs) { ws.send(m); cc.sent++; cc.sentBytes += enc.encode(m).length; } };
  ws.onmessage = (e) => { cc.got++; cc.gotBytes += enc.encode(e.data).length; };
  ws.onclose = (e) => { cc.code = e.code; cc.ext = ws.extensions; window.done = cc; };
})()`)
		b.WaitFor(t, "the server's close", "!!window.done", browsertest.Patience)
		var cc clientCounts
		for k, p := range map[string]*int{"sent": &cc.sent, "sentBytes": &cc.sentBytes, "got": &cc.got, "gotBytes": &cc.gotBytes} {
			*p = int(b.Eval(t, "window.done."+k).(float64))
		}
		wantExt := mode != websocket.CompressionDisabled
		if ext := b.Eval(t, "window.done.ext").(string); strings.Contains(ext, "permessage-deflate") != wantExt {
			t.Errorf("%s: extensions %q", name, ext)
		}
		<-served
		agree(t, name, rec, sink, cc)
		b.Check(t)
	}
}

// jsArray is ss as a JavaScript array literal.
func jsArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = browsertest.JSString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
