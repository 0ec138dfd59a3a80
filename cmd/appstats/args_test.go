package main

import (
	"strings"
	"testing"
)

// A command that takes flags only refuses an argument: the flag package
// stops at the first, so the flags after it were ignored without a word
// ("serve -data DIR 0.0.0.0:80 -basic-auth u:p" served on loopback without
// authentication; "export -data DIR out.jsonl -status 5xx" exported every
// record). import takes files, and keeps them.
func TestStrayArguments(t *testing.T) {
	empty := t.TempDir()
	for _, args := range [][]string{
		{"serve", "-data", empty, "0.0.0.0:80", "-basic-auth", "u:p"},
		{"export", "-data", empty, "out.jsonl", "-status", "5xx"},
		{"tail", "-data", empty, "extra"},
		{"stats", "-data", empty, "1h"},
	} {
		code, _, stderr := appstats(t, "", args...)
		if code != 2 || !strings.Contains(stderr, `unexpected argument "`+args[3]+`"`) {
			t.Errorf("appstats %v = %d, %q; want 2 and unexpected argument %q", args, code, stderr, args[3])
		}
	}
	if code, _, stderr := appstats(t, "", "import", "-data", empty, "missing.jsonl"); code != 1 || !strings.Contains(stderr, "missing.jsonl") {
		t.Errorf("appstats import FILE = %d, %q; want 1 and the file's error", code, stderr)
	}
}
