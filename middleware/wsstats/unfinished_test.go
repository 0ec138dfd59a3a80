package wsstats_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestReaderUnfinished checks a Reader call made before the previous
// message was read to its end: coder/websocket refuses it and leaves the
// connection open, so it is no close — the close recorded is the one that
// follows, here the server's — and the message read in part is counted,
// with the bytes read, when the connection closes.
func TestReaderUnfinished(t *testing.T) {
	serve := func(t *testing.T, rec *recording.Recorder, wrap bool) string {
		out := make(chan string, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			type reader interface {
				Reader(context.Context) (websocket.MessageType, io.Reader, error)
				Close(websocket.StatusCode, string) error
				CloseNow() error
			}
			var c reader
			if wrap {
				wc, err := wsstats.Accept(w, r, nil)
				if err != nil {
					out <- err.Error()
					return
				}
				c = wc
			} else {
				bc, err := websocket.Accept(w, r, nil)
				if err != nil {
					out <- err.Error()
					return
				}
				c = bc
			}
			defer c.CloseNow()
			_, rd, err := c.Reader(r.Context())
			var head [3]byte
			if err == nil {
				_, err = io.ReadFull(rd, head[:])
			}
			_, _, err2 := c.Reader(r.Context())
			out <- fmt.Sprintf("%q %v; again: %v", head, err, err2)
			c.Close(websocket.StatusNormalClosure, "bye")
		})
		c, ctx, served, stop := dialWrapped(t, rec, h)
		defer stop()
		// A message in several frames: more than the client's buffer
		// goes out before the writer is closed.
		wr, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		wr.Write([]byte(strings.Repeat("0123456789", 1000)))
		res := <-out
		wr.Close()
		c.Read(ctx) // the server's close, answered
		<-served
		return res
	}
	bare := recording.New()
	want := serve(t, bare, false)
	bare.Close(t.Context())
	if !strings.HasSuffix(want, "again: failed to get reader: previous message not read to completion") {
		t.Fatalf("coder/websocket's own: %s", want)
	}
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	if got := serve(t, rec, true); got != want {
		t.Errorf("wrapped: %s\ncoder/websocket's: %s", got, want)
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want the connection's", len(recs))
	}
	calls := recs[0].Calls
	if len(calls) == 0 || calls[len(calls)-1].Method != "close" {
		t.Fatalf("calls %+v, want the close last", calls)
	}
	if got := calls[len(calls)-1].Request; got != "closed by the server: 1000 bye" {
		t.Errorf("close event %q, want the server's close", got)
	}
	for _, d := range recordingtest.AttrDiff(recs[0], map[string]string{
		convention.KeyStreamMessagesReceived: "1",
		convention.KeyStreamBytesReceived:    "3",
	}) {
		t.Error(d)
	}
}
