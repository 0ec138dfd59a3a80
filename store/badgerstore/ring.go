package badgerstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
)

// DefaultRingBytes is the default of [Options.RingBytes]: 4 MiB, buffer
// and index, about 1,000 20-call records (under 3 KiB each, encoded
// without their stacks) or up to 23,831 small ones, counted toward the
// store's heap.
const DefaultRingBytes = 4 << 20

// A ring holds, in memory only, the most recent records the storage
// budget did not persist, encoded, one after the other in a fixed buffer:
// a new record overwrites the oldest ones. Their summaries are read from
// the records when they are listed ([codec.SummaryWithoutStacks]), not
// written beside them: most records held are never listed. The store borrows the records it is
// given (see [Store.BorrowsRecords]), so the ring keeps their bytes, not
// the records; it allocates nothing per record once its buffer, index and
// table of stacks have grown (a record with a stack the table lacks adds
// it: one allocation).
//
// Encoding a call's stack was most of a record's cost (its frames
// compared with the previous call's, the new ones written), while a
// service makes its calls from a few hundred places whose stacks the
// recorder's stack cache hands out as shared slices. So the ring keeps
// copies of the stacks it has seen in a table (see ringStacks), and a
// record whose stacks are all there is written without them, followed
// by their numbers in the table; the stacks are put back when the record
// is read. A record with a stack not in the table is written whole, and
// one of its stacks is added for the records that follow. A record
// without its stacks is written in the codec's memory version
// ([codec.AppendRecordWithoutStacksDict]), which writes a call's strings and
// attributes only where they are not the previous call's: the ring's
// bytes are never stored, so its encoding need not be a stored one.
//
// Each table of stacks also holds a dictionary of strings
// ([codec.MemDict]), and a record written against the table is written
// against it ([codec.AppendRecordWithoutStacksDict]): the strings of its
// head and attributes that the previous record had in the same field,
// the very same strings (its route, its instance, its headers' names,
// its attributes' keys and constant values) or, for strings of up to 24
// bytes, strings of the same bytes made afresh (in real traffic mostly a
// net/http server's method and short paths; compared inline on
// architectures that load words unaligned, by a call elsewhere; longer
// strings by identity only), as their index in the dictionary rather
// than copied. A dictionary goes with its table, once
// no record held refers to it; a full one starts another table. A
// record's bytes never depend on another record's.
type ring struct {
	mu   sync.RWMutex
	size int    // the buffer's size; 0: no ring
	buf  []byte // allocated at the first record
	head int    // where the next record goes
	// ents is the index of entries, a circular array that grows by
	// doubling up to maxEnts entries: then a new entry evicts the oldest
	// record, as a full buffer does. The buffer takes the ring's bytes
	// less maxEnts entries' (see newRing).
	ents    []ringEntry
	maxEnts int
	first   int    // index in ents of the oldest entry
	n       int    // entries held
	upTo    uint64 // the newest entry's upTo (see ringEntry)
	// scratch holds the records add encoded since the last flush, one
	// after the other, and pend their entries (off is in scratch): they
	// go into buf together, under one lock (see flush). Guarded, as add
	// and flush are called, by the budget's lock.
	scratch []byte
	pend    []ringEntry
	// stacks is the table of stacks records are written against, and
	// tables the tables entries refer to, oldest first, stacks last:
	// entries name theirs by number (see ringEntry.table), so that the
	// index of entries holds no pointer for the collector to scan at each
	// cycle (48 bytes a record held, at most 1.1 MiB with the default
	// RingBytes, see newRing). tables changes
	// under mu; stacks, lastTable and the tables' refs are the writer's
	// (add and flush, under the budget's lock).
	stacks    *ringStacks
	tables    []*ringStacks
	lastTable uint32 // the number of the newest table
	// dictStrings bounds each table's dictionary of strings (0: the
	// default, see codec.MemDict); set by tests.
	dictStrings int
	// writes numbers Write's calls (see newWrite).
	writes atomic.Uint64
}

// newWrite tells the ring that a call of Write begins: stacks compared
// before may since have been freed with their records, and another stack
// put at their address, so they are compared again (see ringStacks.find).
func (g *ring) newWrite() { g.writes.Add(1) }

