package wsstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestCloseRead checks the close event recorded for a connection whose
// reading is left to CloseRead's goroutine (a handler that only writes):
// a close that goroutine meets — here the client's close handshake — is
// not recorded as the server's own close without a handshake, which the
// handler's deferred CloseNow would say; a close by the server made while
// CloseRead reads is recorded as the server's.
func TestCloseRead(t *testing.T) {
	for _, tc := range []struct {
		name        string
		serverClose bool // the handler closes (1001 "done") after its write
		want        string
	}{
		{"client closes", false, "closed while CloseRead read: by the client, a data message or a failed read"},
		{"server closes", true, "closed by the server: 1001 done"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink))
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := wsstats.Accept(w, r, nil)
				if err != nil {
					t.Errorf("accept: %v", err)
					return
				}
				defer c.CloseNow()
				ctx := c.CloseRead(r.Context())
				if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				if tc.serverClose {
					c.Close(websocket.StatusGoingAway, "done")
				}
				<-ctx.Done()
			})
			c, ctx, served, stop := dialWrapped(t, rec, h)
			defer stop()
			if _, b, err := c.Read(ctx); err != nil || string(b) != "hello" {
				t.Fatalf("client read %q, %v", b, err)
			}
			if tc.serverClose {
				c.Read(ctx) // the server's close, answered
			} else {
				c.Close(websocket.StatusNormalClosure, "bye")
			}
			<-served
			if err := rec.Close(ctx); err != nil {
				t.Fatal(err)
			}
			var calls []recording.Call // the connection's record's
			for _, r := range sink.Records() {
				if len(r.Calls) > 0 && r.Calls[0].Method == "connect" {
					calls = r.Calls
				}
			}
			if len(calls) == 0 || calls[len(calls)-1].Method != "close" {
				t.Fatalf("calls %+v, want the close last", calls)
			}
			if got := calls[len(calls)-1].Request; got != tc.want {
				t.Errorf("close event %q, want %q", got, tc.want)
			}
		})
	}
}

// dialWrapped serves h behind httpstats.NewHandler(rec, h) on loopback and
// dials it as a websocket client. It returns the client's connection, a
// context that bounds the test's waits, a channel closed once the
// server's handler has returned, and stop, which closes the connection,
// the context and the server.
func dialWrapped(t *testing.T, rec *recording.Recorder, h http.Handler) (c *websocket.Conn, ctx context.Context, served <-chan struct{}, stop func()) {
	t.Helper()
	done := make(chan struct{})
	wrapped := httpstats.NewHandler(rec, h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		wrapped.ServeHTTP(w, r)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		cancel()
		srv.Close()
		t.Fatal(err)
	}
	return c, ctx, done, func() {
		c.CloseNow()
		cancel()
		srv.Close()
	}
}
