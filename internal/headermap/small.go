//go:build go1.26 && !go1.27

package headermap

import "unsafe"

// Small returns the one group of slots of h when h is a small map that is
// read from its group: up to eight names, not being written, with a group
// (a map made empty may have none yet), a layout [Known] found as
// expected. Otherwise, and for a nil map or a larger one, it returns nil
// and the caller uses the map itself. A map becomes larger (a table) when
// it is made for more than eight names or written with eight names in it
// (even a name it holds), and stays a table when names are deleted. The
// group is valid only as long as h is not written.
func Small(h map[string][]string) *Group {
	m := *(**swissMap)(unsafe.Pointer(&h))
	if m == nil || m.dirLen != 0 || m.writing != 0 || !Known {
		return nil
	}
	raceReadMap(unsafe.Pointer(m))
	return (*Group)(m.dirPtr)
}

// Table reports whether h is a table: a map made for more than eight
// names or written with eight names in it, which it stays however many
// names are deleted, clear included, so that [Small] never reads it again.
// A caller that keeps a map to fill again for requests of up to eight
// names makes a new one instead. It reports false for a nil or small map,
// and when the layout is not [Known] (the caller keeps its map).
func Table(h map[string][]string) bool {
	m := *(**swissMap)(unsafe.Pointer(&h))
	if m == nil || !Known {
		return false
	}
	raceReadMap(unsafe.Pointer(m))
	return m.dirLen != 0
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

// Known reports whether small maps are laid out as [Small] reads them:
// checked once, at init (check).
var Known = check()

// check compares, for maps of zero to nine names (nine makes a table),
// some deleted, what a read of a small map's group finds with the map's
// own look-ups: the map's count is its length, a map of up to eight names
// has no directory, each slot in use holds a name of the map with its very
// values, and as many as the map holds.
func check() bool {
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
			g := (*Group)(m.dirPtr)
			if g == nil {
				if n != 0 {
					return false
				}
				continue
			}
			seen := 0
			for i := range g.Slots {
				if g.Ctrl>>(8*i)&0x80 != 0 {
					continue
				}
				s := &g.Slots[i]
				if vs, ok := h[s.Key]; !ok || len(vs) != 1 || unsafe.SliceData(vs) != unsafe.SliceData(s.Vals) || cap(s.Vals) != 1 {
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
