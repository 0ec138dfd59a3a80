package otelexport

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// NewPropagator adapts an OpenTelemetry propagator to a [recording.Propagator],
// for [recording.WithPropagator]. A nil p means W3C trace context plus W3C
// baggage, the OpenTelemetry default:
//
//	propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
//
// Extract returns p's context — with the incoming baggage (of every baggage
// header of a [recording.HeaderCarrier], as under otelhttp) and the caller's
// span context as a remote parent, so OpenTelemetry instrumentation under the
// request joins the caller's trace — and the caller's trace and span IDs.
// Inject writes the span context built from the [recording.TraceContext] of
// the outgoing call, and the baggage of ctx.
//
// A request served under a span of this process — otelhttp's handler
// mounted outside the recording middleware, whose SERVER span is in the
// request's context — has its record as that span's child, in its trace,
// when no trace context came in or the incoming one is of the span's own
// trace (otelhttp's span is the caller's child): Extract then returns that
// span's IDs, flags and tracestate, and reads only the baggage from the
// carrier (whose traceparent names the span's own parent, which would make
// the record its sibling). An incoming trace context of another trace wins
// over the span: a span that a server's BaseContext puts in every
// request's context (a startup span) does not take the caller's requests
// out of the caller's trace. A remote span context in ctx (one a
// propagator extracted) is not such a span. The
// recorder's default propagator reads the carrier only: with otelhttp
// outside, the record is otelhttp's span's child only when no traceparent
// came in.
//
// The propagator is a [recording.RootMarker]: when the recorder makes a
// record's trace ID itself (no trace context came in, or one p cannot
// read), that ID is random, which W3C Trace Context Level 2 marks with the
// random-trace-id flag, and the record's context carries a span context
// that is not valid (no IDs) but has that flag — where the OpenTelemetry
// SDK takes the flags of a root span from. Spans that start without a
// parent under the request (with [NewIDGenerator], in the record's trace)
// then carry the flag too, as does the traceparent that their
// instrumentation (otelhttp's transport, say) sends. The SDK (v1.47) has no
// other way to be told: it sets no random flag of its own, and an ID
// generator returns no flags. This assumes the TracerProvider's ID
// generator makes random trace IDs, as the SDK's default one and
// NewIDGenerator do.
func NewPropagator(p propagation.TextMapPropagator) recording.Propagator {
	if p == nil {
		p = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	root := trace.SpanFromContext(trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceFlags: trace.FlagsRandom})))
	return otelPropagator{p: p, randomRoot: root}
}

type otelPropagator struct {
	p propagation.TextMapPropagator
	// randomRoot is the span MarkRoot puts on a record's context: no
	// IDs, the random-trace-id flag (see NewPropagator). Made once, so
	// that MarkRoot allocates only the context.
	randomRoot trace.Span
}

var _ recording.RootMarker = otelPropagator{}

// MarkRoot returns ctx with a span context of no IDs and the random-trace-id
// flag, unless ctx has a valid span context (see NewPropagator).
func (o otelPropagator) MarkRoot(ctx context.Context) context.Context {
	if o.randomRoot == nil || trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return trace.ContextWithSpan(ctx, o.randomRoot)
}

func (o otelPropagator) Extract(ctx context.Context, c recording.Carrier) (context.Context, recording.TraceContext) {
	local := trace.SpanContextFromContext(ctx)
	if !local.IsValid() || local.IsRemote() {
		ctx = o.p.Extract(ctx, textMapCarrier(c))
		sc := trace.SpanContextFromContext(ctx)
		if !sc.IsValid() {
			return ctx, recording.TraceContext{}
		}
		return ctx, traceContextOf(sc)
	}
	// The request is served under a span of this process: the SERVER
	// span of otelhttp mounted outside the recording middleware, say,
	// which otelhttp started as the child of the caller's traceparent
	// (when its propagator read one), or a span that the server's
	// BaseContext put in every request's context.
	span := trace.SpanFromContext(ctx)
	ctx = o.p.Extract(ctx, textMapCarrier(c))
	sc := trace.SpanContextFromContext(ctx)
	if sc.Equal(local) || sc.TraceID() == local.TraceID() {
		// No trace context came in (the carrier left ctx's span
		// context as it was), or the caller's is of the span's own
		// trace (the span is the caller's child, as otelhttp's is):
		// the record is the span's child, in its trace, rather than
		// its sibling. The carrier's baggage is read all the same.
		if !sc.Equal(local) {
			ctx = trace.ContextWithSpan(ctx, span)
		}
		return ctx, traceContextOf(local)
	}
	// The caller's trace context is of another trace: the span is not
	// the caller's child (a startup span in BaseContext's context, say),
	// and the caller's trace wins.
	return ctx, traceContextOf(sc)
}

// traceContextOf returns sc, a valid span context, as a
// [recording.TraceContext].
func traceContextOf(sc trace.SpanContext) recording.TraceContext {
	return recording.TraceContext{
		TraceID: recording.TraceID(sc.TraceID()),
		SpanID:  recording.SpanID(sc.SpanID()),
		Sampled: sc.IsSampled(),
		Random:  sc.TraceFlags().IsRandom(),
		State:   sc.TraceState().String(),
	}
}

// textMapCarrier returns the carrier to hand to OpenTelemetry's
// propagators: a request's headers as a [headerCarrier]; any other carrier
// as it is.
func textMapCarrier(c recording.Carrier) propagation.TextMapCarrier {
	if h, ok := c.(recording.HeaderCarrier); ok {
		return headerCarrier{h}
	}
	return c
}

// headerCarrier is a request's headers for OpenTelemetry's propagators,
// whose Get gives a tracestate or a baggage sent as several fields as their
// one combined list, in order, as W3C Trace Context and W3C Baggage require
// (the TraceContext propagator reads one value; so does the Baggage
// propagator, whose way through one value costs less than its way through
// several with [propagation.ValuesGetter], and which applies the same
// limits to the combined list). Keys are canonicalized without an
// allocation for the propagation fields, as [recording.HeaderCarrier] does.
type headerCarrier struct{ recording.HeaderCarrier }

func (h headerCarrier) Get(key string) string {
	key = convention.CanonicalHeaderKey(key)
	vs := h.HeaderCarrier[key]
	switch {
	case len(vs) == 0:
		return ""
	case len(vs) > 1 && (key == "Tracestate" || key == "Baggage"):
		return strings.Join(vs, ",")
	}
	return vs[0]
}

func (o otelPropagator) Inject(ctx context.Context, tc recording.TraceContext, c recording.Carrier) {
	if tc.IsValid() {
		cfg := trace.SpanContextConfig{
			TraceID: trace.TraceID(tc.TraceID),
			SpanID:  trace.SpanID(tc.SpanID),
		}
		if tc.Sampled {
			cfg.TraceFlags = trace.FlagsSampled
		}
		cfg.TraceFlags = cfg.TraceFlags.WithRandom(tc.Random)
		if tc.State != "" {
			if ts, err := trace.ParseTraceState(tc.State); err == nil {
				cfg.TraceState = ts
			}
		}
		ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(cfg))
	}
	// Without a valid tc, ctx's own span context (if any) and baggage go out.
	o.p.Inject(ctx, c)
}
