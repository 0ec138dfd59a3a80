package testservers

import (
	"strings"
	"testing"
)

// SameTranscript fails t at each line where got, a transcript of what a
// client saw through a wrapper, differs from want, the same client's bare
// transcript (a missing line reads as empty), and logs want in verbose runs.
func SameTranscript(t testing.TB, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("line %d:\nwrapped %s\nbare    %s", i, g, w)
		}
	}
	if testing.Verbose() {
		t.Log(strings.Join(want, "\n"))
	}
}
