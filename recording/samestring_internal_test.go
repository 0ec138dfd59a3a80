package recording

import (
	"strings"
	"testing"
)

// TestSameString checks sameString against ==: strings of one length that
// differ at their last byte, their first, in the middle, or nowhere (one
// string, or equal copies), empty ones, and strings of other lengths.
func TestSameString(t *testing.T) {
	base := "http://127.0.0.1:8080/item/7"
	cases := [][2]string{
		{base, base},
		{base, strings.Clone(base)},
		{base, base[:len(base)-1] + "8"},
		{base, "X" + base[1:]},
		{base, base[:10] + "X" + base[11:]},
		{base, base[:len(base)-1]},
		{"", ""},
		{"", strings.Clone("a")[:0]},
		{"a", "b"},
		{"a", strings.Clone("a")},
	}
	for _, c := range cases {
		for _, p := range [][2]string{c, {c[1], c[0]}} {
			if got, want := sameString(p[0], p[1]), p[0] == p[1]; got != want {
				t.Errorf("sameString(%q, %q) = %v, want %v", p[0], p[1], got, want)
			}
		}
	}
}