// A ringEntry locates one record in the ring's buffer: the record at
// off, then, if table is set, the numbers of its calls' stacks in that
// table (from off+recEnd to off+size). An entry holds no pointer, and
// takes 48 bytes: the buffer is at most 1 GiB, so its offsets and sizes
// fit in 32 bits.
type ringEntry struct {
	key [cursorLen]byte // start time and ID, as a summary key without its prefix
	// upTo is the highest start (a key's first 8 bytes, as an integer)
	// of this entry and every entry pushed before it: no entry older
	// than this one has a higher key's start (see summaries).
	upTo   uint64
	off    uint32
	size   uint32
	recEnd uint32
	// table is the number of the table of stacks the record was written
	// against (ringStacks.id), or 0: written whole, with its stacks.
	table uint32
}

// A ringStacks is a table of stacks: copies of the frames of stacks the
// ring has seen (their strings are the records', which the recorder
// never changes), found by the address of the slice a record had (an
// address, not a pointer: the record's slice is not kept). A table is
// only added to; once it holds maxRingFrames frames, the ring starts
// another, and the old one goes once no record held refers to it.
type ringStacks struct {
	id     uint32 // the table's number, never 0 (see ringEntry.table)
	refs   int    // entries added against the table and not yet evicted
	frames [][]recording.Frame
	seen   []uint64          // by number: the write the stack was last compared in
	at     map[uintptr]int32 // by the address of a record's stack
	n      int               // frames held
	// recent holds, by a hash of their addresses, stacks found lately:
	// most are found there without the map's look-up.
	recent [64]recentStack
	// dict is the dictionary of strings records are written against
	// (the writer's), and strs its strings as readers see them: set
	// from dict under the ring's lock when records written against it
	// are put in the buffer (flush) and when the table stops being the
	// one records are written against (newTable).
	dict codec.MemDict
	strs []string
}

type recentStack struct {
	addr uintptr
	id   int32
}

// recentOf returns addr's place in t.recent.
func (t *ringStacks) recentOf(addr uintptr) *recentStack {
	return &t.recent[uint64(addr)*0x9e3779b97f4a7c15>>(64-6)]
}

// maxRingFrames bounds a table of stacks: 16,384 frames take 640 KiB (on
// 64-bit platforms), the stacks of a service's calls many times over.
const maxRingFrames = 16 << 10

func newRingStacks() *ringStacks { return &ringStacks{at: make(map[uintptr]int32)} }

// find returns the number of stack in t, or -1. A stack is found by its
// slice's address and then compared with the copy word for word: the
// copy keeps its strings alive, so the same pointers and lengths are the
// same strings, and a slice whose memory now holds another stack is not
// taken for the one it held. It is compared once per call of Write (the
// write numbered write): until Write returns, the records it was given
// are the caller's, unchanged, and hold the slice, so no other stack can
// be at its address.
func (t *ringStacks) find(stack []recording.Frame, write uint64) int32 {
	if len(stack) == 0 {
		return -1
	}
	addr := uintptr(unsafe.Pointer(&stack[0]))
	rs := t.recentOf(addr)
	id := rs.id
	if rs.addr != addr {
		var ok bool
		if id, ok = t.at[addr]; !ok {
			return -1
		}
		*rs = recentStack{addr, id}
	}
	if c := t.frames[id]; len(c) != len(stack) {
		return -1
	} else if t.seen[id] != write {
		if frameMemory(c) != frameMemory(stack) {
			return -1
		}
		t.seen[id] = write
	}
	return id
}

// frameMemory returns the memory of frames as a string, to compare
// frames by their words: the pointers and lengths of their strings, and
// their lines.
func frameMemory(frames []recording.Frame) string {
	return unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(frames))), len(frames)*int(unsafe.Sizeof(recording.Frame{})))
}

