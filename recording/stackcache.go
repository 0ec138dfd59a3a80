package recording

import (
	"hash/maphash"
	"slices"
	"sync"
)

// maxStackCache is how many whole stacks a recorder's stackCache remembers;
// it starts afresh when full.
const maxStackCache = 4096

// stackCache remembers symbolized stacks whole, keyed by their raw PCs: a
// service makes its calls from a few hundred call sites, so almost every
// stack the writer symbolizes has been seen before, and a hit costs one hash
// and one comparison instead of a symbol lookup per frame, and no
// allocation. The frames returned for a hit are shared between records; like
// the rest of a finished record, they are never modified.
type stackCache struct {
	seed maphash.Seed
	size int // entries kept at most

	mu sync.Mutex
	m  map[uint64]stackEntry
}

type stackEntry struct {
	pcs    []uintptr
	max    int
	frames []Frame
}

func newStackCache(size int) *stackCache {
	return &stackCache{seed: maphash.MakeSeed(), size: max(size, 1), m: make(map[uint64]stackEntry)}
}

// frames returns sym.frames(pcs, max), from the cache when it can.
func (c *stackCache) frames(sym *symbolizer, pcs []uintptr, max int) []Frame {
	if len(pcs) == 0 || max <= 0 {
		return sym.frames(pcs, max)
	}
	h := maphash.String(c.seed, pcBytes(pcs))
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	if ok && e.max == max && samePCs(e.pcs, pcs) {
		return e.frames
	}
	f := slices.Clip(sym.frames(pcs, max)) // an append to a shared stack must copy
	c.mu.Lock()
	if len(c.m) >= c.size {
		clear(c.m)
	}
	c.m[h] = stackEntry{pcs: slices.Clone(pcs), max: max, frames: f}
	c.mu.Unlock()
	return f
}
