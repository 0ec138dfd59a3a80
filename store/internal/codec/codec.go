package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
)

// Encoding versions. Every stored value starts with a tag byte and a
// version byte; a decoder rejects tags and versions it does not know.
// Encoders write the latest version; decoders read every version, so a
// directory written before an upgrade still reads.
//
// Both versions of a record mark, in each call's flags, a parent's span
// ID that follows (calls made inside another call); a decoder refuses
// flags it does not know.
//
// Version 2 of a record adds, after its attributes, a set of flags saying
// which optional parts follow: the calls' costs, and the execution trace's
// metadata (the trace itself is stored apart, see [AppendExecTrace]).
// Version 2 of a summary adds each RPC's cost after its durations;
// version 2 of a rollup adds per-instance groups, version 3 each
// group's cost after its total time, and version 4 each group's count of
// records persisted in full after its requests (a store with a storage
// budget counts every record but persists only some; a rollup of an
// earlier version counts every record as persisted). Costs are
// float64s written as uvarints of their bytes reversed (as encoding/gob
// does), so that 0 takes one byte and round prices few.
const (
	tagRecord    = 'F'
	tagSummary   = 'S'
	tagRollup    = 'R'
	tagExecTrace = 'T'
	codecV1      = 1
	codecV2      = 2
	codecV3      = 3 // records with a table of their calls' strings
	codecV4      = 4 // records whose calls' stacks may be an earlier call's
	rollupV2     = 2 // rollups with per-instance groups
	rollupV3     = 3 // rollups with costs
	rollupV4     = 4 // rollups with counts of stored records
)

// The latest version of each encoding: what its encoder writes, and the
// last its decoder reads.
const (
	latestRecord    = codecV4
	latestSummary   = codecV2
	latestRollup    = rollupV4
	latestExecTrace = codecV1
)

// newerSpan is how many versions past the latest a value's may be and
// still be taken for a newer release's: releases add one version of an
// encoding at a time, so a version further on is damage.
const newerSpan = 8

// ErrNewerVersion ([store.ErrNewerVersion]) is wrapped (with
// [store.ErrCorrupt]) by the error of
// decoding a value whose encoding version is later than this package
// reads, by at most a few versions: written by a newer release (a fleet sharing one Redis while it
// is upgraded one instance at a time), not damaged. A store must leave
// such a value as it is (see [Newer]).
var ErrNewerVersion = store.ErrNewerVersion

// Newer reports whether b is a record, summary, rollup or execution trace
// of an encoding version later than this package reads, by no more than a
// few versions (further on, the version byte is damage): one whose
// decoding fails with [ErrNewerVersion]. A process that rewrites values it merged
// (a rollup's fold) must not rewrite one of those without what it held.
func Newer(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	switch b[0] {
	case tagRecord:
		return newer(b[1], latestRecord)
	case tagSummary:
		return newer(b[1], latestSummary)
	case tagRollup:
		return newer(b[1], latestRollup)
	case tagExecTrace:
		return newer(b[1], latestExecTrace)
	}
	return false
}

// newer reports whether version v may be a newer release's, of an
// encoding whose latest version this package reads is latest.
func newer(v, latest byte) bool { return v > latest && int(v) <= int(latest)+newerSpan }

// Version 3 of a record writes each string of its calls (services,
// methods, requests, responses, errors, stack frames' functions and files,
// phases, attributes, warnings) once: a call's string is either written
// in full (its length doubled, then its bytes) or, if the record wrote
// it before, an odd uvarint, the index of that earlier string doubled
// plus one. Strings written in full of at least minShared bytes take the
// next indexes, up to maxShared of them. The calls of a record repeat
// their services, methods and stack frames: a 20-call record of
// storetest.Record20 takes 3,266 bytes rather than 6,187. A record
// without its stacks ([AppendRecordWithoutStacks]) is written in the
// memory version (see codecMem); against a dictionary of strings
// ([AppendRecordWithoutStacksDict]), in its form codecMemDict.
//
// Version 4 of a record writes a call's stack as version 3 does (the
// count of frames shared with the previous call's stack, then the fresh
// ones: their count, then each), but that count doubled; or, if the stack
// is the very stack of an earlier call of the record (one slice, as the
// recorder's stack cache gives calls made from one place), an odd uvarint:
// how many calls back that one is, less one, doubled plus one. The stack
// is found by its slice's address and length, among the last
// stackRefs distinct stacks written, before any frame is compared: the
// 20 calls of storetest.Record20, made from three places in turn, take
// 3,113 bytes rather than 3,266, and 17 of their stacks are references.
//
// Optional parts of a version 2, 3 or 4 record.
const (
	recCallCosts = 1 << 0 // each call's cost
	recExecTrace = 1 << 1 // the execution trace's size, time and reason
	recSnapshot  = 1 << 2 // the execution trace's snapshot ID (16 bytes), after its reason
	recKnown     = recCallCosts | recExecTrace | recSnapshot
)

// enc appends varint-encoded fields to b. Most fields written are small
// (counts, lengths, flags, line numbers, sizes), so a value that takes
// one or two bytes is appended without the varint loop; the bytes are
// those of [binary.AppendUvarint] and [binary.AppendVarint].
type enc struct{ b []byte }

func (e *enc) u(v uint64) {
	if v < 0x80 {
		e.b = append(e.b, byte(v))
		return
	}
	if v < 0x4000 {
		e.b = append(e.b, byte(v)|0x80, byte(v>>7))
		return
	}
	e.b = binary.AppendUvarint(e.b, v)
}

// appendTime appends d as enc.d does, without binary.AppendUvarint's
// loop for three and four bytes: what the calls' starts and durations
// in nanoseconds mostly take (under 2²⁷ ns, 134 ms, once zig-zagged). It
// takes and returns the bytes, not an *enc, so that the encoder's enc
// stays in registers; it is not inlined, which would make its callers
// too large to be.
//
//go:noinline
func appendTime(b []byte, d time.Duration) []byte {
	v := uint64(d<<1) ^ uint64(d>>63)
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v < 0x4000:
		return append(b, byte(v)|0x80, byte(v>>7))
	case v < 1<<21:
		return append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14))
	case v < 1<<28:
		return append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21))
	}
	return binary.AppendUvarint(b, v)
}

// appendStart appends start, a record's start in nanoseconds since 1970,
// as enc.i does, then d as appendTime does: a record head's start and
// duration. A start between 2^55 ns (1971) and 2^62 ns (2116) takes nine
// bytes once zig-zagged, written here as one word and a byte rather than
// by binary.AppendUvarint's loop of nine appends (see "twenty-eighth
// round" in docs/BENCHMARKS-history-2.md). It takes and returns the bytes,
// not an *enc, and is not inlined, as appendTime.
//
//go:noinline
func appendStart(b []byte, start int64, d time.Duration) []byte {
	v := uint64(start<<1) ^ uint64(start>>63)
	if v < 1<<56 || v >= 1<<63 {
		return appendTime(binary.AppendUvarint(b, v), d)
	}
	// Seven bits a byte, each with the continuation bit, and the last
	// byte the top seven bits (v < 2^63).
	w := v&0x7f | v<<1&(0x7f<<8) | v<<2&(0x7f<<16) | v<<3&(0x7f<<24) |
		v<<4&(0x7f<<32) | v<<5&(0x7f<<40) | v<<6&(0x7f<<48) | v<<7&(0x7f<<56) |
		0x8080808080808080
	return appendTime(append(binary.LittleEndian.AppendUint64(b, w), byte(v>>56)), d)
}

// appendTimes appends each of ds as appendTime does: an RPC's durations
// in a summary with one call (for a call's start and duration, two calls
// of appendTime cost less). It takes and returns the bytes, not an *enc,
// so that the encoder's enc stays in registers, and is not inlined.
//
//go:noinline
func appendTimes(b []byte, ds ...time.Duration) []byte {
	for _, d := range ds {
		v := uint64(d<<1) ^ uint64(d>>63)
		switch {
		case v < 0x80:
			b = append(b, byte(v))
		case v < 0x4000:
			b = append(b, byte(v)|0x80, byte(v>>7))
		case v < 1<<21:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14))
		case v < 1<<28:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21))
		default:
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

// appendPhaseTimes appends each phase's start and duration as enc.d
// does (a call's phases in the memory version, their names the previous
// call's), without binary.AppendUvarint's loop for three and four bytes:
// a phase's times are offsets in nanoseconds from its call's start, of
// microseconds mostly, three bytes once zig-zagged (four or five under
// valgrind, whose calls last longer), which the loop wrote at ~45
// instructions each (a fanout call's three phases, six times: see
// "i35-mem" in docs/BENCHMARKS.md). It takes and returns the bytes,
// not an *enc, and is not inlined, as appendTime; one call a call, not
// one a time.
//
//go:noinline
func appendPhaseTimes(b []byte, phs []recording.Phase) []byte {
	for i := range phs {
		ph := &phs[i]
		// The start, then the duration: the same code twice rather
		// than a loop of two (~6 instructions a time).
		v := uint64(ph.Start<<1) ^ uint64(ph.Start>>63)
		switch {
		case v < 0x4000:
			if v < 0x80 {
				b = append(b, byte(v))
			} else {
				b = append(b, byte(v)|0x80, byte(v>>7))
			}
		case v < 1<<21:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14))
		case v < 1<<28:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21))
		case v < 1<<35:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21)|0x80, byte(v>>28))
		default:
			b = binary.AppendUvarint(b, v)
		}
		v = uint64(ph.Duration<<1) ^ uint64(ph.Duration>>63)
		switch {
		case v < 0x4000:
			if v < 0x80 {
				b = append(b, byte(v))
			} else {
				b = append(b, byte(v)|0x80, byte(v>>7))
			}
		case v < 1<<21:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14))
		case v < 1<<28:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21))
		case v < 1<<35:
			b = append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21)|0x80, byte(v>>28))
		default:
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

func (e *enc) i(v int64) { e.u(uint64(v<<1) ^ uint64(v>>63)) } // zig-zag, as binary.AppendVarint

func (e *enc) d(v time.Duration)       { e.i(int64(v)) }
func (e *enc) raw(v []byte)            { e.b = append(e.b, v...) }
func (e *enc) n(n int)                 { e.u(uint64(n)) }
func (e *enc) f(v float64)             { e.u(bits.ReverseBytes64(math.Float64bits(v))) }
func (e *enc) sketch(s *sketch.Sketch) { e.b, _ = s.AppendBinary(e.b) }

// An encodedSketch is a sketch encoded into an enc's bytes, lo to hi.
type encodedSketch struct {
	sk     *sketch.Sketch
	lo, hi int
}

// sketchAs encodes s, copying the bytes of *prev when prev holds a sketch
// that counts the same ([sketch.Sketch.Same]), whose encoding is the same;
// a prev that holds none is given s's.
func (e *enc) sketchAs(s *sketch.Sketch, prev *encodedSketch) {
	if prev == nil {
		e.sketch(s)
		return
	}
	if prev.sk != nil && s.Same(prev.sk) {
		e.b = append(e.b, e.b[prev.lo:prev.hi]...)
		return
	}
	lo := len(e.b)
	e.sketch(s)
	if prev.sk == nil {
		prev.sk, prev.lo, prev.hi = s, lo, len(e.b)
	}
}

// The string table of a version 3 record: strings shorter than minShared
// bytes are always written in full, and at most maxShared strings are
// given indexes.
const (
	minShared = 4
	maxShared = 1 << 10
)

