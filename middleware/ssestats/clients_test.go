package ssestats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// clientEvents are the events each client is sent: line breaks of the
// three kinds, 100 KB of data, an empty one, a name not ASCII, a retry.
var clientEvents = []ssestats.Event{
	{Data: "hello"},
	{Name: "price", Data: "1\r\n2\r3\n4", ID: "7"},
	{Data: strings.Repeat("x", 100000)},
	{Name: "ünï"},
	{Retry: time.Minute, Data: "r"},
}

// eventServer sends clientEvents, each under StartEvent, then a comment,
// and waits for the client to go.
func eventServer(t *testing.T, h2 bool) (*httptest.Server, *recording.Recorder, *recordingtest.Sink) {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		for _, ev := range clientEvents {
			ctx, m := s.StartEvent(r.Context(), ev.Name)
			m.End(s.Send(ctx, ev))
		}
		s.Comment("that was all")
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>client</title><link rel="icon" href="data:,">`)
	})
	srv := httptest.NewUnstartedServer(httpstats.NewHandler(rec, mux))
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, rec, sink
}

// streamRecord is the stream's record, once the client has gone.
func streamRecord(t *testing.T, rec *recording.Recorder, sink *recordingtest.Sink) *recording.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !recordingtest.WaitIdle(ctx, rec) {
		t.Fatal("records still in the making after the client went")
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rs := sink.ByRoute()["GET /events"]
	if len(rs) != 1 {
		t.Fatalf("%d stream records", len(rs))
	}
	return rs[0]
}

// TestClientsAgree: the counts of a stream's record agree with what the
// client got — Go's client over HTTP/1.1 and HTTP/2, Chromium's
// EventSource — its bytes the events' as sent (the comment, no event, is
// in the response's bytes alone), and the client's going is its close.
func TestClientsAgree(t *testing.T) {
	const comment = ": that was all\n\n"
	for _, h2 := range []bool{false, true} {
		srv, rec, sink := eventServer(t, h2)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		buf := make([]byte, 32<<10)
		for !strings.HasSuffix(string(body), comment) {
			n, err := resp.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				t.Fatalf("%s: %v after %d bytes", resp.Proto, err, len(body))
			}
		}
		cancel()
		resp.Body.Close()
		r := streamRecord(t, rec, sink)
		events := len(body) - len(comment)
		if got, want := r.Attr(convention.KeyStreamBytesSent), strconv.Itoa(events); got != want {
			t.Errorf("%s: bytes sent recorded %s, the client got %s of events", resp.Proto, got, want)
		}
		if got, want := r.Attr(convention.KeyStreamMessagesSent), strconv.Itoa(len(clientEvents)); got != want {
			t.Errorf("%s: events sent recorded %s, want %s", resp.Proto, got, want)
		}
		if r.ResponseBytes != int64(len(body)) {
			t.Errorf("%s: response bytes %d, the client got %d", resp.Proto, r.ResponseBytes, len(body))
		}
		if last := r.Calls[len(r.Calls)-1]; last.Request != "closed by the client" {
			t.Errorf("%s: the stream's last call %s %q, want its close by the client", resp.Proto, last.Method, last.Request)
		}
	}

	browsertest.Find(t)
	srv, rec, sink := eventServer(t, false)
	b := browsertest.New(t, srv.URL, browsertest.Options{})
	b.Navigate(t, "/")
	b.Eval(t, `(() => {
  window.got = [];
  const es = new EventSource('events');
  const on = (e) => {
    window.got.push(e.type + ' ' + e.data.length + ' ' + e.lastEventId);
    if (window.got.length === 5) { es.close(); window.done = true; }
  };
  for (const type of ['message', 'price', 'ünï']) es.addEventListener(type, on);
})()`)
	b.WaitFor(t, "five events", "window.done === true", browsertest.Patience)
	want := "message 5 ,price 7 7,message 100000 7,ünï 0 7,message 1 7"
	if got := b.Eval(t, "window.got.join()"); got != want {
		t.Errorf("Chromium got the events %q, want %q", got, want)
	}
	r := streamRecord(t, rec, sink)
	if got, want := r.Attr(convention.KeyStreamMessagesSent), strconv.Itoa(len(clientEvents)); got != want {
		t.Errorf("Chromium: events sent recorded %s, want %s", got, want)
	}
	if last := r.Calls[len(r.Calls)-1]; last.Request != "closed by the client" {
		t.Errorf("Chromium: the stream's last call %s %q, want its close by the client", last.Method, last.Request)
	}
	b.Check(t)
}
