package codec

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"runtime"
	"slices"
	"unsafe"

	"github.com/goappstats/appstats/internal/headermap"
	"github.com/goappstats/appstats/recording"
)

// codecMemDict is the memory version (see codecMem) written against a
// MemDict by AppendRecordWithoutStacksDict: the same bytes but for the
// strings of the record's head (its method, path, route, query, user,
// headers' names and values, remote, instance, error and panic) and of
// its attributes, each written as put writes it: an empty string as
// 0; a string the dictionary holds as an odd uvarint, its index doubled
// plus one; any other as its length doubled, then its bytes. Never
// stored, as codecMem is not.
const codecMemDict = 0x82

// The default bounds of a MemDict: strings, and their bytes.
const (
	defaultDictStrings = 1 << 12
	defaultDictBytes   = 64 << 10
)

// A MemDict is a dictionary of strings that the records a writer keeps
// in memory ([AppendRecordWithoutStacksDict]) refer to by index rather
// than copy: the route, the instance, the headers' names, the
// attributes' keys and constant values come back record after record as
// the same strings (one data pointer and length); a net/http server's
// method, path and user agent come back as the same bytes in a string
// made afresh. A string goes into the dictionary the second time running
// that one field of a record (the route, the second header's name, the
// first attribute's value) is that very string, found by its two words,
// or, if it has at most 24 bytes, a string of the same bytes, found by
// comparing them when the two words differ but the length does not
// (inline by word loads on architectures that load words unaligned:
// amd64, arm64, 386, ppc64le, s390x; by the language's comparison, a
// call, elsewhere); a longer string is matched by its two words only. In
// real traffic the match by bytes mostly finds the method and short
// paths: a browser's user agent is longer than 24 bytes, and written in
// full each record when made afresh (a short one, as Go's client's, is
// matched). A string that is another each record (a remote address of
// several connections in turn) is never put in it, and costs a
// comparison and the two words' store. The strings are the records' own
// (which the recorder never changes: see [recording.Borrower]), held,
// not copied; a string matched by its bytes is written as the field's
// last string, the one the dictionary holds.
//
// The dictionary is only added to, up to MaxStrings strings or MaxBytes
// bytes (Full); a writer then starts another. A record written against
// it is read with its strings (Strings) as they were once it was
// written, or any later: the writer keeps the dictionary while it keeps
// any record written against it. The zero MemDict is empty, with the
// default bounds. It is not safe for concurrent use: a reader takes the
// strings from the writer under the writer's lock (Strings returns a
// slice whose elements never change).
type MemDict struct {
	// MaxStrings and MaxBytes bound the dictionary (0: 4,096 strings,
	// 64 KiB).
	MaxStrings, MaxBytes int

	strs  []string
	bytes int
	memos [memoFields]dictMemo
}

// A dictMemo is the string last written in one field of a record, and
// its code in the dictionary (its index doubled plus one), or 0 if it
// is not in it (seen once).
type dictMemo struct {
	s    string
	code uint64
	one  byte // code if it takes one byte (under 0x80), else 0
}

// The fields of a record that have a memo: the head's nine strings,
// then the first eight headers' names and first values (in the order
// appendHeaders writes them), then the first eight attributes' keys and
// values.
const (
	memoMethod = iota
	memoPath
	memoRoute
	memoQuery
	memoUser
	memoRemote
	memoInstance
	memoError
	memoPanic
	memoHeaders
	memoAttrs  = memoHeaders + 2*8
	memoFields = memoAttrs + 2*8
)

// Strings returns the dictionary's strings, by index. The slice's
// elements are never changed: later strings go past its length.
func (m *MemDict) Strings() []string { return m.strs[:len(m.strs):len(m.strs)] }

// Len returns the number of strings the dictionary holds.
func (m *MemDict) Len() int { return len(m.strs) }

// Full reports whether the dictionary has reached one of its bounds: no
// string is added to it any more.
func (m *MemDict) Full() bool {
	return len(m.strs) >= m.maxStrings() || m.bytes >= m.maxBytes()
}

func (m *MemDict) maxStrings() int {
	if m.MaxStrings > 0 {
		return m.MaxStrings
	}
	return defaultDictStrings
}

func (m *MemDict) maxBytes() int {
	if m.MaxBytes > 0 {
		return m.MaxBytes
	}
	return defaultDictBytes
}

