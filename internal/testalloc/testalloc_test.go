package testalloc_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/testalloc"
)

var sink []byte

// TestBytesLeastRun: Bytes counts what f allocates, and of its runs the
// one that allocated least: a function that allocates 1 MiB on its first
// run only, and 64 KiB on each, is counted 64 KiB (and no less).
func TestBytesLeastRun(t *testing.T) {
	runs := 0
	n := testalloc.Bytes(func() {
		if runs == 0 {
			sink = make([]byte, 1<<20)
		}
		runs++
		sink = make([]byte, 64<<10)
	})
	if runs != 5 {
		t.Errorf("f ran %d times, want 5", runs)
	}
	if n < 64<<10 || n >= 1<<20 {
		t.Errorf("Bytes = %d, want the 64 KiB of the runs after the first (at least %d, less than %d)", n, 64<<10, 1<<20)
	}
}
