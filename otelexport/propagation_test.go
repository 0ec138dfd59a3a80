package otelexport_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

func TestPropagatorExtract(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name    string
		prop    propagation.TextMapPropagator
		header  map[string]string
		want    recording.TraceContext
		baggage string // the value of member "user", if any
	}{
		{"trace context and baggage", nil, map[string]string{
			"traceparent": tp, "tracestate": "vendor=abc", "baggage": "user=alice,tier=gold",
		}, recording.TraceContext{
			TraceID: mustTrace(t, "0af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan(t, "b7ad6b7169203331"),
			Sampled: true, State: "vendor=abc",
		}, "alice"},
		{"not sampled", nil, map[string]string{
			"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
		}, recording.TraceContext{
			TraceID: mustTrace(t, "0af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan(t, "b7ad6b7169203331"),
		}, ""},
		{"baggage only", nil, map[string]string{"baggage": "user=bob"}, recording.TraceContext{}, "bob"},
		{"malformed traceparent", nil, map[string]string{"traceparent": "00-zz-b7ad6b7169203331-01"}, recording.TraceContext{}, ""},
		{"all-zero trace", nil, map[string]string{
			"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01",
		}, recording.TraceContext{}, ""},
		{"trace context only ignores baggage", propagation.TraceContext{}, map[string]string{
			"traceparent": tp, "baggage": "user=alice",
		}, recording.TraceContext{
			TraceID: mustTrace(t, "0af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan(t, "b7ad6b7169203331"), Sampled: true,
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			ctx, tc := otelexport.NewPropagator(tt.prop).Extract(t.Context(), recording.HeaderCarrier(h))
			if tc != tt.want {
				t.Errorf("Extract = %+v, want %+v", tc, tt.want)
			}
			if got := baggage.FromContext(ctx).Member("user").Value(); got != tt.baggage {
				t.Errorf("baggage user = %q, want %q", got, tt.baggage)
			}
		})
	}
}

func TestPropagatorInject(t *testing.T) {
	m, _ := baggage.NewMember("user", "alice")
	bag, _ := baggage.New(m)
	withBag := baggage.ContextWithBaggage(context.Background(), bag)
	tc := recording.TraceContext{
		TraceID: mustTrace(t, "0af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan(t, "1000000000000001"),
		Sampled: true, State: "vendor=abc",
	}
	tests := []struct {
		name string
		ctx  context.Context
		tc   recording.TraceContext
		want map[string]string
	}{
		{"trace context and baggage", withBag, tc, map[string]string{
			"Traceparent": recording.FormatTraceparent(tc), "Tracestate": "vendor=abc", "Baggage": "user=alice",
		}},
		{"no baggage", context.Background(), tc, map[string]string{
			"Traceparent": recording.FormatTraceparent(tc), "Tracestate": "vendor=abc",
		}},
		{"no trace context", withBag, recording.TraceContext{}, map[string]string{"Baggage": "user=alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			otelexport.NewPropagator(nil).Inject(tt.ctx, tt.tc, recording.HeaderCarrier(h))
			if len(h) != len(tt.want) {
				t.Errorf("headers %v, want %v", h, tt.want)
			}
			for k, v := range tt.want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			// What Inject writes, the recorder's default propagator reads.
			if tt.tc.IsValid() {
				_, got := recording.W3CPropagator{}.Extract(context.Background(), recording.HeaderCarrier(h))
				if got != tt.tc {
					t.Errorf("W3C reads back %+v, want %+v", got, tt.tc)
				}
			}
		})
	}
}

// TestRecorderWithPropagator: a recorder configured with the adapter hands
// it out to the middleware and transports.
func TestRecorderWithPropagator(t *testing.T) {
	rec := recording.New(recording.WithPropagator(otelexport.NewPropagator(nil)))
	defer rec.Close(t.Context())
	h := http.Header{}
	h.Set("baggage", "user=carol")
	ctx, _ := rec.Propagator().Extract(t.Context(), recording.HeaderCarrier(h))
	out := http.Header{}
	rec.Propagator().Inject(ctx, recording.TraceContext{}, recording.HeaderCarrier(out))
	if out.Get("baggage") != "user=carol" {
		t.Errorf("baggage not carried through: %v", out)
	}
}

// TestPropagatorBaggageHeaders: W3C baggage may come in several baggage
// headers, which a receiver joins; OpenTelemetry's Baggage propagator reads
// them all from a carrier that gives every value of a header, as otelhttp's
// does. The adapter, given the request's headers, reads what otelhttp
// reads. On main it read only the first header: the members of the second
// were lost.
func TestPropagatorBaggageHeaders(t *testing.T) {
	h := http.Header{}
	h.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.Add("baggage", "user=alice")
	h.Add("baggage", "tier=gold,region=eu")
	want := baggage.FromContext(propagation.Baggage{}.Extract(t.Context(), propagation.HeaderCarrier(h)))
	if want.Len() != 3 {
		t.Fatalf("OpenTelemetry's own propagator reads %q; want 3 members", want)
	}
	ctx, tc := otelexport.NewPropagator(nil).Extract(t.Context(), recording.HeaderCarrier(h))
	if !tc.IsValid() {
		t.Errorf("trace context lost: %+v", tc)
	}
	got := baggage.FromContext(ctx)
	for _, m := range want.Members() {
		if v := got.Member(m.Key()).Value(); v != m.Value() {
			t.Errorf("baggage %s = %q, want %q (all of %q; got %q)", m.Key(), v, m.Value(), want, got)
		}
	}
	// And on to the next service, all of it.
	out := http.Header{}
	otelexport.NewPropagator(nil).Inject(ctx, tc, recording.HeaderCarrier(out))
	if back := baggage.FromContext(propagation.Baggage{}.Extract(t.Context(), propagation.HeaderCarrier(out))); back.Len() != want.Len() {
		t.Errorf("baggage sent downstream %q, want %q", back, want)
	}
}

// TestPropagatorTracestateFields: a tracestate sent as several header
// fields is one list (W3C Trace Context: they MUST be combined, in order);
// the adapter hands OpenTelemetry's TraceContext propagator, which reads
// one value, the combined list. On main it read the first field only, as
// it does under otelhttp.
func TestPropagatorTracestateFields(t *testing.T) {
	h := http.Header{}
	h.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.Add("tracestate", "congo=t61rcWkgMzE")
	h.Add("tracestate", "rojo=00f067aa0ba902b7")
	ctx, tc := otelexport.NewPropagator(nil).Extract(t.Context(), recording.HeaderCarrier(h))
	const want = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
	if tc.State != want {
		t.Errorf("tracestate %q, want %q", tc.State, want)
	}
	if got := trace.SpanContextFromContext(ctx).TraceState().String(); got != want {
		t.Errorf("the remote parent's tracestate %q, want %q", got, want)
	}
}
