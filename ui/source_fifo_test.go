//go:build unix

package ui_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestSourceFIFO: a named pipe with a .go name under a source root is
// answered 404 at once. Opening it waited for a writer: the request hung,
// whatever its context, and held a thread.
func TestSourceFIFO(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "pipe.go"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	h := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(dir))
	done := make(chan int, 1)
	go func() { done <- do(h, "GET", sourceURL(filepath.Join(dir, "pipe.go")), nil).Code }()
	select {
	case code := <-done:
		if code != http.StatusNotFound {
			t.Errorf("a named pipe: %d, want 404", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a request for a named pipe under a source root still waits after 10s")
	}
}