// A strTable finds the strings a record's encoding has written. The
// strings of one record mostly share their memory when they are equal
// (literals, the recorder's stack cache), so a string is found by its
// data's address and length: cheap to hash and compare, and an equal
// string elsewhere in memory is just written again. Slots of other
// records (another gen) are empty, so a table is reused without
// clearing it.
type strTable struct {
	gen   uint32
	n     uint32 // strings given an index in this gen
	last  uint32 // strings the last record gave indexes (see tmpl)
	slots [2 * maxShared]strSlot
	order [maxShared]uint16 // the slot of each index given in this gen
	first firstStack
	tmpl  tmpl
}

type strSlot struct {
	p   uintptr // the string's data
	n   int
	gen uint32
	idx uint32
}

// tables holds strTables between records: a table is too large to clear
// for each record.
var tables = sync.Pool{New: func() any { return new(strTable) }}

// getTable returns an empty table.
func getTable() *strTable {
	t := tables.Get().(*strTable)
	t.reset()
	return t
}

// reset empties t for the next record: no string indexed. The slots of
// the last record stay in its gen while its calls are kept as a template
// (see tmpl), else a new gen empties them.
func (t *strTable) reset() {
	t.n = 0
	if !t.tmpl.live {
		t.newGen()
	}
}

// newGen empties t's slots: a new gen. The template's calls go with
// them: they name strings the slots held.
func (t *strTable) newGen() {
	t.gen++
	if t.gen == 0 {
		// Wrapped: slots of an old gen could look current.
		t.gen = 1
		t.slots = [2 * maxShared]strSlot{}
	}
	t.n, t.last = 0, 0
	tp := &t.tmpl
	tp.live, tp.calls, tp.enc, tp.grown = false, tp.calls[:0], tp.enc[:0], 0
}

// An Encoder appends full records as [AppendRecord] does, the same bytes,
// with one string table for all of them, where AppendRecord takes a table
// from a pool and gives it back for each record: for a writer that
// encodes many records in a row (badgerstore's Write, a batch at a time).
// The zero Encoder is ready to use; Release gives its table back. An
// Encoder is not safe for concurrent use.
type Encoder struct{ t *strTable }

// AppendRecord appends the full encoding of r to b, as [AppendRecord].
func (e *Encoder) AppendRecord(b []byte, r *recording.Record) []byte {
	if e.t == nil {
		e.t = tables.Get().(*strTable)
	}
	e.t.reset()
	return appendRecordT(b, r, codecV4, e.t)
}

// Release gives e's table back to the pool; e may be used again after.
func (e *Encoder) Release() {
	if e.t != nil {
		tables.Put(e.t)
		e.t = nil
	}
}

// slotOf is the slot a string at address p is first looked for in: 11
// bits (the 2 × maxShared slots) of a Fibonacci hash of p. Every probe of
// the table starts there and steps by nextSlot.
func slotOf(p uintptr) uint32 { return uint32((uint64(p) * 0x9E3779B97F4A7C15) >> 53) }

// nextSlot is the slot looked in after h.
func nextSlot(h uint32) uint32 { return (h + 1) & (2*maxShared - 1) }

// put appends v to b as a version 3 record writes its calls' strings:
// the index of an earlier v, or v in full. It returns what an index of v
// takes (see enc.tf), 0 if v has none. It takes and returns the bytes, not
// an *enc, so that the encoder's enc stays in registers.
func (t *strTable) put(b []byte, v string) ([]byte, uint64) {
	if len(v) >= minShared {
		p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
		h := slotOf(p)
		for {
			sl := &t.slots[h]
			if sl.gen != t.gen {
				if t.n >= maxShared {
					break
				}
				n := t.n
				*sl = strSlot{p: p, n: len(v), gen: t.gen, idx: n}
				t.order[n%maxShared] = uint16(h)
				t.n = n + 1
				return appendFull(b, v), uint64(n)<<1 | 1
			}
			if sl.p == p && sl.n == len(v) {
				// An index under maxShared: one or two bytes.
				c := uint64(sl.idx)<<1 | 1
				if c < 0x80 {
					return append(b, byte(c)), c
				}
				return append(b, byte(c)|0x80, byte(c>>7)), c
			}
			h = nextSlot(h)
		}
	}
	return appendFull(b, v), 0
}

// A firstStack is what the first call of a record wrote for its stack,
// kept for the next records: a service's records mostly begin with the
// same call, made from the same place, whose stack (a dozen frames, two
// dozen strings written in full and given indexes) cost ~2,800
// instructions to write again in each record. A record whose first
// call's stack has the same frames (their strings' data and lengths,
// their lines), with as many strings indexed before it and none of the
// stack's among them, writes the same bytes: they are copied, and the
// stack's strings given the same indexes, without a frame walked.
//
// The stack is kept once met by two records in a row, so that records
// whose first stacks alternate cost a comparison each, not a copy. It
// holds its frames' strings (never the record's memory), as the
// rollups hold routes.
type firstStack struct {
	frames []recording.Frame // the stack, copied; nil if none is kept
	before uint32            // the strings indexed before it
	enc    []byte            // what it wrote: its counts and frames
	strs   []strSlot         // the strings it indexed, in the order of their indexes
	ms     [4]memo           // the memos of its two innermost frames' strings after it
	// The stack of the last record's first call, when it was not the
	// one kept: kept if the next record's is the same slice. Its address
	// alone, which keeps none of the record's memory: should another
	// stack come to lie there, it is kept from its own frames and bytes
	// all the same.
	candP uintptr
	candN int
}

// sameFrames reports whether a and b have the same frames, word for word
// (see frameWords).
func sameFrames(a, b []recording.Frame) bool {
	if len(a) != len(b) {
		return false
	}
	b = b[:len(a)]
	for k := range a {
		x, y := (*frameWords)(unsafe.Pointer(&a[k])), (*frameWords)(unsafe.Pointer(&b[k]))
		if (x[0]^y[0])|(x[1]^y[1])|(x[2]^y[2])|(x[3]^y[3])|(x[4]^y[4]) != 0 {
			return false
		}
	}
	return true
}

// writeFirst appends to e the kept encoding of stack, the first call's,
// if it is the kept stack and writes the same bytes (see the firstStack
// type).
func (t *strTable) writeFirst(e *enc, stack []recording.Frame, ms *[13]memo) bool {
	b, ok := t.firstStack(e.b, stack, ms)
	e.b = b
	return ok
}

// firstStack appends the kept encoding of stack, the first call's, if it
// is the kept stack's and writes the same bytes (see the firstStack
// type): its strings are given their indexes, and ms (the record's memos)
// the kept ones. It reports false, having appended and indexed nothing,
// if not.
func (t *strTable) firstStack(b []byte, stack []recording.Frame, ms *[13]memo) ([]byte, bool) {
	f := &t.first
	if f.frames == nil || t.n != f.before || !sameFrames(stack, f.frames) {
		return b, false
	}
	for i, sl := range f.strs {
		h := slotOf(sl.p)
		for {
			x := &t.slots[h]
			if x.gen != t.gen {
				n := t.n
				*x = strSlot{p: sl.p, n: sl.n, gen: t.gen, idx: n}
				t.order[n%maxShared] = uint16(h)
				t.n = n + 1
				break
			}
			if x.p == sl.p && x.n == sl.n {
				// Indexed before the stack: its bytes would differ.
				// The strings indexed here are taken out, the last
				// first, so that no probe crosses a hole.
				t.unindex(f.strs[:i])
				return b, false
			}
			h = nextSlot(h)
		}
	}
	copy(ms[5:9], f.ms[:])
	return append(b, f.enc...), true
}

// unindex takes strs, the last strings given indexes, out of t, the
// last first.
func (t *strTable) unindex(strs []strSlot) {
	for i := len(strs) - 1; i >= 0; i-- {
		sl := strs[i]
		h := slotOf(sl.p)
		for {
			x := &t.slots[h]
			if x.gen == t.gen && x.p == sl.p && x.n == sl.n {
				x.gen = 0 // no gen is 0
				t.n--
				break
			}
			h = nextSlot(h)
		}
	}
}

// keepFirst keeps the first call's stack, written as enc with before
// strings indexed before it, if the last record's first call had the
// same slice (else notes it for the next record), and if what it wrote
// depends on no string indexed before it.
func (t *strTable) keepFirst(enc []byte, stack []recording.Frame, before uint32, ms *[13]memo) {
	f := &t.first
	if p := uintptr(unsafe.Pointer(&stack[0])); f.candP != p || f.candN != len(stack) {
		f.candP, f.candN = p, len(stack)
		return
	}
	f.candP, f.candN = 0, 0
	if t.n >= maxShared {
		// Strings past the table's room were written in full.
		return
	}
	strs := f.strs[:0]
	for k := range stack {
		for _, v := range [2]string{stack[k].Function, stack[k].File} {
			if len(v) < minShared {
				continue
			}
			sl, ok := t.find(v)
			if !ok || sl.idx < before {
				// An index of a string written before the stack.
				f.frames = nil
				return
			}
			if !slices.ContainsFunc(strs, func(x strSlot) bool { return x.idx == sl.idx }) {
				strs = append(strs, strSlot{p: sl.p, n: sl.n, idx: sl.idx})
			}
		}
	}
	slices.SortFunc(strs, func(a, b strSlot) int { return int(a.idx) - int(b.idx) })
	if uint32(len(strs)) != t.n-before {
		f.frames = nil
		return
	}
	f.frames = append(f.frames[:0], stack...)
	f.before, f.strs = before, strs
	f.enc = append(f.enc[:0], enc...)
	copy(f.ms[:], ms[5:9])
}

// A tmpl is the last record's calls as a template for the next record's:
// a service's records mostly repeat, route by route, the calls of an
// earlier one (the same services, methods, errors, requests, responses,
// stacks and attributes, in the same order) and differ in their times,
// sizes and span IDs. What a call wrote but those is kept, with what
// decides it (the call's strings, its attributes and its stack's frames,
// copied: they hold strings, never the record's memory). A call of the
// next record equal to the kept one at its index, word for word (strings
// by their data and length), after calls that all were, writes the same
// bytes but its times, sizes and IDs: the kept bytes are copied, and its
// strings, which the kept call indexed in the table, are found there
// still. For the table keeps the last record's slots (its gen) while its
// calls are kept: the strings the matched calls indexed are the same,
// with the same indexes; those of the later calls are taken out
// (rewind) before the record's other calls are written, as with a table
// of its own.
//
// A template is kept from each record: the calls that matched, and the
// record's calls after them (up to maxTmplCalls calls, and up to a call
// with phases or a stack whose frames could reach the decoder's budget
// of copied ones). A record with a call unlike its template's at the
// same index (a miss) costs a comparison up to it; so that records that
// vary there do not pay for keeping calls never matched, the calls
// after a miss are not kept, nor are those of the next 1, 3, 7 … up to
// 255 records, until a record matches calls kept last (see tmplNext).
type tmpl struct {
	live    bool  // the calls are the last record's and its slots are kept
	skip    uint8 // records still to keep no calls, after a miss
	backoff uint8 // the last skip: 0, 1, 3, 7 … 255
	grown   int   // the calls the template had before the last ones kept
	calls   []tmplCall
	enc     []byte // what the calls wrote, less their times, sizes and IDs
}

// maxTmplCalls is how many calls of a record a template keeps.
const maxTmplCalls = 64

