package sketch

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// appendBinaryRef is AppendBinary as it was written first, a count at a
// time: the encoding AppendBinary must keep.
func appendBinaryRef(s *Sketch, b []byte) []byte {
	b = append(b, sketchVersion)
	b = binary.AppendUvarint(b, s.n)
	if s.n == 0 {
		return b
	}
	b = binary.AppendUvarint(b, s.zero)
	b = binary.AppendVarint(b, int64(s.min))
	b = binary.AppendVarint(b, int64(s.max))
	type run struct{ lo, hi int }
	var runs []run
	for j := 0; j < len(s.counts); {
		if s.counts[j] == 0 {
			j++
			continue
		}
		lo, hi := j, j+1
		for k := hi; k < len(s.counts); k++ {
			if s.counts[k] != 0 {
				hi = k + 1
			} else if k-hi >= 1 {
				break
			}
		}
		runs = append(runs, run{lo, hi})
		j = hi
	}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	prev := 0
	for _, r := range runs {
		i := s.offset + r.lo
		b = binary.AppendUvarint(b, uint64(i-prev))
		b = binary.AppendUvarint(b, uint64(r.hi-r.lo))
		for _, c := range s.counts[r.lo:r.hi] {
			b = binary.AppendUvarint(b, c)
		}
		prev = s.offset + r.hi
	}
	return b
}

// TestAppendBinarySparse encodes sketches whose counts are mostly zero
// (a write's delta, reserved the last one's span), with runs of zeros of
// every length from 1 to 9 between and around the counts, at every
// alignment: the encoding is the one a count at a time gives.
func TestAppendBinarySparse(t *testing.T) {
	var rng uint64 = 7
	for iter := range 2000 {
		var s Sketch
		lo := 100 + iter%7
		s.Reserve(lo, lo+int(iter%90))
		for range iter % 13 {
			rng = rng*6364136223846793005 + 1442695040888963407
			i := lo + int(rng>>33)%(len(s.counts)+3)
			s.AddBucket(Bucket{d: time.Duration(i), i: i}, 1+rng>>60)
		}
		if iter%5 == 0 {
			s.AddBucket(Bucket{d: 0}, 2)
		}
		got, _ := s.AppendBinary(nil)
		if want := appendBinaryRef(&s, nil); !bytes.Equal(got, want) {
			t.Fatalf("sketch %d (counts %v from %d): encoded %x, want %x", iter, s.counts, s.offset, got, want)
		}
	}
}

// TestAppendBinaryWide encodes sketches whose runs, or number of runs,
// take two bytes as varints (128 or more: AppendBinary leaves one byte
// for each and widens it), with counts of one to six bytes, and sketches
// of one bucket whose count takes up to ten: the encoding is the one a
// count at a time gives, and decodes to as many durations.
func TestAppendBinaryWide(t *testing.T) {
	var rng uint64 = 11
	next := func() uint64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return rng
	}
	cases := map[string]func(i int) uint64{
		"one run of every bucket":   func(int) uint64 { return 1 + next()>>61 },
		"~730 runs of one count":    func(i int) uint64 { return uint64(1 - min(i%3, 1)) },
		"runs of 127, 128, 129":     func(i int) uint64 { return runs127to129(i) * (1 + next()>>50) },
		"large counts":              func(i int) uint64 { return next() >> (next() >> 58) },
		"mostly zero, wide gaps":    func(i int) uint64 { return next() >> 62 / 3 * (next() >> 55) },
		"single zeros between runs": func(i int) uint64 { return uint64(i % 2 * (i % 300)) },
	}
	for name, count := range cases {
		for _, lo := range []int{0, 1, 7, 300} {
			var s Sketch
			s.Reserve(lo, min(lo+2200, sketchMaxIndex)) // the most a duration reaches: ~2,190
			for i := range s.counts {
				if n := count(i); n > 0 {
					s.AddBucket(Bucket{d: time.Duration(lo + i + 1), i: lo + i}, n%(1<<40)+1)
				}
			}
			got, _ := s.AppendBinary(nil)
			if want := appendBinaryRef(&s, nil); !bytes.Equal(got, want) {
				t.Fatalf("%s from %d: encoded %d bytes %x…, want %d bytes %x…", name, lo, len(got), got[:min(40, len(got))], len(want), want[:min(40, len(want))])
			}
			var d Sketch
			if err := d.UnmarshalBinary(got); err != nil || d.Count() != s.Count() {
				t.Fatalf("%s from %d: decoded %d durations, %v; want %d", name, lo, d.Count(), err, s.Count())
			}
		}
	}
	for _, n := range []uint64{1 << 63, 1<<62 + 12345, 1 << 56, 1<<49 - 1, 1 << 35, 128, 127, 1} {
		for _, lo := range []int{0, 1, 300, 2190} {
			var s Sketch
			s.AddBucket(Bucket{d: time.Duration(lo + 1), i: lo}, n)
			got, _ := s.AppendBinary(nil)
			if want := appendBinaryRef(&s, nil); !bytes.Equal(got, want) {
				t.Fatalf("one bucket at %d counting %d: encoded %x, want %x", lo, n, got, want)
			}
			var d Sketch
			if err := d.UnmarshalBinary(got); err != nil || d.Count() != n {
				t.Fatalf("one bucket at %d counting %d: decoded %d durations, %v", lo, n, d.Count(), err)
			}
		}
	}
}

// runs127to129 is 1 in runs of 127, 128 and 129 buckets, each followed by
// three zeros, and 0 in those zeros.
func runs127to129(i int) uint64 {
	switch j := i % 393; {
	case j >= 127 && j < 130, j >= 258 && j < 261, j >= 390:
		return 0
	}
	return 1
}
