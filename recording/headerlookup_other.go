//go:build !go1.26 || go1.27

package recording

// headerGet returns h[name] (see the Go 1.26 version).
func headerGet(h map[string][]string, name string) []string { return h[name] }

// headerSlot returns h[name], and no slot (see the Go 1.26 version).
func headerSlot(h map[string][]string, name string) ([]string, uint8) { return h[name], noSlot }

// smallGroup returns nil: no group is read here (see the Go 1.26
// version).
func smallGroup(map[string][]string) *headerGroup { return nil }

// headerGroup is never read here (see the Go 1.26 version).
type headerGroup struct {
	ctrl  uint64
	slots [8]struct {
		key  string
		vals []string
	}
}

// smallMapsKnown is false: no layout of small maps is read here.
const smallMapsKnown = false
