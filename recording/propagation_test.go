package recording_test

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// AppendTraceparent formats as encoding/hex would: "00-", the trace ID's
// 32 lower-case hex digits, "-", the span ID's 16, "-" and the flags.
func TestAppendTraceparentHex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(tc recording.TraceContext) {
		t.Helper()
		flags := "00"
		if tc.Sampled {
			flags = "01"
		}
		want := "00-" + hex.EncodeToString(tc.TraceID[:]) + "-" + hex.EncodeToString(tc.SpanID[:]) + "-" + flags
		if got := string(recording.AppendTraceparent(nil, tc)); got != want {
			t.Fatalf("AppendTraceparent(%x, %x, %v) = %q, want %q", tc.TraceID[:], tc.SpanID[:], tc.Sampled, got, want)
		}
	}
	var tc recording.TraceContext
	for v := range 256 { // every byte, at every place of both IDs
		for i := range tc.TraceID {
			tc.TraceID[i] = byte(v + i)
		}
		for i := range tc.SpanID {
			tc.SpanID[i] = byte(v - i)
		}
		tc.Sampled = v%2 == 0
		check(tc)
	}
	for range 10000 {
		for i := range tc.TraceID {
			tc.TraceID[i] = byte(r.Uint32())
		}
		for i := range tc.SpanID {
			tc.SpanID[i] = byte(r.Uint32())
		}
		tc.Sampled = r.IntN(2) == 0
		check(tc)
	}
}

func BenchmarkAppendTraceparent(b *testing.B) {
	tc := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID(), Sampled: true}
	var buf [recording.TraceparentLen]byte
	for b.Loop() {
		recording.AppendTraceparent(buf[:0], tc)
	}
}

// TestExtractHeader checks that W3CPropagator.ExtractHeader gives what
// Extract gives for a header map (the same TraceContext, tracestate's
// fields joined), reports whether the traceparent was valid, and leaves
// the TraceContext it is given as it was when not.
func TestExtractHeader(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, h := range []recording.HeaderCarrier{
		nil,
		{},
		{"Accept": {"*/*"}},
		{"Traceparent": {""}},
		{"Traceparent": {"garbage"}},
		{"Traceparent": {"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
		{"Traceparent": {tp}},
		{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}},
		{"Traceparent": {" " + tp + " "}},
		{"Traceparent": {tp, "second"}},
		{"Traceparent": {tp}, "Tracestate": {"a=1"}},
		{"Traceparent": {tp}, "Tracestate": {"a=1", "b=2"}},
		{"Traceparent": {"garbage"}, "Tracestate": {"a=1"}},
		{"Tracestate": {"a=1"}},
		{"Traceparent": {tp}, "Accept": {"*/*"}, "User-Agent": {"x"}, "A": {"1"}, "B": {"2"}, "C": {"3"}, "D": {"4"}, "E": {"5"}, "F": {"6"}},
	} {
		_, want := recording.W3CPropagator{}.Extract(t.Context(), h)
		var got recording.TraceContext
		ok := recording.W3CPropagator{}.ExtractHeader(h, &got)
		if got != want || ok != want.IsValid() {
			t.Errorf("%q: ExtractHeader = %+v, %v; Extract gives %+v", h, got, ok, want)
		}
		kept := recording.TraceContext{TraceID: recording.TraceID{1}, SpanID: recording.SpanID{2}, State: "kept"}
		got = kept
		if ok := (recording.W3CPropagator{}).ExtractHeader(h, &got); !ok && got != kept {
			t.Errorf("%q: ExtractHeader false changed the TraceContext: %+v", h, got)
		}
	}
}
