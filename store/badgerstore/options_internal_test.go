package badgerstore

import "testing"

// TestOpenDefaultSizes: the zero Options give Badger 4 MiB memtables, two
// of them, and 1 MiB tables, whatever MaxBytes is, so that a memtable's
// flush (the full memtable's arena, the next one's and the level-0 table
// builder's buffers of 2 × BaseTableSize and 4 × BaseTableSize) holds
// about 16 MiB of heap, and the disk reserve is 89 MiB on an empty store.
func TestOpenDefaultSizes(t *testing.T) {
	for _, o := range []Options{{}, {MaxBytes: 64 << 20}, {MaxBytes: 1 << 40}, {MaxBytes: -1}} {
		d, err := o.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if d.MemTableSize != 4<<20 || d.NumMemtables != 2 || d.BaseTableSize != 1<<20 {
			t.Errorf("MaxBytes %d: MemTableSize %d, NumMemtables %d, BaseTableSize %d; want 4 MiB, 2, 1 MiB",
				o.MaxBytes, d.MemTableSize, d.NumMemtables, d.BaseTableSize)
		}
		bo := d.badger(t.TempDir())
		if bo.MemTableSize != d.MemTableSize || bo.NumMemtables != d.NumMemtables || bo.BaseTableSize != d.BaseTableSize {
			t.Errorf("MaxBytes %d: Badger's options %d, %d, %d differ from the store's", o.MaxBytes, bo.MemTableSize, bo.NumMemtables, bo.BaseTableSize)
		}
		// Three level-0 tables start a compaction (fewer compactions'
		// builders overlap a flush), eight stall writes.
		if bo.NumLevelZeroTables != 3 || bo.NumLevelZeroTablesStall != 8 {
			t.Errorf("MaxBytes %d: NumLevelZeroTables %d, NumLevelZeroTablesStall %d; want 3, 8",
				o.MaxBytes, bo.NumLevelZeroTables, bo.NumLevelZeroTablesStall)
		}
		if o.MaxBytes == 0 {
			s := &Store{opts: d}
			if got := s.reserve(); got != 89<<20 {
				t.Errorf("the reserve on an empty store is %d MiB, want 89", got>>20)
			}
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
