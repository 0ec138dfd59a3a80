//go:build !go1.26 || go1.27

package recording

// headerGet returns h[name] (see the Go 1.26 version).
func headerGet(h map[string][]string, name string) []string { return h[name] }

// smallMapsKnown is false: no layout of small maps is read here.
const smallMapsKnown = false
