package badgerstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnapshotBadLinkedLogs: a memtable or value log that is a symbolic
// link looping on itself, or to nothing, makes Snapshot fail at once with
// an error naming the link (Open refuses both), not as a log flushed
// during the copy ("changed during the copy") after copying the logs in
// every one of its passes. Before, a memtable log linked to nothing failed
// so after 20 passes (80 copies), and a value log linked to nothing was
// skipped as one deleted since the listing: Snapshot returned a copy of a
// directory Open refuses.
func TestSnapshotBadLinkedLogs(t *testing.T) {
	for _, tc := range []struct{ name, target string }{
		{"00300.mem", "00300.mem"},
		{"00301.mem", "/nonexistent/log"},
		{"000300.vlog", "000300.vlog"},
		{"000301.vlog", "/nonexistent/vlog"},
	} {
		t.Run(tc.name+"->"+tc.target, func(t *testing.T) {
			src := storeWithLogs(t, 1)
			if err := os.Symlink(tc.target, filepath.Join(src, tc.name)); err != nil {
				t.Skip("no symbolic links here:", err)
			}
			var calls int
			cp := func(from, to string) (int64, error) { calls++; return copyFile(from, to) }
			dst := filepath.Join(t.TempDir(), "copy")
			if err := os.Mkdir(dst, 0o700); err != nil {
				t.Fatal(err)
			}
			err := snapshotInto(src, dst, cp)
			if err == nil {
				t.Fatal("Snapshot succeeded")
			}
			if !strings.Contains(err.Error(), tc.name) || strings.Contains(err.Error(), errChanged.Error()) || strings.Contains(err.Error(), "passes") {
				t.Errorf("Snapshot's error %q does not name %s alone, or calls it changed", err, tc.name)
			}
			if calls > 10 {
				t.Errorf("Snapshot copied %d files before failing: pass after pass", calls)
			}
		})
	}
}
