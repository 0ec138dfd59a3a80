package wsstats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// An echo server whose messages are recorded one by one.
func ExampleAccept() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := wsstats.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return // the client's close is recorded on the connection
			}
			// Calls made with ctx belong to the message's record.
			err = recording.Do(ctx, "cache", "Get", func(context.Context) error { return nil })
			if err == nil {
				err = c.Write(ctx, msg.Type, msg.Data)
			}
			msg.End(err)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	c.Read(ctx)
	c.Close(websocket.StatusNormalClosure, "")
	recordingtest.WaitIdle(ctx, rec) // until the handler has returned
	srv.Close()
	rec.Close(ctx)

	for _, r := range sink.Records() {
		fmt.Printf("%s %s %q:", r.Kind, r.Method, r.Route)
		for _, call := range r.Calls {
			fmt.Printf(" [%s %s]", call.Service, call.Method)
		}
		fmt.Println()
	}
	// Output:
	// message RECEIVE "GET /echo text": [cache Get] [websocket send text]
	// http GET "GET /echo": [event connect] [event close]
}