// add puts v in the dictionary and returns its code, or 0 if it is full.
func (m *MemDict) add(v string) uint64 {
	if m.Full() {
		return 0
	}
	m.strs = append(m.strs, v)
	m.bytes += len(v)
	return uint64(len(m.strs)-1)<<1 | 1
}

// A string of a field is written as codecMemDict writes it (see there)
// inline in its two common cases: when code1 finds its byte (the empty
// string, or the string the field had last if it has one of the
// dictionary's first 64 indexes: most of a record's strings, once a few
// records have put them in the dictionary), when it is neither the
// string the field had last nor of its bytes (another string each
// request: its memo is set and it is written in full, appendFull), and
// when it has that string's bytes in another string (made afresh each
// request) whose code takes a byte. put writes the rest. A call a
// string, even one that only appends a byte, cost ~50 instructions, more
// than the copy it saves (docs/BENCHMARKS.md, thirty-third round).

// code1 returns the byte that writes v, the string of the field whose
// memo is o, if one does and is known without a call: 0 for the empty
// string, or the field's code in the dictionary if it had that very
// string last and its index is under 64. Else ok is false: the writers
// then compare the bytes of a string of the field's last length
// (sameBytes8, sameBytes24), and write one of the same bytes as that
// string.
func (o *dictMemo) code1(v string) (c byte, ok bool) {
	if len(v) == 0 {
		return 0, true
	}
	return o.one, o.one != 0 && len(v) == len(o.s) && unsafe.StringData(v) == unsafe.StringData(o.s)
}

// unalignedLoads is whether the architecture loads a word from any
// address (sameBytes8 and sameBytes24 load words at a string's bytes,
// wherever they are); elsewhere those two compare as the language does,
// sameBytes24 still false past 24 bytes.
const unalignedLoads = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" ||
	runtime.GOARCH == "386" || runtime.GOARCH == "ppc64le" || runtime.GOARCH == "s390x"

// sameBytes8 reports whether a and b, of the same length of 1 to 8
// bytes, hold the same bytes, by two overlapping loads of each (one of a
// byte); sameBytes24 the same for 9 to 24 bytes, by three overlapping
// loads of eight bytes, and false for longer strings. Both are inlined:
// the runtime's comparison, a call, cost more than the copy of the
// string it would save (docs/BENCHMARKS.md, thirty-fourth round).
// Neither reads a byte past either string's.
func sameBytes8(a, b string) bool {
	if !unalignedLoads {
		return a == b
	}
	p, q, n := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b)), len(a)
	if n >= 4 {
		return *(*uint32)(p) == *(*uint32)(q) && *(*uint32)(unsafe.Add(p, n-4)) == *(*uint32)(unsafe.Add(q, n-4))
	}
	if n >= 2 {
		return *(*uint16)(p) == *(*uint16)(q) && *(*uint16)(unsafe.Add(p, n-2)) == *(*uint16)(unsafe.Add(q, n-2))
	}
	return *(*byte)(p) == *(*byte)(q)
}

func sameBytes24(a, b string) bool {
	if !unalignedLoads {
		return len(a) <= 24 && a == b
	}
	p, q, n := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b)), len(a)
	return n <= 24 && *(*uint64)(p) == *(*uint64)(q) &&
		*(*uint64)(unsafe.Add(p, n/2-4)) == *(*uint64)(unsafe.Add(q, n/2-4)) &&
		*(*uint64)(unsafe.Add(p, n-8)) == *(*uint64)(unsafe.Add(q, n-8))
}

// put appends v, the string of the field whose memo is o, which the
// field had last or a string of the same bytes (the writers check that
// first, and write any other string in full themselves) and code1 found
// no byte for: its dictionary's code, which puts it in the dictionary
// the second time running, or in full if the dictionary is full. v is
// not empty (code1 writes the empty string).
func (m *MemDict) put(b []byte, o *dictMemo, v string) []byte {
	if o.code == 0 {
		if o.code = m.add(v); o.code < 0x80 {
			o.one = byte(o.code)
		}
		if o.code == 0 { // the dictionary is full
			return appendFull(b, v)
		}
	}
	return binary.AppendUvarint(b, o.code)
}