// A tmplCall is what one call of a template wrote, and what decides it.
type tmplCall struct {
	service, method, err, request, response string
	attrs                                   []recording.Attr  // copied
	frames                                  []recording.Frame // the stack written, copied (stack is 2)
	// How the stack was written: 0 none, 2 its frames, odd a reference
	// to an earlier call's (the code written).
	stack uint64
	// What the call wrote, at off in enc: its service and method (la
	// bytes), its error (lb), and from its request to its attributes
	// (lc).
	off, la, lb, lc uint32
	end             uint32 // off+la+lb+lc
	aw, bw          uint64 // the first la and lb bytes, if 8 or fewer
	n               uint32 // strings indexed after the call
	copied          int    // frames the decoder copies, after the call
	ms              [13]memo
}

// tmplCalls appends the calls of calls, from the first, that match t's
// template (see tmpl), and returns how many it appended and, as
// appendRecordT counts them, the stacks seen (in seen) and the frames
// copied; t.n is the strings the matched calls indexed.
//
//go:noinline
func (t *strTable) tmplCalls(b []byte, calls []recording.Call, seen *[stackRefs]stackSeen) (_ []byte, matched, nseen, copied int) {
	tc := t.tmpl.calls
	tc = tc[:min(len(tc), len(calls))]
	kept := t.tmpl.enc
	i := 0
	for ; i < len(tc); i++ {
		c, k := &calls[i], &tc[i]
		if !sameData(&c.Service, &k.service) || !sameData(&c.Method, &k.method) || !sameData(&c.Error, &k.err) ||
			!sameData(&c.Request, &k.request) || !sameData(&c.Response, &k.response) ||
			len(c.Phases) != 0 || !sameAttrs(c.Attrs, k.attrs) {
			break
		}
		if len(c.Stack) == 0 {
			if k.stack != 0 {
				break
			}
		} else if j := findStack(seen, min(nseen, stackRefs), c.Stack); j >= 0 {
			// An earlier call's stack: as far back as the kept call's.
			if uint64(i-seen[j].call-1)<<1|1 != k.stack {
				break
			}
			seen[j].call = i
		} else {
			// (A kept call whose stack was none or a reference
			// has no frames.)
			if !sameFrames(c.Stack, k.frames) {
				break
			}
			seen[nseen%stackRefs] = stackSeen{&c.Stack[0], len(c.Stack), i}
			nseen++
		}
		if k.la <= 8 && k.lb <= 8 {
			b = appendCallHead(b, c, k)
		} else {
			b = append(b, kept[k.off:k.off+k.la]...)
			b = appendTime(appendTime(b, c.Start), c.Duration)
			b = append(b, kept[k.off+k.la:k.off+k.la+k.lb]...)
			e := enc{b: b}
			e.i(c.RequestSize)
			e.i(c.ResponseSize)
			b = e.b
		}
		b = append(b, kept[k.off+k.la+k.lb:k.end]...)
		b = appendCallIDs(b, c)
	}
	if i > 0 {
		t.n, copied = tc[i-1].n, tc[i-1].copied
	}
	return b, i, nseen, copied
}

// tmplStart appends the calls of calls that match t's template, if it
// has one (see tmplCalls), and reports whether the record's later calls
// are kept (see tmplNext). A record of version v other than 4 matches
// and keeps none, and takes the template out.
//
//go:noinline
func (t *strTable) tmplStart(b []byte, calls []recording.Call, v byte, seen *[stackRefs]stackSeen) (_ []byte, from, nseen, copied int, keep bool) {
	if v != codecV4 {
		if t.tmpl.live {
			t.newGen()
		}
		return b, 0, 0, 0, false
	}
	if t.tmpl.live {
		b, from, nseen, copied = t.tmplCalls(b, calls, seen)
	}
	return b, from, nseen, copied, t.tmplNext(from, len(calls))
}

// tmplNext takes the template's calls after the first from, which a
// record of calls calls matched, out of t (and the strings they
// indexed), and reports whether the record's calls after them are kept
// in their place. A record that writes a call unlike the template's
// (a miss) keeps none, nor do the next 1, 3, 7 … up to 255 records
// while the calls kept last are not matched.
func (t *strTable) tmplNext(from, calls int) bool {
	tp := &t.tmpl
	if tp.live {
		miss := from < len(tp.calls) && from < calls
		if from > tp.grown {
			tp.backoff = 0 // the calls kept last were matched
		}
		if miss {
			tp.backoff = 2*tp.backoff | 1 // up to 255
			tp.skip = tp.backoff
		}
		if from == 0 {
			t.newGen() // and no calls kept
		} else {
			t.rewind(t.n)
			last := &tp.calls[from-1]
			tp.calls, tp.enc = tp.calls[:from], tp.enc[:last.end]
			tp.grown = min(tp.grown, from)
		}
		if miss {
			return false
		}
	}
	if from == calls {
		return false
	}
	if tp.skip > 0 {
		tp.skip--
		return false
	}
	tp.grown = from
	return true
}

// appendCallHead appends what c writes up to its request, c matching
// k whose service and method, and error, take 8 bytes or fewer (aw and
// bw): those, c's start and duration, and its sizes, with one check of
// the capacity. They take at most 56 bytes: 8, two varints of at most
// 10, 8 and two more varints.
//
//go:noinline
func appendCallHead(b []byte, c *recording.Call, k *tmplCall) []byte {
	n := len(b)
	if cap(b)-n < 64 {
		b = slices.Grow(b, 64)
	}
	w := (*[64]byte)(b[n : n+64])
	binary.LittleEndian.PutUint64(w[:8], k.aw)
	i := putVarint(w, int(k.la), int64(c.Start))
	i = putVarint(w, i, int64(c.Duration))
	binary.LittleEndian.PutUint64(w[i&31:], k.bw) // i ≤ 28
	i = putVarint(w, i+int(k.lb), c.RequestSize)
	i = putVarint(w, i, c.ResponseSize)
	return b[:n+i]
}

// putVarint puts v at w[i:] as enc.i appends it, and returns its end;
// i is under 47.
func putVarint(w *[64]byte, i int, v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		w[i&63] = byte(u) | 0x80
		u >>= 7
		i++
	}
	w[i&63] = byte(u)
	return i + 1
}

// rewind takes out of t the strings the last record indexed from the
// nth on, so that t is as the last record's n first indexes left it.
func (t *strTable) rewind(n uint32) {
	for i := n; i < t.last; i++ {
		if sl := &t.slots[t.order[i]]; sl.gen == t.gen && sl.idx == i {
			sl.gen = 0 // no gen is 0
		}
	}
	t.n = n
}

// keepCall keeps c, the ith call of the record, as its template's ith
// (see tmpl): b is what it wrote but its IDs, ms the memos after it and
// copied the frames copied. It reports false, having kept nothing, for a
// call that is not kept.
//
//go:noinline
func (t *strTable) keepCall(i int, c *recording.Call, b []byte, ms *[13]memo, copied int) bool {
	tp := &t.tmpl
	if i >= maxTmplCalls || len(c.Phases) != 0 || copied+len(c.Stack) > 1<<16 {
		// Past the decoder's budget of copied frames, which grows
		// with the bytes written, a stack is written whole: a call
		// whose stack could reach it is not kept.
		return false
	}
	if i < cap(tp.calls) {
		tp.calls = tp.calls[:i+1]
	} else {
		tp.calls = append(tp.calls, tmplCall{})
	}
	// Where its fields are in b: its service and method, its start
	// and duration, its error, its sizes, its request and response, and
	// how its stack is written (see tmplCall).
	m1 := skipStr(b, skipStr(b, 0))
	t1 := skipUvarint(b, skipUvarint(b, m1))
	e1 := skipStr(b, t1)
	s1 := skipUvarint(b, skipUvarint(b, e1))
	var stack uint64
	if len(c.Stack) > 0 {
		stack = 2
		if v, _ := binary.Uvarint(b[skipStr(b, skipStr(b, s1)):]); v&1 != 0 {
			stack = v // an earlier call's
		}
	}
	k := &tp.calls[i]
	off := len(tp.enc)
	tp.enc = append(append(append(tp.enc, b[:m1]...), b[t1:e1]...), b[s1:]...)
	k.frames = k.frames[:0]
	if stack == 2 {
		k.frames = append(k.frames, c.Stack...)
	}
	k.service, k.method, k.err, k.request, k.response = c.Service, c.Method, c.Error, c.Request, c.Response
	k.attrs = append(k.attrs[:0], c.Attrs...)
	k.stack = stack
	k.off, k.la, k.lb, k.lc = uint32(off), uint32(m1), uint32(e1-t1), uint32(len(b)-s1)
	k.end = k.off + k.la + k.lb + k.lc
	var w [16]byte
	copy(w[:], b[:min(m1, 8)])
	copy(w[8:], b[t1:min(e1, t1+8)])
	k.aw, k.bw = binary.LittleEndian.Uint64(w[:8]), binary.LittleEndian.Uint64(w[8:])
	k.n, k.copied, k.ms = t.n, copied, *ms
	return true
}

// skipUvarint returns the end of the uvarint at b[i:].
func skipUvarint(b []byte, i int) int {
	for b[i] >= 0x80 {
		i++
	}
	return i + 1
}

// skipStr returns the end of the string at b[i:], as put writes it.
func skipStr(b []byte, i int) int {
	v, n := binary.Uvarint(b[i:])
	if i += n; v&1 == 0 {
		i += int(v >> 1)
	}
	return i
}

// find returns the slot of v if it has an index.
func (t *strTable) find(v string) (strSlot, bool) {
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	h := slotOf(p)
	for {
		sl := t.slots[h]
		if sl.gen != t.gen {
			return strSlot{}, false
		}
		if sl.p == p && sl.n == len(v) {
			return sl, true
		}
		h = nextSlot(h)
	}
}

// appendFull appends v in full, as put does.
func appendFull(b []byte, v string) []byte {
	if len(v) < 0x40 {
		return append(append(b, byte(len(v))<<1), v...)
	}
	return append(binary.AppendUvarint(b, uint64(len(v))<<1), v...)
}

// t appends v as put does.
func (e *enc) t(t *strTable, v string) { e.b, _ = t.put(e.b, v) }

// A memo is the last string written in one field of a record's calls
// with an index under 64 (see enc.t), and the byte of that index; or the
// zero memo, which stands for an empty string (whose byte is 0 too). Equal
// strings mostly share their memory, which the comparison checks first.
type memo struct {
	s    string
	code byte // the index's one byte (under 64)
}

// tf appends v as t does. Calls mostly repeat the previous call's
// strings in the same field (its service, its method, its stack's
// innermost frames), which m holds: those are found without a lookup.
func (e *enc) tf(t *strTable, m *memo, v string) {
	// The same data and length, tested inline: comparing the strings
	// would call memequal. Equal strings elsewhere in memory are found
	// by memo.
	if *(*[2]uintptr)(unsafe.Pointer(&v)) == *(*[2]uintptr)(unsafe.Pointer(&m.s)) {
		e.b = append(e.b, m.code)
		return
	}
	e.b = t.memo(e.b, m, v)
}

// memo is tf's lookup, apart so that tf inlines.
func (t *strTable) memo(b []byte, m *memo, v string) []byte {
	if v == m.s {
		return append(b, m.code)
	}
	if len(v) < minShared {
		// Written in full, without an index: there is nothing to look up.
		*m = memo{}
		return appendFull(b, v)
	}
	b, c := t.put(b, v)
	if c != 0 && c < 0x80 {
		*m = memo{s: v, code: byte(c)}
	} else {
		*m = memo{}
	}
	return b
}

