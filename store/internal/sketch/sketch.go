// Package sketch estimates latency percentiles in little, mergeable space:
// [Sketch] is a DDSketch with a relative error of [RelativeError] (1%).
// Stores keep one per group and time bucket and merge them to answer any
// window.
package sketch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/store"
)

// RelativeError is the relative accuracy of [Sketch] quantiles: an
// estimated quantile q̂ of a true value v satisfies |q̂-v| <= 0.01·v (plus
// rounding to whole nanoseconds).
const RelativeError = 0.01

const (
	sketchGamma = (1 + RelativeError) / (1 - RelativeError)
	// sketchMaxIndex bounds bucket indexes: gamma^2300 exceeds the largest
	// time.Duration, so no valid sketch has a higher index.
	sketchMaxIndex = 2300
	sketchVersion  = 1
)

// A Sketch estimates quantiles of durations with a bounded relative error
// ([RelativeError]) in little space. It is a DDSketch: durations are
// counted in logarithmically sized buckets, so two sketches merge exactly by
// adding their counts, and a sketch of a million durations spanning
// nanoseconds to hours stays within a few kilobytes.
//
// The zero value is an empty sketch ready to use. A Sketch is not safe for
// concurrent use.
type Sketch struct {
	counts   []uint64 // counts[i] counts index offset+i
	offset   int
	zero     uint64 // durations <= 0
	n        uint64
	min, max time.Duration
}

var sketchLnGamma = math.Log(sketchGamma)

// sketchIndex returns the bucket index of a duration: logIndex(d), for
// d > 0 read from bucketTable (a logarithm is ~70 instructions, most of
// what counting a duration took).
func sketchIndex(d time.Duration) int {
	if d <= 0 {
		return logIndex(d)
	}
	t := bucketTables()
	l := bits.Len64(uint64(d))
	i := int(t.sub[l][uint64(d)<<(64-l)>>57&63])
	for uint64(d) >= t.min[i+1] {
		i++
	}
	return i
}

// logIndex is the bucket index of d by its definition: the least i with
// gamma^i >= d, as the logarithm computes it, within 0..sketchMaxIndex.
// Sketches encoded and stored hold the indexes it gave: sketchIndex
// gives the same, from tables made with it.
func logIndex(d time.Duration) int {
	i := int(math.Ceil(math.Log(float64(d)) / sketchLnGamma))
	return max(0, min(i, sketchMaxIndex))
}

// A bucketTable finds a positive duration's index (see sketchIndex)
// with a look-up and a comparison or two: min[i] is the least duration
// whose logIndex is i or more (noMin past the largest duration's index;
// 0 for i = 0, which every duration under 2 ns has), and sub[l][m] is the
// logIndex of the least duration of bit length l whose six bits after
// its leading one are m. Those durations span less than a bucket (a
// factor of at most 1+1/64, under gamma), so their index is sub[l][m] or
// the next.
type bucketTable struct {
	min [sketchMaxIndex + 2]uint64
	sub [64][64]uint16
}

// noMin is bucketTable.min past the largest duration's index: no
// duration (under 2^63 ns) reaches it.
const noMin = 1 << 63

// bucketTab is the bucket table once made (see bucketTables), and
// bucketOnce makes it.
var (
	bucketTab  atomic.Pointer[bucketTable]
	bucketOnce sync.Once
)

// bucketTables returns the bucket table, made at its first use (~2,200
// indexes, each by a few logarithms around gamma^(i-1): ~0.5 ms, once a
// process) and never changed. Once made, it is one atomic load, inlined
// (sync.OnceValue's function was a call, ~10 instructions a duration).
func bucketTables() *bucketTable {
	if t := bucketTab.Load(); t != nil {
		return t
	}
	return makeBucketTables()
}

// makeBucketTables makes the bucket table, once, and returns it.
func makeBucketTables() *bucketTable {
	bucketOnce.Do(func() { bucketTab.Store(newBucketTable()) })
	return bucketTab.Load()
}