// addStack adds to g's table the first stack of r it lacks, starting
// another table when this one is full. One a record: records whose
// stacks are new each time (not from the recorder's stack cache) cost an
// allocation each, and records of the same stacks (from the cache) find
// them all after a few records.
func (g *ring) addStack(r *recording.Record, write uint64) {
	for i := range r.Calls {
		st := r.Calls[i].Stack
		if len(st) == 0 || g.stacks.find(st, write) >= 0 {
			continue
		}
		if g.stacks.n+len(st) > maxRingFrames {
			g.newTable()
		}
		// Readers (get) look stacks up under the lock; add, the only
		// writer, reads the table without it.
		t, c := g.stacks, slices.Clone(st)
		addr, id := uintptr(unsafe.Pointer(&st[0])), int32(len(t.frames))
		g.mu.Lock()
		t.at[addr] = id
		t.frames = append(t.frames, c)
		g.mu.Unlock()
		t.seen = append(t.seen, write)
		*t.recentOf(addr) = recentStack{addr, id}
		t.n += len(st)
		return
	}
}

// encode appends r to b, without its stacks if g's table has them all:
// then the record ends at recEnd, followed by the numbers of its calls'
// stacks in the table (-1 for a call without one), and byID is set. The
// record is written without its stacks first, and the numbers after it
// as its calls' stacks are found: a stack not in the table (rare once a
// service's call sites are all in it) sends the record back to be
// written whole.
func (g *ring) encode(b []byte, r *recording.Record) (_ []byte, recEnd int, byID bool) {
	write := g.writes.Load()
	if g.stacks == nil {
		g.newTable()
	}
	if g.stacks.dict.Full() {
		g.newTable()
	}
	start := len(b)
	b = codec.AppendRecordWithoutStacksDict(b, r, &g.stacks.dict)
	recEnd = len(b)
	// The record's last distinct stacks found, by their slices (first
	// frame and length), as a ring of len(seen): calls made from a few
	// places in turn find theirs here. The record does not change while
	// Write runs, so a slice found once in it is that stack.
	type seenStack struct {
		p  *recording.Frame
		n  int
		id int32
	}
	var seen [4]seenStack
	nseen := 0
	calls := r.Calls
	for i := range calls {
		st := calls[i].Stack
		id := int32(-1)
		if len(st) > 0 {
			id = -2
			for k := range seen {
				if seen[k].p == &st[0] && seen[k].n == len(st) {
					id = seen[k].id
					break
				}
			}
			if id == -2 {
				if id = g.stacks.find(st, write); id < 0 {
					g.addStack(r, write)
					b = codec.AppendRecord(b[:start], r)
					return b, len(b), false
				}
				seen[nseen%len(seen)] = seenStack{&st[0], len(st), id}
				nseen++
			}
		}
		if uint32(id+1) < 64 { // -1 to 62: one byte, as AppendVarint writes it
			b = append(b, byte(uint64(id)<<1^uint64(id>>31)))
		} else {
			b = binary.AppendVarint(b, int64(id))
		}
	}
	return b, recEnd, true
}

// ringRecordBytes is the size of the records the ring's bytes are split
// for (see newRing): a hello handler's records take 96–160 bytes.
const ringRecordBytes = 128

// ringEntryBytes is the size of a ringEntry.
const ringEntryBytes = int(unsafe.Sizeof(ringEntry{}))

// newRing returns a ring of size bytes, buffer and index together: the
// index takes at most one entry for each ringEntryBytes+ringRecordBytes
// bytes (27%), so that a ring of hello-sized records is filled by its
// buffer and its index about together, and the buffer the rest. Records
// larger than ringRecordBytes leave part of the index unused (but never
// allocated: it grows as it fills), and smaller ones part of the buffer.
func newRing(size int64) *ring {
	size = min(max(size, 0), 1<<30)
	maxEnts := max(int(size)/(ringEntryBytes+ringRecordBytes), 1)
	buf := int(size) - maxEnts*ringEntryBytes
	if buf <= 0 {
		return &ring{}
	}
	return &ring{size: buf, maxEnts: maxEnts}
}

// newTable starts another table of stacks, which records are then
// written against. The tables before it go once no entry refers to them
// (see release).
func (g *ring) newTable() {
	if g.lastTable++; g.lastTable == 0 { // wrapped: 0 is "no table"
		g.lastTable = 1
	}
	t := newRingStacks()
	t.id = g.lastTable
	t.dict.MaxStrings = g.dictStrings
	g.mu.Lock()
	if g.stacks != nil {
		g.stacks.strs = g.stacks.dict.Strings()
	}
	g.tables = append(g.tables, t)
	g.stacks = t
	g.dropTables()
	g.mu.Unlock()
}

