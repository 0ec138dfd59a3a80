package main

import (
	"strings"
	"testing"
)

// A negative -refresh is refused, where it was taken for 0 (never copy
// again) without a word.
func TestNegativeRefresh(t *testing.T) {
	dir := dataDir(t, testRecords(1, 3))
	for _, cmd := range []string{"serve", "tail"} {
		code, _, stderr := appstats(t, "", cmd, "-data", dir, "-addr", "127.0.0.1:0", "-refresh", "-5s")
		if cmd == "tail" {
			code, _, stderr = appstats(t, "", cmd, "-data", dir, "-refresh", "-5s")
		}
		if code != 1 || !strings.Contains(stderr, "-refresh -5s: negative") {
			t.Errorf("%s -refresh -5s = %d, %q", cmd, code, stderr)
		}
	}
}
