package badgerstore

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
)

// goroutinesLeft waits until no more goroutines run than before (Badger's
// caches stop theirs a little after its Close returns), and reports those
// left, with their stacks, if some still run a minute later.
func goroutinesLeft(t *testing.T, before int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines a minute after Close, %d before Open:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			return
		}
	}
}

// TestCloseAfterFailureLeavesNoGoroutine closes stores whose writes failed
// (their directory deleted) at each point of their recovery: Close left
// Badger's goroutines running when the failed database could not flush
// its memtable (Badger's Close retries that every second for good: its
// flush goroutine, and the compactors, the value log's and the caches'
// goroutines it stops only after it), and returned after 5 s. Now Close
// returns within its bound, and no goroutine is left.
func TestCloseAfterFailureLeavesNoGoroutine(t *testing.T) {
	for _, when := range []string{"deleted", "failed", "recovered"} {
		t.Run(when, func(t *testing.T) {
			before := runtime.NumGoroutine()
			dir := filepath.Join(t.TempDir(), "data")
			o := blockOpts()
			o.MemTableSize, o.NumMemtables, o.ValueLogFileSize, o.BaseTableSize = 1<<20, 1, 1<<20, 256<<10
			s, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			start := time.Now().Add(-time.Hour)
			if err := s.Write(ctx, noisyRecords(1, start, 100, 4<<10)); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if when != "deleted" {
				for i := 0; s.Health().State != store.StateWriteFailed; i++ {
					if i == 100 {
						t.Fatalf("health %+v after 100 batches written into the deleted directory", s.Health())
					}
					if err := s.Write(ctx, noisyRecords(uint64(i+2), start.Add(time.Duration(i+1)*time.Second), 100, 4<<10)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if when == "recovered" {
				for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("health %+v a minute after the deletion", s.Health())
					}
				}
			}
			err = s.Close()
			t.Logf("Close: %v", err)
			if err != nil && strings.Contains(err.Error(), "did not close") {
				t.Errorf("Close: %v", err)
			}
			goroutinesLeft(t, before)
		})
	}
}
