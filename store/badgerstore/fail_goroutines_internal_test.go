package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
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
	for _, when := range []string{"deleted", "failed", "remade", "recovered"} {
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
			if when == "remade" {
				// diskLoop made the directory again (and closes the
				// failed database apart); it opens it a step later.
				for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
					if _, err := os.Stat(dir); err == nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("directory not made again a minute after the deletion; health %+v", s.Health())
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
			// Close returned Badger's error on the pid file it
			// removes last, gone with the directory: the database
			// closed.
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			// The directory made again for the flush (by Close, or
			// by diskLoop before it: "remade") is gone again, as it
			// was left.
			if _, err := os.Lstat(dir); when != "recovered" && !os.IsNotExist(err) {
				ents, _ := os.ReadDir(dir)
				t.Errorf("directory after Close: %v (holding %v); want it gone", err, ents)
			}
			goroutinesLeft(t, before)
		})
	}
}

// TestReopenFailureLoggedOnce: a directory made again that the store
// cannot open (a directory named MANIFEST in it) had the failed open
// logged at every step of diskLoop, a line a second for as long as it
// lasted. Now it is logged once for each cause, Health's Detail says it
// meanwhile, and the store's recovery is logged once when it opens.
func TestReopenFailureLoggedOnce(t *testing.T) {
	s, dir, logs := remadeDir(t)
	lines := func(msg string) int { return strings.Count(logs.String(), msg) }
	const failed = "opening the directory again after the failed write"
	block := func(name string) string {
		p := filepath.Join(dir, name, "mine")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(p)
	}
	waitLines := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); lines(failed) < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d failed opens logged a minute after the deletion, want %d; health %+v\n%s", lines(failed), n, s.Health(), logs.String())
			}
		}
	}
	manifest := block("MANIFEST")
	waitLines(1)
	// Three more steps of diskLoop, each trying the open again.
	time.Sleep(3*diskInterval + diskInterval/2)
	if n := lines(failed); n != 1 {
		t.Errorf("the same failed open logged %d times in four steps, want once:\n%s", n, logs.String())
	}
	if h := s.Health(); h.State != store.StateWriteFailed || !strings.Contains(h.Detail, "MANIFEST is a directory") {
		t.Errorf("health %+v while the open fails, want write failed, the open's failure said", h)
	}
	// Another cause is logged.
	if err := os.RemoveAll(manifest); err != nil {
		t.Fatal(err)
	}
	registry := block("KEYREGISTRY")
	waitLines(2)
	if !strings.Contains(s.Health().Detail, "KEYREGISTRY") {
		t.Errorf("health %+v, want the new cause said", s.Health())
	}
	if err := os.RemoveAll(registry); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v a minute after the directory was cleared", s.Health())
		}
	}
	if n := lines("directory writable again"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs.String())
	}
	if n := lines(failed); n != 2 {
		t.Errorf("%d failed opens logged for two causes, want 2:\n%s", n, logs.String())
	}
}

// TestRemadeDirBackupRestored copies a backup of a store (a closed store's
// files: MANIFEST, tables, value log) into the directory the store made
// again after it was deleted, while the failed database closes: the store
// removed Badger's file names from the directory before opening it, the
// backup with them, and opened it empty. A MANIFEST there is not the
// failed database's (its own went with the deleted directory): the store
// now removes nothing and opens the backup.
func TestRemadeDirBackupRestored(t *testing.T) {
	ctx := context.Background()
	backup := t.TempDir()
	b, err := Open(backup, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, noisyRecords(7, time.Now().Add(-2*time.Hour), 25, 100)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	s, dir, logs := remadeDir(t)
	ents, err := os.ReadDir(backup)
	if err != nil {
		t.Fatal(err)
	}
	var copied []string
	for _, e := range ents {
		if e.Name() == "LOCK" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(backup, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
		copied = append(copied, e.Name())
	}
	t.Logf("copied %v", copied)
	for deadline := time.Now().Add(time.Minute); s.Health().State != store.StateOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v a minute after the deletion\n%s", s.Health(), logs.String())
		}
	}
	if n := s.Len(); n != 25 {
		t.Errorf("Len %d once the store opened the directory with the backup in it, want the backup's 25\n%s", n, logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		t.Errorf("the backup's MANIFEST: %v", err)
	}
}

// TestFailedFlushRetriesLoggedOnce: a store whose writes failed, closed
// while its directory still cannot be written (here a file stands where
// it was), leaves Badger retrying its memtable's flush every second, as
// a crash would leave it: Badger logged an ERROR at every retry, a line a
// second after Close had returned, for as long as the process lived. Now
// its retries are logged once a minute, with how many were not; and once
// the directory can be written again the flush lands and Badger's
// goroutines end.
func TestFailedFlushRetriesLoggedOnce(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := filepath.Join(t.TempDir(), "data")
	logs := &testlog.Buffer{}
	o := blockOpts()
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), noisyRecords(1, time.Now().Add(-time.Hour), 10, 100)); err != nil {
		t.Fatal(err)
	}
	unpin := pinFailed(t, s, dir)
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "did not close") {
		t.Errorf("Close with the directory a file: %v, want the database said not closed", err)
	}
	// Two more retries after Close's five.
	time.Sleep(2*time.Second + time.Second/2)
	if n := strings.Count(logs.String(), "error flushing memtable"); n != 1 {
		t.Errorf("Badger's failed flush logged %d times in seven retries, want once:\n%s", n, logs.String())
	}
	unpin()
	goroutinesLeft(t, before)
}

// TestOpenLockedNamesHolder: Open of a directory another Store holds
// said only "directory in use by another process"; it names the lock
// and the process holding it, from Badger's LOCK file, and what to do.
func TestOpenLockedNamesHolder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, ro := range []bool{false, true} {
		o := blockOpts()
		o.ReadOnly = ro
		_, err := Open(dir, o)
		want := fmt.Sprintf("LOCK names pid %d", os.Getpid())
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Snapshot") {
			t.Errorf("Open (read-only %v) of a directory held: %v; want ErrLocked, %q and Snapshot said", ro, err, want)
		}
	}
}

// TestClockMovedBack writes records, then records started an hour
// earlier, as after the clock was moved back an hour while the store ran
// (the recorder stamps records with the clock), folding in between: every
// record is stored and listed once, counted once in the rollups' minutes
// (those of the earlier hour hold folded rollups already), and a
// retention pass by the clock moved back deletes none. Found sound: it
// passes on main.
func TestClockMovedBack(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	clock := now
	o := blockOpts()
	o.MaxAge = 2 * time.Hour
	o.now = func() time.Time { return clock }
	s, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// An hour back, and now: the rollups of the hour back are folded
	// before the clock goes back.
	if err := s.Write(ctx, noisyRecords(1, now.Add(-time.Hour), 50, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, noisyRecords(2, now.Add(-time.Minute), 50, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(-time.Hour)
	if err := s.Write(ctx, noisyRecords(3, now.Add(-time.Hour).Add(time.Second), 50, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: now.Add(-2 * time.Hour), Until: now.Add(time.Minute)}
	st, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.List(ctx, store.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 150 || len(p.Records) != 150 || st.Requests != 150 {
		t.Errorf("Len %d, List %d, Stats.Requests %d after the clock went back; want 150 each", s.Len(), len(p.Records), st.Requests)
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx, w); err != nil || st.Requests != 150 {
		t.Errorf("Stats.Requests after folding: %v, %v; want 150", st.Requests, err)
	}
}
