package badgerstore

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// fakeFree is a filesystem's free space, as a test says.
type fakeFree struct{ n atomic.Int64 }

func (f *fakeFree) statfs(string) (int64, error) { return f.n.Load(), nil }

// TestDiskFullDropsAndResumes: below the reserve the store drops records
// (counted, one ERROR logged) and says so; above it again it writes.
func TestDiskFullDropsAndResumes(t *testing.T) {
	var logs testlog.Buffer
	free := new(fakeFree)
	free.n.Store(1 << 40)
	s, err := Open(t.TempDir(), Options{RecordBudget: -1, statfs: free.statfs, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	write := func(seed uint64, n int) {
		t.Helper()
		if err := s.Write(ctx, storetest.Records(seed, start.Add(time.Duration(seed)*time.Minute), time.Millisecond, n)); err != nil {
			t.Fatal(err)
		}
	}
	write(1, 100)
	if s.Len() != 100 || s.Health().State != store.StateOK {
		t.Fatalf("Len %d, %+v", s.Len(), s.Health())
	}

	free.n.Store(s.reserve() - 1)
	time.Sleep(2 * diskRecheck) // let the last measurement age
	write(2, 100)
	write(3, 50)
	h := s.Health()
	if s.Len() != 100 || h.State != store.StateDiskFull || h.Dropped != 150 {
		t.Fatalf("below the reserve: Len %d, %+v; want 100 records kept, disk full, 150 dropped", s.Len(), h)
	}
	if !strings.Contains(h.Detail, "records are dropped until space returns") {
		t.Errorf("detail %q", h.Detail)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines, want 1:\n%s", n, logs.String())
	}

	// Space returns, but not enough: still full (no flapping at the edge).
	free.n.Store(s.reserve() + 1)
	s.refresh()
	if s.Health().State != store.StateDiskFull {
		t.Error("resumed just above the reserve")
	}
	free.n.Store(1 << 40)
	s.refresh()
	write(4, 10)
	if s.Len() != 110 || s.Health().State != store.StateOK {
		t.Fatalf("after space returned: Len %d, %+v", s.Len(), s.Health())
	}
	if !strings.Contains(logs.String(), "writing resumed") || !strings.Contains(logs.String(), "dropped=150") {
		t.Errorf("resuming not logged with the count dropped:\n%s", logs.String())
	}
}

// TestOpenOnFullDisk: opened below the reserve, the store serves what it
// holds read-only (or, with nothing to open, an empty store), drops
// writes, and opens for writing once space returns.
func TestOpenOnFullDisk(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	for _, tt := range []struct {
		name     string
		existing int // records stored before
		mode     int32
	}{
		{"existing", 200, modeReadOnly},
		{"new", 0, modeMemory},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.existing > 0 {
				s, err := Open(dir, Options{RecordBudget: -1})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Write(ctx, storetest.Records(1, start, time.Millisecond, tt.existing)); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			free := new(fakeFree)
			free.n.Store(1 << 20)
			s, err := Open(dir, Options{RecordBudget: -1, statfs: free.statfs})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.mode.Load() != tt.mode || s.Health().State != store.StateDiskFull {
				t.Fatalf("mode %d, %+v; want mode %d, disk full", s.mode.Load(), s.Health(), tt.mode)
			}
			if p, err := s.List(ctx, store.Query{Limit: store.MaxLimit}); err != nil || len(p.Records) != tt.existing {
				t.Fatalf("List: %d records, %v; want %d", len(p.Records), err, tt.existing)
			}
			if err := s.Write(ctx, storetest.Records(2, start.Add(time.Minute), time.Millisecond, 10)); err != nil {
				t.Fatal(err)
			}
			if s.Len() != tt.existing || s.Health().Dropped != 10 {
				t.Fatalf("Write on a full disk: Len %d, %+v", s.Len(), s.Health())
			}
			if _, err := s.Retain(ctx); err != nil {
				t.Errorf("Retain on a full disk: %v", err)
			}

			free.n.Store(1 << 40)
			deadline := time.Now().Add(5 * diskInterval)
			for s.Health().State != store.StateOK {
				if time.Now().After(deadline) {
					t.Fatalf("not reopened for writing: %+v", s.Health())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := s.Write(ctx, storetest.Records(3, start.Add(2*time.Minute), time.Millisecond, 10)); err != nil {
				t.Fatal(err)
			}
			if s.Len() != tt.existing+10 {
				t.Errorf("after reopening: Len %d, want %d", s.Len(), tt.existing+10)
			}
			st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute)})
			if err != nil || st.Requests != int64(s.Len()) {
				t.Errorf("Stats: %v requests, %v; want %d", st, err, s.Len())
			}
		})
	}
}

// bigRecords returns n records of about 64 KB each (random digits, which
// blocks do not compress), one millisecond apart.
func bigRecords(seed uint64, start time.Time, n int) []*recording.Record {
	recs := storetest.Records(seed, start, time.Millisecond, n)
	for i, r := range recs {
		Noisy(r, seed<<20|uint64(i), 64000)
	}
	return recs
}

