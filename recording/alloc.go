package recording

import "unsafe"

// Alloc returns a new zero T for the request a records: a wrapper's value
// that lives as long as a call of the request, such as
// middleware/httpstats' state of an outgoing request. The Ts of one record
// are carved from chunks that the record allocates several at a time, so
// a request that makes ten calls allocates two or three times, not ten:
// the first chunk holds as many Ts as the last record that allocated any
// took (at most four), each next one as many as that record took beyond
// those carved so far, or twice the one before once past them (within
// 8 KiB).
//
// The record holds its last chunk until it ends ([ActiveRecord.FinishAt]),
// and then no chunk at all: nothing a T refers to is kept alive by the
// recorder once the request is finished, and a record's chunk holds only
// the Ts of that one request. A T keeps the other Ts of its chunk alive,
// though: Alloc is for values whose lives end with the request's, not for
// one a caller keeps for longer.
//
// The pointer may lie inside a larger allocation: never give it to
// [runtime.SetFinalizer], which then stops the program with a fatal error
// ("pointer not at beginning of allocated block"), one no recover
// catches. [runtime.AddCleanup] and [weak.Make] work on it.
//
// A record carves Ts of one type only, the type of the record's FIRST
// Alloc: Alloc of any other type is plain new(T). So a wrapper of yours
// that calls Alloc before middleware/httpstats' transport does, for the
// same request, turns the transport's carving of its calls' states into
// one allocation a call. Alloc is new(T), one allocation a value, also
// for a nil a, for a record that has ended (a context kept past the
// request, whose calls are late) and for a T of no size or of more than
// 1 KiB. It may be called from any goroutine.
func Alloc[T any](a *ActiveRecord) *T {
	var zero T
	size := unsafe.Sizeof(zero)
	if a == nil || size == 0 || size > allocMaxItem {
		return new(T)
	}
	a.mu.Lock()
	if s := a.slab; s != nil && s.used < s.n {
		if _, ok := s.kind.(*T); ok {
			p := (*T)(unsafe.Add(s.base, uintptr(s.used)*size))
			s.used++
			s.made++
			a.mu.Unlock()
			return p
		}
	}
	p := allocChunkLocked[T](a, size)
	a.mu.Unlock()
	return p
}

// The sizes of Alloc's chunks.
const (
	allocMaxItem  = 1 << 10 // the largest T carved from chunks
	allocMaxChunk = 8 << 10 // the most bytes of Ts in a chunk
	allocFirst    = 4       // the most Ts in a record's first chunk
)

// slab is the chunk of Ts a record's Alloc carves from (ActiveRecord.slab),
// with the count of those it took, which is the next record's hint
// (Recorder.allocHint). It lies in the record's first chunk.
type slab struct {
	kind any            // a (*T)(nil): the type of the Ts
	base unsafe.Pointer // the current chunk's first T
	used int32          // the Ts taken from the current chunk
	n    int32          // the Ts it holds
	made int32          // the Ts taken from all the record's chunks
}

// allocChunkLocked is Alloc's way when a has no chunk with a T left: a new
// chunk, its first T returned; new(T) when a has ended or carves Ts of
// another type. a.mu must be held.
func allocChunkLocked[T any](a *ActiveRecord, size uintptr) *T {
	s := a.slab
	if a.ended {
		return new(T)
	}
	hint := a.rec.allocHint.Load()
	most := int32(allocMaxChunk / size)
	if s != nil {
		if _, ok := s.kind.(*T); !ok {
			return new(T) // the record carves another type
		}
		n := hint - s.made // what the last record took beyond these
		if n <= 0 {
			n = 2 * s.n // beyond the hint: twice the last chunk
		}
		chunk := make([]T, min(n, most))
		s.base, s.used, s.n = unsafe.Pointer(&chunk[0]), 1, int32(len(chunk))
		s.made++
		return &chunk[0]
	}
	// The first chunk, with the slab in the same allocation.
	var first *T
	switch min(max(hint, 1), allocFirst, most) {
	case 1:
		b := new(struct {
			s slab
			t [1]T
		})
		s, first = &b.s, &b.t[0]
		s.n = 1
	case 2:
		b := new(struct {
			s slab
			t [2]T
		})
		s, first = &b.s, &b.t[0]
		s.n = 2
	case 3:
		b := new(struct {
			s slab
			t [3]T
		})
		s, first = &b.s, &b.t[0]
		s.n = 3
	default:
		b := new(struct {
			s slab
			t [4]T
		})
		s, first = &b.s, &b.t[0]
		s.n = 4
	}
	s.kind, s.base, s.used, s.made = (*T)(nil), unsafe.Pointer(first), 1, 1
	a.slab = s
	return first
}

// dropSlabLocked lets go of a's chunk of Ts, as a ends (a.mu held): the
// count it took is the next record's hint.
func (a *ActiveRecord) dropSlabLocked() {
	if s := a.slab; s != nil {
		if h := &a.rec.allocHint; h.Load() != s.made {
			h.Store(s.made) // a store only when it changes, as callHint
		}
		// s lies in the first chunk, which a T the caller keeps holds:
		// it must not keep the last chunk (or the type) alive too.
		s.kind, s.base = nil, nil
		a.slab = nil
	}
}
