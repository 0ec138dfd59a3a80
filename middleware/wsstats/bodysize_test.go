package wsstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestConnectionRecord: the record of a websocket connection has status
// 101 and no HTTP body: the frames after the upgrade are no part of the
// HTTP message, and are counted in the stream's attributes (on main they
// were added to RequestBytes and ResponseBytes too).
func TestConnectionRecord(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, err := wsstats.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return
			}
			msg.End(c.Write(ctx, websocket.MessageText, []byte("ack")))
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "ack" {
		t.Fatalf("reply %q, %v", got, err)
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	<-done
	if !recordingtest.WaitIdle(ctx, rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	conn := sink.ByRoute()["GET /ws"]
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
}
