package recording

import (
	"fmt"
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
