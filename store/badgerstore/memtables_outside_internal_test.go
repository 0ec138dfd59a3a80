//go:build unix

package badgerstore

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// TestOpenRefusesSpecialBadgerFiles: a closed store whose directory holds,
// under a name Badger opens, a named pipe, a directory, or a link to a
// directory or a device, is not opened, for writing or read-only: the
// error names the file. Before, Open waited without end on a named pipe
// (opening it for reading waits for a writer) and on a directory (its
// scan of the logs did not end). A hung Open is released after a minute
// (the pipe opened for writing) and reported.
func TestOpenRefusesSpecialBadgerFiles(t *testing.T) {
	cases := []struct {
		name, file string
		make       func(path string) error
	}{
		{"fifo log", "00001.mem", func(p string) error { return unix.Mkfifo(p, 0o644) }},
		{"fifo value log", "000009.vlog", func(p string) error { return unix.Mkfifo(p, 0o644) }},
		{"fifo key registry", "KEYREGISTRY", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return unix.Mkfifo(p, 0o644)
		}},
		{"directory log", "00001.mem", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"link to a directory", "00001.mem", func(p string) error { return os.Symlink(filepath.Dir(p), p) }},
		{"link to a device", "00001.mem", func(p string) error { return os.Symlink("/dev/zero", p) }},
	}
	for _, tc := range cases {
		for _, ro := range []bool{false, true} {
			dir := closedStore(t)
			path := filepath.Join(dir, tc.file)
			if err := tc.make(path); err != nil {
				t.Skipf("%s: %v", tc.name, err)
			}
			err := returnsOrUnblocks(t, path, fmt.Sprintf("%s, ReadOnly %v: Open", tc.name, ro), func() error {
				s, err := Open(dir, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
				}
				return err
			})
			if err == nil || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("%s, ReadOnly %v: Open: %v; want an error naming %s", tc.name, ro, err, tc.file)
			}
		}
	}
}

// TestOpenFitsLinkedMemtableLog: a memtable log written with 8 MiB
// memtables that is a symbolic link to the log (a store assembled from
// links, as a backup tool or an operator may leave it) is sized through
// the link, as Badger reads it: the store opens with 8 MiB memtables and
// every entry is read back. Before, memTableFor skipped links and Badger
// exited the process ("Arena too small"); so the reopening runs in a
// child process.
func TestOpenFitsLinkedMemtableLog(t *testing.T) {
	const n = 25000
	if dir := os.Getenv(memChildEnv); dir != "" {
		memChild(dir, n)
		return
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: it writes 5 MB and runs a child process")
	}
	snap, mems := snapshotWith8MiBLogs(t, n)
	linkLogsElsewhere(t, mems)
	reopenInChild(t, "TestOpenFitsLinkedMemtableLog", snap)
}

// TestOpenEmptyMemtableLog: a store left with an empty memtable log (a
// crash between Badger's creating the file and sizing it) opens for
// writing at the first Open and stores records. Before, Badger sized the
// log and failed that Open ("Create a new file"), opening only the next.
func TestOpenEmptyMemtableLog(t *testing.T) {
	dir := closedStore(t)
	if err := os.WriteFile(filepath.Join(dir, "00007.mem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open with an empty memtable log: %v", err)
	}
	defer s.Close()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(memKey(1), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
}

// TestOpenKeepsOddMemFiles: an empty file whose name ends in .mem but is
// not one Badger gives its logs (x.mem, .mem) is not removed at Open, as
// empty logs are: Open fails, naming it, and the file is still there.
func TestOpenKeepsOddMemFiles(t *testing.T) {
	for _, name := range []string{"x.mem", ".mem"} {
		dir := closedStore(t)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(dir, Options{}); err == nil {
			s.Close()
			t.Errorf("%s: opened", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name it", name, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestOpenLogsLargerMemtablesOnce: a directory with several memtable logs
// written with larger memtables (here three empty ones of 16 MiB, as
// 8 MiB memtables leave them) is opened with 8 MiB memtables, and Open
// logs that once, whatever the number of logs, with the sizes given and
// used and no path (at whatever level).
func TestOpenLogsLargerMemtablesOnce(t *testing.T) {
	dir := closedStore(t)
	for _, name := range []string{"00005.mem", "00006.mem", "00007.mem"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, name), 16<<20); err != nil {
			t.Fatal(err)
		}
	}
	h := &countHandler{msg: "larger memtables"}
	s, err := Open(dir, Options{Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	used := s.opts.MemTableSize
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if used != 8<<20 {
		t.Errorf("opened with memtables of %d bytes; want %d", used, 8<<20)
	}
	if h.n != 1 {
		t.Errorf("logged %d times; want once", h.n)
	}
	want := []string{"option=MemTableSize", fmt.Sprintf("given=%d", defaultMemTableSize), fmt.Sprintf("used=%d", 8<<20)}
	if !slices.Equal(h.attrs, want) {
		t.Errorf("logged %v; want %v", h.attrs, want)
	}
}

// closedStore returns the directory of a store opened with the default
// options and closed, for a test to drop files in.
func closedStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenReadOnlyEmptyMemtableLog: opened read-only, a store left with an
// empty memtable log (see TestOpenEmptyMemtableLog) is refused with an
// error naming the log and what to do, and the log is left in place; once
// opened for writing (which removes it) it opens read-only. Before, Badger
// failed the read-only Open with its own words ("error while truncation").
func TestOpenReadOnlyEmptyMemtableLog(t *testing.T) {
	dir := closedStore(t)
	path := filepath.Join(dir, "00007.mem")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{ReadOnly: true})
	if err == nil {
		s.Close()
		t.Fatal("read-only Open with an empty memtable log: opened")
	}
	if !strings.Contains(err.Error(), "00007.mem") || !strings.Contains(err.Error(), "for writing") {
		t.Errorf("read-only Open with an empty memtable log: %v; want an error naming 00007.mem and opening for writing", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the empty log after a read-only Open: %v", err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open after Open for writing: %v", err)
	}
	s.Close()
}

// TestSnapshotRefusesSpecialFiles: Snapshot of a store with a named pipe
// under a name it copies (MANIFEST, KEYREGISTRY) returns an error naming
// it rather than waiting without end for a writer to the pipe, as Open
// refuses it (TestOpenRefusesSpecialBadgerFiles). Before, Snapshot's copy
// opened the pipe for reading and did not return.
func TestSnapshotRefusesSpecialFiles(t *testing.T) {
	for _, name := range []string{"MANIFEST", "KEYREGISTRY"} {
		dir := closedStore(t)
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := unix.Mkfifo(path, 0o644); err != nil {
			t.Skipf("no named pipes here: %v", err)
		}
		snap := filepath.Join(t.TempDir(), "snap")
		err := returnsOrUnblocks(t, path, name+" a named pipe: Snapshot", func() error { return Snapshot(dir, snap) })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s a named pipe: Snapshot: %v; want an error naming it", name, err)
		}
	}
}

// returnsOrUnblocks runs f and returns its error; if f has not returned within
// a minute (it waits on the named pipe at pipe, if one is there), it
// opens the pipe for writing, which lets a reader go on, and fails t:
// what did not return.
func returnsOrUnblocks(t *testing.T, pipe, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		if w, err := os.OpenFile(pipe, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatalf("%s did not return", what)
		return nil
	}
}
