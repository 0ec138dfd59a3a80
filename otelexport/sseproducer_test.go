package otelexport_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/ssestats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestSSEOneProducerPerEvent: a trace backend sees an event stream as the
// request's SERVER span with one PRODUCER child a server-sent event (a
// send, in OpenTelemetry's messaging conventions), received here by the
// project's OTLP receiver. An event produced under StartEvent is its
// record's PRODUCER span, the calls made producing it its children; its
// write (Send) is an INTERNAL child, not a second PRODUCER of the one
// message: on main each such event was two nested PRODUCER spans, both
// with the event's messaging.message.body.size, and a backend counting
// sends counted it twice.
func TestSSEOneProducerPerEvent(t *testing.T) {
	rec, spans := otlpRecorder(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prices", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		// Produced under StartEvent, with a call of its own.
		ctx, ev := s.StartEvent(r.Context(), "price")
		recording.StartCall(ctx, "http", "GET quotes/price").End(nil)
		ev.End(s.Send(ctx, ssestats.Event{Name: "price", Data: "12.5"}))
		// Sent from the handler itself: a record of its own.
		if err := s.Send(r.Context(), ssestats.Event{Name: "tick", Data: "1"}); err != nil {
			t.Error(err)
		}
	})
	ts := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/prices")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := spans()
	var server gotSpan
	for _, s := range got {
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			if server.SpanID != "" {
				t.Fatalf("two SERVER spans: %s and %s", server.Name, s.Name)
			}
			server = s
		}
	}
	if server.Name != "GET /prices" {
		t.Fatalf("SERVER span %q, want GET /prices", server.Name)
	}
	var producers []gotSpan
	var bodySizes int64
	for _, s := range got {
		if s.Kind != tracepb.Span_SPAN_KIND_PRODUCER {
			continue
		}
		producers = append(producers, s)
		if s.Parent != server.SpanID {
			t.Errorf("PRODUCER %q is the child of %s, want the SERVER span %s", s.Name, s.Parent, server.SpanID)
		}
		if s.Attrs["messaging.operation.type"] != "send" {
			t.Errorf("PRODUCER %q: messaging.operation.type %v, want send", s.Name, s.Attrs["messaging.operation.type"])
		}
		n, _ := s.Attrs["messaging.message.body.size"].(int64)
		bodySizes += n
	}
	if len(producers) != 2 {
		for _, s := range got {
			t.Logf("%v %q %s parent %s", s.Kind, s.Name, s.SpanID, s.Parent)
		}
		t.Fatalf("%d PRODUCER spans for 2 events sent, want 2", len(producers))
	}
	if bodySizes != int64(len(body)) {
		t.Errorf("the PRODUCER spans' messaging.message.body.size add up to %d, want the %d bytes sent", bodySizes, len(body))
	}
	// The event produced under StartEvent: its call and its write are
	// its PRODUCER span's children; the write an INTERNAL span, with no
	// messaging operation of its own.
	var event gotSpan
	for _, p := range producers {
		if p.Attrs["appstats.message.type"] == "price" {
			event = p
		}
	}
	var children []string
	for _, s := range got {
		if s.Parent != event.SpanID || event.SpanID == "" {
			continue
		}
		children = append(children, s.Name)
		if s.Name == "sse send price" {
			if s.Kind != tracepb.Span_SPAN_KIND_INTERNAL {
				t.Errorf("the event's write: %v span, want INTERNAL", s.Kind)
			}
			if v, ok := s.Attrs["messaging.operation.type"]; ok {
				t.Errorf("the event's write: messaging.operation.type %v, want none (its PRODUCER parent is the send)", v)
			}
		}
	}
	if len(children) != 2 {
		t.Errorf("the event's PRODUCER span has children %q, want its call and its write", children)
	}
}

