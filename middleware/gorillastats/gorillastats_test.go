package gorillastats_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func envelopeType(typ int, data []byte) string {
	var env struct{ Type string }
	if typ == websocket.TextMessage && json.Unmarshal(data, &env) == nil && env.Type != "" {
		return env.Type
	}
	return convention.WebSocketMessageType(typ)
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

func TestMessagesRecorded(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	upgrader := websocket.Upgrader{Subprotocols: []string{"chat"}}
	var (
		mu     sync.Mutex // gorilla/websocket: one writer at a time
		conn   *gorillastats.Conn
		opened = make(chan struct{})
		closed = make(chan struct{})
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		defer close(closed)
		c, err := gorillastats.Upgrade(&upgrader, w, r, nil, gorillastats.WithMessageType(envelopeType))
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer c.Close()
		mu.Lock()
		conn = c
		mu.Unlock()
		close(opened)
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return
			}
			err = recording.Do(ctx, "rooms", "Lookup", func(context.Context) error { return nil })
			mu.Lock()
			if err == nil {
				err = c.Send(ctx, websocket.TextMessage, []byte(`{"type":"ack"}`))
			}
			mu.Unlock()
			msg.End(err)
		}
	})
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if err := conn.Send(r.Context(), websocket.TextMessage, []byte("UPDATED")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, "/ws"), http.Header{"Sec-WebSocket-Protocol": {"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-opened
	var open *recording.Record
	active, _ := rec.Active(0, 0)
	for i := range active {
		if active[i].Path == "/ws" {
			open = &active[i]
		}
	}
	if open == nil || open.Route != "GET /ws" || len(open.Calls) != 1 || open.Calls[0].Request != "subprotocol chat" {
		t.Fatalf("open connection not active as GET /ws with its connect event: %+v", open)
	}
	for _, m := range []string{`{"type":"typing"}`, `hi`} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(); err != nil || string(got) != `{"type":"ack"}` {
			t.Fatalf("reply %q, %v", got, err)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/notify", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "UPDATED" {
		t.Fatalf("pushed %q, %v", got, err)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "tab closed"))
	<-closed
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
		t.Fatalf("%d connection records", len(cr))
	}
	connRec := cr[0]
	if last := connRec.Calls[len(connRec.Calls)-1]; last.Method != "close" || last.Request != "closed by the client: 1001 tab closed" {
		t.Errorf("close event %+v", last)
	}
	for _, d := range recordingtest.AttrDiff(connRec, map[string]string{
		convention.KeyStreamMessagesReceived: "2",
		convention.KeyStreamMessagesSent:     "3",
		convention.KeyStreamBytesReceived:    "19",
		convention.KeyStreamBytesSent:        "35",
	}) {
		t.Error(d)
	}
	for _, route := range []string{"GET /ws typing", "GET /ws text"} {
		ms := byRoute[route]
		if len(ms) != 1 {
			t.Errorf("%d records of %s", len(ms), route)
			continue
		}
		m := ms[0]
		if m.Kind != recording.KindMessage || m.TraceID != connRec.TraceID || m.ParentSpanID != connRec.SpanID {
			t.Errorf("%s is not a message in the connection's trace", route)
		}
		if len(m.Calls) != 2 || m.Calls[1].Method != "send ack" {
			t.Errorf("%s calls %+v", route, m.Calls)
		}
	}
	if n := byRoute["POST /notify"]; len(n) != 1 || len(n[0].Calls) != 1 || n[0].Calls[0].Method != "send text" {
		t.Errorf("the push from another request: %+v", n)
	}
}

// The counting methods: JSON, readers and writers, control messages.
func TestCounting(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	var upgrader websocket.Upgrader
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := gorillastats.Upgrade(&upgrader, w, r, nil, gorillastats.WithRoute("count"))
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer c.Close()
		var v map[string]int
		if err := c.ReadJSON(&v); err != nil {
			t.Errorf("read json: %v", err)
			return
		}
		if _, _, err := c.ReadMessage(); err != nil {
			t.Errorf("read: %v", err)
			return
		}
		c.WriteJSON(v) // {"n":1}\n: 8 bytes
		c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		wr, _ := c.NextWriter(websocket.TextMessage)
		wr.Write([]byte("four"))
		wr.Close()
		pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, []byte("prepared"))
		c.WritePreparedMessage(pm)
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, "/count"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]int{"n": 1})
	c.WriteMessage(websocket.TextMessage, []byte("12345"))
	for range 4 {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("client read: %v", err)
		}
	}
	<-done
	if !recordingtest.WaitIdle(t.Context(), rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	rec.Close(context.Background())
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want the connection's alone", len(recs))
	}
	r := recs[0]
	for _, d := range recordingtest.AttrDiff(r, map[string]string{
		convention.KeyStreamMessagesReceived: "2",
		convention.KeyStreamBytesReceived:    "13",
		convention.KeyStreamMessagesSent:     "4",
		convention.KeyStreamBytesSent:        "15",
	}) {
		t.Error(d)
	}
	if last := r.Calls[len(r.Calls)-1]; last.Method != "close" || last.Request != "closed by the server: 1000 bye" {
		t.Errorf("close event %+v", last)
	}
}
