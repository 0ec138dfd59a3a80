package badgerstore

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestOpenLockedBeforeManyMemtableLogs: a directory another process holds
// (here a lock of the test's own, as a running writer's Badger holds it)
// is reported locked by Open, for writing and read-only, whatever its
// memtable logs: the error wraps ErrLocked, which tells a second process
// to read it through Snapshot, rather than telling it to move the logs of
// a live store out. Before, the too-many-logs refusal came first.
func TestOpenLockedBeforeManyMemtableLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 70 logs of 3.5 MB (sparse)")
	}
	dir := storeWithLogs(t, 70)
	unlock, err := lockDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, ro := range []bool{false, true} {
		s, err := Open(dir, Options{ReadOnly: ro})
		if err == nil {
			s.Close()
			t.Fatalf("ReadOnly %v: Open of a locked directory succeeded", ro)
		}
		if !errors.Is(err, ErrLocked) {
			t.Errorf("ReadOnly %v: Open of a locked directory of 70 logs: %v; want one wrapping ErrLocked", ro, err)
		}
	}
}

// TestSnapshotRefusesManyMemtableLogs: Snapshot of a directory holding
// more memtable logs than Open accepts returns an error naming their
// count, and no copy, rather than a copy Open refuses. Before, the copy
// was returned, and its Open failed.
func TestSnapshotRefusesManyMemtableLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 70 logs of 3.5 MB (sparse)")
	}
	src := storeWithLogs(t, 70)
	dst := t.TempDir() + "/copy"
	err := Snapshot(src, dst)
	if err == nil {
		s, oerr := Open(dst, Options{})
		if oerr == nil {
			s.Close()
		}
		t.Fatalf("Snapshot of 70 memtable logs succeeded; Open of the copy: %v", oerr)
	}
	if !strings.Contains(err.Error(), "70 memtable logs") {
		t.Errorf("Snapshot's error %q does not name the 70 memtable logs", err)
	}
	if strings.Contains(err.Error(), "move all but") {
		t.Errorf("Snapshot's error %q gives Open's advice to move logs out of a store a service may hold", err)
	}
	if _, serr := os.Stat(dst); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a refused Snapshot left %s: %v", dst, serr)
	}
}
