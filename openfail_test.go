package appstats_test

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/store/badgerstore"
)

// TestOpenLockedStoreLeavesNothing: Open on a directory another process
// (here another Appstats) holds returns an error wrapping
// badgerstore.ErrLocked and leaves nothing running, so that a service can
// start without recording, or with an in-memory store, as Open's
// documentation says.
func TestOpenLockedStoreLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	first, err := appstats.Open(appstats.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	before := runtime.NumGoroutine()
	as, err := appstats.Open(appstats.Config{Dir: dir})
	if !errors.Is(err, badgerstore.ErrLocked) || as != nil {
		t.Fatalf("Open on a directory held: %v, %v; want nil and ErrLocked", as, err)
	}
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the failed Open, %d before", runtime.NumGoroutine(), before)
		}
	}
	mem, err := appstats.Open(appstats.Config{InMemory: true})
	if err != nil {
		t.Fatalf("Open in memory after the failed Open: %v", err)
	}
	mem.Close()
}
