package otelexport_test

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestGenAITokenCountsAreInts: the token counts of a call to a generative
// AI model, which appstats knows by name (its cost model prices calls by
// them, see recording.CostModel), are integers in OpenTelemetry's gen_ai
// conventions, as GenAI instrumentation exports them; recorded as strings,
// they are exported as integers, so that a backend sums and filters them as
// it does the instrumentation's. On main they were exported as strings.
func TestGenAITokenCountsAreInts(t *testing.T) {
	r := fixture(t)
	r.Calls = []recording.Call{{
		Service: "llm", Method: "chat demo-model",
		Start: time.Millisecond, Duration: 20 * time.Millisecond,
		RequestSize: -1, ResponseSize: -1,
		SpanID: mustSpan(t, "3000000000000001"),
		Attrs: []recording.Attr{
			{Key: "gen_ai.request.model", Value: "demo-model"},
			{Key: "gen_ai.usage.input_tokens", Value: "120"},
			{Key: "gen_ai.usage.output_tokens", Value: "45"},
		},
	}}
	spans := exportSpans(t, []*recording.Record{r})
	var found bool
	for _, s := range spans {
		if s.SpanContext.SpanID() != [8]byte(r.Calls[0].SpanID) {
			continue
		}
		found = true
		want := map[attribute.Key]attribute.Value{
			"gen_ai.request.model":       attribute.StringValue("demo-model"),
			"gen_ai.usage.input_tokens":  attribute.Int64Value(120),
			"gen_ai.usage.output_tokens": attribute.Int64Value(45),
		}
		for _, kv := range s.Attributes {
			if w, ok := want[kv.Key]; ok {
				if kv.Value != w {
					t.Errorf("%s = %s %v, want %s %v", kv.Key, kv.Value.Type(), kv.Value.String(), w.Type(), w.String())
				}
				delete(want, kv.Key)
			}
		}
		for k := range want {
			t.Errorf("%s not exported", k)
		}
	}
	if !found {
		t.Fatalf("the call's span was not exported")
	}
}

// TestMessageSpansOperationName: the span of a message handled on a
// long-lived connection carries messaging.operation.name, which the
// messaging conventions require (with messaging.system) of every messaging
// span and which names it ("{messaging.operation.name} {destination}"),
// beside messaging.operation.type. On main it was missing.
func TestMessageSpansOperationName(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(ctx, recording.Receive, "typing", 30)
	m.End(nil)
	s.StartSend(ctx, "UPDATED", 7).End(nil)
	conn.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, sp := range exportSpans(t, sink.Records()) {
		if sp.SpanKind != trace.SpanKindConsumer && sp.SpanKind != trace.SpanKindProducer {
			continue
		}
		n++
		attrs := map[attribute.Key]string{}
		for _, kv := range sp.Attributes {
			attrs[kv.Key] = kv.Value.String()
		}
		op := attrs[semconv.MessagingOperationNameKey]
		if op == "" || op != attrs[semconv.MessagingOperationTypeKey] || !strings.HasPrefix(sp.Name, op+" ") {
			t.Errorf("span %q: messaging.operation.name %q, type %q; want the operation that names the span",
				sp.Name, op, attrs[semconv.MessagingOperationTypeKey])
		}
		if attrs[semconv.MessagingSystemKey] != "websocket" {
			t.Errorf("span %q: messaging.system %q", sp.Name, attrs[semconv.MessagingSystemKey])
		}
	}
	if n != 2 {
		t.Errorf("%d message spans, want 2", n)
	}
}

// TestSpanNeverEndsBeforeItStarts: OTLP expects a span's end to be at or
// after its start, and a backend shows a span that ends first with a
// negative duration. The recorder never makes such a record, but a Record
// is plain data that a program may build or carry (a clock's step between
// two hosts, a decoding gone wrong): one with a negative Duration, or a
// call with one, is exported with its span ending where it starts. On main
// the spans ended before they started.
func TestSpanNeverEndsBeforeItStarts(t *testing.T) {
	r := fixture(t)
	r.Duration = -3 * time.Millisecond
	r.Calls = r.Calls[:1]
	r.Calls[0].Duration = -time.Second
	spans := exportSpans(t, []*recording.Record{r})
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for _, s := range spans {
		if s.EndTime.Before(s.StartTime) {
			t.Errorf("span %q ends %v before it starts", s.Name, s.StartTime.Sub(s.EndTime))
		}
		if !s.EndTime.Equal(s.StartTime) {
			t.Errorf("span %q lasts %v, want 0", s.Name, s.EndTime.Sub(s.StartTime))
		}
	}
}
