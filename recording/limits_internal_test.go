package recording

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCapTraceState(t *testing.T) {
	long := "long=" + strings.Repeat("v", 200)
	short := func(n int) string { return fmt.Sprintf("k%d=%s", n, strings.Repeat("x", 40)) }
	var many []string
	for i := range 20 {
		many = append(many, short(i))
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short", "a=1,b=2", "a=1,b=2"},
		{"long members go first", strings.Join(append([]string{short(0), long, short(1)}, many[2:9]...), ","),
			strings.Join(append([]string{short(0), short(1)}, many[2:9]...), ",")},
		{"then from the end", strings.Join(many, ","), strings.Join(many[:11], ",")},
		{"too many members", strings.Repeat("a=1,", 150), ""},
		{"too long to be valid", strings.Repeat("x", 1<<20), ""},
	} {
		got := capTraceState(tc.in)
		if got != tc.want {
			t.Errorf("%s: capTraceState = %q (%d bytes), want %q", tc.name, got, len(got), tc.want)
		}
		if len(got) > maxTraceState {
			t.Errorf("%s: %d bytes kept", tc.name, len(got))
		}
	}
}

// TestCapRecordBounds checks capRecord's checks by the OR of lengths
// against caps that are no power of two: the record it leaves, and the
// attributes' bytes, are those of capping each string by its own
// comparison and the attributes by capAttrs — strings within their caps
// whose lengths OR past the cap are left whole, each one over its cap is
// cut.
func TestCapRecordBounds(t *testing.T) {
	c := newConfig([]Option{WithMaxName(200), WithMaxText(1000), WithMaxAttrs(8, 300)})
	x := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name string
		rec  Record
	}{
		{"within, ORed past", Record{Method: x(150), Route: x(100), User: x(9), Remote: x(200), Error: x(600), Panic: x(500),
			Attrs: []Attr{{Key: x(150), Value: x(300)}, {Key: x(100), Value: x(44)}}}},
		{"name over", Record{Method: "GET", Route: x(201)}},
		{"remote over", Record{Method: "GET", Remote: x(300)}},
		{"text over", Record{Error: x(10), Panic: x(1001)}},
		{"key over", Record{Attrs: []Attr{{Key: "a", Value: "1"}, {Key: x(201), Value: "2"}}}},
		{"value over", Record{Attrs: []Attr{{Key: x(200), Value: x(301)}}}},
		{"short", Record{Method: "GET", Route: "/r", Attrs: []Attr{{Key: "a", Value: "1"}}}},
	} {
		want := tc.rec
		want.Attrs = slices.Clone(tc.rec.Attrs)
		for _, f := range []*string{&want.Method, &want.Route, &want.User, &want.Remote} {
			capString(f, c.maxName)
		}
		capString(&want.Error, c.maxText)
		capString(&want.Panic, c.maxText)
		var wantN int64
		want.Attrs, wantN = c.capAttrs(want.Attrs)
		got := tc.rec
		got.Attrs = slices.Clone(tc.rec.Attrs)
		n := c.capRecord(&got)
		if got.Method != want.Method || got.Route != want.Route || got.User != want.User || got.Remote != want.Remote ||
			got.Error != want.Error || got.Panic != want.Panic || !slices.Equal(got.Attrs, want.Attrs) || n != wantN {
			t.Errorf("%s: capRecord left lengths %d %d %d %d %d %d, attributes %v, %d bytes; want %d %d %d %d %d %d, %v, %d",
				tc.name, len(got.Method), len(got.Route), len(got.User), len(got.Remote), len(got.Error), len(got.Panic), attrLens(got.Attrs), n,
				len(want.Method), len(want.Route), len(want.User), len(want.Remote), len(want.Error), len(want.Panic), attrLens(want.Attrs), wantN)
		}
	}
}

// attrLens returns the lengths of attrs' keys and values.
func attrLens(attrs []Attr) [][2]int {
	var ls [][2]int
	for _, a := range attrs {
		ls = append(ls, [2]int{len(a.Key), len(a.Value)})
	}
	return ls
}
