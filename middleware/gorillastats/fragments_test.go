package gorillastats_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// A gorilla/websocket connection as a handler reads it, wrapped or not.
type gorillaReader interface {
	ReadJSON(any) error
	ReadMessage() (int, []byte, error)
	NextReader() (int, io.Reader, error)
	WriteMessage(int, []byte) error
	SetReadLimit(int64)
	Close() error
}

// fragmented is the first message the client sends: a JSON value in its
// first frame, then padding that fills more frames.
var fragmented = append([]byte(`{"A":1}`), bytes.Repeat([]byte(" "), 8000)...)

// serveFragments runs read on a connection, wrapped (recorded by rec) or
// gorilla's own, whose client sends a message in fragments and holds its
// last fragment back until the server has answered "read" — which read
// sends once it has what it reads from the first message. It returns
// read's summary, and whether the client had the answer before it sent the
// rest of the message.
func serveFragments(t *testing.T, rec *recording.Recorder, wrap bool, read func(c gorillaReader) string) (string, bool) {
	t.Helper()
	var u websocket.Upgrader
	out := make(chan string, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c gorillaReader
		if wrap {
			wc, err := gorillastats.Upgrade(&u, w, r, nil)
			if err != nil {
				out <- err.Error()
				return
			}
			c = wc
		} else {
			bc, err := u.Upgrade(w, r, nil)
			if err != nil {
				out <- err.Error()
				return
			}
			c = bc
		}
		defer c.Close()
		out <- read(c)
	})
	served := make(chan struct{})
	wrapped := httpstats.NewHandler(rec, h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		wrapped.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wr, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	// More than the client's write buffer (4096): the first frame goes
	// out, not final, with the value in it; the rest waits for Close.
	wr.Write(fragmented)
	// A guard against a server that waits for the rest: it never comes
	// before the answer.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, answer, err := c.ReadMessage()
	answered := err == nil && string(answer) == "read"
	wr.Close()
	c.WriteMessage(websocket.TextMessage, []byte("second"))
	res := <-out
	<-served
	return res, answered
}

// TestFragmentedMessage checks that the wrapped reads block as gorilla's
// do on a message that arrives in fragments, slowly: ReadJSON returns once
// its value is decoded, not at the message's end, and a reader left before
// its end does not wait for it; the next read skips the rest of the
// message, as gorilla's does. The message is counted at that next read,
// with the bytes read from it.
func TestFragmentedMessage(t *testing.T) {
	reads := []struct {
		name string
		read func(c gorillaReader) string
		// The bytes read from the first message: all of the value, and
		// less than the whole.
		minRead, maxRead int
	}{
		{"ReadJSON", func(c gorillaReader) string {
			var v struct{ A int }
			err := c.ReadJSON(&v)
			c.WriteMessage(websocket.TextMessage, []byte("read"))
			_, next, err2 := c.ReadMessage()
			return fmt.Sprintf("%v %+v; next %q %v", err, v, next, err2)
		}, len(`{"A":1}`), len(fragmented) - 1},
		{"NextReader left early", func(c gorillaReader) string {
			_, r, err := c.NextReader()
			var head [7]byte
			if err == nil {
				_, err = io.ReadFull(r, head[:])
			}
			c.WriteMessage(websocket.TextMessage, []byte("read"))
			_, r2, err2 := c.NextReader()
			var next []byte
			if err2 == nil {
				next, err2 = io.ReadAll(r2)
			}
			return fmt.Sprintf("%v %q; next %q %v", err, head, next, err2)
		}, 7, 7},
		{"NextReader left early, read limit", func(c gorillaReader) string {
			// Below the message's size, above each of its frames and
			// above what is left of it once its first frame is begun:
			// gorilla/websocket's next read skips the rest unlimited.
			c.SetReadLimit(6000)
			_, r, err := c.NextReader()
			var head [7]byte
			if err == nil {
				_, err = io.ReadFull(r, head[:])
			}
			c.WriteMessage(websocket.TextMessage, []byte("read"))
			_, next, err2 := c.ReadMessage()
			return fmt.Sprintf("%v %q; next %q %v", err, head, next, err2)
		}, 7, 7},
	}
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			bare := recording.New()
			want, answered := serveFragments(t, bare, false, tc.read)
			bare.Close(t.Context())
			if !answered {
				t.Fatalf("gorilla's own read waited for the message's end: %s", want)
			}
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink))
			got, answered := serveFragments(t, rec, true, tc.read)
			if !recordingtest.WaitIdle(t.Context(), rec) {
				t.Fatal("records still in the making")
			}
			rec.Close(t.Context())
			if !answered {
				t.Errorf("wrapped read waited for the message's last fragment, gorilla's does not")
			}
			if got != want {
				t.Errorf("wrapped: %s\ngorilla's: %s", got, want)
			}
			recs := sink.Records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want the connection's", len(recs))
			}
			if got := recs[0].Attr(convention.KeyStreamMessagesReceived); got != "2" {
				t.Errorf("%s = %q, want 2", convention.KeyStreamMessagesReceived, got)
			}
			n, _ := strconv.Atoi(recs[0].Attr(convention.KeyStreamBytesReceived))
			if read := n - len("second"); read < tc.minRead || read > tc.maxRead {
				t.Errorf("%s = %d: %d of the first message, want %d to %d", convention.KeyStreamBytesReceived, n, read, tc.minRead, tc.maxRead)
			}
		})
	}
}