func (e *enc) s(v string) {
	if len(v) < 0x80 {
		e.b = append(append(e.b, byte(len(v))), v...)
		return
	}
	e.b = append(binary.AppendUvarint(e.b, uint64(len(v))), v...)
}

// dec reads what enc wrote. The first error sticks: later reads return zero
// values, and the caller checks err once at the end. Strings are sliced from
// one string copy of the input, so decoding them does not allocate.
type dec struct {
	b    []byte
	str  string // string(b), when strings are read
	p    int
	err  error
	v3   bool     // strings of calls are read as enc.t wrote them
	strs []string // a version 3 record's string table
	// dict is set for a record of the memory version written against a
	// MemDict (codecMemDict): its head's strings and its attributes are
	// read as enc.ds wrote them, indexes into dictStrs.
	dict     bool
	dictStrs []string
}

func newDec(b []byte, strs bool) *dec {
	d := &dec{b: b}
	if strs {
		d.str = string(b)
	}
	return d
}

var errShort = errors.New("truncated")

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.p = len(d.b)
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b[d.p:])
	if k <= 0 {
		d.fail(errShort)
		return 0
	}
	d.p += k
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b[d.p:])
	if k <= 0 {
		d.fail(errShort)
		return 0
	}
	d.p += k
	return v
}

func (d *dec) d() time.Duration { return time.Duration(d.i()) }

// f reads a float64 that enc.f wrote.
func (d *dec) f() float64 { return math.Float64frombits(bits.ReverseBytes64(d.u())) }

// int reads a varint that must fit an int.
func (d *dec) int() int {
	v := d.i()
	if v > math.MaxInt32 || v < math.MinInt32 {
		d.fail(errors.New("integer out of range"))
		return 0
	}
	return int(v)
}

// n reads an element count; each element takes at least min bytes, so a
// count larger than the rest of the input is corrupt (and never allocated).
func (d *dec) n(min int) int {
	v := d.u()
	if v > uint64(len(d.b)-d.p)/uint64(min) {
		d.fail(errors.New("count exceeds input"))
		return 0
	}
	return int(v)
}

func (d *dec) s() string {
	n := d.n(1)
	if d.err != nil {
		return ""
	}
	v := d.str[d.p : d.p+n]
	d.p += n
	return v
}

// t reads a string that enc.t wrote in a version 3 record; in an older
// one, a string that enc.s wrote.
func (d *dec) t() string {
	if !d.v3 {
		return d.s()
	}
	x := d.u()
	if d.err != nil {
		return ""
	}
	if x&1 != 0 {
		if x>>1 >= uint64(len(d.strs)) {
			d.fail(errors.New("string index out of range"))
			return ""
		}
		return d.strs[x>>1]
	}
	if x>>1 > uint64(len(d.b)-d.p) {
		d.fail(errShort)
		return ""
	}
	v := d.str[d.p : d.p+int(x>>1)]
	d.p += len(v)
	if len(v) >= minShared && len(d.strs) < maxShared {
		d.strs = append(d.strs, v)
	}
	return v
}

// skip passes a string without reading it and reports whether it was not
// empty.
func (d *dec) skip() bool {
	n := d.n(1)
	d.p += n
	return n > 0
}

func (d *dec) raw(dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b)-d.p < len(dst) {
		d.fail(errShort)
		return
	}
	copy(dst, d.b[d.p:])
	d.p += len(dst)
}

// header reads the tag and a version from 1 to maxVersion, and returns the
// version (0 after an error).
func (d *dec) header(tag byte, maxVersion byte) byte {
	if len(d.b) < 2 || d.b[0] != tag {
		d.fail(errors.New("unknown encoding"))
		return 0
	}
	if newer(d.b[1], maxVersion) {
		d.fail(fmt.Errorf("encoding version %d: %w", d.b[1], ErrNewerVersion))
		return 0
	}
	if d.b[1] < codecV1 || d.b[1] > maxVersion {
		d.fail(fmt.Errorf("unknown version %d", d.b[1]))
		return 0
	}
	d.p = 2
	return d.b[1]
}

func (d *dec) done(what string) error {
	if d.err == nil && d.p != len(d.b) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b)-d.p)
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w: %w", what, store.ErrCorrupt, d.err)
	}
	return nil
}

// sharedFrames returns how many outermost frames stack shares with prev
// (the previous call's stack), which are not written again. It is apart
// from AppendRecord, whose many live values would keep the loop's in
// memory.
func sharedFrames(stack, prev []recording.Frame) int {
	if len(stack) == len(prev) && (len(stack) == 0 || &stack[0] == &prev[0]) {
		// One stack: the recorder's stack cache gives calls made from
		// one place (a loop's, say) the same frames.
		return len(stack)
	}
	n := min(len(stack), len(prev))
	a, p := stack[len(stack)-n:], prev[len(prev)-n:]
	p = p[:len(a)]
	k := len(a) - 1
	for ; k >= 0; k-- {
		// Frames of the same words (their strings' data and lengths,
		// their lines) are equal, compared without a branch per field;
		// others are compared by their strings.
		x, y := (*frameWords)(unsafe.Pointer(&a[k])), (*frameWords)(unsafe.Pointer(&p[k]))
		if (x[0]^y[0])|(x[1]^y[1])|(x[2]^y[2])|(x[3]^y[3])|(x[4]^y[4]) != 0 && !sameFrame(&a[k], &p[k]) {
			break
		}
	}
	return n - 1 - k
}

// findStack returns the index among the first n of seen of stack (the
// same slice: its first frame and its length), or -1.
func findStack(seen *[stackRefs]stackSeen, n int, stack []recording.Frame) int {
	p := &stack[0]
	for k := range seen[:n] {
		if seen[k].p == p && seen[k].n == len(stack) {
			return k
		}
	}
	return -1
}

// frameWords is the memory of a Frame: two strings and an int. Frames
// of equal words have equal fields; were Frame to grow, the line below
// would not compile.
type frameWords [5]uintptr

var _ = [1]struct{}{}[unsafe.Sizeof(recording.Frame{})-unsafe.Sizeof(frameWords{})]

// sameFrame reports whether a and b are equal, for frames whose words
// differ: their strings may be equal elsewhere in memory.
func sameFrame(a, b *recording.Frame) bool {
	return a.Line == b.Line && a.Function == b.Function && a.File == b.File
}

// AppendRecord appends the full encoding of r to b.
//
// Stacks are delta-encoded: a call's stack shares its outer frames with the
// previous call's stack, so only the count of shared frames and the new inner
// frames are written. The calls' strings (their frames' functions and
// files among them) are written once each, later copies as an index into
// the record's strings (version 3). The unexported raw PCs are not stored:
// stacks are symbolized before sinks see records.
func AppendRecord(b []byte, r *recording.Record) []byte { return appendRecord(b, r) }

// AppendRecordWithoutStacks appends r's encoding without its calls'
// stacks, for a writer that keeps the stacks apart and the bytes in
// memory only (badgerstore's in-memory ring, memstore): [DecodeRecordWithoutStacks]
// reads it, [DecodeRecord] does not. It writes the memory version (see
// codecMem), whose calls write only the strings and attributes that are
// not the previous call's, and their times and sizes as fixed words.
func AppendRecordWithoutStacks(b []byte, r *recording.Record) []byte {
	return appendRecordMem(b, r)
}

// codecMem is the version of a record that AppendRecordWithoutStacks
// writes for memory, never stored: its head and its end (from the
// dropped calls on) are version 2's, and each call is
//
//   - a mask byte (the memService… bits below): which of the call's
//     strings are the previous call's (or, for the first call, empty), by
//     their data and length, and whether its attributes are, each of them,
//     and whether phases follow;
//   - its start, duration, request size and response size, 8 bytes each,
//     little-endian;
//   - its service, method, error, request and response not in the mask,
//     each as enc.s writes it;
//   - its phases, if the mask says so, as version 2 writes them, or,
//     when the mask says their names are the previous call's
//     (memPhaseNames: as many phases as it had, each name the same
//     string at the same index), only each phase's start and duration;
//   - its attributes unless the mask has them, as appendCallAttrs writes
//     them: each key and value that is the previous call's at the same
//     index as two bits of one uvarint of flags, a value that is the
//     last bytes of the call's request as its offset there;
//   - its span ID, flags and parent's span ID, as appendCallIDs writes
//     them.
//
// The calls of a record mostly repeat their service, method, response
// and attributes from one call to the next, and the recorder gives them
// the same strings: storetest.Record20's calls write their requests
// alone. Calls to other URLs repeat their attributes' keys and some
// values (the status): a fanout record's HTTP calls write their keys as
// flags, and their url.full as an offset in their request. Nothing is
// looked up and no varint written for a call but the lengths of the
// strings that are written, its phases' times and its attributes' count
// and flags.
//
// The form of a call's attributes changed in place (from a byte of flags
// an attribute, each value written in full): the bytes never leave the
// process that wrote them, so none in the earlier form is ever read.
//
// The memory version's bytes are never stored (badgerstore's ring and
// memstore hold them in memory only, written and read by one process),
// so a reader reads this form only: codecMem1, the first form (a call's
// attributes that were not the previous call's all in full), is read as
// corrupt, with an error that names it.
const (
	codecMem1 = 0x80
	codecMem  = 0x81
)

// A call's mask in a record of the memory version.
const (
	memService  = 1 << iota // the previous call's service
	memMethod               // its method
	memError                // its error
	memRequest              // its request
	memResponse             // its response
	memAttrs                // its attributes
	memPhases               // phases follow
	// memPhaseNames: the phases that follow (memPhases is set too) are
	// as many as the previous call's, and each is named as the
	// previous call's at the same index: their names are not written.
	// A wrapper names its phases with the same constants call after
	// call (an HTTP call's send, wait and receive), which cost three
	// strings a call written in full.
	memPhaseNames
	// The eight bits of the mask byte are all taken, so no mask holds a
	// bit a decoder does not know; a ninth flag needs a wider mask, in a
	// new form of the memory version (as codecMem followed codecMem1).
)

// samePhaseNames reports whether a and b are as many phases, each named
// by the same string (see sameData) as the other's at the same index.
func samePhaseNames(a, b []recording.Phase) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameData(&a[i].Name, &b[i].Name) {
			return false
		}
	}
	return true
}

// sameData reports whether a and b are the same string by their data
// and length (their two words): equal, found without comparing bytes. An
// empty string elsewhere in memory is not found; it costs a byte.
func sameData(a, b *string) bool {
	return *(*[2]uintptr)(unsafe.Pointer(a)) == *(*[2]uintptr)(unsafe.Pointer(b))
}

// sameAttrs reports whether a and b have the same attributes in the same
// order, each the same strings (see sameData): their four words each.
func sameAttrs(a, b []recording.Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if *(*[4]uintptr)(unsafe.Pointer(&a[i])) != *(*[4]uintptr)(unsafe.Pointer(&b[i])) {
			return false
		}
	}
	return true
}

// appendRecordMem appends r's encoding in the memory version, without its
// calls' stacks (see codecMem).
func appendRecordMem(b []byte, r *recording.Record) []byte {
	b = appendRecordHead(b, codecMem, r)
	if len(r.Calls) == 0 {
		return appendRecordEnd(b, r) // nor a previous call to clear
	}
	return appendRecordEnd(appendMemCalls(b, r), r)
}

