package badgerstore

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValueThresholdBound: a ValueThreshold over what Badger takes with
// the memtables given (15% of MemTableSize, and 1 MiB) is refused by the
// store's own check, naming ValueThreshold and MemTableSize, before any
// directory is made; one within it opens. Before, 700 KiB or 1 MiB with
// 4 MiB memtables passed the check (a quarter of MemTableSize) and
// Badger refused them after making the directory, advising a larger
// BaseTableSize, which does not help (1 MiB opened with 8 MiB memtables,
// the default before).
func TestValueThresholdBound(t *testing.T) {
	for _, tc := range []struct {
		o  Options
		ok bool
	}{
		{Options{ValueThreshold: defaultMemTableSize*15/100 + 1, MemTableSize: defaultMemTableSize}, false},
		{Options{ValueThreshold: defaultMemTableSize * 15 / 100, MemTableSize: defaultMemTableSize}, true},
		{Options{ValueThreshold: 700 << 10, MemTableSize: 4 << 20}, false},
		{Options{ValueThreshold: 1 << 20, MemTableSize: 4 << 20}, false},
		{Options{ValueThreshold: 4 << 20 * 15 / 100, MemTableSize: 4 << 20}, true},
		{Options{ValueThreshold: 1 << 20, MemTableSize: 8 << 20}, true},
		{Options{ValueThreshold: 1<<20 + 1, MemTableSize: 64 << 20}, false},
		// Negative: refused, not taken as the minimum or the default.
		{Options{ValueThreshold: -1}, false},
		{Options{ValueThreshold: math.MinInt64}, false},
		{Options{ValueThreshold: math.MaxInt64}, false},
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

// TestReserveAsDocumented: the reserve is what doc.go and README state,
// 2 × (NumMemtables+1) × MemTableSize, a value-log file, the LSM tree's
// size up to 64 MiB, and a MiB: for custom options, with the tree past
// the cap (139.5 MiB with the defaults), and with memtables raised to fit
// a directory's logs (then the raised size counts).
func TestReserveAsDocumented(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		o        Options
		log, lsm int64 // a memtable log left in the directory; the tree's size
		want     int64
	}{
		{Options{}, 0, 0, 75*mib + mib/2},
		{Options{}, 0, 500 * mib, 139*mib + mib/2},
		{Options{MemTableSize: 2 * mib, NumMemtables: 3, MaxBytes: 64 * mib}, 0, 10 * mib, (2*4*2 + 4 + 10 + 1) * mib},
		{Options{}, 16 * mib, 0, (2*3*8 + 64 + 1) * mib},
	} {
		dir := filepath.Join(t.TempDir(), "s")
		if tc.log > 0 {
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "00009.mem"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(filepath.Join(dir, "00009.mem"), tc.log); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(dir, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		opts := s.opts
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// The options Open settled on, with the tree's size set (a store
		// of its own: the open one's disk loop measures its own tree).
		r := &Store{opts: opts}
		r.disk.lsm.Store(tc.lsm)
		if got := r.reserve(); got != tc.want {
			t.Errorf("%+v, log %d, tree %d: reserve %d MiB; want %d", tc.o, tc.log, tc.lsm, got/mib, tc.want/mib)
		}
	}
}

// TestValueThresholdRaisesDefaultMemtables: with MemTableSize left at its
// default, a ValueThreshold the default memtables cannot take (15% of
// 1.75 MiB) opens with memtables just large enough for it, so a threshold
// an earlier default took (up to 614 KiB with 4 MiB memtables) still opens
// after the default changed (before: Open refused 300 KiB and 614 KiB);
// one over 1 MiB is still refused, and a MemTableSize set is kept.
func TestValueThresholdRaisesDefaultMemtables(t *testing.T) {
	for _, v := range []int64{1 << 10, defaultMemTableSize * 15 / 100, defaultMemTableSize*15/100 + 1, 300 << 10, 4 << 20 * 15 / 100, 1 << 20} {
		o, err := Options{ValueThreshold: v}.withDefaults()
		if err != nil {
			t.Errorf("ValueThreshold %d: %v", v, err)
			continue
		}
		if maxValueThreshold(o.MemTableSize) < v {
			t.Errorf("ValueThreshold %d: memtables of %d take at most %d", v, o.MemTableSize, maxValueThreshold(o.MemTableSize))
		}
		if o.MemTableSize > defaultMemTableSize && maxValueThreshold(o.MemTableSize-1) >= v {
			t.Errorf("ValueThreshold %d: memtables of %d, larger than needed", v, o.MemTableSize)
		}
		if o.MemTableSize < defaultMemTableSize {
			t.Errorf("ValueThreshold %d: memtables of %d, below the default", v, o.MemTableSize)
		}
	}
	dir := filepath.Join(t.TempDir(), "s")
	s, err := Open(dir, Options{ValueThreshold: 600 << 10})
	if err != nil {
		t.Fatalf("ValueThreshold 600 KiB with the default memtables: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := (Options{ValueThreshold: 1<<20 + 1}).withDefaults(); err == nil {
		t.Error("ValueThreshold 1 MiB + 1: accepted")
	}
	if _, err := (Options{ValueThreshold: 300 << 10, MemTableSize: defaultMemTableSize}).withDefaults(); err == nil {
		t.Error("ValueThreshold 300 KiB with MemTableSize set to 1.75 MiB: accepted")
	}
}
