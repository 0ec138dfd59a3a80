package gorillastats_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
	sink := recordingtest.NewSink()
	serve := func(t *testing.T, wrap bool) string {
		rec := recording.New(recording.WithSinks(sink))
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
		served := make(chan struct{}) // the record is finished
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
		// More than the client's write buffer: its first frame goes out,
		// not final, with the whole value in it.
		wr, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		wr.Write(append([]byte(`{"A":1}`), bytes.Repeat([]byte(" "), 8000)...))
		c.UnderlyingConn().Close()
		res := <-out
		<-served
		return res
	}
	want := serve(t, false)
	if want != "first: <nil> {A:1}; second failed: true" {
		t.Fatalf("gorilla's own ReadJSON: %s", want)
	}
	if got := serve(t, true); got != want {
		t.Errorf("wrapped: %s\ngorilla's: %s", got, want)
	}
	// The second read met the failure, and recorded the close.
	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	calls := recs[1].Calls
	if len(calls) == 0 || calls[len(calls)-1].Method != "close" || !strings.Contains(calls[len(calls)-1].Request, "1006") {
		t.Errorf("connection's calls %+v, want its close (1006) last", calls)
	}
}
