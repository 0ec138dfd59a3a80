package sketch

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestTryAddBucket counts the same durations — spread over six orders of
// magnitude, zero and negative ones among them, some several times — in
// pairs of sketches, one by AddBucket alone and one by TryAddBucket first
// (AddBucket when it declines), starting empty, reserved, reset, decoded
// and merged: the two stay equal, count for count, and TryAddBucket
// counted most durations itself.
func TestTryAddBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dur := func() time.Duration {
		switch rng.IntN(50) {
		case 0:
			return 0
		case 1:
			return -time.Duration(rng.IntN(1000))
		}
		return time.Duration(rng.ExpFloat64() * float64(time.Microsecond) * float64(int(1)<<rng.IntN(20)))
	}
	var seed Sketch
	for range 100 {
		seed.Add(dur())
	}
	enc, _ := seed.AppendBinary(nil)
	starts := map[string]func(*Sketch){
		"empty":    func(*Sketch) {},
		"reserved": func(s *Sketch) { s.Reserve(400, 900) },
		"reset":    func(s *Sketch) { s.Add(time.Second); s.Reset() },
		"decoded":  func(s *Sketch) { s.Decode(enc) },
		"merged":   func(s *Sketch) { s.Merge(&seed) },
	}
	tried := 0
	for name, start := range starts {
		var plain, fast Sketch
		start(&plain)
		start(&fast)
		for i := range 5000 {
			b, n := BucketOf(dur()), uint64(1+rng.IntN(3))
			if i%97 == 0 {
				n = 0
			}
			plain.AddBucket(b, n)
			if fast.TryAddBucket(b, n) {
				tried++
			} else {
				fast.AddBucket(b, n)
			}
			if (i < 500 || i%10 == 0) && !reflect.DeepEqual(plain, fast) {
				t.Fatalf("%s: after %d durations (%v ×%d): %+v, want %+v", name, i+1, b.d, n, fast, plain)
			}
		}
	}
	if tried < 5*5000/2 {
		t.Fatalf("TryAddBucket counted %d of %d durations", tried, 5*5000)
	}
}
