package recording

import (
	"testing"
	"time"
)

func TestRouteLatencyP99(t *testing.T) {
	var l routeLatency
	now := time.Unix(1_800_000_000, 0)
	l.rotate(now)
	if _, ok := l.p99(1); ok {
		t.Fatal("a p99 of nothing")
	}
	for i := range 10000 { // 10 µs to 100 ms, evenly
		l.add(time.Duration(i+1) * 10 * time.Microsecond)
	}
	if _, ok := l.p99(10001); ok {
		t.Error("a p99 of fewer requests than asked for")
	}
	p99, ok := l.p99(100)
	want := 99 * time.Millisecond
	if !ok || p99 < want || p99 > time.Duration(float64(want)*latGamma*1.001) {
		t.Errorf("p99 = %v, %v; want %v to %v%% more", p99, ok, want, (latGamma-1)*100)
	}
	// A minute later the counts are the previous generation's, and still
	// count; two minutes later they are gone.
	l.rotate(now.Add(61 * time.Second))
	if got, ok := l.p99(100); !ok || got != p99 {
		t.Errorf("after a minute: %v, %v; want %v", got, ok, p99)
	}
	l.add(time.Hour) // the cur generation
	l.rotate(now.Add(122 * time.Second))
	if got, ok := l.p99(1); !ok || got < time.Hour {
		t.Errorf("after two rotations: %v, %v; want the last minute's hour", got, ok)
	}
	l.rotate(now.Add(10 * time.Minute))
	if _, ok := l.p99(1); ok {
		t.Error("counts survived a long pause")
	}
	// Extremes land in the first and last buckets.
	l.add(0)
	l.add(1 << 62)
	if l.cur[0] != 1 || l.cur[latBuckets-1] != 1 {
		t.Error("extremes not counted at the ends")
	}
}
