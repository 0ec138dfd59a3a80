package codec

import (
	"math/bits"

	"github.com/goappstats/appstats/internal/headermap"
)

// appendHeaders appends a record's header map as appendRecordHead writes
// it: the number of names, then each name with its values. A map of up
// to eight names (one group of slots, which is most requests' header map)
// is read from its group (headermap.Small), slot by slot, rather than
// walked: a walk of a map (range) draws a random start and steps an
// iterator, ~400 instructions for a two-name map, most of writing it. The
// names come out in the order of their slots rather than in a random one;
// a decoder makes a map of them either way. A larger map, a map being
// written, and a runtime whose layout headermap does not read are walked;
// TestAppendHeaders compares the two ways.
func appendHeaders(b []byte, h map[string][]string) []byte {
	g := headermap.Small(h)
	if g == nil {
		return walkHeaders(b, h)
	}
	e := enc{b: b}
	e.n(len(h))
	for full := g.Used(); full != 0; full &= full - 1 {
		s := &g.Slots[bits.TrailingZeros64(full)>>3]
		e.s(s.Key)
		e.n(len(s.Vals))
		for _, v := range s.Vals {
			e.s(v)
		}
	}
	return e.b
}
