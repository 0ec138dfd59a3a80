package recording

import (
	"math"
	"math/rand/v2"
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

// p99Scan is routeLatency.p99 as it was, summing the buckets from the
// first: what p99 must return.
func p99Scan(l *routeLatency, least int) (time.Duration, bool) {
	n := l.n[0] + l.n[1]
	if n < least || n == 0 {
		return 0, false
	}
	rank := int(math.Ceil(0.99 * float64(n)))
	seen := 0
	for b := range latBuckets {
		seen += int(l.cur[b]) + int(l.prev[b])
		if seen >= rank {
			return time.Duration(float64(time.Microsecond) * math.Pow(latGamma, float64(b+1))), true
		}
	}
	return time.Duration(math.MaxInt64), true
}

// TestRouteLatencyP99Steps: p99, which moves its bucket a step at a time
// as requests come, answers as a sum of the buckets from the first does,
// after every request, across rotations and through shifts of the
// distribution up and down.
func TestRouteLatencyP99Steps(t *testing.T) {
	var l routeLatency
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1_800_000_000, 0)
	l.rotate(now)
	for i := range 60000 {
		if i%7000 == 0 {
			now = now.Add(time.Duration(rng.IntN(150)) * time.Second) // some rotations, a reset now and then
			l.rotate(now)
		}
		// Phases of fast and slow requests, with outliers both ways.
		base := 100 * time.Microsecond
		if i/5000%2 == 1 {
			base = 20 * time.Millisecond
		}
		d := time.Duration(float64(base) * math.Exp(rng.NormFloat64()))
		if rng.IntN(100) == 0 {
			d *= 1000
		}
		if rng.IntN(500) == 0 {
			d = time.Duration(rng.IntN(3))
		}
		want, wok := p99Scan(&l, 1)
		got, ok := l.p99(1)
		if got != want || ok != wok {
			t.Fatalf("request %d: p99 = %v, %v; summed from the first bucket: %v, %v", i, got, ok, want, wok)
		}
		l.add(d)
	}
}