// table returns the table of stacks numbered id, nil if none is. It
// looks from the oldest table: release, called for every evicted entry,
// asks for the oldest entries' tables. Called with g.mu held.
func (g *ring) table(id uint32) *ringStacks {
	for _, t := range g.tables {
		if t.id == id {
			return t
		}
	}
	return nil
}

// release tells the ring that an entry written against table id is
// evicted. Called with g.mu held, by the writer.
func (g *ring) release(id uint32) {
	if t := g.table(id); t != nil {
		t.refs--
	}
	g.dropTables()
}

// dropTables lets the oldest tables, other than the one records are
// written against, go once no entry refers to them: the tables are
// referred to in the order they were made. Called with g.mu held, by the
// writer.
func (g *ring) dropTables() {
	for len(g.tables) > 0 && g.tables[0].refs == 0 && g.tables[0] != g.stacks {
		g.tables[0] = nil
		g.tables = g.tables[1:]
	}
}

// add keeps r, evicting the oldest records to make room, once flush
// is called: until then no reader sees it. A record larger than a
// quarter of the ring's buffer is not kept. Write calls add and flush holding the
// budget's lock, which also guards g.scratch and g.pend.
func (g *ring) add(r *recording.Record) {
	if g.size == 0 {
		return
	}
	off := len(g.scratch)
	b, recEnd, byID := g.encode(g.scratch, r)
	g.scratch = b
	n := len(b) - off
	if n > g.size/4 {
		g.scratch = b[:off]
		return
	}
	e := ringEntry{key: ringKey(r.Start.UnixNano(), r.ID), off: uint32(off), size: uint32(n), recEnd: uint32(recEnd - off)}
	if byID {
		e.table = g.stacks.id
		g.stacks.refs++
	}
	g.pend = append(g.pend, e)
	if len(g.scratch) >= ringFlushBytes {
		g.flush()
	}
}

// ringFlushBytes is how many bytes of encoded records add holds before it
// flushes them itself: a Write's records over budget are not bounded by
// its transactions' size.
const ringFlushBytes = 64 << 10

// flush puts the records add encoded into the buffer, each evicting the
// oldest records it overlaps, under one lock: a lock (and its defer) a
// record cost ~100 instructions, as much as the record's copy. The
// records placed one after the other in the buffer are copied together.
func (g *ring) flush() {
	if len(g.pend) == 0 {
		return
	}
	g.mu.Lock()
	if g.buf == nil {
		g.buf = make([]byte, g.size)
	}
	if g.stacks != nil {
		g.stacks.strs = g.stacks.dict.Strings()
	}
	from, to, n := 0, g.head, 0 // the bytes in scratch to copy to buf[to:], not yet copied
	for i := range g.pend {
		e := &g.pend[i]
		size := int(e.size)
		if g.head+size > len(g.buf) {
			// The rest of the buffer is too short: the oldest records,
			// those in it, go, and the record goes at the start.
			copy(g.buf[to:to+n], g.scratch[from:])
			for g.n > 0 && int(g.ents[g.first].off) >= g.head {
				g.pop()
			}
			g.head = 0
			from, to, n = int(e.off), 0, 0
		}
		for g.n > 0 {
			o := &g.ents[g.first]
			if int(o.off) >= g.head+size || int(o.off+o.size) <= g.head {
				break
			}
			g.pop()
		}
		e.off = uint32(g.head)
		g.push(e)
		g.head += size
		n += size
	}
	copy(g.buf[to:to+n], g.scratch[from:])
	g.mu.Unlock()
	g.pend, g.scratch = g.pend[:0], g.scratch[:0]
}

// ringKey is summaryKey(start, id) without its prefix, in an array.
func ringKey(start int64, id recording.ID) (k [cursorLen]byte) {
	binary.BigEndian.PutUint64(k[:8], uint64(start)^(1<<63))
	copy(k[8:], id[:])
	return k
}

