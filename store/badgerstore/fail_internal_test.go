package badgerstore

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/store"
)

// TestDirDeletedWhileWriting deletes the store's directory under it and
// goes on writing. Badger cannot create its next value-log file then, and
// kept taking writes that failed each (Write returned Badger's error every
// batch, Health said "ok"; on a tmpfs one of them faulted, killing the
// process: see internal/faults' TestDataDirDeleted). Now the first failure
// stops the writes: Write drops and counts the records, Health says
// "write failed" with where and why, and the store makes the directory
// again, opens it and stores records again by itself; Close then closes.
func TestDirDeletedWhileWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	o := blockOpts()
	o.MemTableSize, o.NumMemtables, o.ValueLogFileSize, o.BaseTableSize = 1<<20, 1, 1<<20, 256<<10
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	if err := s.Write(ctx, noisyRecords(1, start, 100, 4<<10)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// The value log takes a new file every MiB.
	for i := 0; s.Health().State != store.StateWriteFailed; i++ {
		if i == 100 {
			t.Fatalf("health %+v after 100 batches written into the deleted directory", s.Health())
		}
		if err := s.Write(ctx, noisyRecords(uint64(i+2), start.Add(time.Duration(i+1)*time.Second), 100, 4<<10)); err != nil {
			t.Fatalf("Write into the deleted directory: %v", err)
		}
	}
	h := s.Health()
	if !strings.Contains(h.Detail, dir) || !strings.Contains(h.Detail, "records are dropped") || h.Dropped == 0 {
		t.Errorf("health %+v: want the directory named, records said dropped and counted", h)
	}
	// No write reaches Badger now: a batch is dropped whole.
	before := h.Dropped
	if err := s.Write(ctx, noisyRecords(500, start.Add(time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	if got := s.Health().Dropped; got != before+10 {
		t.Errorf("dropped %d after a batch of 10 with writes stopped, want %d", got, before+10)
	}
	// diskLoop makes the directory again and opens it, within a few of
	// its one-second steps.
	for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v a minute after the deletion", s.Health())
		}
	}
	if err := s.Write(ctx, noisyRecords(501, start.Add(2*time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 10 {
		t.Errorf("Len %d after 10 records written to the directory made again, want 10", n)
	}
	closed = true
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestDirDeletedIdle deletes the directory of a store that writes nothing
// after: Close hung for good (Badger retries flushing its memtable into
// the deleted directory every second) and Health said "ok". Now the store
// finds the directory gone within a step of diskLoop, says so, makes it
// again and opens it; and a Close right after the deletion returns.
func TestDirDeletedIdle(t *testing.T) {
	for _, wait := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "data")
		s, err := Open(dir, blockOpts())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if wait {
			var h store.Health
			for deadline := time.Now().Add(time.Minute); h.State != store.StateWriteFailed; h = s.Health() {
				if time.Now().After(deadline) {
					t.Fatalf("health %+v a minute after the deletion", h)
				}
				time.Sleep(time.Millisecond)
			}
			if !strings.Contains(h.Detail, "deleted") {
				t.Errorf("detail %q does not say the directory was deleted", h.Detail)
			}
			for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("health %+v a minute after the deletion", s.Health())
				}
			}
		}
		err = s.Close()
		t.Logf("wait %v: Close: %v", wait, err)
		if wait && err != nil {
			t.Errorf("Close after the store opened the directory again: %v", err)
		}
	}
}

// pinFailed stops the writes of s as a failed write would, and puts a
// file where its directory was, so that diskLoop cannot open it again (no
// file can be created in it) until the returned function makes the
// directory again.
func pinFailed(t *testing.T, s *Store, dir string) (unpin func()) {
	t.Helper()
	s.wgate.Lock()
	s.stopWrites(errors.New("injected failure"))
	s.wgate.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRetainClosedAfterFailure: Retain on a store closed after a failed
// write returned nil, not ErrClosed (it looked at whether the store could
// write before whether it was closed), so a loop calling it until
// ErrClosed spun for good.
func TestRetainClosedAfterFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	unpin := pinFailed(t, s, dir)
	if _, err := s.Retain(context.Background()); err != nil {
		t.Errorf("Retain with writes stopped: %v, want nil (nothing to do)", err)
	}
	unpin()
	s.Close()
	if _, err := s.Retain(context.Background()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Retain after Close of a store whose writes failed: %v, want ErrClosed", err)
	}
}

// TestClearAfterFailure: Clear while writes are stopped after a failed
// write said "the disk is full"; it says the writes stopped.
func TestClearAfterFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	unpin := pinFailed(t, s, dir)
	defer unpin()
	err = s.Clear(context.Background())
	if !errors.Is(err, errWritesStopped) || strings.Contains(err.Error(), "disk is full") {
		t.Errorf("Clear with writes stopped: %v, want errWritesStopped, not a full disk", err)
	}
}

