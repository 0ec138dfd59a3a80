package main

import (
	"strings"
	"testing"
)

// A time range that ends before it starts is refused, not answered with no
// records.
func TestSinceNotBeforeUntil(t *testing.T) {
	empty := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-since", "2026-12-06T00:00:00Z", "-until", "2026-12-01T00:00:00Z"}, "-since 2026-12-06T00:00:00Z is not before -until 2026-12-01T00:00:00Z"},
		{[]string{"-since", "2026-12-06T00:00:00Z", "-until", "2026-12-06T00:00:00Z"}, "is not before -until"},
		{[]string{"-window", "1h", "-until", "2000-01-01T00:00:00Z"}, "-window 1h0m0s starts at"},
	} {
		for _, cmd := range []string{"export", "tail"} {
			args := append([]string{cmd, "-data", empty}, tt.args...)
			code, _, stderr := appstats(t, "", args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("appstats %v = %d, %q; want 1 and %q", args, code, stderr, tt.want)
			}
		}
	}
}