func newBucketTable() *bucketTable {
	t := new(bucketTable)
	top := logIndex(math.MaxInt64)
	for i := range t.min {
		if i > top {
			t.min[i] = noMin
		} else if i > 0 {
			t.min[i] = uint64(leastWithIndex(i))
		}
	}
	for l := 1; l < 64; l++ {
		for m := range uint64(64) {
			// The least duration of bit length l with bits m after its
			// leading one (for l < 7, those bits shifted out are zero).
			d := uint64(1)<<(l-1) | m<<(l-1)>>6
			if d<<(64-l)>>57&63 != m {
				continue // no duration of length l has those bits
			}
			t.sub[l][m] = uint16(logIndex(time.Duration(d)))
		}
	}
	return t
}

// leastWithIndex returns the least duration whose logIndex is i or more
// (0 < i <= the largest duration's index): found between two durations
// around gamma^(i-1), widened until they bracket it, by halving.
func leastWithIndex(i int) int64 {
	g := math.Exp(float64(i-1) * sketchLnGamma)
	guess := int64(min(max(g, 1), math.MaxInt64/2))
	lo, hi := guess, guess // logIndex(lo) < i <= logIndex(hi), once bracketed
	for w := max(int64(1), guess>>40); ; w *= 2 {
		lo = max(0, guess-w)
		if lo == 0 || logIndex(time.Duration(lo)) < i {
			break
		}
	}
	for w := max(int64(1), guess>>40); ; w *= 2 {
		hi = min(math.MaxInt64, guess+w)
		if hi == math.MaxInt64 || logIndex(time.Duration(hi)) >= i {
			break
		}
		if w > math.MaxInt64/4 {
			hi = math.MaxInt64
			break
		}
	}
	for hi-lo > 1 { // logIndex(lo) < i <= logIndex(hi)
		mid := lo + (hi-lo)/2
		if logIndex(time.Duration(mid)) >= i {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// sketchValue is the estimate for bucket i: the point of (gamma^(i-1),
// gamma^i] with the smallest worst-case relative error.
func sketchValue(i int) float64 {
	return 2 * math.Pow(sketchGamma, float64(i)) / (sketchGamma + 1)
}

// Add counts one duration.
func (s *Sketch) Add(d time.Duration) { s.AddN(d, 1) }

// AddN counts a duration n times.
func (s *Sketch) AddN(d time.Duration, n uint64) { s.AddBucket(BucketOf(d), n) }

// A Bucket is a duration with its bucket, computed once (a logarithm) to
// count the duration in several sketches with [Sketch.AddBucket].
type Bucket struct {
	d time.Duration
	i int // the bucket's index; unused for d <= 0
}

// BucketOf returns d with its bucket.
func BucketOf(d time.Duration) Bucket {
	if d <= 0 {
		return Bucket{d: d}
	}
	return Bucket{d: d, i: sketchIndex(d)}
}

// AddBucket counts b's duration n times: s.AddN(d, n) for b = BucketOf(d).
func (s *Sketch) AddBucket(b Bucket, n uint64) {
	if n == 0 {
		return
	}
	d := b.d
	if s.n == 0 || d < s.min {
		s.min = d
	}
	if s.n == 0 || d > s.max {
		s.max = d
	}
	s.n += n
	if d <= 0 {
		s.zero += n
		return
	}
	s.addIndex(b.i, n)
}

// TryAddBucket counts b's duration n times, as AddBucket does, when that
// takes a few instructions, which its callers inline: a positive duration
// counted n > 0 times in a sketch that has counted one already, whose
// counts cover its bucket (most durations, once a sketch has counted a
// few, or was reserved the span they fall in). It reports false, s
// unchanged, for the others: the caller then calls AddBucket.
func (s *Sketch) TryAddBucket(b Bucket, n uint64) bool {
	if j := uint(b.i - s.offset); j < uint(len(s.counts)) && b.d > 0 && s.n != 0 && n != 0 {
		s.n += n
		s.counts[j] += n
		s.min, s.max = min(s.min, b.d), max(s.max, b.d)
		return true
	}
	return false
}

func (s *Sketch) addIndex(i int, n uint64) {
	if j := i - s.offset; j >= 0 && j < len(s.counts) {
		s.counts[j] += n
		return
	}
	s.grow(i)
	s.counts[i-s.offset] += n
}

// grow makes counts cover index i, outside them (see addIndex), for a
// sketch counting durations one at a time. A new largest one is appended
// (append's capacity grows by a factor, so a run of new largest ones copies
// the counts a logarithmic number of times); a new smallest one is not at
// the end, so the counts are copied into a new array, which is made to
// reach below i by as many buckets again as s has (down to index 0): a
// run of new smallest ones, as a write's delta sketches count (the first
// durations of a batch, spread over hundreds of buckets, not reserved:
// see codec.Rollup.Reserve), copies the counts a logarithmic number of
// times rather than once each. The buckets below i are zero, as a
// reserved span's are (see [Sketch.Reserve]): never encoded, never a
// quantile, and cut by [Sketch.Trim]. Until trimmed, a sketch grown
// downward may carry up to as many zero buckets again below its counts,
// and a Merge of it (which covers the source's whole counts) carries them
// too: bytes and copying, never a different answer.
func (s *Sketch) grow(i int) {
	if n := len(s.counts); n > 0 && i < s.offset {
		s.cover(max(0, min(i, s.offset-n)), i)
		return
	}
	s.cover(i, i)
}

// Merge adds o's counts to s. o is unchanged.
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o.n == 0 {
		return
	}
	if s.n == 0 || o.min < s.min {
		s.min = o.min
	}
	if s.n == 0 || o.max > s.max {
		s.max = o.max
	}
	s.n += o.n
	s.zero += o.zero
	if len(o.counts) == 0 {
		return
	}
	s.cover(o.offset, o.offset+len(o.counts)-1)
	src := o.counts
	// d as long as src, so that d's slices and the tail loop need no
	// bounds checks of their own (one check of src's slice is left for
	// every eight counts). A sketch merged is mostly a Write's delta (the fold's), of
	// one batch of records (up to 256 by default) over a few hundred
	// buckets: most of its counts are zero, and are passed over eight at
	// a time, as AppendBinary passes over them (adding a zero changes
	// nothing).
	d := s.counts[o.offset-s.offset:][:len(src)]
	j := 0
	for ; j+8 <= len(src); j += 8 {
		c := (*[8]uint64)(src[j : j+8])
		if c[0]|c[1]|c[2]|c[3]|c[4]|c[5]|c[6]|c[7] == 0 {
			continue
		}
		t := (*[8]uint64)(d[j : j+8])
		t[0] += c[0]
		t[1] += c[1]
		t[2] += c[2]
		t[3] += c[3]
		t[4] += c[4]
		t[5] += c[5]
		t[6] += c[6]
		t[7] += c[7]
	}
	for ; j < len(src); j++ {
		d[j] += src[j]
	}
}

// Span returns the lowest and highest bucket indexes s counts durations
// in (durations <= 0 aside), or ok false when it counts none there.
func (s *Sketch) Span() (lo, hi int, ok bool) {
	i, j := 0, len(s.counts)-1
	for i <= j && s.counts[i] == 0 {
		i++
	}
	for j >= i && s.counts[j] == 0 {
		j--
	}
	if i > j {
		return 0, 0, false
	}
	return s.offset + i, s.offset + j, true
}

// Reserve makes an empty sketch's counts cover bucket indexes lo..hi, all
// zero, so that durations within them are counted without growing its
// counts again and again: for a sketch that is about to count durations
// like those of another, whose [Sketch.Span] that is. A zero count is
// never encoded and never answers a quantile, so nothing s encodes or
// answers changes. A span past the highest valid index is cut there. It
// does nothing to a sketch that has counts, or for a span with no valid
// index.
func (s *Sketch) Reserve(lo, hi int) {
	hi = min(hi, sketchMaxIndex)
	if s.n != 0 || len(s.counts) != 0 || lo < 0 || hi < lo {
		return
	}
	s.counts, s.offset = make([]uint64, hi-lo+1), lo
}

// Trim drops the zero counts at either end of s's counts — the span a
// sketch was reserved (see [Sketch.Reserve]) beyond the buckets it
// counted in — so that what reads every count (AppendBinary, Merge of s
// into another sketch, Quantile) reads only the span it counts in. The
// counts keep their memory: a later Add outside the span grows them as
// it would have. Nothing s encodes or answers changes.
func (s *Sketch) Trim() {
	lo, hi, ok := s.Span()
	if !ok {
		s.counts, s.offset = s.counts[:0], 0
		return
	}
	s.counts, s.offset = s.counts[lo-s.offset:hi-s.offset+1], lo
}

// cover grows counts, once, to hold indexes lo..hi.
func (s *Sketch) cover(lo, hi int) {
	if len(s.counts) == 0 {
		s.offset = lo
		s.counts = append(s.counts[:0], make([]uint64, hi-lo+1)...)
		return
	}
	if lo < s.offset {
		grow := s.offset - lo
		c := make([]uint64, len(s.counts)+grow, len(s.counts)+grow+8)
		copy(c[grow:], s.counts)
		s.counts, s.offset = c, lo
	}
	if n := hi - s.offset + 1; n > len(s.counts) {
		s.counts = append(s.counts, make([]uint64, n-len(s.counts))...)
	}
}

// Same reports whether s and o hold the same counts at the same indexes,
// and the same count, zero count, minimum and maximum: whether
// [Sketch.AppendBinary] encodes them alike. Counts are compared as bytes.
func (s *Sketch) Same(o *Sketch) bool {
	if s.n != o.n || s.zero != o.zero || s.min != o.min || s.max != o.max ||
		s.offset != o.offset || len(s.counts) != len(o.counts) {
		return false
	}
	if len(s.counts) == 0 {
		return true
	}
	n := len(s.counts) * 8
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&s.counts[0])), n),
		unsafe.Slice((*byte)(unsafe.Pointer(&o.counts[0])), n))
}

