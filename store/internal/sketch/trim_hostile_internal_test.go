package sketch

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTrimHostile trims sketches at the edges of the index range and of
// their reserved spans — empty, one bucket, every duration in the lowest
// bucket (1 ns, index 0) or the highest (past gamma^2300, cut to
// sketchMaxIndex), the whole range from 1 ns to the largest duration,
// reserved spans narrower than, equal to, and around what is counted —
// and checks against a sketch neither reserved nor trimmed: the encoding
// and quantiles, a second Trim, a merge of each into the other and into a
// third (trimmed into trimmed too), durations added after the trim on
// either side of the span, and the decoding of a trimmed sketch's bytes
// (trimmed again: the same bytes).
func TestTrimHostile(t *testing.T) {
	top := time.Duration(math.MaxInt64)
	sets := [][]time.Duration{
		nil,
		{0},
		{time.Millisecond},
		{1, 1, 1},
		{top, top - 1, time.Duration(math.Pow(sketchGamma, sketchMaxIndex-1))},
		{1, top},
		{-top, 0, 1, 2, 3, top},
	}
	r := rand.New(rand.NewPCG(29, 1))
	for range 40 {
		var ds []time.Duration
		for range r.IntN(50) {
			ds = append(ds, time.Duration(math.Exp(r.Float64()*math.Log(float64(top)))))
		}
		sets = append(sets, ds)
	}
	spans := [][2]int{{0, 0}, {0, sketchMaxIndex}, {sketchMaxIndex, sketchMaxIndex}, {100, 612}, {1000, 1001}, {-1, 5}, {5, 4}}
	for si, durs := range sets {
		for _, sp := range spans {
			trimmed, plain := trimmedAndPlain(sp[0], sp[1], durs)
			if _, _, ok := trimmed.Span(); ok {
				if trimmed.counts[0] == 0 || trimmed.counts[len(trimmed.counts)-1] == 0 {
					t.Errorf("set %d span %v: a zero count left at an end after Trim", si, sp)
				}
			}
			sameSketch(t, &trimmed, &plain)
			again := trimmed
			again.Trim()
			sameSketch(t, &again, &plain)

			// Merges, either way, and of the trimmed into a trimmed one.
			var other Sketch
			other.Reserve(sp[0], sp[1])
			other.Add(time.Duration(1 + r.Int64N(int64(time.Hour))))
			other.Trim()
			a, b := other, Sketch{}
			a.counts = append([]uint64(nil), other.counts...)
			b.Add(other.Max())
			a.Merge(&trimmed)
			b.Merge(&plain)
			sameSketch(t, &a, &b)
			c, d := trimmedAndPlain(sp[0], sp[1], durs)
			c.Merge(&a)
			d.Merge(&b)
			sameSketch(t, &c, &d)

			// The trimmed sketch's bytes decode to what trims to them.
			enc, _ := trimmed.AppendBinary(nil)
			var dec Sketch
			if err := dec.UnmarshalBinary(enc); err != nil {
				t.Fatalf("set %d span %v: decode of a trimmed sketch: %v", si, sp, err)
			}
			dec.Trim()
			if re, _ := dec.AppendBinary(nil); !bytes.Equal(re, enc) {
				t.Errorf("set %d span %v: decoded and trimmed % x; want % x", si, sp, re, enc)
			}

			// Durations after the trim, below, inside and above.
			for _, x := range []time.Duration{1, time.Microsecond, top, -1} {
				trimmed.Add(x)
				plain.Add(x)
				sameSketch(t, &trimmed, &plain)
			}
		}
	}
}

// FuzzTrim decodes arbitrary bytes into a sketch and trims it: whatever
// decodes (zero counts inside runs, a run at the highest index) encodes,
// answers, and merges into another sketch as it did before the trim, and
// a second trim changes nothing.
func FuzzTrim(f *testing.F) {
	var s Sketch
	s.Reserve(0, sketchMaxIndex)
	for _, d := range []time.Duration{0, 1, time.Millisecond, time.Hour, math.MaxInt64} {
		s.Add(d)
	}
	enc, _ := s.AppendBinary(nil)
	f.Add(enc)
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 3, 0, 2, 2, 1, 0, 3, 0, 1, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var plain, trimmed Sketch
		if plain.UnmarshalBinary(b) != nil {
			return
		}
		if trimmed.UnmarshalBinary(b) != nil {
			t.Fatal("a second decode of the same bytes failed")
		}
		trimmed.Trim()
		sameSketch(t, &trimmed, &plain)
		again := trimmed
		again.Trim()
		sameSketch(t, &again, &plain)
		var a, c Sketch
		a.Add(time.Second)
		c.Add(time.Second)
		a.Merge(&trimmed)
		c.Merge(&plain)
		sameSketch(t, &a, &c)
	})
}
