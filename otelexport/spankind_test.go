package otelexport_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/recording"
)

// TestBridgedSpanKinds: a span bridged into a call keeps its kind when the
// call is exported. An INTERNAL span (work inside the process, such as
// rendering a template) is exported as INTERNAL, a PRODUCER span as
// PRODUCER, a CLIENT span as CLIENT: OpenTelemetry's span kinds tell a
// backend which spans are calls to another service (its service maps and
// its client-side latency), and the conventions' status rules differ by
// kind. Calls of appstats' own wrappers and by hand stay CLIENT. The kind
// travels in the call as appstats.span.kind, which is not exported as an
// attribute. On main every call was exported as a CLIENT span.
func TestBridgedSpanKinds(t *testing.T) {
	rec, sink, tp, _ := bridgeSetup(t)
	tr := tp.Tracer("test")
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/page"})
	rctx, render := tr.Start(ctx, "render") // INTERNAL by default
	_, q := tr.Start(rctx, "SELECT users", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"), attribute.String("db.query.text", "SELECT * FROM users")))
	q.End()
	render.End()
	_, pub := tr.Start(ctx, "publish orders", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "kafka"), attribute.String("messaging.operation.type", "send")))
	pub.End()
	recording.StartCall(ctx, "memcache", "Get").End(nil)
	ar.Finish()
	r := finish(t, rec, sink)

	want := map[string]trace.SpanKind{
		"render":         trace.SpanKindInternal,
		"SELECT users":   trace.SpanKindClient,
		"publish orders": trace.SpanKindProducer,
		"Get":            trace.SpanKindClient,
	}
	kinds := map[trace.SpanID]string{}
	for _, c := range r.Calls {
		kinds[trace.SpanID(c.SpanID)] = c.Method
	}
	spans := exportSpans(t, []*recording.Record{r})
	seen := 0
	for _, s := range spans {
		for _, kv := range s.Attributes {
			if kv.Key == "appstats.span.kind" {
				t.Errorf("span %q exported with attribute %s", s.Name, kv.Key)
			}
		}
		m, ok := kinds[s.SpanContext.SpanID()]
		if !ok {
			continue // the request's span
		}
		seen++
		if s.SpanKind != want[m] {
			t.Errorf("call %q exported as a %s span, want %s", m, s.SpanKind, want[m])
		}
	}
	if seen != len(want) {
		t.Errorf("%d call spans exported, want %d: %v", seen, len(want), names(spans))
	}
}