// TestStreamServerSpanNoMessagingSystem: an event stream's (or a
// websocket's) own SERVER span is an HTTP server span, and carries the
// HTTP conventions' attributes, not messaging.system, which the messaging
// conventions put on messaging spans (PRODUCER, CONSUMER) and by which
// backends tell a messaging span from an HTTP one: the stream's system is
// appstats.stream.system there, beside the stream's counts. The PRODUCER
// spans of its events keep messaging.system. On main the SERVER span had
// messaging.system "sse".
func TestStreamServerSpanNoMessagingSystem(t *testing.T) {
	rec, spans := otlpRecorder(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prices", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		if err := s.Send(r.Context(), ssestats.Event{Name: "tick", Data: "1"}); err != nil {
			t.Error(err)
		}
	})
	ts := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/prices")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var servers, producers int
	for _, s := range spans() {
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			servers++
			for k := range s.Attrs {
				if strings.HasPrefix(k, "messaging.") {
					t.Errorf("SERVER span %q has %s=%v, a messaging attribute", s.Name, k, s.Attrs[k])
				}
			}
			if s.Attrs["appstats.stream.system"] != "sse" {
				t.Errorf("SERVER span %q: appstats.stream.system %v, want sse", s.Name, s.Attrs["appstats.stream.system"])
			}
		case tracepb.Span_SPAN_KIND_PRODUCER:
			producers++
			if s.Attrs["messaging.system"] != "sse" {
				t.Errorf("PRODUCER span %q: messaging.system %v, want sse", s.Name, s.Attrs["messaging.system"])
			}
		}
	}
	if servers != 1 || producers != 1 {
		t.Errorf("%d SERVER and %d PRODUCER spans, want one of each", servers, producers)
	}
}

// TestSSEBroadcastProducerName: an event sent to a stream from another
// request (a broadcast) is that request's call, exported as a PRODUCER
// span named as the messaging conventions name one,
// "{messaging.operation.name} {messaging.destination.name}" ("send GET
// /prices"), the event's type in appstats.message.type — as the PRODUCER
// span of an event the stream's own handler sends is. On main it was
// named "sse send price", the call's service and method.
func TestSSEBroadcastProducerName(t *testing.T) {
	rec, spans := otlpRecorder(t)
	streams := make(chan *ssestats.Stream, 1)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prices", func(w http.ResponseWriter, r *http.Request) {
		s, err := ssestats.New(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		streams <- s
		<-done
	})
	mux.HandleFunc("POST /price", func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		if err := (<-streams).Send(r.Context(), ssestats.Event{Name: "price", Data: "12.5"}); err != nil {
			t.Error(err)
		}
	})
	ts := httptest.NewServer(httpstats.NewHandler(rec, mux))
	defer ts.Close()
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(ts.URL + "/prices")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		got <- err
	}()
	resp, err := http.Post(ts.URL+"/price", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	var producers []gotSpan
	for _, s := range spans() {
		if s.Kind == tracepb.Span_SPAN_KIND_PRODUCER {
			producers = append(producers, s)
		}
	}
	if len(producers) != 1 {
		t.Fatalf("%d PRODUCER spans, want the broadcast's one", len(producers))
	}
	p := producers[0]
	if p.Name != "send GET /prices" || p.Attrs["appstats.message.type"] != "price" ||
		p.Attrs["messaging.operation.name"] != "send" || p.Attrs["messaging.destination.name"] != "GET /prices" {
		t.Errorf("PRODUCER span %q, attributes %v; want \"send GET /prices\", appstats.message.type price", p.Name, p.Attrs)
	}
}

// otlpRecorder returns a recorder exporting to an in-process OTLP/HTTP
// receiver, and spans, which waits for the recorder's records, closes the
// recorder and the exporter, and returns the spans the receiver got.
func otlpRecorder(t *testing.T) (*recording.Recorder, func() map[string]gotSpan) {
	t.Helper()
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	exp, err := otelexport.NewOTLPHTTP(t.Context(),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	rec := recording.New(recording.WithSinks(exp))
	return rec, func() map[string]gotSpan {
		t.Helper()
		if !recordingtest.WaitIdle(t.Context(), rec) {
			t.Fatal("records still in the making")
		}
		if err := rec.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := exp.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		return rcv.spans()
	}
}
