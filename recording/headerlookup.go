package recording

import (
	"math/bits"
	"unsafe"

	"github.com/goappstats/appstats/internal/headermap"
)

// headerGet returns h[name]: for a map of up to eight names — one
// group of slots, which is most requests' header map — read from the
// group itself (headermap.Small), without the hash the map's own look-up
// computes. Comparing the names of the slots in use (two or three for
// most requests, most of them told apart by length) costs less than
// hashing the name: the runtime hashes a name under 64 bytes before it
// looks at a single slot. A larger map, a map being written, and a
// runtime whose layout headermap does not read (another release, or one
// its check at init did not find as expected) take the map's own look-up.
// TestHeaderGet compares the two.
func headerGet(h map[string][]string, name string) []string {
	g := headermap.Small(h)
	if g == nil {
		return h[name]
	}
	for full := g.Used(); full != 0; full &= full - 1 {
		// The names of a request's common headers are the same
		// strings from request to request (net/textproto's canonical
		// forms, interned), and so are the names looked up (the last
		// request's, see knownHeaders): the same data pointer is the
		// same name, without a call to compare the bytes.
		if s := &g.Slots[bits.TrailingZeros64(full)>>3]; len(s.Key) == len(name) &&
			(unsafe.StringData(s.Key) == unsafe.StringData(name) || s.Key == name) {
			return s.Vals
		}
	}
	return nil
}

// headerSlot is headerGet, which also returns the slot of h's group that
// holds name, for knownHeaders to look there first for the next request's
// (see headerEntry.slot); noSlot when name is not found in a group.
func headerSlot(h map[string][]string, name string) ([]string, uint8) {
	g := headermap.Small(h)
	if g == nil {
		return h[name], noSlot
	}
	for full := g.Used(); full != 0; full &= full - 1 {
		j := bits.TrailingZeros64(full) >> 3
		if s := &g.Slots[j]; len(s.Key) == len(name) &&
			(unsafe.StringData(s.Key) == unsafe.StringData(name) || s.Key == name) {
			return s.Vals, uint8(j)
		}
	}
	return nil, noSlot
}
