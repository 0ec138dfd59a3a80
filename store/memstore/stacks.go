package memstore

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// A stackTable holds copies of the stacks of the records' calls, each
// once, for the records that refer to them by number: a service makes
// its calls from a few hundred places, whose stacks the recorder's stack
// cache hands out as shared slices, and encoding each call's stack frame
// by frame was most of what a record of calls cost to write (a record's
// bytes refer to its calls' stacks by their numbers in the table, see
// Store.stackIDsOf). Records are written without their stacks
// ([codec.AppendRecordWithoutStacks], as badgerstore's ring writes them)
// and given copies of them back when read.
//
// The frames' strings are the records', which writers never change (they
// give a call another string, never other bytes in the same string); the
// frames themselves are copied. A table holds at most maxTableFrames
// frames; the store then starts another, and a table goes once no record
// held refers to it (refs), so that stacks no longer used go with their
// records.
type stackTable struct {
	frames [][]recording.Frame
	// byWords finds a stack by a hash of its frames' words (see
	// frameMemory): a copy of a stack from the cache, or a stack made
	// again with the same strings, is found as the stack it equals.
	byWords map[uint64]int32
	seed    maphash.Seed
	n       int // frames held
	refs    int // records held that refer to the table
	// recent holds, by a hash of their addresses, the slices the stacks
	// were last found by: most are found there, without hashing frames.
	recent [64]recentStack
}

// A recentStack is a slice a stack was found by: its first frame's
// address and its length (an address, not a pointer: the writer's slice
// is not kept), the stack's number, and the call of Write (write) whose
// records the slice was last compared in.
type recentStack struct {
	addr  uintptr
	n     int
	id    int32
	write uint64
}

// maxTableFrames bounds a table of stacks: 16,384 frames take 640 KiB (on
// 64-bit platforms), a service's call sites' stacks many times over (as
// badgerstore's ring bounds its table).
const maxTableFrames = 16 << 10

func newStackTable() *stackTable {
	return &stackTable{byWords: make(map[uint64]int32), seed: maphash.MakeSeed()}
}

// frameMemory returns the memory of frames as a string, to compare
// frames by their words: the pointers and lengths of their strings, and
// their lines. A copy in the table keeps its strings alive, so a stack
// of the same words has the same strings.
func frameMemory(frames []recording.Frame) string {
	return unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(frames))), len(frames)*int(unsafe.Sizeof(recording.Frame{})))
}

// find returns the number of stack in t, or -1. The slice a stack was
// last found by is compared with the copy once per call of Write (write):
// while Write runs, its records are the writer's, unchanged, and hold the
// slice, so no other stack can come to lie at its address.
func (t *stackTable) find(stack []recording.Frame, write uint64) int32 {
	addr := uintptr(unsafe.Pointer(&stack[0]))
	rs := t.recentOf(addr)
	if rs.addr == addr && rs.n == len(stack) {
		if rs.write == write {
			return rs.id
		}
		if frameMemory(t.frames[rs.id]) == frameMemory(stack) {
			rs.write = write
			return rs.id
		}
	}
	m := frameMemory(stack)
	id, ok := t.byWords[maphash.String(t.seed, m)]
	if !ok || frameMemory(t.frames[id]) != m {
		return -1
	}
	*rs = recentStack{addr: addr, n: len(stack), id: id, write: write}
	return id
}

// add adds a copy of stack, which t lacks, and returns its number.
func (t *stackTable) add(stack []recording.Frame, write uint64) int32 {
	id := int32(len(t.frames))
	c := slices.Clone(stack)
	t.frames = append(t.frames, c)
	t.n += len(c)
	m := frameMemory(c)
	if h := maphash.String(t.seed, m); !t.hashed(h) {
		t.byWords[h] = id // (another stack of the same hash is found by its slice only)
	}
	addr := uintptr(unsafe.Pointer(&stack[0]))
	*t.recentOf(addr) = recentStack{addr: addr, n: len(stack), id: id, write: write}
	return id
}

// recentOf returns the entry of recent for a slice whose first frame
// lies at addr (a Fibonacci hash of the address, to 64 entries).
func (t *stackTable) recentOf(addr uintptr) *recentStack {
	return &t.recent[uint64(addr)*0x9e3779b97f4a7c15>>(64-6)]
}

// hashed reports whether a stack of hash h is in byWords.
func (t *stackTable) hashed(h uint64) bool {
	_, ok := t.byWords[h]
	return ok
}

// restore gives r's calls copies of their stacks from t, whose numbers
// are ids (see Store.stackIDsOf). Calls of one stack in a row share one
// copy, its capacity ending with its length so that an append copies (as
// codec.DecodeRecord gives back calls of one stack).
func (t *stackTable) restore(r *recording.Record, ids []byte) error {
	var last []recording.Frame
	lastID := int64(-1)
	for i := range r.Calls {
		id, n := binary.Varint(ids)
		if n <= 0 || id < -1 || id >= int64(len(t.frames)) {
			return store.ErrCorrupt
		}
		ids = ids[n:]
		if id < 0 {
			continue
		}
		if id != lastID {
			c := t.frames[id]
			last, lastID = slices.Clip(slices.Clone(c)), id
		}
		r.Calls[i].Stack = last
	}
	if len(ids) != 0 {
		return store.ErrCorrupt
	}
	return nil
}

// stacks holds the store's tables of stacks, by number: 0 is none (a
// record without stacks), cur the table records are written against.
type stacks struct {
	tabs  []*stackTable // by number; nil: gone
	holes []uint32      // numbers of tables gone, to use again
	cur   uint32
	write uint64 // numbers Write's calls
}

// table returns the table numbered k.
func (st *stacks) table(k uint32) *stackTable { return st.tabs[k] }

// current returns the number of the table records are written against,
// with a table.
func (st *stacks) current() uint32 {
	if st.cur == 0 {
		st.cur = st.number()
		st.tabs[st.cur] = newStackTable()
	}
	return st.cur
}

// fresh starts another table to write records against: the current one
// is full. It goes once no record refers to it.
func (st *stacks) fresh() uint32 {
	if k := st.cur; k != 0 && st.tabs[k].refs == 0 {
		st.tabs[k] = nil
		st.holes = append(st.holes, k)
	}
	st.cur = 0
	return st.current()
}

// number returns a number for a table: one gone, or a new one.
func (st *stacks) number() uint32 {
	if n := len(st.holes); n > 0 {
		k := st.holes[n-1]
		st.holes = st.holes[:n-1]
		return k
	}
	if len(st.tabs) == 0 {
		st.tabs = append(st.tabs, nil) // 0 is none
	}
	st.tabs = append(st.tabs, nil)
	return uint32(len(st.tabs) - 1)
}

// release tells that a record referring to table k has gone; the table
// goes once no record refers to it, unless records are written against
// it.
func (st *stacks) release(k uint32) {
	if k == 0 {
		return
	}
	t := st.tabs[k]
	if t.refs--; t.refs == 0 && k != st.cur {
		st.tabs[k] = nil
		st.holes = append(st.holes, k)
	}
}
