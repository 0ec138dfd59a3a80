package badgerstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

const memChildEnv = "BADGERSTORE_MEMTABLE_CHILD_DIR"

// memKey is the i-th scratch key the memtable tests write: a prefix no
// store key has.
func memKey(i int) []byte {
	return binary.BigEndian.AppendUint32([]byte{'y'}, uint32(i))
}

// memChild opens dir with the zero Options, reads back the scratch keys
// and prints "ok" and the memtable size it was opened with. It runs in a
// process of its own: Badger exits the process when a memtable log does
// not fit.
func memChild(dir string, n int) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for _, i := range []int{0, n / 2, n - 1} {
			item, err := txn.Get(memKey(i))
			if err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
			if item.ValueSize() != 200 {
				return fmt.Errorf("key %d: %d bytes", i, item.ValueSize())
			}
		}
		return nil
	})
	if err != nil {
		fmt.Println("read:", err)
		os.Exit(2)
	}
	used := s.opts.MemTableSize
	if err := s.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(2)
	}
	fmt.Println("ok", used)
}

// TestOpenFitsLargerMemtableLogs: a store left with a memtable log
// written with 8 MiB memtables (a default of earlier rounds) and filled
// past what a memtable of today's default holds — as a crash leaves it,
// here a Snapshot of the open store — opens with the zero Options, with
// memtables of the log's size, and every entry is read back. Badger exits
// the process ("Arena too small") when a log is replayed into a smaller
// memtable, so the reopening runs in a child process.
func TestOpenFitsLargerMemtableLogs(t *testing.T) {
	const n = 25000
	if dir := os.Getenv(memChildEnv); dir != "" {
		memChild(dir, n)
		return
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 5 MB and runs a child process")
	}
	snap, _ := snapshotWith8MiBLogs(t, n)
	reopenInChild(t, "TestOpenFitsLargerMemtableLogs", snap)
}

// reopenInChild runs test in a child process with memChildEnv set to
// snap, where memChild reopens it with the zero Options, and fails t
// unless the child opened it with 8 MiB memtables and read every entry
// back (Badger exits the process when a log does not fit its memtable).
func reopenInChild(t *testing.T, test, snap string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), memChildEnv+"="+snap)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil || !strings.Contains(out.String(), fmt.Sprintf("ok %d", 8<<20)) {
		t.Fatalf("reopening with the zero Options: %v\nstdout: %s\nstderr: %s", err, out.String(), lastLines(errOut.String(), 5))
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(len(l)-n, 0):], "\n")
}

// TestOpenRefusesHugeMemtableLog: a memtable log that would need a
// memtable over 1 GiB (a sparse file of 3 GiB) is an error naming it, for
// writing and read-only, before Badger allocates anything for it.
func TestOpenRefusesHugeMemtableLog(t *testing.T) {
	for _, ro := range []bool{false, true} {
		dir := t.TempDir()
		f, err := os.Create(filepath.Join(dir, "00001.mem"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(3 << 30); err != nil {
			f.Close()
			t.Skipf("no sparse file of 3 GiB here: %v", err)
		}
		f.Close()
		s, err := Open(dir, Options{ReadOnly: ro})
		if err == nil {
			s.Close()
			t.Fatalf("ReadOnly %v: opened a store with a memtable log of 3 GiB", ro)
		}
		if !strings.Contains(err.Error(), "00001.mem") || errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadOnly %v: error %q does not name the log", ro, err)
		}
	}
}

// TestMemTableFor: the size the logs need, never less than asked; files
// that are not memtable logs are not counted.
func TestMemTableFor(t *testing.T) {
	dir := t.TempDir()
	if got, err := memTableFor(filepath.Join(dir, "missing"), 4<<20); got != 4<<20 || err != nil {
		t.Errorf("missing directory: %d, %v", got, err)
	}
	for name, size := range map[string]int64{"00001.mem": 16 << 20, "00002.mem": 2 << 20, "000001.vlog": 64 << 20, "x.mem.bak": 40 << 20} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, name), size); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "00003.mem"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := memTableFor(dir, 4<<20); got != 8<<20 || err != nil {
		t.Errorf("memTableFor(4 MiB) = %d, %v; want 8 MiB", got, err)
	}
	if got, err := memTableFor(dir, 32<<20); got != 32<<20 || err != nil {
		t.Errorf("memTableFor(32 MiB) = %d, %v; want 32 MiB", got, err)
	}
}

// TestOpenMemtableLogLevel: a directory whose memtable logs need larger
// memtables than the zero Options give opens with memtables of their
// size, logged at info level when that size is one an earlier default
// wrote (4 and 8 MiB: a crash before an upgrade leaves such logs) and as
// a warning when it is larger (only a setting writes those).
func TestOpenMemtableLogLevel(t *testing.T) {
	for _, tc := range []struct {
		memtable int64
		level    string
	}{
		{4 << 20, "INFO"},
		{8 << 20, "INFO"},
		{16 << 20, "WARN"},
	} {
		dir := t.TempDir()
		// An empty log, as Badger leaves one: its file is twice its
		// memtable, zeros past the entries.
		if err := os.WriteFile(filepath.Join(dir, "00001.mem"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, "00001.mem"), 2*tc.memtable); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("memtables of %d MiB: %v", tc.memtable>>20, err)
		}
		used := s.opts.MemTableSize
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if used != tc.memtable {
			t.Errorf("memtables of %d MiB: opened with %d", tc.memtable>>20, used)
		}
		var line string
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "memtable logs written with larger memtables") {
				line = l
			}
		}
		if !strings.Contains(line, "level="+tc.level+" ") {
			t.Errorf("memtables of %d MiB: logged %q, want level %s", tc.memtable>>20, line, tc.level)
		}
	}
}

// snapshotWith8MiBLogs writes n entries into a store with 8 MiB memtables
// and returns a Snapshot of it taken while open (so it holds their
// memtable logs, as a crash leaves them) and the logs' paths.
func snapshotWith8MiBLogs(t *testing.T, n int) (snap string, mems []string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	s, err := Open(src, Options{MemTableSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	wb := s.db.NewWriteBatch()
	val := bytes.Repeat([]byte{'v'}, 200)
	for i := range n {
		if err := wb.Set(memKey(i), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	snap = filepath.Join(t.TempDir(), "snap")
	err = Snapshot(src, snap)
	if cerr := s.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	mems, _ = filepath.Glob(filepath.Join(snap, "*.mem"))
	if len(mems) == 0 {
		t.Fatal("the snapshot holds no memtable log: nothing to replay")
	}
	return snap, mems
}
