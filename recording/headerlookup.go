//go:build go1.26 && !go1.27

package recording

import (
	"math/bits"
	"unsafe"
)

// headerGet returns h[name]: for a map of up to eight names — one
// group of slots, which is most requests' header map — read from the
// group itself, without the hash the map's own look-up computes. A small
// map (Go 1.26's swiss map with no table directory) keeps its entries in
// one group: a control word, a byte a slot, whose top bit is clear for a
// slot in use, and eight slots of key and value. Comparing the names of
// the slots in use (two or three for most requests, most of them told
// apart by length) costs less than hashing the name: the runtime hashes a
// name under 64 bytes before it looks at a single slot. A larger map, a
// map being written, and a runtime whose layout smallMapsKnown did not
// find as expected, take the map's own look-up.
//
// The layout is the runtime's (internal/runtime/maps: Map, groupReference),
// which this file's build constraint limits to the release it was checked
// on; init checks it again against the map's own look-ups
// (checkSmallMaps), and TestHeaderGet compares the two.
func headerGet(h map[string][]string, name string) []string {
	m := *(**swissMap)(unsafe.Pointer(&h))
	if m == nil || m.dirLen != 0 || m.writing != 0 || !smallMapsKnown {
		return h[name]
	}
	raceReadMap(unsafe.Pointer(m))
	g := (*headerGroup)(m.dirPtr)
	if g == nil {
		return nil // a map made empty with no group yet
	}
	for full := ^g.ctrl & ctrlMSBs; full != 0; full &= full - 1 {
		// The names of a request's common headers are the same
		// strings from request to request (net/textproto's canonical
		// forms, interned), and so are the names looked up (the last
		// request's, see knownHeaders): the same data pointer is the
		// same name, without a call to compare the bytes.
		if s := &g.slots[bits.TrailingZeros64(full)>>3]; len(s.key) == len(name) &&
			(unsafe.StringData(s.key) == unsafe.StringData(name) || s.key == name) {
			return s.vals
		}
	}
	return nil
}

// smallGroup returns the one group of slots of h, a map headerGet reads
// from its group (up to eight names, not being written, a layout
// smallMapsKnown found as expected), or nil: a larger map, a map being
// written, a map with no group yet, another layout. The caller reads a
// slot in use (its control byte's top bit clear) as headerGet does.
func smallGroup(h map[string][]string) *headerGroup {
	m := *(**swissMap)(unsafe.Pointer(&h))
	if m == nil || m.dirLen != 0 || m.writing != 0 || !smallMapsKnown {
		return nil
	}
	raceReadMap(unsafe.Pointer(m))
	return (*headerGroup)(m.dirPtr)
}

// headerSlot is headerGet, which also returns the slot of h's group that
// holds name, for knownHeaders to look there first for the next request's
// (see headerEntry.slot); noSlot when name is not found in a group.
func headerSlot(h map[string][]string, name string) ([]string, uint8) {
	g := smallGroup(h)
	if g == nil {
		return h[name], noSlot
	}
	for full := ^g.ctrl & ctrlMSBs; full != 0; full &= full - 1 {
		j := bits.TrailingZeros64(full) >> 3
		if s := &g.slots[j]; len(s.key) == len(name) &&
			(unsafe.StringData(s.key) == unsafe.StringData(name) || s.key == name) {
			return s.vals, uint8(j)
		}
	}
	return nil, noSlot
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

// smallMapsKnown reports whether small maps are laid out as headerGet
// reads them (checkSmallMaps).
var smallMapsKnown = checkSmallMaps()

// checkSmallMaps compares, for maps of zero to nine names (nine makes a
// table), some deleted, what headerGet reads with the map's own
// look-ups, for every name and for names absent.
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
