package wsstats_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// envelopeType names a message by the "type" field of its JSON envelope.
func envelopeType(typ websocket.MessageType, data []byte) string {
	var env struct{ Type string }
	if typ == websocket.MessageText && json.Unmarshal(data, &env) == nil && env.Type != "" {
		return env.Type
	}
	return convention.WebSocketMessageType(int(typ))
}

// hub is a test server: GET /ws echoes "ack" to each message it handles,
// POST /notify writes "UPDATED" to the open connection from its own
// request.
type hub struct {
	mu     sync.Mutex
	conn   *wsstats.Conn
	opened chan struct{}
	closed chan struct{}
}

func newHub(t *testing.T, rec *recording.Recorder, opts ...wsstats.Option) (*hub, *httptest.Server) {
	h := &hub{opened: make(chan struct{}), closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		defer close(h.closed)
		c, err := wsstats.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat"}}, opts...)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
		close(h.opened)
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return
			}
			err = recording.Do(ctx, "rooms", "Lookup", func(context.Context) error { return nil })
			if err == nil {
				err = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ack"}`))
			}
			if strings.Contains(string(msg.Data), "fail") {
				err = errors.New("room is closed")
			}
			msg.End(err)
		}
	})
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		c := h.conn
		h.mu.Unlock()
		if err := c.Write(r.Context(), websocket.MessageText, []byte("UPDATED")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux, httpstats.WithInstance("hub")))
	t.Cleanup(srv.Close)
	return h, srv
}

func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	return string(b)
}