// Count returns how many durations were added.
func (s *Sketch) Count() uint64 { return s.n }

// Min returns the smallest duration added (exact), or 0.
func (s *Sketch) Min() time.Duration { return s.min }

// Max returns the largest duration added (exact), or 0.
func (s *Sketch) Max() time.Duration { return s.max }

// Reset empties the sketch, keeping its memory.
func (s *Sketch) Reset() {
	s.counts = s.counts[:0]
	s.offset, s.zero, s.n, s.min, s.max = 0, 0, 0, 0, 0
}

// Quantile estimates the q-quantile (0 <= q <= 1) of the added durations:
// the value of rank ceil(q·n) in ascending order, as [store.Latency] defines
// percentiles, within [RelativeError]. An empty sketch gives 0.
func (s *Sketch) Quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	q = max(0, min(q, 1))
	rank := uint64(math.Ceil(q*float64(s.n) - 1e-9))
	if rank > 0 {
		rank-- // 0-based
	}
	if rank == 0 {
		return s.min
	}
	if rank >= s.n-1 {
		return s.max
	}
	seen := s.zero
	if rank < seen {
		return max(s.min, 0)
	}
	for j, c := range s.counts {
		seen += c
		if rank < seen {
			v := time.Duration(math.Round(sketchValue(s.offset + j)))
			return max(s.min, min(v, s.max))
		}
	}
	return s.max
}