// AppendRecordWithoutStacksDict appends r's encoding as
// [AppendRecordWithoutStacks] does, but for the strings of its head and
// of its attributes, which are written against m (see [MemDict]): a
// string m holds as its index. [DecodeRecordWithoutStacksDict] and
// [SummaryWithoutStacksDict] read it, given m's strings; the others do
// not. It may add strings of r to m.
func AppendRecordWithoutStacksDict(b []byte, r *recording.Record, m *MemDict) []byte {
	b = appendRecordHeadDict(b, r, m)
	if len(r.Calls) > 0 {
		b = appendMemCalls(b, r)
	}
	return appendRecordEndDict(b, r, m)
}

// appendRecordEndDict is appendRecordEnd in codecMemDict: its warnings
// in full, its attributes written against m.
func appendRecordEndDict(b []byte, r *recording.Record, m *MemDict) []byte {
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
	return appendRecordParts(appendAttrsDict(e.b, r.Attrs, m), r)
}

// appendRecordHeadDict is appendRecordHead in codecMemDict, its strings
// written against m.
func appendRecordHeadDict(b []byte, r *recording.Record, m *MemDict) []byte {
	// The tag, the version and the four IDs, as appendRecordHead writes
	// them: copied, since a function both call is not inlined (cost 117,
	// over the budget of 80) and costs 27 instructions a hello record in
	// the ring (callgrind, thirty-third round's final read).
	n := len(b)
	if cap(b)-n < recordHeadIDs {
		b = slices.Grow(b, recordHeadIDs)
	}
	b = b[:n+recordHeadIDs]
	w := (*[recordHeadIDs]byte)(b[n:])
	w[0], w[1] = tagRecord, codecMemDict
	*(*recording.ID)(w[2:18]) = r.ID
	*(*recording.TraceID)(w[18:34]) = r.TraceID
	*(*recording.SpanID)(w[34:42]) = r.SpanID
	*(*recording.SpanID)(w[42:50]) = r.ParentSpanID
	e := enc{b: b}
	e.u(uint64(r.Kind))
	e.b = appendStart(e.b, r.Start.UnixNano(), r.Duration)
	if c, ok := m.memos[memoMethod].code1(r.Method); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoMethod]; len(r.Method) != len(o.s) || !sameData(&r.Method, &o.s) && !(len(r.Method) <= 8 && sameBytes8(r.Method, o.s) || len(r.Method) > 8 && sameBytes24(r.Method, o.s)) {
		o.s, o.code, o.one = r.Method, 0, 0
		e.b = appendFull(e.b, r.Method)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Method)
	}
	if c, ok := m.memos[memoPath].code1(r.Path); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoPath]; len(r.Path) != len(o.s) || !sameData(&r.Path, &o.s) && !(len(r.Path) <= 8 && sameBytes8(r.Path, o.s) || len(r.Path) > 8 && sameBytes24(r.Path, o.s)) {
		o.s, o.code, o.one = r.Path, 0, 0
		e.b = appendFull(e.b, r.Path)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Path)
	}
	if c, ok := m.memos[memoRoute].code1(r.Route); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoRoute]; len(r.Route) != len(o.s) || !sameData(&r.Route, &o.s) && !(len(r.Route) <= 8 && sameBytes8(r.Route, o.s) || len(r.Route) > 8 && sameBytes24(r.Route, o.s)) {
		o.s, o.code, o.one = r.Route, 0, 0
		e.b = appendFull(e.b, r.Route)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Route)
	}
	if c, ok := m.memos[memoQuery].code1(r.Query); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoQuery]; len(r.Query) != len(o.s) || !sameData(&r.Query, &o.s) && !(len(r.Query) <= 8 && sameBytes8(r.Query, o.s) || len(r.Query) > 8 && sameBytes24(r.Query, o.s)) {
		o.s, o.code, o.one = r.Query, 0, 0
		e.b = appendFull(e.b, r.Query)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Query)
	}
	e.i(int64(r.Status))
	e.i(r.RequestBytes)
	e.i(r.ResponseBytes)
	if c, ok := m.memos[memoUser].code1(r.User); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoUser]; len(r.User) != len(o.s) || !sameData(&r.User, &o.s) && !(len(r.User) <= 8 && sameBytes8(r.User, o.s) || len(r.User) > 8 && sameBytes24(r.User, o.s)) {
		o.s, o.code, o.one = r.User, 0, 0
		e.b = appendFull(e.b, r.User)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.User)
	}
	e.b = appendHeadersDict(e.b, r.Headers, m)
	if c, ok := m.memos[memoRemote].code1(r.Remote); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoRemote]; len(r.Remote) != len(o.s) || !sameData(&r.Remote, &o.s) && !(len(r.Remote) <= 8 && sameBytes8(r.Remote, o.s) || len(r.Remote) > 8 && sameBytes24(r.Remote, o.s)) {
		o.s, o.code, o.one = r.Remote, 0, 0
		e.b = appendFull(e.b, r.Remote)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Remote)
	}
	if c, ok := m.memos[memoInstance].code1(r.Instance); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoInstance]; len(r.Instance) != len(o.s) || !sameData(&r.Instance, &o.s) && !(len(r.Instance) <= 8 && sameBytes8(r.Instance, o.s) || len(r.Instance) > 8 && sameBytes24(r.Instance, o.s)) {
		o.s, o.code, o.one = r.Instance, 0, 0
		e.b = appendFull(e.b, r.Instance)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Instance)
	}
	e.b = appendTime(e.b, r.Overhead)
	if c, ok := m.memos[memoError].code1(r.Error); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoError]; len(r.Error) != len(o.s) || !sameData(&r.Error, &o.s) && !(len(r.Error) <= 8 && sameBytes8(r.Error, o.s) || len(r.Error) > 8 && sameBytes24(r.Error, o.s)) {
		o.s, o.code, o.one = r.Error, 0, 0
		e.b = appendFull(e.b, r.Error)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Error)
	}
	if c, ok := m.memos[memoPanic].code1(r.Panic); ok {
		e.b = append(e.b, c)
	} else if o := &m.memos[memoPanic]; len(r.Panic) != len(o.s) || !sameData(&r.Panic, &o.s) && !(len(r.Panic) <= 8 && sameBytes8(r.Panic, o.s) || len(r.Panic) > 8 && sameBytes24(r.Panic, o.s)) {
		o.s, o.code, o.one = r.Panic, 0, 0
		e.b = appendFull(e.b, r.Panic)
	} else if o.one != 0 { // the same bytes, another string
		e.b = append(e.b, o.one)
	} else {
		e.b = m.put(e.b, o, r.Panic)
	}
	e.n(len(r.Calls))
	return e.b
}

