//go:build race

package headermap

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSmallRaceReported checks that, under -race, Small tells the race
// detector of its read of the map, as the map's own look-ups do: a write
// of a map on one goroutine and Small of it on another, with nothing
// between them, is reported. The race runs in a child process (this test
// binary, running TestSmallRaceChild), whose report fails it and not this
// test.
func TestSmallRaceReported(t *testing.T) {
	if !Known {
		t.Skip("Small reads no map on this release")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSmallRaceChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HEADERMAP_RACE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WARNING: DATA RACE") {
		t.Fatalf("a write of a map beside Small of it was not reported as a race (%v):\n%s", err, out)
	}
	// Small is inlined: its read is runtime.raceread's, in the child.
	if !strings.Contains(string(out), "runtime.raceread()") || !strings.Contains(string(out), "TestSmallRaceChild") {
		t.Fatalf("the race reported is not Small's read:\n%s", out)
	}
}

// TestSmallRaceChild is TestSmallRaceReported's child: a write of a small
// map on another goroutine, then Small of it here, ordered in time (a
// sleep) but not by any synchronization.
func TestSmallRaceChild(t *testing.T) {
	if os.Getenv("HEADERMAP_RACE_CHILD") == "" {
		t.Skip("run by TestSmallRaceReported")
	}
	h := map[string][]string{"Accept": {"*/*"}}
	go func() { h["User-Agent"] = []string{"test"} }()
	time.Sleep(100 * time.Millisecond)
	_ = Small(h)
}
