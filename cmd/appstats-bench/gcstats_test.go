package main

import "testing"

var gcSink []*[64]byte

// TestReadGCExact: the runtime/metrics allocation counters are kept per
// P and added up as each P's cache refills a span, so that a short
// stretch read from them missed the objects of the spans still being
// filled: 400 objects allocated read as 165 to 750, and a round of a
// loaded machine's 14 requests could read fewer objects than requests
// (TestSmoke's "at least an object a request"). readGC now flushes the
// caches first (runtime.ReadMemStats does), and a stretch counts every
// object allocated in it.
func TestReadGCExact(t *testing.T) {
	const n = 400
	gcSink = make([]*[64]byte, 0, n)
	for trial := range 20 {
		gc0 := readGC()
		for range n {
			gcSink = append(gcSink, new([64]byte))
		}
		d := readGC().sub(gc0)
		gcSink = gcSink[:0]
		if d.AllocObjects < n || d.AllocBytes < n*64 {
			t.Fatalf("trial %d: %d objects of 64 bytes allocated; readGC counts %d objects, %d bytes", trial, n, d.AllocObjects, d.AllocBytes)
		}
	}
}
