package ssestats_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestStreamRecordBodySize: the record of a server-sent event stream has
// the response's body size as sent on the wire, the figure the dashboard
// shows ("Request / response") and the API's response_bytes. httpstats
// counts the events as the handler writes them; the stream used to add its
// own count of the same bytes (appstats.stream.bytes_sent) on top, so that
// a body of 50 bytes was recorded as 100.
func TestStreamRecordBodySize(t *testing.T) {
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
		for range 2 {
			ctx, ev := s.StartEvent(r.Context(), "price")
			ev.End(s.Send(ctx, ssestats.Event{Name: "price", Data: "12.5"}))
		}
		s.Send(r.Context(), ssestats.Event{Data: "tick"})
	})
	srv := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !recordingtest.WaitIdle(t.Context(), rec) {
		t.Fatal("records still in the making")
	}
	srv.Close()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn := sink.ByRoute()["GET /events"]
	if len(conn) != 1 {
		t.Fatalf("%d stream records", len(conn))
	}
	c := conn[0]
	if c.ResponseBytes != int64(len(body)) {
		t.Errorf("ResponseBytes = %d, want the %d bytes of the body", c.ResponseBytes, len(body))
	}
	if c.RequestBytes != 0 {
		t.Errorf("RequestBytes = %d, want 0 (a GET without a body)", c.RequestBytes)
	}
	if got, want := c.Attr(convention.KeyStreamBytesSent), strconv.Itoa(len(body)); got != want {
		t.Errorf("%s = %s, want %s", convention.KeyStreamBytesSent, got, want)
	}
	if s := c.Summary(); s.ResponseBytes != int64(len(body)) {
		t.Errorf("summary's ResponseBytes = %d, want %d", s.ResponseBytes, len(body))
	}
}
