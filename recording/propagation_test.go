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