// Latency returns the sketch's p50, p95 and p99.
func (s *Sketch) Latency() store.Latency {
	return store.Latency{P50: s.Quantile(0.50), P95: s.Quantile(0.95), P99: s.Quantile(0.99)}
}

// AppendBinary appends the sketch's compact binary encoding to b: a version
// byte, then varints: the count, the zero count, min, max, and the buckets
// as runs (an index delta, a length, and that many counts; runs split at
// gaps of two or more empty buckets). It implements
// [encoding.BinaryAppender].
//
// The counts are read once: each run is written as it is found, its
// length (and the number of runs) into a byte left for it, widened in
// the rare case it takes two. A write's delta sketch is mostly zero
// counts, passed over eight at a time, and its counts mostly one byte
// each.
func (s *Sketch) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, sketchVersion)
	b = binary.AppendUvarint(b, s.n)
	if s.n == 0 {
		return b, nil
	}
	b = binary.AppendUvarint(b, s.zero)
	b = binary.AppendVarint(b, int64(s.min))
	b = binary.AppendVarint(b, int64(s.max))
	nAt := len(b)
	b = append(b, 0) // the number of runs, set below
	nruns, prev := 0, 0
	c := s.counts
	for j := 0; ; {
		for j+8 <= len(c) && c[j]|c[j+1]|c[j+2]|c[j+3]|c[j+4]|c[j+5]|c[j+6]|c[j+7] == 0 {
			j += 8
		}
		for j < len(c) && c[j] == 0 {
			j++
		}
		if j == len(c) {
			break
		}
		// A run from j (a count) to hi, after its last count: one empty
		// bucket between two counts is in it (written 0), two end it.
		lo := j
		b = binary.AppendUvarint(b, uint64(s.offset+lo-prev))
		lenAt := len(b)
		b = append(b, 0) // its length, set below
		hi := lo
		for k := lo; k < len(c); k++ {
			v := c[k]
			if v == 0 {
				if k > hi {
					break
				}
				continue
			}
			if k > hi {
				b = append(b, 0)
			}
			if v < 0x80 {
				b = append(b, byte(v))
			} else {
				b = binary.AppendUvarint(b, v)
			}
			hi = k + 1
		}
		b = setUvarint(b, lenAt, hi-lo)
		nruns++
		prev = s.offset + hi
		j = hi
	}
	return setUvarint(b, nAt, nruns), nil
}

