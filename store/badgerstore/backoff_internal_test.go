package badgerstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openOverTarget opens a store of MaxBytes maxBytes whose directory holds
// a table of twice MaxBytes that is not records (Badger ignores a table
// its manifest does not list until it opens again): retention can delete
// nothing to bring the directory back within its target.
func openOverTarget(t *testing.T, maxBytes int64, interval time.Duration) *Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, Options{MaxBytes: maxBytes, RetentionInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := os.WriteFile(filepath.Join(dir, "999999.sst"), make([]byte, 2*maxBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	s.measure()
	if s.overTarget() <= 0 {
		t.Fatalf("directory %d bytes, tree %d: not over the target", s.diskNow(), s.disk.lsm.Load())
	}
	return s
}

// TestRetentionBacksOff: with the directory over its target and nothing
// retention can delete, the disk loop and Write stop starting a pass every
// second: passes that could not help are followed by fewer and fewer.
func TestRetentionBacksOff(t *testing.T) {
	s := openOverTarget(t, 8<<20, time.Hour)
	ctx := context.Background()
	// Writes are dropped, and ask for passes too.
	deadline := time.Now().Add(6 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if err := s.Write(ctx, bigRecords(uint64(i), time.Now().Add(-time.Hour), 1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Passes at once, then 1 and 2 s after the last (about 0, 1 and 3 s
	// in; the next at 7): at most 3, where a pass at every write's ask
	// made about 30.
	n := s.passes.Load()
	t.Logf("%d retention passes in 6 s, %d records dropped", n, s.Health().Dropped)
	if n == 0 || n > 3 {
		t.Errorf("%d retention passes in 6 s over the target with nothing to delete, want 1 to 3", n)
	}
}

// TestRetentionBackoffYields: a pass asked for after a futile one is
// skipped only while the tree is as it was, no record could be deleted,
// and its wait has not passed; the wait doubles up to
// maxRetentionBackoff, and a pass that deleted something ends it.
func TestRetentionBackoffYields(t *testing.T) {
	s := openOverTarget(t, 8<<20, -1)
	var b retentionBackoff
	now := time.Now()
	if b.skip(s, now) {
		t.Fatal("skipped with no pass before")
	}
	b.done(s, RetentionResult{}, now)
	if !b.skip(s, now.Add(b.wait/2)) {
		t.Errorf("after a futile pass, a pass asked for at once is not skipped")
	}
	if b.skip(s, now.Add(b.wait)) {
		t.Errorf("a pass asked for %v after a futile pass is skipped, its wait passed", b.wait)
	}
	// The tree changed: Badger's compactions may have made room.
	lsm := s.disk.lsm.Load()
	s.disk.lsm.Store(lsm + 1)
	if b.skip(s, now) {
		t.Errorf("skipped though the tree changed")
	}
	s.disk.lsm.Store(lsm)
	// Records over the byte target: a pass would delete them.
	s.bytes.Add(s.opts.MaxBytes)
	if b.skip(s, now) {
		t.Errorf("skipped though records could be deleted")
	}
	s.bytes.Add(-s.opts.MaxBytes)
	for i := 0; i < 10; i++ {
		b.done(s, RetentionResult{}, now)
	}
	if b.wait != maxRetentionBackoff {
		t.Errorf("after 11 futile passes the wait is %v, want %v", b.wait, maxRetentionBackoff)
	}
	b.done(s, RetentionResult{Deleted: 1}, now)
	if b.skip(s, now) {
		t.Errorf("skipped after a pass that deleted records")
	}
}