// appendMemCalls appends r's calls as the memory version writes them
// (see codecMem), r having some.
func appendMemCalls(b []byte, r *recording.Record) []byte {
	var none recording.Call
	p := &none // the previous call
	calls := r.Calls
	for i := range calls {
		c := &calls[i]
		var m byte
		if sameData(&c.Service, &p.Service) {
			m |= memService
		}
		if sameData(&c.Method, &p.Method) {
			m |= memMethod
		}
		if sameData(&c.Error, &p.Error) {
			m |= memError
		}
		if sameData(&c.Request, &p.Request) {
			m |= memRequest
		}
		if sameData(&c.Response, &p.Response) {
			m |= memResponse
		}
		// The attributes' flags (see appendCallAttrs), compared once:
		// all of them set, as many as the previous call's, is its
		// attributes (memAttrs).
		attrs, prev := c.Attrs, p.Attrs
		k := min(len(attrs), len(prev), maxAttrFlags)
		fl := callAttrFlags(attrs[:k], prev[:k])
		if len(attrs) == len(prev) && k == len(attrs) && fl == 1<<(2*k)-1 {
			m |= memAttrs
		}
		if len(c.Phases) > 0 {
			m |= memPhases
			if samePhaseNames(c.Phases, p.Phases) {
				m |= memPhaseNames
			}
		}
		// The mask and the four words, with one check of the capacity.
		n := len(b)
		if cap(b)-n < 33 {
			b = slices.Grow(b, 33)
		}
		b = b[:n+33]
		w := (*[33]byte)(b[n:])
		w[0] = m
		binary.LittleEndian.PutUint64(w[1:9], uint64(c.Start))
		binary.LittleEndian.PutUint64(w[9:17], uint64(c.Duration))
		binary.LittleEndian.PutUint64(w[17:25], uint64(c.RequestSize))
		binary.LittleEndian.PutUint64(w[25:33], uint64(c.ResponseSize))
		e := enc{b: b}
		if m&memService == 0 {
			e.s(c.Service)
		}
		if m&memMethod == 0 {
			e.s(c.Method)
		}
		if m&memError == 0 {
			e.s(c.Error)
		}
		if m&memRequest == 0 {
			e.s(c.Request)
		}
		if m&memResponse == 0 {
			e.s(c.Response)
		}
		if m&memPhaseNames != 0 {
			e.b = appendPhaseTimes(e.b, c.Phases)
		} else if m&memPhases != 0 {
			e.n(len(c.Phases))
			for j := range c.Phases {
				ph := &c.Phases[j]
				e.s(ph.Name)
				e.b = appendTime(appendTime(e.b, ph.Start), ph.Duration)
			}
		}
		b = e.b
		if m&memAttrs == 0 {
			b = appendCallAttrs(b, attrs, fl, k, c.Request)
		}
		b = appendCallIDs(b, c)
		p = c
	}
	return b
}

// A call's attribute's flags in the memory version.
const (
	attrSameKey   = 1 << iota // the previous call's key at the same index
	attrSameValue             // its value
	attrKnown     = attrSameKey | attrSameValue
)

// maxAttrFlags is how many of a call's first attributes have flags in
// the memory version: two bits each of a uint64.
const maxAttrFlags = 32

// callAttrFlags returns the flags of attrs beside prev, as many (see
// appendCallAttrs). It is not inlined: in appendMemCalls' loop, its
// registers spilled (inline, or sameAttrs inline before it, cost a
// fanout record 300 to 800 instructions more).
//
//go:noinline
func callAttrFlags(attrs, prev []recording.Attr) uint64 {
	var fl uint64
	bit := uint64(attrSameKey)
	prev = prev[:len(attrs)]
	for j := range attrs {
		a, q := &attrs[j], &prev[j]
		if sameData(&a.Key, &q.Key) || a.Key == q.Key {
			fl |= bit
		}
		if sameData(&a.Value, &q.Value) {
			fl |= bit << 1
		}
		bit <<= 2
	}
	return fl
}

// appendCallAttrs appends attrs, a call's attributes, in the memory
// version: their count; then, if the call and the previous one both have
// some, the flags of the first k of them (k the fewer of their counts
// and maxAttrFlags) as one uvarint fl, two bits an attribute from the
// lowest (attrSameKey, attrSameValue: the previous call's key, value at
// the same index); then each attribute's key unless its flags say it is
// the previous call's, as enc.s writes it, and its value unless they say
// so: if it is the last bytes of the call's request, in its memory (an
// HTTP call's url.full, which internal/convention slices from the
// request "GET " + URL), an odd uvarint, the offset in the request
// doubled plus one, else its length doubled, then its bytes. A key is
// the previous call's if its bytes are equal (the recorder gives a key
// the same string each call, so most are found by sameData); a value only
// if it is the same string (sameData: a constant, the status or a method,
// or a string the caller kept, as the address and port of one backend's
// URLs). A value of equal bytes elsewhere is written again: comparing its
// bytes (an address or a port parsed from each call's URL) cost more than
// writing them (docs/BENCHMARKS-history.md, twenty-fourth round).
// appendMemCalls computes fl, which also tells whether the attributes are
// the previous call's, all of them (memAttrs), before writing the call's
// mask. One uvarint of flags, written and read in one go, took the place
// of a byte an attribute, and url.full's offset that of its bytes (~480
// and ~100 instructions a fanout record, 4 and 30 bytes a call: see
// "i35-mem" in docs/BENCHMARKS.md). A call whose one attribute is the
// previous call's, in a slice of its own (storetest.FullRecord's), pays
// the call of callAttrFlags where sameAttrs was inline (~50
// instructions).
func appendCallAttrs(b []byte, attrs []recording.Attr, fl uint64, k int, req string) []byte {
	e := enc{b: b}
	e.n(len(attrs))
	if k > 0 {
		e.u(fl)
	}
	for i := range attrs {
		a := &attrs[i]
		if fl&attrSameKey == 0 {
			e.s(a.Key)
		}
		if fl&attrSameValue == 0 {
			v := a.Value
			if off := len(req) - len(v); off >= 0 && len(v) > 0 &&
				uintptr(unsafe.Pointer(unsafe.StringData(v))) == uintptr(unsafe.Pointer(unsafe.StringData(req)))+uintptr(off) {
				e.u(uint64(off)<<1 | 1) // the request's last bytes
			} else if len(v) < 0x40 {
				e.b = append(append(e.b, byte(len(v))<<1), v...)
			} else {
				e.b = append(binary.AppendUvarint(e.b, uint64(len(v))<<1), v...)
			}
		}
		fl >>= 2
	}
	return e.b
}

// decodeCallAttrs reads what appendCallAttrs wrote, prev being the
// previous call's attributes: a string written as the previous call's
// shares its memory, as a value written as the last bytes of req, the
// call's request, shares the request's. Flags that name an attribute
// beyond the first k (see appendCallAttrs) are corrupt.
func decodeCallAttrs(d *dec, prev []recording.Attr, req string) []recording.Attr {
	n := d.n(1)
	if n == 0 {
		return nil
	}
	fl := d.attrFlags(n, len(prev))
	out := make([]recording.Attr, n)
	for i := range out {
		if fl&attrSameKey != 0 {
			out[i].Key = prev[i].Key
		} else {
			out[i].Key = d.s()
		}
		if fl&attrSameValue != 0 {
			out[i].Value = prev[i].Value
		} else {
			out[i].Value = d.attrValue(req)
		}
		if d.err != nil {
			return nil
		}
		fl >>= 2
	}
	return out
}

// attrFlags reads the flags of a call's n attributes, after a call of
// prev attributes (0 after an error, or if none are written).
func (d *dec) attrFlags(n, prev int) uint64 {
	k := min(n, prev, maxAttrFlags)
	if k == 0 {
		return 0
	}
	fl := d.u()
	if k < maxAttrFlags && fl>>(2*k) != 0 {
		d.fail(fmt.Errorf("attribute flags %#x for %d attributes after a call of %d", fl, n, prev))
		return 0
	}
	return fl
}

// attrValue reads an attribute's value that appendCallAttrs wrote, of a
// call whose request is req; an offset in the request at or past its
// end is corrupt.
func (d *dec) attrValue(req string) string {
	return d.attrValueIn(req, len(req))
}

// attrValueIn is attrValue for a request of reqLen bytes, req itself or,
// where only the value's place is wanted (skipCallAttrs), "".
func (d *dec) attrValueIn(req string, reqLen int) string {
	x := d.u()
	if d.err != nil {
		return ""
	}
	if x&1 != 0 {
		if x>>1 >= uint64(reqLen) {
			d.fail(fmt.Errorf("attribute value at %d of a request of %d bytes", x>>1, reqLen))
			return ""
		}
		if len(req) != reqLen {
			return ""
		}
		return req[x>>1:]
	}
	if x>>1 > uint64(len(d.b)-d.p) {
		d.fail(errShort)
		return ""
	}
	v := d.str[d.p : d.p+int(x>>1)]
	d.p += int(x >> 1)
	return v
}

// skipCallAttrs passes what appendCallAttrs wrote, after a call of prev
// attributes whose request has reqLen bytes, and returns how many it
// passed (0 after an error).
func (d *dec) skipCallAttrs(prev, reqLen int) int {
	n := d.n(1)
	fl := d.attrFlags(n, prev)
	for i := 0; i < n && d.err == nil; i++ {
		if fl&attrSameKey == 0 {
			d.skip()
		}
		if fl&attrSameValue == 0 {
			d.attrValueIn("", reqLen)
		}
		fl >>= 2
	}
	if d.err != nil {
		return 0
	}
	return n
}

// appendRecord appends r's encoding in version 4.
func appendRecord(b []byte, r *recording.Record) []byte { return appendRecordV(b, r, codecV4) }

// stackRefs is how many of the last distinct stacks a version 4 record's
// call looks its stack up in.
const stackRefs = 8

// A stackSeen is a stack a record's call wrote: its slice's first frame
// and length, and the last call that had it.
type stackSeen struct {
	p    *recording.Frame
	n    int
	call int
}

// appendRecordV appends r's encoding in version v, 3 or 4 (3: what tests
// of reading old values write).
func appendRecordV(b []byte, r *recording.Record, v byte) []byte {
	t := getTable()
	b = appendRecordT(b, r, v, t)
	tables.Put(t)
	return b
}

