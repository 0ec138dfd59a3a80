package sketch

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSameMeansSameEncoding: two sketches Same reports alike encode
// alike, and two that encode alike are Same when they were counted
// alike (the codec copies the encoding of a rollup's overall sketch for
// a group's sketch that is Same). Pairs counted from the same durations,
// one duration apart, trimmed or not, reserved or not.
func TestSameMeansSameEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 1))
	for i := range 2000 {
		var a, b Sketch
		if i%3 == 0 {
			a.Reserve(100, 400)
			b.Reserve(100, 400)
		}
		n := rng.IntN(300)
		for range n {
			d := time.Duration(rng.ExpFloat64() * float64(50*time.Microsecond))
			if rng.IntN(50) == 0 {
				d = 0
			}
			a.Add(d)
			b.Add(d)
		}
		switch i % 4 {
		case 1: // one more duration in b
			b.Add(time.Duration(rng.Int64N(int64(time.Second))))
		case 2: // a count moved to another bucket
			a.Add(time.Millisecond)
			b.Add(2 * time.Millisecond)
		case 3:
			a.Trim()
		}
		ea, _ := a.AppendBinary(nil)
		eb, _ := b.AppendBinary(nil)
		same := a.Same(&b)
		if same && !bytes.Equal(ea, eb) {
			t.Fatalf("pair %d: Same, but the encodings differ:\n%x\n%x", i, ea, eb)
		}
		if i%4 == 0 && !same {
			t.Fatalf("pair %d: counted alike, not Same", i)
		}
		if (i%4 == 1 || i%4 == 2) && same {
			t.Fatalf("pair %d: counted differently, Same", i)
		}
	}
}
