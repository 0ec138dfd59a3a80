package badgerstore

import "testing"

// TestOpenDefaultSizes: a store opened with the zero Options, whatever
// MaxBytes is, gives Badger 1.75 MiB memtables, two of them, 1 MiB tables
// and compactions from three level-0 tables (eight stall writes); the
// disk reserve is 75.5 MiB on an empty store.
func TestOpenDefaultSizes(t *testing.T) {
	for _, o := range []Options{{}, {MaxBytes: 64 << 20}, {MaxBytes: 1 << 40}, {MaxBytes: -1}} {
		s, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatalf("MaxBytes %d: %v", o.MaxBytes, err)
		}
		bo := s.db.Opts()
		if bo.MemTableSize != 1792<<10 || bo.NumMemtables != 2 || bo.BaseTableSize != 1<<20 {
			t.Errorf("MaxBytes %d: Badger's MemTableSize %d, NumMemtables %d, BaseTableSize %d; want 1.75 MiB, 2, 1 MiB",
				o.MaxBytes, bo.MemTableSize, bo.NumMemtables, bo.BaseTableSize)
		}
		if bo.NumLevelZeroTables != 3 || bo.NumLevelZeroTablesStall != 8 {
			t.Errorf("MaxBytes %d: NumLevelZeroTables %d, NumLevelZeroTablesStall %d; want 3, 8",
				o.MaxBytes, bo.NumLevelZeroTables, bo.NumLevelZeroTablesStall)
		}
		if o.MaxBytes == 0 {
			if got := s.reserve(); got != 151<<19 {
				t.Errorf("the reserve on an empty store is %.1f MiB, want 75.5", float64(got)/(1<<20))
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Set sizes are kept.
	d, err := Options{MemTableSize: 16 << 20, BaseTableSize: 2 << 20, NumMemtables: 3}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.MemTableSize != 16<<20 || d.BaseTableSize != 2<<20 || d.NumMemtables != 3 {
		t.Errorf("set sizes changed: %d, %d, %d", d.MemTableSize, d.BaseTableSize, d.NumMemtables)
	}
}
