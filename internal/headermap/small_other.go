//go:build !go1.26 || go1.27

package headermap

// Small returns nil: no layout of small maps is read on this release (see
// the Go 1.26 version).
func Small(map[string][]string) *Group { return nil }

// Known is false: no layout of small maps is read on this release.
const Known = false

// Table returns false: no layout of maps is read on this release (see the
// Go 1.26 version).
func Table(map[string][]string) bool { return false }
