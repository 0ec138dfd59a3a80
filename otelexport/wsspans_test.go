package otelexport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/middleware/gorillastats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// wsServer is a websocket endpoint that answers each message with "ack",
// sent with the message's context, and a POST /notify that pushes
// "UPDATED" to the connection with its own request's context.
type wsServer interface {
	serve(w http.ResponseWriter, r *http.Request) // GET /ws, until the client closes
	push(ctx context.Context) error               // on the open connection
}

type coderServer struct{ conn chan *wsstats.Conn }

func (s *coderServer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := wsstats.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	s.conn <- c
	for {
		ctx, msg, err := c.Receive(r.Context())
		if err != nil {
			return
		}
		msg.End(c.Write(ctx, coder.MessageText, []byte("ack")))
	}
}

func (s *coderServer) push(ctx context.Context) error {
	c := <-s.conn
	defer func() { s.conn <- c }()
	return c.Write(ctx, coder.MessageText, []byte("UPDATED"))
}

type gorillaServer struct{ conn chan *gorillastats.Conn }

func (s *gorillaServer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := gorillastats.Upgrade(&gorilla.Upgrader{}, w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	s.conn <- c
	for {
		ctx, msg, err := c.Receive(r.Context())
		if err != nil {
			return
		}
		c2 := <-s.conn // one writer at a time, as gorilla/websocket wants
		err = c2.Send(ctx, gorilla.TextMessage, []byte("ack"))
		s.conn <- c2
		msg.End(err)
	}
}

func (s *gorillaServer) push(ctx context.Context) error {
	c := <-s.conn
	defer func() { s.conn <- c }()
	return c.Send(ctx, gorilla.TextMessage, []byte("UPDATED"))
}

// TestWebSocketSendSpans: the messages a websocket server sends are
// exported as PRODUCER spans with the messaging attributes, whether sent
// while handling a message received (a reply: a call of the message's
// record) or by another request (a push: a call of that request's record),
// as the messages it receives are CONSUMER spans; with wsstats and
// gorillastats over loopback. On main the sends were CLIENT spans without
// messaging attributes.
func TestWebSocketSendSpans(t *testing.T) {
	for name, srv := range map[string]wsServer{
		"wsstats":      &coderServer{conn: make(chan *wsstats.Conn, 1)},
		"gorillastats": &gorillaServer{conn: make(chan *gorillastats.Conn, 1)},
	} {
		t.Run(name, func(t *testing.T) {
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink))
			done := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				srv.serve(w, r)
			})
			mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
				if err := srv.push(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			})
			ts := httptest.NewServer(httpstats.NewHandler(rec, mux))
			defer ts.Close()

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			c, _, err := coder.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Write(ctx, coder.MessageText, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.Read(ctx); err != nil || string(got) != "ack" {
				t.Fatalf("reply %q, %v", got, err)
			}
			resp, err := ts.Client().Post(ts.URL+"/notify", "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if _, got, err := c.Read(ctx); err != nil || string(got) != "UPDATED" {
				t.Fatalf("push %q, %v", got, err)
			}
			c.Close(coder.StatusNormalClosure, "bye")
			<-done
			if !recordingtest.WaitIdle(ctx, rec) {
				t.Fatal("records still in the making")
			}
			if err := rec.Close(ctx); err != nil {
				t.Fatal(err)
			}

			kinds := map[string]trace.SpanKind{}
			sends := 0
			var sizes []string
			for _, s := range exportSpans(t, sink.Records()) {
				kinds[s.Name] = s.SpanKind
				if s.Name != "send GET /ws" {
					continue
				}
				sends++
				attrs := map[string]string{}
				for _, kv := range s.Attributes {
					attrs[string(kv.Key)] = kv.Value.String()
				}
				if s.SpanKind != trace.SpanKindProducer {
					t.Errorf("span %q: kind %v, want PRODUCER", s.Name, s.SpanKind)
				}
				for k, v := range map[string]string{
					"messaging.system":           "websocket",
					"messaging.operation.type":   "send",
					"messaging.operation.name":   "send",
					"messaging.destination.name": "GET /ws",
					"appstats.message.type":      "text",
				} {
					if attrs[k] != v {
						t.Errorf("span %q: %s=%q, want %q", s.Name, k, attrs[k], v)
					}
				}
				sizes = append(sizes, attrs["messaging.message.body.size"])
				if _, ok := attrs["appstats.span.kind"]; ok {
					t.Errorf("span %q exports appstats.span.kind", s.Name)
				}
			}
			slices.Sort(sizes)
			if sends != 2 || !slices.Equal(sizes, []string{"3", "7"}) {
				t.Errorf("%d send spans of sizes %q, want the reply's (3 bytes) and the push's (7): %v", sends, sizes, kinds)
			}
			if kinds["process GET /ws"] != trace.SpanKindConsumer {
				t.Errorf("the message received: kind %v, want CONSUMER (spans %v)", kinds["process GET /ws"], kinds)
			}
		})
	}
}