// setUvarint writes v as binary.AppendUvarint would into the byte at b[at],
// left for it, moving the bytes after it when v takes two (v < 2^14: a
// sketch's runs and their lengths are at most sketchMaxIndex+1).
func setUvarint(b []byte, at int, v int) []byte {
	if v < 0x80 {
		b[at] = byte(v)
		return b
	}
	b = slices.Insert(b, at+1, byte(v>>7))
	b[at] = byte(v) | 0x80
	return b
}

// MarshalBinary returns the encoding [Sketch.AppendBinary] describes.
func (s *Sketch) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// UnmarshalBinary replaces s with the sketch encoded in b. Malformed input
// gives an error wrapping [store.ErrCorrupt].
func (s *Sketch) UnmarshalBinary(b []byte) error {
	n, err := s.Decode(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("sketch: %d trailing bytes: %w", len(b)-n, store.ErrCorrupt)
	}
	return nil
}

// Decode replaces s with the sketch encoded at the start of b and returns
// how many bytes it used. Malformed input gives an error wrapping
// [store.ErrCorrupt].
func (s *Sketch) Decode(b []byte) (int, error) {
	s.Reset()
	if len(b) == 0 || b[0] != sketchVersion {
		return 0, fmt.Errorf("sketch: unknown version: %w", store.ErrCorrupt)
	}
	p := 1
	bad := false
	uv := func() uint64 {
		if p < len(b) && b[p] < 0x80 { // fast path: one byte
			p++
			return uint64(b[p-1])
		}
		if bad || p >= len(b) {
			bad = true
			return 0
		}
		v, k := binary.Uvarint(b[p:])
		if k <= 0 {
			bad = true
			return 0
		}
		p += k
		return v
	}
	sv := func() int64 { // zig-zag over uv, as [binary.Varint] decodes
		u := uv()
		return int64(u>>1) ^ -int64(u&1)
	}
	n := uv()
	if bad {
		return 0, fmt.Errorf("sketch: truncated: %w", store.ErrCorrupt)
	}
	if n == 0 {
		return p, nil
	}
	zero := uv()
	mn, mx := time.Duration(sv()), time.Duration(sv())
	nruns := uv()
	if bad || nruns > sketchMaxIndex+1 || mn > mx {
		return 0, fmt.Errorf("sketch: bad header: %w", store.ErrCorrupt)
	}
	sum := zero
	idx := 0
	for k := uint64(0); k < nruns; k++ {
		d, l := uv(), uv()
		if bad || l == 0 || (k > 0 && d == 0) || d > sketchMaxIndex || l > sketchMaxIndex || idx+int(d)+int(l) > sketchMaxIndex+1 {
			s.Reset()
			return 0, fmt.Errorf("sketch: bad run: %w", store.ErrCorrupt)
		}
		idx += int(d)
		if k == 0 {
			s.offset = idx
		}
		for j := idx - s.offset; len(s.counts) < j; {
			s.counts = append(s.counts, 0)
		}
		for range l {
			c := uv()
			s.counts = append(s.counts, c)
			sum += c
			if sum < c {
				bad = true
			}
		}
		idx += int(l)
		if bad {
			s.Reset()
			return 0, fmt.Errorf("sketch: bad counts: %w", store.ErrCorrupt)
		}
	}
	if sum != n {
		s.Reset()
		return 0, fmt.Errorf("sketch: counts do not add up: %w", store.ErrCorrupt)
	}
	s.n, s.zero, s.min, s.max = n, zero, mn, mx
	return p, nil
}
