//go:build go1.26 && !go1.27

package codec

import (
	"math/bits"
	"unsafe"
)

// appendHeaders appends a record's header map as appendRecordHead writes
// it: the number of names, then each name with its values. A map of up
// to eight names (one group of slots, which is most requests' header map)
// is read from its group, slot by slot, rather than walked: a walk of a
// map (range) draws a random start and steps an iterator, ~400
// instructions for a two-name map, most of writing it. The names come
// out in the order of their slots rather than in a random one; a decoder
// makes a map of them either way.
//
// A small map (Go 1.26's swiss map with no table directory) keeps its
// entries in one group: a control word, a byte a slot, whose top bit is
// clear for a slot in use, and eight slots of key and value. The layout
// is the runtime's (internal/runtime/maps), which this file's build
// constraint limits to the release it was checked on; init checks it
// again against the map's own look-ups (checkSmallMaps), and
// TestAppendHeaders compares the two ways. A larger map, a map
// being written, and a runtime whose layout was not found as expected
// are walked.
func appendHeaders(b []byte, h map[string][]string) []byte {
	m := *(**swissMap)(unsafe.Pointer(&h))
	if m == nil || m.dirLen != 0 || m.writing != 0 || m.dirPtr == nil || !smallMapsKnown {
		return walkHeaders(b, h)
	}
	raceReadMap(unsafe.Pointer(m))
	g := (*headerGroup)(m.dirPtr)
	e := enc{b: b}
	e.n(int(m.used))
	for full := ^g.ctrl & ctrlMSBs; full != 0; full &= full - 1 {
		s := &g.slots[bits.TrailingZeros64(full)>>3]
		e.s(s.key)
		e.n(len(s.vals))
		for _, v := range s.vals {
			e.s(v)
		}
	}
	return e.b
}

// swissMap is the header of a Go 1.26 map (internal/runtime/maps.Map).
type swissMap struct {
	used              uint64
	seed              uintptr
	dirPtr            unsafe.Pointer // a small map's one group when dirLen is 0
	dirLen            int
	globalDepth       uint8
	globalShift       uint8
	writing           uint8
	tombstonePossible bool
	clearSeq          uint64
}

// headerGroup is a small map[string][]string's group of slots: a control
// byte a slot, whose top bit is set for a slot empty or deleted, then the
// slots, each a key and its value.
type headerGroup struct {
	ctrl  uint64
	slots [8]struct {
		key  string
		vals []string
	}
}

const ctrlMSBs = 0x8080808080808080 // the control bytes' top bits

// smallMapsKnown reports whether small maps are laid out as appendHeaders
// reads them (checkSmallMaps).
var smallMapsKnown = checkSmallMaps()

// checkSmallMaps compares, for maps of zero to nine names (nine makes a
// table), some deleted, what a read of a small map's group finds with the
// map's own look-ups: each slot in use holds a name of the map with its
// very values, and as many as the map holds.
func checkSmallMaps() bool {
	names := []string{"Accept", "User-Agent", "Traceparent", "Accept-Encoding", "X-A", "X-B", "Cookie", "Host", "X-Forwarded-For"}
	for n := 0; n <= len(names); n++ {
		for del := 0; del <= min(n, 2); del++ {
			h := make(map[string][]string)
			for i, k := range names[:n] { // each name's value: its own place in names
				h[k] = names[i : i+1 : i+1]
			}
			for _, k := range names[:del] {
				delete(h, k)
			}
			m := *(**swissMap)(unsafe.Pointer(&h))
			if m == nil || m.used != uint64(len(h)) || (n > 8) != (m.dirLen != 0) {
				return false
			}
			if m.dirLen != 0 {
				continue
			}
			g := (*headerGroup)(m.dirPtr)
			if g == nil {
				if n != 0 {
					return false
				}
				continue
			}
			seen := 0
			for i := range g.slots {
				if g.ctrl>>(8*i)&0x80 != 0 {
					continue
				}
				s := &g.slots[i]
				if vs, ok := h[s.key]; !ok || len(vs) != 1 || unsafe.SliceData(vs) != unsafe.SliceData(s.vals) || cap(s.vals) != 1 {
					return false
				}
				seen++
			}
			if seen != len(h) {
				return false
			}
		}
	}
	return true
}