// appendRecordT is appendRecordV with t, an empty table, as the record's
// string table.
func appendRecordT(b []byte, r *recording.Record, v byte, t *strTable) []byte {
	start := len(b)
	e := enc{b: appendRecordHead(b, v, r)}
	var prev []recording.Frame
	// Frames DecodeRecord will copy from a call's stack to the next's: kept
	// within maxCopiedFrames of the bytes written so far, which the
	// record's whole length only exceeds, so that what is written here
	// always decodes.
	copied := 0
	// The last distinct stacks written (version 4), as a ring: nseen of
	// them, the next one going at nseen % stackRefs.
	var seen [stackRefs]stackSeen
	nseen := 0
	// The strings of the previous call, field by field: service, method,
	// error, response, its two innermost frames' functions and files
	// written, its first two attributes' keys and values.
	var ms [13]memo
	// The calls that match the last record's (see tmpl), and whether the
	// record's later calls are kept as the next one's template.
	calls := r.Calls
	var from int
	var keep bool
	e.b, from, nseen, copied, keep = t.tmplStart(e.b, calls, v, &seen)
	if from > 0 {
		ms, prev = t.tmpl.calls[from-1].ms, calls[from-1].Stack
	}
	for i := from; i < len(calls); i++ {
		c := &calls[i]
		c0 := len(e.b)
		e.tf(t, &ms[0], c.Service)
		e.tf(t, &ms[1], c.Method)
		e.b = appendTime(appendTime(e.b, c.Start), c.Duration)
		e.tf(t, &ms[2], c.Error)
		e.i(c.RequestSize)
		e.i(c.ResponseSize)
		e.t(t, c.Request) // mostly not the previous call's
		e.tf(t, &ms[4], c.Response)
		k := -1 // the earlier call's stack in seen, if c's is one
		if v >= codecV4 && len(c.Stack) > 0 {
			if k = findStack(&seen, min(nseen, stackRefs), c.Stack); k < 0 {
				seen[nseen%stackRefs] = stackSeen{&c.Stack[0], len(c.Stack), i}
				nseen++
			}
		}
		if k >= 0 {
			// An earlier call's stack: how far back it is.
			e.u(uint64(i-seen[k].call-1)<<1 | 1)
			seen[k].call = i
		} else if i == 0 && len(c.Stack) > 0 && t.first.frames != nil && t.writeFirst(&e, c.Stack, &ms) {
			// The kept stack's bytes (see the firstStack type).
		} else {
			mark, before := len(e.b), t.n
			shared := sharedFrames(c.Stack, prev)
			if shared > 0 && shared < len(c.Stack) {
				// Shared under fresh frames: copied when decoded. Past
				// the budget, the stack is written whole.
				if copied+shared > maxCopiedFrames(len(e.b)-start) {
					shared = 0
				} else {
					copied += shared
				}
			}
			fresh := c.Stack[:len(c.Stack)-shared]
			if v >= codecV4 {
				e.n(2 * shared)
			} else {
				e.n(shared)
			}
			e.n(len(fresh))
			for j := range fresh {
				f := &fresh[j]
				if j < 2 {
					e.tf(t, &ms[5+2*j], f.Function)
					e.tf(t, &ms[6+2*j], f.File)
				} else {
					e.t(t, f.Function)
					e.t(t, f.File)
				}
				e.i(int64(f.Line))
			}
			if i == 0 && len(c.Stack) > 0 {
				t.keepFirst(e.b[mark:], c.Stack, before, &ms)
			}
		}
		prev = c.Stack
		e.n(len(c.Phases))
		for _, p := range c.Phases {
			e.t(t, p.Name)
			e.d(p.Start)
			e.d(p.Duration)
		}
		e.n(len(c.Attrs))
		for j := range c.Attrs {
			a := &c.Attrs[j]
			if j < 2 {
				e.tf(t, &ms[9+2*j], a.Key)
				e.tf(t, &ms[10+2*j], a.Value)
			} else {
				e.t(t, a.Key)
				e.t(t, a.Value)
			}
		}
		if keep {
			keep = t.keepCall(i, c, e.b[c0:], &ms, copied)
		}
		e.b = appendCallIDs(e.b, c)
	}
	e.i(int64(r.DroppedCalls))
	e.n(len(r.Warnings))
	for _, w := range r.Warnings {
		e.t(t, w.Kind)
		e.t(t, w.Service)
		e.t(t, w.Method)
		e.t(t, w.Request)
		e.i(int64(w.Count))
		e.d(w.Total)
		e.t(t, w.Message)
	}
	t.last = t.n
	t.tmpl.live = len(t.tmpl.calls) > 0
	return appendRecordTail(e.b, r)
}

// appendRecordV2 appends r's encoding in version 2 (each string in full),
// its calls' stacks if stacks is set: cheaper to write than version 3 for
// a record without stacks, whose calls repeat fewer strings, and what tests
// of reading old values write.
func appendRecordV2(b []byte, r *recording.Record, stacks bool) []byte {
	e := enc{b: appendRecordHead(b, codecV2, r)}
	var prev []recording.Frame
	lastFile := ""
	for i := range r.Calls {
		c := &r.Calls[i]
		e.s(c.Service)
		e.s(c.Method)
		e.d(c.Start)
		e.d(c.Duration)
		e.s(c.Error)
		e.i(c.RequestSize)
		e.i(c.ResponseSize)
		e.s(c.Request)
		e.s(c.Response)
		if stacks {
			shared := sharedFrames(c.Stack, prev)
			fresh := c.Stack[:len(c.Stack)-shared]
			e.n(shared)
			e.n(len(fresh))
			for _, f := range fresh {
				e.s(f.Function)
				if f.File == lastFile {
					e.u(0)
				} else {
					e.u(uint64(len(f.File)) + 1)
					e.b = append(e.b, f.File...)
					lastFile = f.File
				}
				e.i(int64(f.Line))
			}
			prev = c.Stack
		} else {
			e.b = append(e.b, 0, 0) // no frame shared, none fresh
		}
		e.n(len(c.Phases))
		for _, p := range c.Phases {
			e.s(p.Name)
			e.d(p.Start)
			e.d(p.Duration)
		}
		e.b = appendAttrs(e.b, c.Attrs)
		e.b = appendCallIDs(e.b, c)
	}
	return appendRecordEnd(e.b, r)
}

// appendRecordEnd appends the end of r's encoding after its calls, each
// string in full: its dropped calls, its warnings and appendRecordTail's.
func appendRecordEnd(b []byte, r *recording.Record) []byte {
	e := enc{b: b}
	e.i(int64(r.DroppedCalls))
	e.n(len(r.Warnings))
	for _, w := range r.Warnings {
		e.s(w.Kind)
		e.s(w.Service)
		e.s(w.Method)
		e.s(w.Request)
		e.i(int64(w.Count))
		e.d(w.Total)
		e.s(w.Message)
	}
	return appendRecordTail(e.b, r)
}

// recordHeadIDs is the bytes a record's encoding starts with: its tag,
// its version and its four IDs (ID, trace ID, span ID, parent's span ID).
const recordHeadIDs = 2 + len(recording.ID{}) + len(recording.TraceID{}) + 2*len(recording.SpanID{})

// appendRecordHead appends the start of r's encoding in version v, up to
// and with the number of its calls: the same in versions 2 and 3.
func appendRecordHead(b []byte, v byte, r *recording.Record) []byte {
	// The tag, the version and the four IDs (50 bytes) after one check
	// of the capacity, each ID copied as an array: appending each one's
	// bytes called memmove (~20 instructions an ID, see "thirty-first
	// round" in docs/BENCHMARKS.md).
	n := len(b)
	if cap(b)-n < recordHeadIDs {
		b = slices.Grow(b, recordHeadIDs)
	}
	b = b[:n+recordHeadIDs]
	w := (*[recordHeadIDs]byte)(b[n:])
	w[0], w[1] = tagRecord, v
	*(*recording.ID)(w[2:18]) = r.ID
	*(*recording.TraceID)(w[18:34]) = r.TraceID
	*(*recording.SpanID)(w[34:42]) = r.SpanID
	*(*recording.SpanID)(w[42:50]) = r.ParentSpanID
	e := enc{b: b}
	e.u(uint64(r.Kind))
	e.b = appendStart(e.b, r.Start.UnixNano(), r.Duration)
	e.s(r.Method)
	e.s(r.Path)
	e.s(r.Route)
	e.s(r.Query)
	e.i(int64(r.Status))
	e.i(r.RequestBytes)
	e.i(r.ResponseBytes)
	e.s(r.User)
	e.b = appendHeaders(e.b, r.Headers)
	e.s(r.Remote)
	e.s(r.Instance)
	e.b = appendTime(e.b, r.Overhead)
	e.s(r.Error)
	e.s(r.Panic)
	e.n(len(r.Calls))
	return e.b
}

// walkHeaders appends h as appendHeaders does, by a walk of the map.
func walkHeaders(b []byte, h map[string][]string) []byte {
	e := enc{b: b}
	e.n(len(h))
	for k, vs := range h {
		e.s(k)
		e.n(len(vs))
		for _, v := range vs {
			e.s(v)
		}
	}
	return e.b
}

// appendCallIDs appends c's span ID, its flags and its parent's span ID
// if it has one: the end of a call's encoding in versions 2 and 3.
func appendCallIDs(b []byte, c *recording.Call) []byte {
	// The span ID as one word: appending its bytes would call memmove.
	b = binary.LittleEndian.AppendUint64(b, binary.LittleEndian.Uint64(c.SpanID[:]))
	var flags byte
	if c.Running {
		flags |= 1
	}
	if c.Event {
		flags |= 2
	}
	if c.ParentSpanID.IsValid() {
		flags |= 4 // the parent's span ID follows
		return append(append(b, flags), c.ParentSpanID[:]...)
	}
	return append(b, flags)
}

// callIDs reads what appendCallIDs wrote into c: its span ID, its flags
// and its parent's span ID.
func (d *dec) callIDs(c *recording.Call) {
	d.raw(c.SpanID[:])
	flags := d.u()
	c.Running = flags&1 != 0
	c.Event = flags&2 != 0
	if flags&4 != 0 {
		d.raw(c.ParentSpanID[:])
	}
	if flags&^7 != 0 {
		d.fail(fmt.Errorf("unknown call flags %#x", flags))
	}
}

// appendRecordTail appends the end of r's encoding after its warnings:
// its attributes, and the parts that follow them (the calls' costs, the
// execution trace's description). The same in versions 2 and 3.
func appendRecordTail(b []byte, r *recording.Record) []byte {
	b = appendAttrs(b, r.Attrs)
	return appendRecordParts(b, r)
}

// appendRecordParts appends the parts of r's encoding that follow its
// attributes (see appendRecordTail).
func appendRecordParts(b []byte, r *recording.Record) []byte {
	e := enc{b: b}
	var parts uint64
	if r.Cost() != 0 {
		parts |= recCallCosts
	}
	if r.ExecTrace != nil {
		parts |= recExecTrace
		if !r.ExecTrace.Snapshot.IsZero() {
			parts |= recSnapshot
		}
	}
	e.u(parts)
	if parts&recCallCosts != 0 {
		for i := range r.Calls {
			e.f(r.Calls[i].Cost)
		}
	}
	if t := r.ExecTrace; t != nil {
		e.i(max(t.Size, int64(len(t.Data))))
		e.i(t.Taken.UnixNano())
		e.s(t.Reason)
		if parts&recSnapshot != 0 {
			e.raw(t.Snapshot[:])
		}
	}
	return e.b
}

// appendAttrs appends attrs to b. It takes and returns the bytes, not an
// *enc, so that the encoder's enc stays in registers.
func appendAttrs(b []byte, attrs []recording.Attr) []byte {
	e := enc{b: b}
	e.n(len(attrs))
	for _, a := range attrs {
		e.s(a.Key)
		e.s(a.Value)
	}
	return e.b
}

// decodeAttrs reads what appendAttrs wrote or, if tab is set, a call's
// attributes (read with d.t).
func decodeAttrs(d *dec, tab bool) []recording.Attr {
	n := d.n(2)
	if n == 0 {
		return nil
	}
	out := make([]recording.Attr, n)
	for i := range out {
		if tab {
			out[i] = recording.Attr{Key: d.t(), Value: d.t()}
		} else {
			out[i] = recording.Attr{Key: d.hs(), Value: d.hs()}
		}
	}
	return out
}

