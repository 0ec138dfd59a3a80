package convention

import (
	"slices"
	"strings"
	"testing"
)

// TestMethodIndex checks methodIndex against routeMethods: each method's
// index, and any other method (another case, a prefix, a longer token)
// past them.
func TestMethodIndex(t *testing.T) {
	for i, m := range routeMethods {
		if got := methodIndex(m); got != i {
			t.Errorf("methodIndex(%q) = %d, want %d", m, got, i)
		}
		for _, other := range []string{strings.ToLower(m), m[:len(m)-1], m + "X", " " + m} {
			if slices.Contains(routeMethods[:], other) {
				continue
			}
			if got := methodIndex(other); got != len(routeMethods) {
				t.Errorf("methodIndex(%q) = %d, want %d", other, got, len(routeMethods))
			}
		}
	}
	if got := methodIndex(""); got != len(routeMethods) {
		t.Errorf("methodIndex(\"\") = %d, want %d", got, len(routeMethods))
	}
}
