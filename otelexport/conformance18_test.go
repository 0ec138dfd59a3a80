package otelexport_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// spanAttrs returns a span's attributes by key, as their values emit.
func spanAttrs(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := make(map[attribute.Key]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// TestGRPCStatusDescription: a failed gRPC span's status description is
// the status message, as otelgrpc sets it (span.SetStatus(codes.Error,
// s.Message())): the code is in rpc.response.status_code and error.type.
// middleware/grpcstats records a client call's error as "NotFound: no such
// user", and a server's empty message as the code's name; on main the
// exported description kept that prefix ("NotFound: no such user"), and a
// server's empty message was exported as "Unavailable".
func TestGRPCStatusDescription(t *testing.T) {
	r := fixture(t)
	r.Kind, r.Method, r.Path, r.Route = recording.KindGRPC, "POST", "/shop.Users/Get", "/shop.Users/Get"
	r.Query, r.Status, r.Error = "", 14, "Unavailable" // grpcstats: an empty message is the code's name
	r.Attrs = nil
	r.Calls = []recording.Call{
		{
			Service: "grpc", Method: "/shop.Users/Get", Error: "NotFound: no such user",
			Start: time.Millisecond, Duration: time.Millisecond, RequestSize: -1, ResponseSize: -1,
			SpanID: mustSpan(t, "3000000000000001"),
			Attrs:  []recording.Attr{{Key: "rpc.response.status_code", Value: "NOT_FOUND"}},
		},
		{
			Service: "grpc", Method: "/shop.Users/Get", Error: "DeadlineExceeded: context deadline exceeded",
			Start: time.Millisecond, Duration: time.Millisecond, RequestSize: -1, ResponseSize: -1,
			SpanID: mustSpan(t, "3000000000000002"),
			Attrs:  []recording.Attr{{Key: "rpc.response.status_code", Value: "DEADLINE_EXCEEDED"}},
		},
	}
	want := map[trace.SpanID]string{
		trace.SpanID(r.SpanID):          "",
		trace.SpanID(r.Calls[0].SpanID): "no such user",
		trace.SpanID(r.Calls[1].SpanID): "context deadline exceeded",
	}
	for _, s := range exportSpans(t, []*recording.Record{r}) {
		w, ok := want[s.SpanContext.SpanID()]
		if !ok {
			continue
		}
		delete(want, s.SpanContext.SpanID())
		if s.Status.Code != codes.Error || s.Status.Description != w {
			t.Errorf("span %q: status %v %q, want Error %q", s.Name, s.Status.Code, s.Status.Description, w)
		}
	}
	for id := range want {
		t.Errorf("span %s not exported", id)
	}
}

// TestMessageDestination: messaging.destination.name is the destination
// (the connection's route, "GET /ws"), which the messaging conventions
// define as the queue, topic or other entity the message goes to, not the
// message's type; the span is named "{messaging.operation.name}
// {destination}" from it, and the type stays on the span in
// appstats.message.type. On main the destination was "GET /ws typing".
func TestMessageDestination(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(ctx, recording.Receive, "chat message", 30)
	m.End(nil)
	s.StartSend(ctx, "UPDATED", 7).End(nil)
	conn.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"process GET /ws": "chat message", "send GET /ws": "UPDATED"}
	for _, sp := range exportSpans(t, sink.Records()) {
		if sp.SpanKind != trace.SpanKindConsumer && sp.SpanKind != trace.SpanKindProducer {
			continue
		}
		attrs := spanAttrs(sp.Attributes)
		typ, ok := want[sp.Name]
		if !ok {
			t.Errorf("message span %q, want one of %v", sp.Name, want)
			continue
		}
		delete(want, sp.Name)
		if d := attrs[semconv.MessagingDestinationNameKey]; d != "GET /ws" {
			t.Errorf("span %q: messaging.destination.name %q, want %q", sp.Name, d, "GET /ws")
		}
		if got := attrs["appstats.message.type"]; got != typ {
			t.Errorf("span %q: appstats.message.type %q, want %q", sp.Name, got, typ)
		}
	}
	for name := range want {
		t.Errorf("no span %q", name)
	}
}
