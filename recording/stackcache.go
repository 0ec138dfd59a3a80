package recording

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// maxStackCache is how many whole stacks a recorder's stackCache remembers;
// it starts afresh when full.
const maxStackCache = 4096

// recentStacks is how many stacks a stackCache keeps at hand, found
// without a hash (see stackCache.recent).
const (
	recentBits   = 6
	recentStacks = 1 << recentBits
)

// stackCache remembers symbolized stacks whole, keyed by their raw PCs: a
// service makes its calls from a few hundred call sites, so almost every
// stack the writer symbolizes has been seen before, and a hit costs one hash
// and one comparison instead of a symbol lookup per frame, and no
// allocation. The frames returned for a hit are shared between records; like
// the rest of a finished record, they are never modified.
type stackCache struct {
	seed maphash.Seed
	size int // entries kept at most

	// recent holds the stacks found last, each in a slot picked by a few
	// of its PCs and its length (recentSlot): a service's requests make
	// their calls from the same places, record after record, so most
	// look-ups find their stack there with one comparison of its PCs, and
	// neither the hash of all of them (~200 instructions for a 20-frame
	// stack), the map nor the lock. Entries are never changed once made.
	recent [recentStacks]atomic.Pointer[stackEntry]

	mu sync.Mutex
	m  map[uint64]*stackEntry
}

type stackEntry struct {
	pcs    []uintptr
	max    int
	frames []Frame
}

func newStackCache(size int) *stackCache {
	return &stackCache{seed: maphash.MakeSeed(), size: max(size, 1), m: make(map[uint64]*stackEntry)}
}

// recentSlot returns the slot of recent for pcs (not empty): a mix of its
// length, its third PC (in a call's stack, the return into the code that
// started the call) and its middle one (a caller further up).
func recentSlot(pcs []uintptr) uint {
	n := len(pcs)
	x := uint64(pcs[(n-1)/2]) ^ uint64(pcs[min(2, n-1)])<<7 ^ uint64(n)
	return uint(x * 0x9e3779b97f4a7c15 >> (64 - recentBits))
}

// frames returns sym.frames(pcs, max), from the cache when it can.
func (c *stackCache) frames(sym *symbolizer, pcs []uintptr, max int) []Frame {
	if len(pcs) == 0 || max <= 0 {
		return sym.frames(pcs, max)
	}
	slot := &c.recent[recentSlot(pcs)]
	if e := slot.Load(); e != nil && e.max == max && samePCs(e.pcs, pcs) {
		return e.frames
	}
	h := maphash.String(c.seed, pcBytes(pcs))
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	if ok && e.max == max && samePCs(e.pcs, pcs) {
		slot.Store(e)
		return e.frames
	}
	f := slices.Clip(sym.frames(pcs, max)) // an append to a shared stack must copy
	e = &stackEntry{pcs: slices.Clone(pcs), max: max, frames: f}
	c.mu.Lock()
	if len(c.m) >= c.size {
		clear(c.m)
	}
	c.m[h] = e
	c.mu.Unlock()
	slot.Store(e)
	return f
}