// TestRemadeDirKeepsForeignFiles deletes a store's directory, and once the
// store has made it again puts an operator's files in it (a backup moved
// in, a note): the store cleared the directory whole before opening it,
// deleting them. Now it removes only Badger's and its own files, logs the
// others and leaves them, and opens the directory beside them.
func TestRemadeDirKeepsForeignFiles(t *testing.T) {
	s, dir, logs := remadeDir(t)
	ctx := context.Background()
	note := filepath.Join(dir, "notes.txt")
	backup := filepath.Join(dir, "data.bak", "MANIFEST")
	if err := os.WriteFile(note, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(backup), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backup, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v a minute after the deletion", s.Health())
		}
	}
	for _, f := range []string{note, backup} {
		if b, err := os.ReadFile(f); err != nil || string(b) != "mine" {
			t.Errorf("%s after the store opened the directory again: %q, %v; want it kept", f, b, err)
		}
	}
	l := logs.String()
	if !strings.Contains(l, "not the store's") || !strings.Contains(l, "notes.txt") || !strings.Contains(l, "data.bak") {
		t.Errorf("log does not name the files left in place:\n%s", l)
	}
	if err := s.Write(ctx, noisyRecords(2, time.Now().Add(-time.Minute), 10, 100)); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 10 {
		t.Errorf("Len %d after 10 records written beside the foreign files, want 10", n)
	}
}

// TestClearDirOwnFiles: clearDir removes the regular files named as
// Badger's and the store's, and keeps the rest, a directory named as one
// of Badger's files among them.
func TestClearDirOwnFiles(t *testing.T) {
	dir := t.TempDir()
	own := []string{"000001.sst", "000002.vlog", "00003.mem", "MANIFEST", "MANIFEST-REWRITE",
		"KEYREGISTRY", "REWRITE-KEYREGISTRY", "DISCARD", "LOCK", ".probe-123"}
	foreign := []string{"notes.txt", "MANIFEST.bak", "backup.tar"}
	for _, n := range append(own, foreign...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "old.sst"), 0o755); err != nil {
		t.Fatal(err)
	}
	kept, err := clearDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(foreign), "old.sst")
	slices.Sort(want)
	if !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, want) {
		t.Errorf("left %q in the directory, want %q", left, want)
	}
}

// TestRemadeDirForeignManifestDir: an entry of the directory made again
// that bears one of Badger's names but is not a regular file (a directory
// named MANIFEST) is left in place, and the store does not open over it
// (Badger cannot): writes stay stopped, the failed open is logged, and
// once it is taken away the store opens the directory.
func TestRemadeDirForeignManifestDir(t *testing.T) {
	s, dir, logs := remadeDir(t)
	ctx := context.Background()
	foreign := filepath.Join(dir, "MANIFEST", "mine")
	if err := os.MkdirAll(filepath.Dir(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(logs.String(), "opening the directory again"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed open logged a minute after the deletion; health %+v\n%s", s.Health(), logs.String())
		}
	}
	// An empty database in memory stands in for the failed one, closed:
	// Health says the records are not shown.
	if h := s.Health(); h.State != store.StateWriteFailed || !strings.Contains(h.Detail, "not shown until the directory is opened again") {
		t.Errorf("health %+v with a directory named MANIFEST in the store's, want write failed, records said not shown", h)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 0 {
		t.Errorf("List with the stand-in database: %d records, %v; want none", len(p.Records), err)
	}
	if !strings.Contains(logs.String(), "MANIFEST is a directory") {
		t.Errorf("log does not say why the open failed:\n%s", logs.String())
	}
	if b, err := os.ReadFile(foreign); err != nil || string(b) != "mine" {
		t.Errorf("%s: %q, %v; want it kept", foreign, b, err)
	}
	if err := os.RemoveAll(filepath.Dir(foreign)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v a minute after the directory named MANIFEST was removed", s.Health())
		}
	}
}

// TestHealthFailedReads: until a file can be created in the directory
// again, reads are served by the failed database, and Health's Detail
// says the records stored before are still shown (it said nothing of
// reads; TestRemadeDirForeignManifestDir sees the other side).
func TestHealthFailedReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Write(ctx, noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	unpin := pinFailed(t, s, dir)
	defer unpin()
	if h := s.Health(); h.State != store.StateWriteFailed || !strings.Contains(h.Detail, "records stored before are still shown") {
		t.Errorf("health %+v with writes stopped, want write failed, records said still shown", h)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 10 {
		t.Errorf("List with writes stopped: %d records, %v; want 10", len(p.Records), err)
	}
}

// remadeDir opens a store in a directory of the test's, writes records,
// deletes the directory and waits until the store has made it again (it
// clears and opens it a step of diskLoop, a second, later at the
// earliest): the opening of the tests of what the store does with the
// directory it made again. The store logs to logs; the test's end closes
// it.
func remadeDir(t *testing.T) (s *Store, dir string, logs *testlog.Buffer) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	logs = &testlog.Buffer{}
	o := blockOpts()
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Write(context.Background(), noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(dir); err == nil {
			return s, dir, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("directory not made again a minute after the deletion; health %+v", s.Health())
		}
	}
}
