//go:build linux

package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openDeleted lists the files of dir, deleted, that the process pid still
// holds open.
func openDeleted(t *testing.T, pid int, dir string) []string {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && strings.HasSuffix(target, " (deleted)") {
			held = append(held, target)
		}
	}
	return held
}

// TestDataDirDeleted deletes the store's directory under the application
// while it records requests, on the test's temporary filesystem and on a
// tmpfs. Badger cannot create its next value-log file then; it went on
// taking writes, each failing (an ERROR line a batch, and api/health
// said "ok"), and on the tmpfs one of them faulted (SIGBUS), killing the
// process. Now every request succeeds, api/health says writing failed,
// the store opens the directory afresh (empty) by itself and records
// again, holds none of the deleted files open, and the application shuts
// down cleanly.
func TestDataDirDeleted(t *testing.T) {
	runAppVictimIfChild()
	t.Run("tempdir", func(t *testing.T) { dirDeleted(t, filepath.Join(t.TempDir(), "data")) })
	t.Run("tmpfs", func(t *testing.T) { dirDeleted(t, filepath.Join(mountSmallFS(t, "tmpfs", 100), "data")) })
}

func dirDeleted(t *testing.T, data string) {
	v := startAppVictim(t, smallFiles(data))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := startHammer(ctx, v.base, 4, 4<<10)
	for v.requestsIn("1h") < 300 {
		v.requireAlive()
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	failed := v.waitStore("write failed", time.Minute, func(s storeHealth) bool { return s.State == "write failed" })
	t.Logf("after the deletion: %+v", failed)
	if !strings.Contains(failed.Detail, data) || !strings.Contains(failed.Detail, "records are dropped") {
		t.Errorf("detail %q does not say where writing failed and what happens", failed.Detail)
	}
	v.waitStore("writing again", time.Minute, func(s storeHealth) bool { return s.State == "ok" })
	deadline := time.Now().Add(time.Minute)
	for v.requestsIn("1h") == 0 {
		v.requireAlive()
		if time.Now().After(deadline) {
			t.Fatalf("no record stored in a minute after the store said it writes again; log:\n%s", v.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if held := openDeleted(t, v.cmd.Process.Pid, data); len(held) > 0 {
		t.Errorf("the application still holds %d deleted files of the store open: %v", len(held), held)
	}
	cancel()
	h.wait(t)
	v.stop()
	if n := strings.Count(v.stderr.String(), "badgerstore: writing failed"); n != 1 {
		t.Errorf("writing failed logged %d times, want once; log:\n%s", n, v.stderr)
	}
}