// push appends e as the newest entry, growing the index if it is full,
// or evicting the oldest record once the index holds maxEnts entries.
// Called with g.mu held.
func (g *ring) push(e *ringEntry) {
	if g.n == g.maxEnts {
		g.pop()
	}
	if g.n == len(g.ents) {
		grown := make([]ringEntry, min(max(2*len(g.ents), 64), g.maxEnts))
		for i := range g.n {
			grown[i] = g.ents[(g.first+i)%len(g.ents)]
		}
		g.ents, g.first = grown, 0
	}
	g.upTo = max(g.upTo, binary.BigEndian.Uint64(e.key[:8]))
	i := g.first + g.n
	if i >= len(g.ents) {
		i -= len(g.ents)
	}
	d := &g.ents[i]
	*d = *e
	d.upTo = g.upTo
	g.n++
}

// pop removes the oldest entry.
func (g *ring) pop() {
	if id := g.ents[g.first].table; id != 0 {
		g.release(id)
	}
	if g.first++; g.first == len(g.ents) {
		g.first = 0
	}
	g.n--
}

// get decodes the record with ID id, if the ring holds it. The record is
// a copy: it shares nothing with the ring but strings of its dictionary
// (the records' strings, never changed). Its execution trace, never
// stored for a record not persisted, is left out.
func (g *ring) get(id recording.ID) (*recording.Record, bool, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for i := g.n - 1; i >= 0; i-- {
		e := &g.ents[(g.first+i)%len(g.ents)]
		if !bytes.Equal(e.key[8:], id[:]) {
			continue
		}
		off, recEnd, end := int(e.off), int(e.off+e.recEnd), int(e.off+e.size)
		if e.table == 0 {
			r, err := codec.DecodeRecord(g.buf[off:recEnd])
			if err != nil {
				return nil, true, err
			}
			r.ExecTrace = nil
			return r, true, nil
		}
		t := g.table(e.table)
		if t == nil {
			return nil, true, fmt.Errorf("badgerstore: ring: %w: no table %d of stacks", store.ErrCorrupt, e.table)
		}
		r, err := codec.DecodeRecordWithoutStacksDict(g.buf[off:recEnd], t.strs)
		if err != nil {
			return nil, true, err
		}
		if err := t.restore(r, g.buf[recEnd:end]); err != nil {
			return nil, true, err
		}
		r.ExecTrace = nil
		return r, true, nil
	}
	return nil, false, nil
}

// restore gives r's calls copies of their stacks from t, whose numbers
// are ids (encoded by add).
func (t *ringStacks) restore(r *recording.Record, ids []byte) error {
	for i := range r.Calls {
		id, n := binary.Varint(ids)
		if n <= 0 || id >= int64(len(t.frames)) {
			return fmt.Errorf("badgerstore: ring: %w: stack of call %d", store.ErrCorrupt, i)
		}
		ids = ids[n:]
		if id >= 0 {
			r.Calls[i].Stack = slices.Clone(t.frames[id])
		}
	}
	return nil
}

// A ringSummary is the summary of a record the ring holds, with its key;
// err is set if it could not be read.
type ringSummary struct {
	key [cursorLen]byte
	sum recording.Summary
	err error
}

