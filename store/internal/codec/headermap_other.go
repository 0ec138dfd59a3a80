//go:build !go1.26 || go1.27

package codec

// appendHeaders appends a record's header map as appendRecordHead writes
// it, by a walk of the map (see the Go 1.26 version).
func appendHeaders(b []byte, h map[string][]string) []byte { return walkHeaders(b, h) }

// smallMapsKnown is false: no layout of small maps is read here.
const smallMapsKnown = false
