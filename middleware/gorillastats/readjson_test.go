package gorillastats_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestReadJSONAsGorilla checks that ReadJSON returns what gorilla's does
// for a message whose JSON value arrives whole but whose rest never does
// (the client sends a first fragment and drops the connection): the value
// and no error, the failure surfacing at the next read.
func TestReadJSONAsGorilla(t *testing.T) {
	type readJSONer interface{ ReadJSON(any) error }
	serve := func(t *testing.T, wrap bool) string {
		rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
		defer rec.Close(t.Context())
		out := make(chan string, 1)
		var u websocket.Upgrader
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var c readJSONer
			if wrap {
				wc, err := gorillastats.Upgrade(&u, w, r, nil)
				if err != nil {
					out <- err.Error()
					return
				}
				defer wc.Close()
				c = wc
			} else {
				bc, err := u.Upgrade(w, r, nil)
				if err != nil {
					out <- err.Error()
					return
				}
				defer bc.Close()
				c = bc
			}
			var v struct{ A int }
			err1 := c.ReadJSON(&v)
			var w2 struct{ A int }
			err2 := c.ReadJSON(&w2)
			out <- fmt.Sprintf("first: %v %+v; second failed: %v", err1, v, err2 != nil)
		})
		srv := httptest.NewServer(httpstats.NewHandler(rec, h))
		defer srv.Close()
		c, _, err := websocket.DefaultDialer.Dial(wsURL(srv, "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// More than the client's write buffer: its first frame goes out,
		// not final, with the whole value in it.
		wr, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		wr.Write(append([]byte(`{"A":1}`), bytes.Repeat([]byte(" "), 8000)...))
		c.UnderlyingConn().Close()
		return <-out
	}
	want := serve(t, false)
	if want != "first: <nil> {A:1}; second failed: true" {
		t.Fatalf("gorilla's own ReadJSON: %s", want)
	}
	if got := serve(t, true); got != want {
		t.Errorf("wrapped: %s\ngorilla's: %s", got, want)
	}
}