// appendHeadersDict appends h as appendHeaders does, its strings written
// against m: each of the first eight names and its first value with a
// memo of its own. A map appendHeaders walks (larger, or being written)
// is written in full.
func appendHeadersDict(b []byte, h map[string][]string, m *MemDict) []byte {
	g := headermap.Small(h)
	e := enc{b: b}
	if g == nil {
		e.n(len(h))
		for k, vs := range h {
			e.b = appendFull(e.b, k)
			e.n(len(vs))
			for _, v := range vs {
				e.b = appendFull(e.b, v)
			}
		}
		return e.b
	}
	e.n(len(h))
	f := memoHeaders
	for full := g.Used(); full != 0; full &= full - 1 {
		s := &g.Slots[bits.TrailingZeros64(full)>>3]
		if c, ok := m.memos[f].code1(s.Key); ok {
			e.b = append(e.b, c)
		} else if o := &m.memos[f]; len(s.Key) != len(o.s) || !sameData(&s.Key, &o.s) && !(len(s.Key) <= 8 && sameBytes8(s.Key, o.s) || len(s.Key) > 8 && sameBytes24(s.Key, o.s)) {
			o.s, o.code, o.one = s.Key, 0, 0
			e.b = appendFull(e.b, s.Key)
		} else if o.one != 0 { // the same bytes, another string
			e.b = append(e.b, o.one)
		} else {
			e.b = m.put(e.b, o, s.Key)
		}
		e.n(len(s.Vals))
		for j, v := range s.Vals {
			if j == 0 {
				if c, ok := m.memos[f+1].code1(v); ok {
					e.b = append(e.b, c)
				} else if o := &m.memos[f+1]; len(v) != len(o.s) || !sameData(&v, &o.s) && !(len(v) <= 8 && sameBytes8(v, o.s) || len(v) > 8 && sameBytes24(v, o.s)) {
					o.s, o.code, o.one = v, 0, 0
					e.b = appendFull(e.b, v)
				} else if o.one != 0 { // the same bytes, another string
					e.b = append(e.b, o.one)
				} else {
					e.b = m.put(e.b, o, v)
				}
			} else {
				e.b = appendFull(e.b, v)
			}
		}
		f += 2
	}
	return e.b
}