func TestMessagesRecorded(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	h, srv := newHub(t, rec, wsstats.WithMessageType(envelopeType))
	c := dial(t, srv)
	ctx := context.Background()
	<-h.opened

	// While open, the connection is running, under its route.
	var conn *recording.Record
	active, _ := rec.Active(0, 0)
	for i := range active {
		if active[i].Path == "/ws" {
			conn = &active[i]
		}
	}
	if conn == nil || conn.Route != "GET /ws" || conn.Instance != "hub" {
		t.Fatalf("open connection not active as GET /ws of hub: %+v", conn)
	}
	if len(conn.Calls) != 1 || conn.Calls[0].Method != "connect" || conn.Calls[0].Request != "subprotocol chat" {
		t.Errorf("open connection's calls %+v, want the connect event", conn.Calls)
	}

	for _, m := range []string{`{"type":"typing"}`, `plain text`, `{"type":"typing","x":"fail"}`} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != `{"type":"ack"}` {
			t.Fatalf("reply %q", got)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/notify", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := read(t, c); got != "UPDATED" {
		t.Fatalf("pushed %q", got)
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("client close: %v", err)
	}
	<-h.closed
	if !recordingtest.WaitIdle(t.Context(), rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	byRoute := sink.ByRoute()
	cr := byRoute["GET /ws"]
	if len(cr) != 1 {
		t.Fatalf("connection records: %d (routes %v)", len(cr), keys(byRoute))
	}
	connRec := cr[0]
	if n := len(connRec.Calls); n != 2 || connRec.Calls[1].Method != "close" || connRec.Calls[1].Request != "closed by the client: 1000 bye" {
		t.Errorf("connection calls %+v, want connect and close events", connRec.Calls)
	}
	for _, d := range recordingtest.AttrDiff(connRec, map[string]string{
		convention.KeyMessagingSystem:        "websocket",
		convention.KeyStreamMessagesReceived: "3",
		convention.KeyStreamMessagesSent:     "4",
		convention.KeyStreamBytesReceived:    "55",
		convention.KeyStreamBytesSent:        "49",
		convention.KeyHTTPHijacked:           "true",
	}) {
		t.Error(d)
	}

	typing := byRoute["GET /ws typing"]
	text := byRoute["GET /ws text"]
	if len(typing) != 2 || len(text) != 1 {
		t.Fatalf("message records: typing %d, text %d (routes %v)", len(typing), len(text), keys(byRoute))
	}
	for _, m := range append(typing, text...) {
		if m.Kind != recording.KindMessage || m.Method != "RECEIVE" || m.TraceID != connRec.TraceID || m.ParentSpanID != connRec.SpanID || m.Instance != "hub" {
			t.Errorf("message record %s %s %s: not a message of the connection's trace", m.Kind, m.Method, m.Route)
		}
		if len(m.Calls) != 2 || m.Calls[0].Service != "rooms" || m.Calls[1].Service != "websocket" || m.Calls[1].Method != "send ack" || m.Calls[1].RequestSize != 14 {
			t.Errorf("message %s calls %+v, want the lookup and the reply", m.Route, m.Calls)
		}
	}
	if typing[1].Error != "room is closed" {
		t.Errorf("failed message's error %q", typing[1].Error)
	}
	notify := byRoute["POST /notify"]
	if len(notify) != 1 || len(notify[0].Calls) != 1 || notify[0].Calls[0].Method != "send text" || notify[0].Calls[0].Service != "websocket" {
		t.Errorf("the push from another request: %+v", notify)
	}
}

func keys(m map[string][]*recording.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Read, Reader and Writer count what they move; a connection that is not
// recorded works the same, recording nothing.
func TestStreamingAndUnrecorded(t *testing.T) {
	for _, recorded := range []bool{true, false} {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink))
		if !recorded {
			rec.SetPaused(true)
		}
		done := make(chan struct{})
		mux := http.NewServeMux()
		mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			c, err := wsstats.Accept(w, r, nil, wsstats.WithRoute("stream"))
			if err != nil {
				t.Errorf("accept: %v", err)
				return
			}
			defer c.CloseNow()
			if (c.Stream() != nil) != recorded {
				t.Errorf("recorded=%v but stream %v", recorded, c.Stream())
			}
			_, data, err := c.Read(r.Context())
			if err != nil {
				t.Errorf("read: %v", err)
				return
			}
			_, rd, err := c.Reader(r.Context())
			if err != nil {
				t.Errorf("reader: %v", err)
				return
			}
			more, _ := io.ReadAll(rd)
			w2, err := c.Writer(r.Context(), websocket.MessageBinary)
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			w2.Write(data)
			w2.Write(more)
			w2.Close()
			c.Close(websocket.StatusGoingAway, "done")
		})
		srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
		cl := dial2(t, srv.URL+"/stream")
		ctx := context.Background()
		cl.Write(ctx, websocket.MessageText, []byte("12345"))
		cl.Write(ctx, websocket.MessageBinary, []byte("678"))
		_, got, err := cl.Read(ctx)
		if err != nil || string(got) != "12345678" {
			t.Fatalf("client got %q, %v", got, err)
		}
		cl.Read(ctx) // the close
		cl.CloseNow()
		<-done
		if !recordingtest.WaitIdle(t.Context(), rec) {
			t.Fatal("records still in the making")
		}
		srv.Close()
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs := sink.Records()
		if !recorded {
			if len(recs) != 0 {
				t.Errorf("paused recorder wrote %d records", len(recs))
			}
			continue
		}
		var conn *recording.Record
		for _, r := range recs {
			if r.Path == "/stream" && r.Kind == recording.KindHTTP {
				conn = r
			}
		}
		if conn == nil {
			t.Fatalf("no connection record in %d", len(recs))
		}
		for _, d := range recordingtest.AttrDiff(conn, map[string]string{
			convention.KeyStreamMessagesReceived: "2",
			convention.KeyStreamBytesReceived:    "8",
			convention.KeyStreamMessagesSent:     "1",
			convention.KeyStreamBytesSent:        "8",
		}) {
			t.Error(d)
		}
		if last := conn.Calls[len(conn.Calls)-1]; last.Method != "close" || last.Request != "closed by the server: 1001 done" {
			t.Errorf("close event %+v", last)
		}
		// The write from the connection's own handler is a message record.
		var sent *recording.Record
		for _, r := range recs {
			if r.Kind == recording.KindMessage {
				sent = r
			}
		}
		if sent == nil || sent.Method != "SEND" || sent.Route != "stream binary" || sent.ResponseBytes != 8 {
			t.Errorf("the message written: %+v", sent)
		}
	}
}

func dial2(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}
