package recording

import (
	"strings"
	"testing"
)

// TestSameAttrWords checks attrsAt's comparison of an attribute with the
// one in its place in the last record by their words: true only for the
// same addresses and lengths of both key and value; false for equal bytes
// elsewhere in memory (left to the comparison of bytes after it), for a
// prefix of the same memory and for key and value swapped.
func TestSameAttrWords(t *testing.T) {
	key, val := "url.scheme-and-more", "http-and-more"
	l := cleanAttr{key: key[:10], value: val[:4]}
	for _, c := range []struct {
		a    Attr
		want bool
	}{
		{Attr{Key: key[:10], Value: val[:4]}, true},
		{Attr{Key: strings.Clone(key[:10]), Value: val[:4]}, false},
		{Attr{Key: key[:10], Value: strings.Clone(val[:4])}, false},
		{Attr{Key: key[:10], Value: val[:3]}, false},
		{Attr{Key: key[:9], Value: val[:4]}, false},
		{Attr{Key: val[:4], Value: key[:10]}, false},
		{Attr{}, false},
	} {
		if got := sameAttrWords(&c.a, &l); got != c.want {
			t.Errorf("%q=%q against %q=%q: %v, want %v", c.a.Key, c.a.Value, l.key, l.value, got, c.want)
		}
	}
	var zero cleanAttr
	if !sameAttrWords(&Attr{}, &zero) {
		t.Error("two empty attributes differ")
	}
}
