package wsstats_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestConnectionRecord: the record of a websocket connection has status
// 101 and no HTTP body: the frames after the upgrade are no part of the
// HTTP message, and are counted in the stream's attributes (on main they
// were added to RequestBytes and ResponseBytes too).
func TestConnectionRecord(t *testing.T) {
	srv, rec, sink, done := recordedServer(t, nil, nil, func(ctx context.Context, c *wsstats.Conn, msg *wsstats.Message) bool {
		msg.End(c.Write(ctx, websocket.MessageText, []byte("ack")))
		return false
	})
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
