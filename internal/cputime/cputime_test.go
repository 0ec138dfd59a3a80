package cputime_test

import (
	"runtime"
	"testing"

	"github.com/goappstats/appstats/internal/cputime"
)

// spin burns CPU until the clock read by read has advanced, or gives up.
func spin(t *testing.T, read func() (int64, bool)) {
	t.Helper()
	t0, ok := read()
	if !ok {
		t.Skipf("not reported on %s", runtime.GOOS)
	}
	x := 0
	for i := 0; i < 1e9; i++ {
		x += i
		if i%1e5 == 0 {
			if t1, _ := read(); t1 > t0 {
				return
			}
		}
	}
	t.Fatalf("CPU time did not advance after 1e9 iterations (%d)", x)
}

func TestProcess(t *testing.T) {
	spin(t, func() (int64, bool) {
		d, ok := cputime.Process()
		return int64(d), ok
	})
}

func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spin(t, func() (int64, bool) {
		d, ok := cputime.Thread()
		return int64(d), ok
	})
}
