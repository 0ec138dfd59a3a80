package testlog_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/internal/testlog"
)

// TestBufferConcurrent: writes from many goroutines, read while they run,
// all end up in the buffer whole (run with -race).
func TestBufferConcurrent(t *testing.T) {
	var b testlog.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(&b, "line %d.%d\n", i, j)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
