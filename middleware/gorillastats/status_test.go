package gorillastats_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestConnectionRecord: the record of a gorilla websocket connection has
// status 101, which gorilla/websocket writes on the hijacked connection
// where httpstats does not see it (on main the record had status 0), and
// no HTTP body: the frames after the upgrade are no part of the HTTP
// message, and are counted in the stream's attributes (on main they were
// added to RequestBytes and ResponseBytes too).
func TestConnectionRecord(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	var upgrader websocket.Upgrader
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := gorillastats.Upgrade(&upgrader, w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer c.Close()
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return
			}
			msg.End(c.Send(ctx, websocket.TextMessage, []byte("ack")))
		}
	})
	mux.HandleFunc("GET /refused", func(w http.ResponseWriter, r *http.Request) {
		if _, err := gorillastats.Upgrade(&upgrader, w, r, nil); err == nil {
			t.Error("a request without Upgrade: websocket upgraded")
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, "/ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "ack" {
		t.Fatalf("reply %q, %v", got, err)
	}
	c.Close()
	<-done
	resp, err := srv.Client().Get(srv.URL + "/refused")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !recordingtest.WaitIdle(t.Context(), rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	byRoute := sink.ByRoute()
	conn := byRoute["GET /ws"]
	if len(conn) != 1 {
		t.Fatalf("%d connection records", len(conn))
	}
	r := conn[0]
	if r.Status != http.StatusSwitchingProtocols {
		t.Errorf("Status = %d, want 101", r.Status)
	}
	if r.RequestBytes != 0 || r.ResponseBytes != 0 {
		t.Errorf("RequestBytes/ResponseBytes = %d/%d, want 0/0: the frames are not the HTTP body", r.RequestBytes, r.ResponseBytes)
	}
	if in, out := r.Attr(convention.KeyStreamBytesReceived), r.Attr(convention.KeyStreamBytesSent); in != "2" || out != "3" {
		t.Errorf("stream bytes received/sent = %s/%s, want 2/3", in, out)
	}
	// An upgrade gorilla refused is answered with gorilla's 400, which
	// httpstats sees: no 101.
	if refused := byRoute["GET /refused"]; len(refused) != 1 || refused[0].Status != http.StatusBadRequest {
		t.Errorf("refused upgrade records %+v", refused)
	}
}
