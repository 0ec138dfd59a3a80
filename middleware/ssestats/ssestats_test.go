package ssestats_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readEvent reads one event (up to its blank line) from the stream.
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (so far %q)", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

func TestEventsRecorded(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	streams := make(chan *ssestats.Stream, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Errorf("new: %v", err)
			return
		}
		defer s.Close()
		if err := s.Send(r.Context(), ssestats.Event{Name: "bad\nname"}); !errors.Is(err, ssestats.ErrBadField) {
			t.Errorf("an event name with a newline: %v", err)
		}
		ctx, ev := s.StartEvent(r.Context(), "price")
		err = recording.Do(ctx, "quotes", "Price", func(context.Context) error { return nil })
		if err == nil {
			err = s.Send(ctx, ssestats.Event{ID: "1", Name: "price", Data: "42\n43", Retry: 3 * time.Second})
		}
		ev.End(err)
		s.Send(r.Context(), ssestats.Event{Data: "tick"})
		s.Comment("keep-alive")
		streams <- s
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		s := <-streams
		if err := s.Send(r.Context(), ssestats.Event{Name: "UPDATED"}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	if got, want := readEvent(t, br), "id: 1\nevent: price\nretry: 3000\ndata: 42\ndata: 43\n"; got != want {
		t.Errorf("first event %q, want %q", got, want)
	}
	if got := readEvent(t, br); got != "data: tick\n" {
		t.Errorf("second event %q", got)
	}
	if got := readEvent(t, br); got != ": keep-alive\n" {
		t.Errorf("comment %q", got)
	}
	nresp, err := srv.Client().Post(srv.URL+"/notify", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	nresp.Body.Close()
	if got := readEvent(t, br); got != "event: UPDATED\ndata: \n" {
		t.Errorf("pushed event %q", got)
	}
	cancel()
	resp.Body.Close()
	if !recordingtest.WaitIdle(t.Context(), rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	rec.Close(context.Background())

	byRoute := sink.ByRoute()
	conn := byRoute["GET /events"]
	if len(conn) != 1 {
		t.Fatalf("%d stream records", len(conn))
	}
	c := conn[0]
	for _, d := range recordingtest.AttrDiff(c, map[string]string{
		convention.KeyMessagingSystem:        "sse",
		convention.KeyStreamMessagesSent:     "3",
		convention.KeyStreamBytesSent:        "85",
		convention.KeyStreamMessagesReceived: "0",
	}) {
		t.Error(d)
	}
	if last := c.Calls[len(c.Calls)-1]; last.Method != "close" || last.Request != "closed by the client" {
		t.Errorf("close event %+v", last)
	}
	price := byRoute["GET /events price"]
	if len(price) != 1 || price[0].Method != "SEND" || price[0].ResponseBytes != 50 || len(price[0].Calls) != 2 {
		t.Fatalf("price event records %+v", price)
	}
	if w := price[0].Calls[1]; w.Service != "sse" || w.Method != "send price" || w.RequestSize != 50 {
		t.Errorf("the write of the price event %+v", w)
	}
	if tick := byRoute["GET /events message"]; len(tick) != 1 || tick[0].ResponseBytes != 12 {
		t.Errorf("tick event records %+v", tick)
	}
	if n := byRoute["POST /notify"]; len(n) != 1 || len(n[0].Calls) != 1 || n[0].Calls[0].Method != "send UPDATED" {
		t.Errorf("the broadcast %+v", n)
	}
}

type noFlush struct{ http.ResponseWriter }

func TestNewNeedsFlush(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/events", nil)
	if _, err := ssestats.New(noFlush{w}, r); err == nil || !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("New on a writer that cannot flush: %v", err)
	}
	// Not recorded: it works and records nothing.
	s, err := ssestats.New(w, r)
	if err != nil || s.Stream() != nil {
		t.Fatalf("New unrecorded: %v, stream %v", err, s.Stream())
	}
	if err := s.Send(r.Context(), ssestats.Event{Data: "a\r\nb\rc"}); err != nil {
		t.Fatal(err)
	}
	s.Comment("")
	s.Close()
	if got := w.Body.String(); got != "data: a\ndata: b\ndata: c\n\n:\n\n" {
		t.Errorf("body %q", got)
	}
}