// maxCopiedFrames is how many frames [DecodeRecord] copies from calls'
// stacks to the next calls' (which write only how many they share) in a
// record of n bytes: the memory of a decoded record is linear in its
// bytes. A recorder's stacks have at most 32 frames from the PCs it
// captures (a few more where calls were inlined), and a call that adds a
// frame of its own takes at least 23 bytes: 4 frames a byte are more than
// its records copy, and the first 64 Ki frames (2.5 MiB) are free.
func maxCopiedFrames(n int) int { return 1<<16 + 4*n }

// DecodeRecord decodes what AppendRecord wrote. Corrupt or foreign input
// gives an error wrapping [store.ErrCorrupt], never a panic.
//
// A call whose stack adds no frame to the previous call's outer frames
// shares their memory (as the recorder's calls made from one place share
// their stack), its capacity ending with its length so that an append
// copies. A record that would copy more frames from calls to the next
// than [maxCopiedFrames] allows for its size is refused as corrupt: its
// decoded stacks would take memory in the square of its size. AppendRecord
// never writes one: past the bound it writes a call's stack whole.
func DecodeRecord(b []byte) (*recording.Record, error) {
	d := newDec(b, true)
	v := d.header(tagRecord, latestRecord)
	d.v3 = v >= codecV3
	r := new(recording.Record)
	d.recordHead(r, true)
	if n := d.n(20); n > 0 {
		r.Calls = make([]recording.Call, n)
		if d.v3 {
			d.strs = make([]string, 0, min(maxShared, 8+4*n))
		}
	}
	var prev []recording.Frame
	lastFile := ""
	copied := 0 // frames copied from previous calls' stacks
	for i := range r.Calls {
		c := &r.Calls[i]
		c.Service = d.t()
		c.Method = d.t()
		c.Start = d.d()
		c.Duration = d.d()
		c.Error = d.t()
		c.RequestSize = d.i()
		c.ResponseSize = d.i()
		c.Request = d.t()
		c.Response = d.t()
		shared, fresh := d.u(), 0
		if v >= codecV4 && shared&1 != 0 {
			// An earlier call's stack (see codecV4): read as a stack
			// that shares all its frames with it.
			prev, shared = d.earlierStack(r.Calls[:i], shared>>1+1)
		} else {
			if v >= codecV4 {
				shared >>= 1
			}
			fresh = d.n(3)
		}
		if shared > uint64(len(prev)) {
			d.fail(errors.New("stack shares more frames than the previous call has"))
		}
		if d.err != nil {
			break
		}
		if fresh == 0 {
			// The previous call's outer frames, shared: the call's
			// stack costs no memory, however long. Its capacity ends
			// with it, so an append copies.
			if shared > 0 {
				c.Stack = prev[len(prev)-int(shared) : len(prev) : len(prev)]
			}
			prev = c.Stack
		} else {
			// Frames of the previous call copied under fresh ones cost
			// no input: bounded, or a crafted record of n bytes would
			// take memory in n².
			if copied += int(shared); copied > maxCopiedFrames(len(b)) {
				d.fail(errors.New("stacks repeat more frames than the record's size allows"))
				break
			}
			c.Stack = make([]recording.Frame, fresh+int(shared))
		}
		for j := range fresh {
			f := &c.Stack[j]
			if d.v3 {
				f.Function, f.File, f.Line = d.t(), d.t(), d.int()
				continue
			}
			f.Function = d.s()
			switch l := d.u(); {
			case l == 0:
				f.File = lastFile
			case l-1 > uint64(len(d.b)-d.p):
				d.fail(errShort)
			default:
				f.File = d.str[d.p : d.p+int(l-1)]
				d.p += int(l - 1)
				lastFile = f.File
			}
			f.Line = d.int()
		}
		if fresh > 0 {
			copy(c.Stack[fresh:], prev[len(prev)-int(shared):])
			prev = c.Stack
		}
		if n := d.n(3); n > 0 {
			c.Phases = make([]recording.Phase, n)
			for j := range c.Phases {
				c.Phases[j] = recording.Phase{Name: d.t(), Start: d.d(), Duration: d.d()}
			}
		}
		c.Attrs = decodeAttrs(d, true)
		d.callIDs(c)
	}
	d.recordTail(r, v)
	if err := d.done("record"); err != nil {
		return nil, err
	}
	return r, nil
}

// recordHead reads the start of a record, up to its number of calls
// (which it leaves), as appendRecordHead wrote it; its headers are
// passed over unless headers is set.
func (d *dec) recordHead(r *recording.Record, headers bool) {
	d.raw(r.ID[:])
	d.raw(r.TraceID[:])
	d.raw(r.SpanID[:])
	d.raw(r.ParentSpanID[:])
	r.Kind = recording.Kind(d.u())
	r.Start = time.Unix(0, d.i())
	r.Duration = d.d()
	r.Method = d.hs()
	r.Path = d.hs()
	r.Route = d.hs()
	r.Query = d.hs()
	r.Status = d.int()
	r.RequestBytes = d.i()
	r.ResponseBytes = d.i()
	r.User = d.hs()
	if !headers {
		for n := d.n(2); n > 0 && d.err == nil; n-- {
			d.hskip()
			for m := d.n(1); m > 0 && d.err == nil; m-- {
				d.hskip()
			}
		}
	} else if n := d.n(2); n > 0 {
		r.Headers = make(map[string][]string, n)
		for range n {
			k := d.hs()
			vs := make([]string, d.n(1))
			for j := range vs {
				vs[j] = d.hs()
			}
			r.Headers[k] = vs
		}
	}
	r.Remote = d.hs()
	r.Instance = d.hs()
	r.Overhead = d.d()
	r.Error = d.hs()
	r.Panic = d.hs()
}

// recordTail reads the end of a record of version v after its calls:
// its dropped calls, warnings, attributes and optional parts.
func (d *dec) recordTail(r *recording.Record, v byte) {
	r.DroppedCalls = d.int()
	if n := d.n(7); n > 0 {
		r.Warnings = make([]recording.Warning, n)
		for i := range r.Warnings {
			w := &r.Warnings[i]
			w.Kind = d.t()
			w.Service = d.t()
			w.Method = d.t()
			w.Request = d.t()
			w.Count = d.int()
			w.Total = d.d()
			w.Message = d.t()
		}
	}
	r.Attrs = decodeAttrs(d, false)
	if v >= codecV2 {
		parts := d.u()
		if parts&^recKnown != 0 {
			d.fail(fmt.Errorf("unknown record parts %#x", parts))
		}
		if parts&recCallCosts != 0 {
			for i := range r.Calls {
				r.Calls[i].Cost = d.f()
			}
		}
		if parts&recExecTrace != 0 {
			r.ExecTrace = &recording.ExecTrace{Size: d.i(), Taken: time.Unix(0, d.i()), Reason: d.s()}
			if parts&recSnapshot != 0 {
				d.raw(r.ExecTrace.Snapshot[:])
			}
		} else if parts&recSnapshot != 0 {
			d.fail(errors.New("a snapshot ID without an execution trace"))
		}
	}
}

// memHeader checks that d's bytes start as a record of the memory
// version (see codecMem), and moves past its tag and version.
func (d *dec) memHeader() {
	switch b := d.b; {
	case len(b) >= 2 && b[0] == tagRecord && b[1] == codecMem1:
		d.fail(fmt.Errorf("a record in the memory version's first form (%#x), which is no longer read", codecMem1))
	case d.dict:
		if len(b) < 2 || b[0] != tagRecord || b[1] != codecMemDict {
			d.fail(errors.New("not a record written against a dictionary"))
		}
	case !RecordWithoutStacks(b):
		d.fail(errors.New("not a record without stacks"))
	}
	d.p = min(2, len(d.b))
}

// DecodeRecordWithoutStacks decodes what [AppendRecordWithoutStacks]
// wrote: a record whose calls have no stacks. Corrupt input gives an
// error wrapping [store.ErrCorrupt], never a panic. A call whose
// attributes were the previous call's shares their memory, its capacity
// ending with its length so that an append copies.
func DecodeRecordWithoutStacks(b []byte) (*recording.Record, error) {
	return decodeRecordMem(newDec(b, true))
}

// decodeRecordMem decodes a record of the memory version from d.
func decodeRecordMem(d *dec) (*recording.Record, error) {
	d.memHeader()
	r := new(recording.Record)
	d.recordHead(r, true)
	// A call takes at least its mask, its four words, its span ID and
	// its flags.
	if n := d.n(1 + 32 + 8 + 1); n > 0 {
		r.Calls = make([]recording.Call, n)
	}
	var none recording.Call
	p := &none // the previous call
	for i := range r.Calls {
		c := &r.Calls[i]
		if len(d.b)-d.p < 33 {
			d.fail(errShort)
			break
		}
		m := d.b[d.p]
		c.Start = time.Duration(binary.LittleEndian.Uint64(d.b[d.p+1:]))
		c.Duration = time.Duration(binary.LittleEndian.Uint64(d.b[d.p+9:]))
		c.RequestSize = int64(binary.LittleEndian.Uint64(d.b[d.p+17:]))
		c.ResponseSize = int64(binary.LittleEndian.Uint64(d.b[d.p+25:]))
		d.p += 33
		c.Service = d.sOr(m&memService != 0, p.Service)
		c.Method = d.sOr(m&memMethod != 0, p.Method)
		c.Error = d.sOr(m&memError != 0, p.Error)
		c.Request = d.sOr(m&memRequest != 0, p.Request)
		c.Response = d.sOr(m&memResponse != 0, p.Response)
		switch {
		case m&memPhaseNames != 0:
			if !d.phaseNames(m, len(p.Phases)) {
				break
			}
			c.Phases = make([]recording.Phase, len(p.Phases))
			for j := range c.Phases {
				c.Phases[j] = recording.Phase{Name: p.Phases[j].Name, Start: d.d(), Duration: d.d()}
			}
		case m&memPhases != 0:
			if n := d.n(3); n > 0 {
				c.Phases = make([]recording.Phase, n)
				for j := range c.Phases {
					c.Phases[j] = recording.Phase{Name: d.s(), Start: d.d(), Duration: d.d()}
				}
			}
		}
		if m&memAttrs != 0 {
			c.Attrs = p.Attrs
		} else {
			c.Attrs = decodeCallAttrs(d, p.Attrs, c.Request)
		}
		d.callIDs(c)
		if d.err != nil {
			break
		}
		p = c
	}
	d.recordTail(r, codecV2)
	if err := d.done("record"); err != nil {
		return nil, err
	}
	return r, nil
}

// SummaryWithoutStacks returns the summary of the record that
// [AppendRecordWithoutStacks] wrote to b, as [recording.Record.Summary]
// gives it, without decoding the rest of the record: for a reader of
// records held in memory that lists their summaries (badgerstore's
// ring), which is cheaper than writing each record's summary beside it.
// Corrupt input gives an error wrapping [store.ErrCorrupt], never a
// panic. The summary's strings share one copy of b.
func SummaryWithoutStacks(b []byte) (recording.Summary, error) {
	return summaryMem(newDec(b, true))
}

