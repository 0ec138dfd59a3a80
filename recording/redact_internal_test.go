package recording

import "testing"

func BenchmarkSecretHeader(b *testing.B) {
	r := DefaultRedaction()
	names := []string{"User-Agent", "Accept", "Accept-Encoding", "X-Request-Id", "Content-Type", "Traceparent"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			r.secretHeader(n)
		}
	}
}
