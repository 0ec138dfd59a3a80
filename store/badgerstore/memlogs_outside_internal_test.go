package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// storeWithLogs returns a Snapshot of a store taken while it was open,
// holding n copies of one non-empty memtable log (fids 100 on), as many
// crashes or a careless copy of data directories could leave them.
func storeWithLogs(t *testing.T, n int) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	s, err := Open(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wb := s.db.NewWriteBatch()
	for i := range 100 {
		if err := wb.Set(memKey(i), bytes.Repeat([]byte{'v'}, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "snap")
	err = Snapshot(src, snap)
	if cerr := s.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	mems, _ := filepath.Glob(filepath.Join(snap, "*.mem"))
	var log []byte
	for _, m := range mems {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > len(log) {
			log = b
		}
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
	if len(log) == 0 {
		t.Fatal("the snapshot holds no non-empty memtable log")
	}
	// Each copy written up to its last entry and extended to the log's
	// size: sparse, as Badger's preallocated logs are.
	used := len(bytes.TrimRight(log, "\x00"))
	for i := range n {
		path := filepath.Join(snap, fmt.Sprintf("%05d.mem", 100+i))
		if err := os.WriteFile(path, log[:used], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(len(log))); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

// allocatedBy returns the bytes f allocated on the heap (runtime's
// cumulative count of heap allocations before and after it).
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestOpenRefusesManyMemtableLogs: a directory holding more memtable
// logs than Badger ever leaves (NumMemtables+2 with the largest
// NumMemtables the store accepts, 66) is refused, for writing and
// read-only, with an error naming the count, the first and last log and
// what to do, before Badger allocates a memtable for any of them. Before,
// Badger replayed every log into a memtable of its own at Open, all held
// at once (70 logs: 70 arenas of 2.3 MiB, 160 MiB allocated; a hostile
// directory of thousands exhausts memory).
func TestOpenRefusesManyMemtableLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 70 logs of 3.5 MB (sparse)")
	}
	snap := storeWithLogs(t, 70)
	arena := memtableArena(defaultMemTableSize)
	for _, ro := range []bool{false, true} {
		var err error
		alloc := allocatedBy(func() {
			var s *Store
			if s, err = Open(snap, Options{ReadOnly: ro}); err == nil {
				s.Close()
			}
		})
		if err == nil {
			t.Fatalf("ReadOnly %v: Open of 70 memtable logs succeeded, allocating %d MiB", ro, alloc>>20)
		}
		for _, want := range []string{"70 memtable logs", "00100.mem", "00169.mem", "NumMemtables"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ReadOnly %v: error %q does not say %q", ro, err, want)
			}
		}
		if alloc > uint64(4*arena) {
			t.Errorf("ReadOnly %v: the refused Open allocated %d MiB, more than 4 memtables (%d MiB)", ro, alloc>>20, 4*arena>>20)
		}
	}
	if n, _ := filepath.Glob(filepath.Join(snap, "*.mem")); len(n) != 70 {
		t.Errorf("%d memtable logs left after the refused Opens; want the 70", len(n))
	}
}

// TestOpenWarnsMoreMemtableLogsThanOptions: a directory with more
// memtable logs than Badger leaves with the options given (NumMemtables+2)
// but no more than it leaves with the largest NumMemtables (a store run
// with a larger NumMemtables, then opened with the default) opens, every
// entry read back, with one warning naming the count and the heap their
// replay takes.
func TestOpenWarnsMoreMemtableLogsThanOptions(t *testing.T) {
	snap := storeWithLogs(t, 6)
	h := &countHandler{msg: "memtable logs"}
	s, err := Open(snap, Options{Logger: slog.New(h)})
	if err != nil {
		t.Fatalf("Open of 6 memtable logs with NumMemtables 2: %v", err)
	}
	defer s.Close()
	if h.n != 1 || !strings.Contains(strings.Join(h.attrs, " "), "logs=6") {
		t.Errorf("logged %d warnings %v; want one naming logs=6", h.n, h.attrs)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for i := range 100 {
			item, err := txn.Get(memKey(i))
			if err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
			if !bytes.Equal(v, bytes.Repeat([]byte{'v'}, 200)) {
				return fmt.Errorf("key %d: %q", i, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading the entries back: %v", err)
	}
}

// TestOpenLeavesLiveEmptyLog (guard): while a store is open for writing,
// a second Open of its directory, for writing or read-only, returns
// ErrLocked and leaves an empty memtable log there alone (Badger makes
// each log empty before sizing it: removing it under a live store would
// lose the writes it is about to hold); once the store is closed, Open
// removes it. It runs where lockDir locks the directory: every Unix but
// AIX (fs_lock_other.go).
func TestOpenLeavesLiveEmptyLog(t *testing.T) {
	if !locksDir {
		t.Skip("lockDir does not lock the directory on " + runtime.GOOS)
	}
	dir := filepath.Join(t.TempDir(), "s")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "99999.mem")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if s2, err := Open(dir, Options{ReadOnly: ro}); !errors.Is(err, ErrLocked) {
			if err == nil {
				s2.Close()
			}
			t.Errorf("ReadOnly %v: a second Open of a live store: %v; want ErrLocked", ro, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("ReadOnly %v: the live store's empty log after a second Open: %v", ro, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the empty log after the store was closed and opened again: %v; want it removed", err)
	}
}

// TestSnapshotCopiesLinkedLogs: Snapshot of a store whose memtable log is a
// symbolic link to a regular file (which Open reads, as Badger follows it:
// TestOpenFitsLinkedMemtableLog) copies the log's entries as a regular
// file, so that the copy holds what the store holds. Before, Snapshot
// skipped every log that was not a regular file, and the copy silently
// lacked the linked log's entries (here all of them: "Key not found").
func TestSnapshotCopiesLinkedLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 5 MB")
	}
	snap, mems := snapshotWith8MiBLogs(t, 25000)
	linkLogsElsewhere(t, mems)
	copied := filepath.Join(t.TempDir(), "copy")
	if err := Snapshot(snap, copied); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(copied, "*.mem"))
	for _, m := range got {
		if fi, err := os.Lstat(m); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("the copy's log %s: %v, %v; want a regular file", filepath.Base(m), fi, err)
		}
	}
	s, err := Open(copied, Options{MemTableSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.db.View(func(txn *badger.Txn) error {
		for _, i := range []int{0, 12500, 24999} {
			if _, err := txn.Get(memKey(i)); err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("the copy of a store whose memtable log is a link (%d logs, %d copied): %v", len(mems), len(got), err)
	}
}

// countHandler counts the log records whose message contains msg.
type countHandler struct {
	msg   string
	mu    sync.Mutex
	n     int
	attrs []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countHandler) WithGroup(string) slog.Handler            { return h }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, h.msg) {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	r.Attrs(func(a slog.Attr) bool {
		h.attrs = append(h.attrs, a.String())
		return true
	})
	return nil
}

// linkLogsElsewhere moves each of the logs mems out of their directory and
// leaves a symbolic link to it in its place; it skips the test where links
// cannot be made.
func linkLogsElsewhere(t *testing.T, mems []string) {
	t.Helper()
	for i, m := range mems {
		moved := filepath.Join(t.TempDir(), fmt.Sprintf("log%d", i))
		if err := os.Rename(m, moved); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(moved, m); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
}