// summaries returns the summaries of the k records with the highest keys
// in [since, until) (nil: unbounded), newest first. It reads entries'
// keys newest first until no older entry can be among the k (an entry's
// upTo bounds the starts of all older ones), copies only those k records,
// and reads their summaries once the lock is released: a page of List
// costs about the same however many records the ring holds.
func (g *ring) summaries(since, until []byte, k int) []ringSummary {
	g.mu.RLock()
	// top is a min-heap of entry indexes by key: the k highest seen.
	top := make([]int, 0, min(k, g.n))
	less := func(a, b int) bool { return keyLess(&g.ents[a].key, &g.ents[b].key) }
	// Newest first: records are written about in the order they start,
	// so the heap fills with the highest keys early and most older
	// entries cost one comparison.
	var least [cursorLen]byte // the heap's least key, once full
	for j := range g.newestFirst() {
		e := &g.ents[j]
		if len(top) == k && !keyLess(&least, &e.key) {
			if e.upTo < binary.BigEndian.Uint64(least[:8]) {
				break // this entry and all older ones started before least
			}
			continue
		}
		if since != nil && bytes.Compare(e.key[:], since) < 0 || until != nil && bytes.Compare(e.key[:], until) >= 0 {
			continue
		}
		if len(top) < k {
			top = append(top, j)
			heapUp(top, len(top)-1, less)
		} else {
			top[0] = j
			heapDown(top, 0, less)
		}
		if len(top) == k {
			least = g.ents[top[0]].key
		}
	}
	// Newest first, sorted here as indexes: sorting the summaries
	// afterwards moved their ~300-byte structs about.
	slices.SortFunc(top, func(a, b int) int { return bytes.Compare(g.ents[b].key[:], g.ents[a].key[:]) })
	out := make([]ringSummary, len(top))
	n := 0
	for _, j := range top {
		n += int(g.ents[j].recEnd)
	}
	// One copy for all, so that the lock is released before decoding.
	data := make([]byte, 0, n)
	recs := make([][]byte, len(top))
	// The strings of each record's dictionary (nil: written whole, with
	// its stacks); their elements never change.
	strs := make([][]string, len(top))
	whole := make([]bool, len(top))
	for i, j := range top {
		e := &g.ents[j]
		at := len(data)
		data = append(data, g.buf[e.off:e.off+e.recEnd]...)
		out[i].key, recs[i], whole[i] = e.key, data[at:len(data):len(data)], e.table == 0
		if !whole[i] {
			if t := g.table(e.table); t != nil {
				strs[i] = t.strs
			} else {
				out[i].err = fmt.Errorf("badgerstore: ring: %w: no table %d of stacks", store.ErrCorrupt, e.table)
			}
		}
	}
	g.mu.RUnlock()
	for i := range out {
		if out[i].err != nil {
			continue
		}
		if whole[i] {
			var r *recording.Record
			if r, out[i].err = codec.DecodeRecord(recs[i]); r != nil {
				r.SummaryInto(&out[i].sum)
			}
			continue
		}
		out[i].sum, out[i].err = codec.SummaryWithoutStacksDict(recs[i], strs[i])
	}
	return out
}

// newestFirst yields the indexes in g.ents of the entries held, newest
// first.
func (g *ring) newestFirst() func(yield func(int) bool) {
	return func(yield func(int) bool) {
		end := g.first + g.n   // one past the newest, unwrapped
		if end > len(g.ents) { // the newest wrapped round to the start
			for j := end - len(g.ents) - 1; j >= 0; j-- {
				if !yield(j) {
					return
				}
			}
			end = len(g.ents)
		}
		for j := end - 1; j >= g.first; j-- {
			if !yield(j) {
				return
			}
		}
	}
}

// keyLess compares two keys: their start times first, as integers.
func keyLess(a, b *[cursorLen]byte) bool {
	ta, tb := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if ta != tb {
		return ta < tb
	}
	return bytes.Compare(a[8:], b[8:]) < 0
}

func heapUp(h []int, i int, less func(a, b int) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func heapDown(h []int, i int, less func(a, b int) bool) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && less(h[c+1], h[c]) {
			c++
		}
		if !less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// A ringReader hands out the ring's summaries in [since, until) newest
// first, fetching them in batches that double in size, for List's merge.
type ringReader struct {
	g            *ring
	since, until []byte
	batch        int
	buf          []ringSummary
	done         bool
}

// peek returns the next summary without taking it; nil at the end.
func (rr *ringReader) peek() *ringSummary {
	if len(rr.buf) == 0 && !rr.done {
		rr.buf = rr.g.summaries(rr.since, rr.until, rr.batch)
		if len(rr.buf) < rr.batch {
			rr.done = true
		} else {
			k := rr.buf[len(rr.buf)-1].key
			rr.until = k[:]
			rr.batch *= 2
		}
	}
	if len(rr.buf) == 0 {
		return nil
	}
	return &rr.buf[0]
}

// next takes the summary peek returned.
func (rr *ringReader) next() { rr.buf = rr.buf[1:] }

// reset empties the ring (Clear); free also releases its buffer (Close).
func (g *ring) reset(free bool) {
	g.mu.Lock()
	g.head, g.first, g.n, g.upTo = 0, 0, 0, 0
	g.stacks = nil
	clear(g.tables)
	g.tables = g.tables[:0]
	g.pend, g.scratch = g.pend[:0], g.scratch[:0]
	if free {
		g.buf, g.ents, g.scratch, g.pend, g.tables = nil, nil, nil, nil, nil
	}
	g.mu.Unlock()
}

// len returns the number of records the ring holds.
func (g *ring) len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.n
}
