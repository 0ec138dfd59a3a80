// Package headermap reads a small header map (a map[string][]string of up
// to eight names, which is most requests' header map) from its one group of
// slots rather than through the map, on a request's path: recording's
// header look-ups compare the names of the slots in use rather than hash
// the name, and the codec writes a record's headers slot by slot rather
// than walk the map (a walk draws a random start and steps an iterator).
//
// A small map (Go 1.26's swiss map with no table directory) keeps its
// entries in one group: a control word, a byte a slot, whose top bit is
// clear for a slot in use, and eight slots of key and value. The layout is
// the runtime's (internal/runtime/maps: Map, groupReference), which
// small.go's build constraint limits to the release it was checked on;
// init checks it again against the map's own look-ups ([Known]). On other
// releases, and when the check finds another layout, [Small] returns nil
// and the callers take the map's own look-ups. Under -race a read is
// reported to the detector as the map's own look-ups report theirs.
//
// A map that grew past eight names is a table, and stays one when names
// are deleted or the map cleared: [Table] tells a caller that keeps a map
// to fill again (recording's pooled records) to make a small one instead.
//
// This is the one place to update on a Go upgrade: check the layout of
// internal/runtime/maps, then widen small.go's and small_other.go's build
// constraints.
package headermap

// Group is a small map[string][]string's group of slots: a control byte a
// slot, whose top bit is set for a slot empty or deleted, then the slots,
// each a key and its values. Read a slot only when it is in use ([Group.Used],
// or the top bit of byte j of Ctrl clear for slot j).
type Group struct {
	Ctrl  uint64
	Slots [8]Slot
}

// Slot is a slot of a [Group]: a name of the map and its values.
type Slot struct {
	Key  string
	Vals []string
}

// ctrlMSBs is the control bytes' top bits.
const ctrlMSBs = 0x8080808080808080

// Used returns the top bits of the control bytes of the slots in use, one
// bit a slot, at bit 8*j+7 for slot j: walk them with
//
//	for full := g.Used(); full != 0; full &= full - 1 {
//		s := &g.Slots[bits.TrailingZeros64(full)>>3]
//		...
//	}
func (g *Group) Used() uint64 { return ^g.Ctrl & ctrlMSBs }
