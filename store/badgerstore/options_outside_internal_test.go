package badgerstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValueThresholdBound: a ValueThreshold over what Badger takes with
// the memtables given (15% of MemTableSize, and 1 MiB) is refused by the
// store's own check, naming ValueThreshold and MemTableSize, before any
// directory is made; one within it opens. Before, 700 KiB or 1 MiB with
// the 4 MiB default passed the check (a quarter of MemTableSize) and
// Badger refused them after making the directory, advising a larger
// BaseTableSize, which does not help (1 MiB opened with 8 MiB memtables,
// the default before).
func TestValueThresholdBound(t *testing.T) {
	for _, tc := range []struct {
		o  Options
		ok bool
	}{
		{Options{ValueThreshold: 700 << 10}, false},
		{Options{ValueThreshold: 1 << 20}, false},
		{Options{ValueThreshold: 4 << 20 * 15 / 100}, true},
		{Options{ValueThreshold: 1 << 20, MemTableSize: 8 << 20}, true},
		{Options{ValueThreshold: 1<<20 + 1, MemTableSize: 64 << 20}, false},
	} {
		dir := filepath.Join(t.TempDir(), "s")
		s, err := Open(dir, tc.o)
		if err == nil {
			s.Close()
		}
		switch {
		case tc.ok && err != nil:
			t.Errorf("ValueThreshold %d, MemTableSize %d: %v", tc.o.ValueThreshold, tc.o.MemTableSize, err)
		case tc.ok:
		case err == nil:
			t.Errorf("ValueThreshold %d, MemTableSize %d: opened", tc.o.ValueThreshold, tc.o.MemTableSize)
		case !strings.Contains(err.Error(), "ValueThreshold") || !strings.Contains(err.Error(), "MemTableSize") || strings.Contains(err.Error(), "BaseTableSize"):
			t.Errorf("ValueThreshold %d, MemTableSize %d: error %q does not name ValueThreshold and MemTableSize alone", tc.o.ValueThreshold, tc.o.MemTableSize, err)
		default:
			if _, serr := os.Stat(dir); serr == nil {
				t.Errorf("ValueThreshold %d, MemTableSize %d: refused after making the directory", tc.o.ValueThreshold, tc.o.MemTableSize)
			}
		}
	}
}
