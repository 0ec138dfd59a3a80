package otelexport_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestBridgeParents: bridged spans keep their parent links as calls, and
// calls made under a bridged span or inside recording.Do nest the same way,
// whichever of the two is inner.
func TestBridgeParents(t *testing.T) {
	rec, sink, tp, _ := bridgeSetup(t)
	tr := tp.Tracer("test")
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/page"})

	rctx, render := tr.Start(ctx, "render") // INTERNAL: a call
	_, q := tr.Start(rctx, "SELECT users", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"), attribute.String("db.query.text", "SELECT * FROM users")))
	q.End()
	recording.StartCall(rctx, "cache", "Get under render").End(nil)
	_ = recording.Do(rctx, "report", "Build", func(ctx context.Context) error {
		// A span inside Do inside a bridged span: Do's call is its parent.
		_, s := tr.Start(ctx, "format")
		s.End()
		return nil
	})
	render.End()
	ar.Finish()
	r := finish(t, rec, sink)

	byMethod := map[string]int{}
	for i, c := range r.Calls {
		byMethod[c.Method] = i
	}
	parents := r.Parents()
	for _, tc := range []struct{ call, parent string }{
		{"render", ""},
		{"SELECT users", "render"},
		{"Get under render", "render"},
		{"Build", "render"},
		{"format", "Build"},
	} {
		i, ok := byMethod[tc.call]
		if !ok {
			t.Errorf("no call %q among %+v", tc.call, r.Calls)
			continue
		}
		got := ""
		if p := parents[i]; p >= 0 {
			got = r.Calls[p].Method
		}
		if got != tc.parent {
			t.Errorf("parent of %q = %q, want %q", tc.call, got, tc.parent)
		}
	}
}

// TestExportParents: through a recorder and an OTLP receiver, the span of
// a call made inside recording.Do is a child of Do's call's span; the
// others are children of the request's span.
func TestExportParents(t *testing.T) {
	rcv := &receiver{}
	addr := startHTTPReceiver(t, rcv)
	exp, err := otelexport.NewOTLPHTTP(t.Context(),
		otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(exp, sink))
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/report"})
	_ = recording.Do(ctx, "report", "Build", func(ctx context.Context) error {
		recording.StartCall(ctx, "http", "GET backend/orders").End(nil)
		return nil
	})
	recording.StartCall(ctx, "cache", "Set").End(nil)
	ar.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := sink.Records()[0]
	got := rcv.spans()
	if len(got) != 4 {
		t.Fatalf("got %d spans, want 4", len(got))
	}
	want := []string{r.SpanID.String(), r.Calls[0].SpanID.String(), r.SpanID.String()}
	for i, c := range r.Calls {
		if g := got[c.SpanID.String()]; g.Parent != want[i] {
			t.Errorf("call %s %s: parent span %s, want %s", c.Service, c.Method, g.Parent, want[i])
		}
	}
}
