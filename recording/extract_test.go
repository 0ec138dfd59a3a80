package recording_test

import (
	"context"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// getCarrier is a Carrier that is not a HeaderCarrier: W3CPropagator reads
// it through Get.
type getCarrier struct{ h recording.HeaderCarrier }

func (c getCarrier) Get(key string) string { return c.h.Get(key) }
func (c getCarrier) Set(key, value string) { c.h.Set(key, value) }
func (c getCarrier) Keys() []string        { return c.h.Keys() }

// TestExtractHeaderCarrier checks that W3CPropagator.Extract reads a
// HeaderCarrier, which it indexes directly, as it reads any carrier
// through Get: with and without traceparent, an empty first value, spaces
// around it, a tracestate, a malformed value.
func TestExtractHeaderCarrier(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, h := range []recording.HeaderCarrier{
		nil,
		{},
		{"Accept": {"*/*"}},
		{"Traceparent": {tp}},
		{"Traceparent": {tp}, "Tracestate": {"k=v", "x=y"}},
		{"Traceparent": {" " + tp + " "}},
		{"Traceparent": {"", tp}},
		{"Traceparent": {}},
		{"Traceparent": {"garbage"}, "Tracestate": {"k=v"}},
		{"traceparent": {tp}}, // not canonical: not a request's header map
	} {
		ctx := context.Background()
		gotCtx, got := recording.W3CPropagator{}.Extract(ctx, h)
		_, want := recording.W3CPropagator{}.Extract(ctx, getCarrier{h})
		if vs := h["Tracestate"]; len(vs) > 1 && want.IsValid() {
			// Get gives one field; a request's headers give them all,
			// combined (see TestExtractTracestateFields).
			want.State = strings.Join(vs, ",")
		}
		if got != want || gotCtx != ctx {
			t.Errorf("headers %q: %+v, through Get %+v", h, got, want)
		}
	}
}

// TestExtractTracestateFields: W3C Trace Context says that a tracestate
// sent as several header fields MUST be combined into one list (RFC 7230's
// field order), as an HTTP intermediary may split it. The default
// propagator reads every field of a request's headers, in order, and sends
// the combined list downstream. On main it kept the first field only.
func TestExtractTracestateFields(t *testing.T) {
	h := recording.HeaderCarrier{}
	h.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h["Tracestate"] = []string{"congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,k=v"}
	_, tc := recording.W3CPropagator{}.Extract(context.Background(), h)
	if want := "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,k=v"; tc.State != want {
		t.Errorf("tracestate %q, want %q", tc.State, want)
	}
	out := recording.HeaderCarrier{}
	recording.W3CPropagator{}.Inject(context.Background(), tc, out)
	if got := out["Tracestate"]; len(got) != 1 || got[0] != tc.State {
		t.Errorf("tracestate sent %q, want the one combined list %q", got, tc.State)
	}
}
