package gorillastats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gorilla/websocket"

	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// An echo server whose messages are recorded one by one.
func ExampleUpgrade() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	var upgrader websocket.Upgrader

	mux := http.NewServeMux()
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillastats.Upgrade(&upgrader, w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			ctx, msg, err := c.Receive(r.Context())
			if err != nil {
				return // the client's close is recorded on the connection
			}
			// Calls made with ctx belong to the message's record.
			err = recording.Do(ctx, "cache", "Get", func(context.Context) error { return nil })
			if err == nil {
				err = c.Send(ctx, msg.Type, msg.Data)
			}
			msg.End(err)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))

	c, _, err := websocket.DefaultDialer.Dial("ws"+srv.URL[len("http"):]+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
	c.ReadMessage()
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.ReadMessage() // until the server has closed
	c.Close()
	recordingtest.WaitIdle(context.Background(), rec) // until the handler has returned
	srv.Close()
	rec.Close(context.Background())

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