// summaryMem returns the summary of the record of the memory version in
// d.
func summaryMem(d *dec) (recording.Summary, error) {
	d.memHeader()
	var r recording.Record
	d.recordHead(&r, false)
	s := summaryHead(&r, nil)
	n := d.n(1 + 32 + 8 + 1)
	// Each call's RPC (-1: an event), for the costs at the end.
	var small [64]int32
	of := small[:0]
	if n > len(small) {
		of = make([]int32, 0, n)
	}
	// The RPCs as recording.Record.AppendRPCStats finds them: the
	// previous call's first, then the others in order, by a map once
	// there are many.
	var idx map[[2]string]int
	var service, method, callErr string // the previous call's
	nattrs := 0                         // the previous call's attributes
	nphases := 0                        // and phases
	reqLen := 0                         // and its request's length
	j := -1
	for range n {
		if len(d.b)-d.p < 33 {
			d.fail(errShort)
			break
		}
		m := d.b[d.p]
		dur := time.Duration(binary.LittleEndian.Uint64(d.b[d.p+9:]))
		d.p += 33
		service = d.sOr(m&memService != 0, service)
		method = d.sOr(m&memMethod != 0, method)
		callErr = d.sOr(m&memError != 0, callErr)
		if m&memRequest == 0 {
			reqLen = d.n(1)
			d.p += reqLen
		}
		if m&memResponse == 0 {
			d.skip()
		}
		switch {
		case m&memPhaseNames != 0:
			if d.phaseNames(m, nphases) {
				for k := nphases; k > 0 && d.err == nil; k-- {
					d.i()
					d.i()
				}
			}
		case m&memPhases != 0:
			nphases = 0
			for k := d.n(3); k > 0 && d.err == nil; k-- {
				d.skip()
				d.i()
				d.i()
				nphases++
			}
		default:
			nphases = 0
		}
		if m&memAttrs == 0 {
			nattrs = d.skipCallAttrs(nattrs, reqLen)
		}
		if len(d.b)-d.p < 8 {
			d.fail(errShort)
			break
		}
		d.p += 8 // the span ID
		flags := d.u()
		if flags&4 != 0 {
			if len(d.b)-d.p < 8 {
				d.fail(errShort)
				break
			}
			d.p += 8
		}
		if flags&^7 != 0 {
			d.fail(fmt.Errorf("unknown call flags %#x", flags))
		}
		if d.err != nil {
			break
		}
		if flags&2 != 0 { // an event
			of = append(of, -1)
			continue
		}
		if j < 0 || s.RPCs[j].Service != service || s.RPCs[j].Method != method {
			j = -1
			if idx != nil {
				if k, ok := idx[[2]string{service, method}]; ok {
					j = k
				}
			} else {
				for k := range s.RPCs {
					if s.RPCs[k].Service == service && s.RPCs[k].Method == method {
						j = k
						break
					}
				}
			}
			if j < 0 {
				j = len(s.RPCs)
				s.RPCs = append(s.RPCs, recording.RPCStat{Service: service, Method: method})
				if idx == nil && len(s.RPCs) > 16 {
					idx = make(map[[2]string]int, 2*len(s.RPCs))
					for k := range s.RPCs {
						idx[[2]string{s.RPCs[k].Service, s.RPCs[k].Method}] = k
					}
				} else if idx != nil {
					idx[[2]string{service, method}] = j
				}
			}
		}
		st := &s.RPCs[j]
		st.Count++
		st.Total += dur
		s.CallCount++
		if callErr != "" {
			st.Errors++
			s.ErrorCalls++
		}
		of = append(of, int32(j))
	}
	s.DroppedCalls = d.int()
	s.Warnings = d.n(7)
	for k := s.Warnings; k > 0 && d.err == nil; k-- {
		d.skip()
		d.skip()
		d.skip()
		d.skip()
		d.i()
		d.i()
		d.skip()
	}
	for k := d.n(2); k > 0 && d.err == nil; k-- { // the record's attributes
		d.hskip()
		d.hskip()
	}
	parts := d.u()
	if parts&^recKnown != 0 {
		d.fail(fmt.Errorf("unknown record parts %#x", parts))
	}
	if parts&recCallCosts != 0 && d.err == nil {
		// In the calls' order, as AppendRPCStats adds them.
		for _, k := range of {
			if c := d.f(); k >= 0 {
				s.RPCs[k].Cost += c
			}
		}
	}
	if parts&recExecTrace != 0 {
		d.i()
		d.i()
		d.skip()
		if parts&recSnapshot != 0 {
			var id recording.ID
			d.raw(id[:])
		}
	}
	if err := d.done("record"); err != nil {
		return recording.Summary{}, err
	}
	return s, nil
}

// phaseNames reports whether a call's mask m, with memPhaseNames set,
// may name its phases as the previous call's, which had prev phases:
// memPhases must be set and prev not 0. It fails d otherwise.
func (d *dec) phaseNames(m byte, prev int) bool {
	if m&memPhases == 0 || prev == 0 {
		d.fail(fmt.Errorf("call mask %#x names the phases of a call of %d phases", m, prev))
		return false
	}
	return d.err == nil
}

// sOr returns prev if same is set, else the string read.
func (d *dec) sOr(same bool, prev string) string {
	if same {
		return prev
	}
	return d.s()
}

// earlierStack returns the stack of the call back calls before the end
// of calls, and its length, for a version 4 record's call whose stack it
// is; nil and 0 after an error.
func (d *dec) earlierStack(calls []recording.Call, back uint64) ([]recording.Frame, uint64) {
	if back > uint64(len(calls)) {
		d.fail(errors.New("stack of a call before the first"))
		return nil, 0
	}
	st := calls[len(calls)-int(back)].Stack
	return st, uint64(len(st))
}

// SummaryTraceID returns the trace ID of an encoded summary without
// decoding the rest, for scans that look for one trace; ok is false for
// bytes that are not a summary of a version this package reads (the
// record and trace IDs lead every version).
func SummaryTraceID(b []byte) (id recording.TraceID, ok bool) {
	const at = 2 + len(recording.ID{}) // tag, version, record ID
	if len(b) < at+len(id) || b[0] != tagSummary || b[1] < codecV1 || b[1] > codecV2 {
		return id, false
	}
	copy(id[:], b[at:])
	return id, true
}

// AppendExecTrace appends the stored form of an execution trace's data
// (its metadata is in the record).
func AppendExecTrace(b, data []byte) []byte {
	return append(append(b, tagExecTrace, codecV1), data...)
}

// DecodeExecTrace returns the trace data in what AppendExecTrace wrote,
// sharing b's memory.
func DecodeExecTrace(b []byte) ([]byte, error) {
	d := newDec(b, false)
	d.header(tagExecTrace, latestExecTrace)
	if d.err != nil {
		return nil, d.done("execution trace")
	}
	return b[2:], nil
}

// AppendSummary appends the summary encoding: recording.Summary's fields,
// and for each RPC the durations of its calls (durs, grouped in the order
// of s.RPCs as CallDurations makes them), so that
// partial time buckets can be aggregated exactly from summaries alone.
func AppendSummary(b []byte, s *recording.Summary, durs []time.Duration) []byte {
	e := enc{b: append(b, tagSummary, codecV2)}
	e.raw(s.ID[:])
	e.raw(s.TraceID[:])
	e.u(uint64(s.Kind))
	e.i(s.Start.UnixNano())
	e.d(s.Duration)
	e.s(s.Method)
	e.s(s.Path)
	e.s(s.Route)
	e.s(s.Query)
	e.i(int64(s.Status))
	e.i(s.RequestBytes)
	e.i(s.ResponseBytes)
	e.s(s.User)
	e.s(s.Instance)
	e.d(s.Overhead)
	e.s(s.Error)
	e.s(s.Panic)
	e.i(int64(s.CallCount))
	e.i(int64(s.ErrorCalls))
	e.i(int64(s.DroppedCalls))
	e.i(int64(s.Warnings))
	e.n(len(s.RPCs))
	for _, rpc := range s.RPCs {
		e.s(rpc.Service)
		e.s(rpc.Method)
		e.i(int64(rpc.Count))
		e.i(int64(rpc.Errors))
		e.d(rpc.Total)
		n := min(rpc.Count, len(durs))
		e.n(n)
		e.b = appendTimes(e.b, durs[:n]...)
		durs = durs[n:]
		e.f(rpc.Cost)
	}
	return e.b
}

// An Overall is what a summary adds to a rollup's overall group and
// histogram ([Rollup.AddOverall]).
type Overall struct {
	Duration time.Duration
	Failed   bool // recording.Summary.HasError
	Calls    int
	Cost     float64 // of the calls
}

// DecodeOverall decodes the part of what AppendSummary wrote that
// [Rollup.AddOverall] needs, skipping the texts without copying them: the
// time series over sub-minute steps reads every summary of their minutes,
// and a minute can hold a flood of records with long paths.
func DecodeOverall(b []byte) (Overall, error) {
	d := newDec(b, false)
	v := d.header(tagSummary, latestSummary)
	var id [16]byte
	d.raw(id[:]) // ID
	d.raw(id[:]) // TraceID
	kind := recording.Kind(d.u())
	d.i() // Start
	o := Overall{Duration: d.d()}
	d.skip() // Method
	d.skip() // Path
	d.skip() // Route
	d.skip() // Query
	status := d.int()
	d.i()    // RequestBytes
	d.i()    // ResponseBytes
	d.skip() // User
	d.skip() // Instance
	d.d()    // Overhead
	hasErr := d.skip()
	hasPanic := d.skip()
	o.Calls = d.int()
	d.int()            // ErrorCalls
	d.int()            // DroppedCalls
	d.int()            // Warnings
	for range d.n(6) { // RPCs: checked, not kept
		d.skip()
		d.skip()
		count := d.int()
		d.int()
		d.d()
		if n := d.n(1); n != count {
			d.fail(errors.New("call durations do not match the count"))
		}
		for range count {
			d.d()
		}
		if v >= codecV2 {
			o.Cost += d.f()
		}
	}
	if err := d.done("summary"); err != nil {
		return Overall{}, err
	}
	s := recording.Summary{Kind: kind, Status: status}
	o.Failed = hasErr || hasPanic || s.HasError()
	return o, nil
}

// DecodeSummary decodes what AppendSummary wrote. If durs is not nil, the
// per-RPC call durations are appended to it (flattened, in RPC order; the
// counts are the RPCs' Count fields); otherwise they are skipped.
func DecodeSummary(b []byte, durs *[]time.Duration) (recording.Summary, error) {
	d := newDec(b, true)
	ver := d.header(tagSummary, latestSummary)
	var s recording.Summary
	d.raw(s.ID[:])
	d.raw(s.TraceID[:])
	s.Kind = recording.Kind(d.u())
	s.Start = time.Unix(0, d.i())
	s.Duration = d.d()
	s.Method = d.s()
	s.Path = d.s()
	s.Route = d.s()
	s.Query = d.s()
	s.Status = d.int()
	s.RequestBytes = d.i()
	s.ResponseBytes = d.i()
	s.User = d.s()
	s.Instance = d.s()
	s.Overhead = d.d()
	s.Error = d.s()
	s.Panic = d.s()
	s.CallCount = d.int()
	s.ErrorCalls = d.int()
	s.DroppedCalls = d.int()
	s.Warnings = d.int()
	if n := d.n(6); n > 0 {
		s.RPCs = make([]recording.RPCStat, n)
	}
	for i := range s.RPCs {
		rpc := &s.RPCs[i]
		rpc.Service = d.s()
		rpc.Method = d.s()
		rpc.Count = d.int()
		rpc.Errors = d.int()
		rpc.Total = d.d()
		n := d.n(1)
		if n != rpc.Count {
			d.fail(errors.New("call durations do not match the count"))
		}
		for range n {
			v := d.d()
			if durs != nil {
				*durs = append(*durs, v)
			}
		}
		if ver >= codecV2 {
			rpc.Cost = d.f()
		}
	}
	if err := d.done("summary"); err != nil {
		return recording.Summary{}, err
	}
	return s, nil
}