// appendAttrsDict appends attrs as appendAttrs does, their strings
// written against m: the first eight keys and values with a memo each.
func appendAttrsDict(b []byte, attrs []recording.Attr, m *MemDict) []byte {
	e := enc{b: b}
	e.n(len(attrs))
	for i := range attrs {
		a := &attrs[i]
		if i < 8 {
			if c, ok := m.memos[memoAttrs+2*i].code1(a.Key); ok {
				e.b = append(e.b, c)
			} else if o := &m.memos[memoAttrs+2*i]; len(a.Key) != len(o.s) || !sameData(&a.Key, &o.s) && !(len(a.Key) <= 8 && sameBytes8(a.Key, o.s) || len(a.Key) > 8 && sameBytes24(a.Key, o.s)) {
				o.s, o.code, o.one = a.Key, 0, 0
				e.b = appendFull(e.b, a.Key)
			} else if o.one != 0 { // the same bytes, another string
				e.b = append(e.b, o.one)
			} else {
				e.b = m.put(e.b, o, a.Key)
			}
			if c, ok := m.memos[memoAttrs+2*i+1].code1(a.Value); ok {
				e.b = append(e.b, c)
			} else if o := &m.memos[memoAttrs+2*i+1]; len(a.Value) != len(o.s) || !sameData(&a.Value, &o.s) && !(len(a.Value) <= 8 && sameBytes8(a.Value, o.s) || len(a.Value) > 8 && sameBytes24(a.Value, o.s)) {
				o.s, o.code, o.one = a.Value, 0, 0
				e.b = appendFull(e.b, a.Value)
			} else if o.one != 0 { // the same bytes, another string
				e.b = append(e.b, o.one)
			} else {
				e.b = m.put(e.b, o, a.Value)
			}
		} else {
			e.b = appendFull(e.b, a.Key)
			e.b = appendFull(e.b, a.Value)
		}
	}
	return e.b
}

// DecodeRecordWithoutStacksDict decodes what
// [AppendRecordWithoutStacksDict] wrote, strs being its dictionary's
// strings ([MemDict.Strings]) as they were once the record was written,
// or later. The record's strings found in strs are those strings
// (strings are never changed). Corrupt input, or an index past strs,
// gives an error wrapping [store.ErrCorrupt], never a panic.
func DecodeRecordWithoutStacksDict(b []byte, strs []string) (*recording.Record, error) {
	d := newDec(b, true)
	d.dict, d.dictStrs = true, strs
	return decodeRecordMem(d)
}

// SummaryWithoutStacksDict returns the summary of the record that
// [AppendRecordWithoutStacksDict] wrote to b, strs being its
// dictionary's strings, as [SummaryWithoutStacks] does for
// [AppendRecordWithoutStacks]'s.
func SummaryWithoutStacksDict(b []byte, strs []string) (recording.Summary, error) {
	d := newDec(b, true)
	d.dict, d.dictStrs = true, strs
	return summaryMem(d)
}

var errDictIndex = errors.New("dictionary index out of range")

// hs reads a string of a record's head or attributes: as put wrote
// it in a record written against a dictionary, else as enc.s did.
func (d *dec) hs() string {
	if !d.dict {
		return d.s()
	}
	x := d.u()
	if d.err != nil {
		return ""
	}
	if x&1 != 0 {
		if x>>1 >= uint64(len(d.dictStrs)) {
			d.fail(errDictIndex)
			return ""
		}
		return d.dictStrs[x>>1]
	}
	if x>>1 > uint64(len(d.b)-d.p) {
		d.fail(errShort)
		return ""
	}
	v := d.str[d.p : d.p+int(x>>1)]
	d.p += len(v)
	return v
}

// hskip passes a string hs would read, without reading it.
func (d *dec) hskip() {
	if !d.dict {
		d.skip()
		return
	}
	d.hs()
}