// TestDiskLimit: with retention unable to keep up (here: not running at
// all), Write stops at MaxBytes + DiskSlack/2 and counts what it drops.
func TestDiskLimit(t *testing.T) {
	const maxBytes = 8 << 20
	dir := t.TempDir()
	s, err := Open(dir, Options{MaxBytes: maxBytes, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	for i := range 60 {
		if err := s.Write(ctx, bigRecords(uint64(i), start.Add(time.Duration(i)*time.Second), 16)); err != nil {
			t.Fatal(err)
		}
		if used, _, _ := dirUsage(dir); used > maxBytes+s.opts.DiskSlack() {
			t.Fatalf("directory at %d bytes, over MaxBytes + DiskSlack = %d", used, maxBytes+s.opts.DiskSlack())
		}
	}
	h := s.Health()
	t.Logf("%d records kept, %+v", s.Len(), h)
	if h.Dropped == 0 || s.Len() == 0 || uint64(s.Len())+h.Dropped != 60*16 {
		t.Errorf("Len %d, %+v: want records kept, the rest dropped", s.Len(), h)
	}
}

// TestDiskLimitLeavesRoomForCompactions: Write keeps room within MaxBytes
// + DiskSlack for what Badger writes before it deletes (a compaction's new
// tables, up to the LSM tree's size; the memtables' level-0 tables; a
// value-log file rewritten), so the larger the tree, the earlier it
// stops (and stores traces no more). Without it, Write went on to MaxBytes + DiskSlack/2 whatever the
// tree, and a compaction then took the directory past MaxBytes +
// DiskSlack.
func TestDiskLimitLeavesRoomForCompactions(t *testing.T) {
	const maxBytes = 64 << 20
	dir := t.TempDir()
	s, err := Open(dir, Options{MaxBytes: maxBytes, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A table a quarter of MaxBytes stands for a large tree (Badger
	// ignores a table its manifest does not list until it opens again).
	if err := os.WriteFile(filepath.Join(dir, "999999.sst"), make([]byte, maxBytes/4), 0o600); err != nil {
		t.Fatal(err)
	}
	s.measure()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	for i := 0; s.Health().Dropped == 0; i++ {
		if i == 100 {
			t.Fatalf("nothing dropped after %d records: Len %d, directory %d bytes", 16*i, s.Len(), s.diskNow())
		}
		if err := s.Write(ctx, bigRecords(uint64(i), start.Add(time.Duration(i)*time.Second), 16)); err != nil {
			t.Fatal(err)
		}
		s.measure()
		if used, pending := s.diskNow(), s.badgerPending(); used+pending > maxBytes+s.slack {
			t.Fatalf("directory at %d bytes with %d that Badger may write on its own: over MaxBytes + DiskSlack = %d",
				used, pending, maxBytes+s.slack)
		}
	}
	t.Logf("%d records kept, directory %d bytes, %+v", s.Len(), s.diskNow(), s.Health())
	// Nor are traces written beyond it (the directory is within MaxBytes).
	if s.admitTrace(1 << 20) {
		t.Errorf("a trace of 1 MiB admitted with the directory at %d bytes and %d that Badger may write", s.diskNow(), s.badgerPending())
	}

	// Retention deletes records to make that room (and some to spare),
	// though the records are within MaxBytes and the directory too, so
	// that the newest records are stored again once Badger has reclaimed
	// the space (a few passes: garbage collection frees a value-log file
	// once half of it is deleted).
	n := s.Len()
	for pass := 1; ; pass++ {
		if err := s.EnforceRetention(ctx); err != nil {
			t.Fatal(err)
		}
		dropped := s.Health().Dropped
		if err := s.Write(ctx, bigRecords(uint64(1000+pass), start.Add(time.Hour+time.Duration(pass)*time.Second), 1)); err != nil {
			t.Fatal(err)
		}
		if s.Health().Dropped == dropped {
			t.Logf("after %d passes: %d records kept, directory %d bytes", pass, s.Len(), s.diskNow())
			break
		}
		if pass == 10 {
			t.Fatalf("%d retention passes, and still dropping: %d records kept of %d, directory %d bytes", pass, s.Len(), n, s.diskNow())
		}
	}
}

// TestRetentionStartsAtMaxBytes: past MaxBytes, retention runs at once,
// not at its next interval, and brings the directory back under MaxBytes.
func TestRetentionStartsAtMaxBytes(t *testing.T) {
	const maxBytes = 8 << 20
	dir := t.TempDir()
	s, err := Open(dir, Options{MaxBytes: maxBytes, RetentionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	for i := range 12 {
		if err := s.Write(ctx, bigRecords(uint64(i), start.Add(time.Duration(i)*time.Second), 16)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.measure()
		if s.Size() <= maxBytes && s.diskNow() <= maxBytes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after passing MaxBytes: %d bytes of records, %d on disk", s.Size(), s.diskNow())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDiskSlack(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		want int64
	}{
		{Options{}, 128<<20 + 2*64<<20},
		{Options{MaxBytes: 64 << 20}, 8<<20 + 2*4<<20},
		{Options{MaxBytes: 64 << 20, ValueLogFileSize: 16 << 20}, 8<<20 + 2*16<<20},
		{Options{MaxBytes: -1}, 0},
	} {
		if got := tt.opts.DiskSlack(); got != tt.want {
			t.Errorf("%+v.DiskSlack() = %d, want %d", tt.opts, got, tt.want)
		}
	}
}
