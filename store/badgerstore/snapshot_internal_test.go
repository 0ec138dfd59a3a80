//go:build unix

package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// A copy has the source's bytes and size, and keeps its zero runs as
// holes: a preallocated log costs the copy no disk.
func TestCopySparse(t *testing.T) {
	dir := t.TempDir()
	src := make([]byte, 3<<20+100)
	copy(src, "head")
	copy(src[1<<20+7:], "middle")
	for _, tail := range []int{0, 1 << 20} {
		from := filepath.Join(dir, "from")
		to := filepath.Join(dir, "to")
		os.Remove(from)
		os.Remove(to)
		b := src[:len(src)-tail]
		if tail == 0 {
			b[len(b)-1] = 'z' // no trailing hole
		}
		if err := os.WriteFile(from, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := copyFile(from, to)
		if err != nil || n != int64(len(b)) {
			t.Fatalf("copyFile = %d, %v; want %d", n, err, len(b))
		}
		got, err := os.ReadFile(to)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("the copy differs (%d bytes, want %d), %v", len(got), len(b), err)
		}
		fi, err := os.Stat(to)
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 1<<20 {
			t.Errorf("the copy of %d mostly zero bytes takes %d bytes of disk", len(b), st.Blocks*512)
		}
	}
}

func TestFirstNonZero(t *testing.T) {
	for _, tt := range []struct {
		size, at int
	}{{0, -1}, {10, -1}, {10000, -1}, {10, 0}, {10, 9}, {4096, 4095}, {4097, 4096}, {20000, 12345}} {
		b := make([]byte, tt.size)
		if tt.at >= 0 {
			b[tt.at] = 1
		}
		if got := firstNonZero(b); got != tt.at {
			t.Errorf("firstNonZero(%d bytes, non-zero at %d) = %d", tt.size, tt.at, got)
		}
	}
}

// A write-ahead log the service appends to while the snapshot reads it
// can be copied torn: a block read before the service wrote there, then a
// block read after it wrote further. Snapshot mends the copy from the
// source, so it opens with every record, not moved aside as damaged and
// replaced by an empty store.
func TestSnapshotOfATornLog(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	if err := w.Write(ctx, unindexed(storetest.Records(1, start, time.Millisecond, 200))); err != nil {
		t.Fatal(err)
	}
	before := w.Len()
	tore := false
	torn := func(from, to string) (int64, error) {
		if tore || filepath.Ext(from) != ".mem" {
			return copyFile(from, to)
		}
		tore = true
		first, err := os.ReadFile(from)
		if err != nil {
			return 0, err
		}
		// The service writes on while the copy is between blocks, until
		// its log has passed the next block.
		const block = 64 << 10
		end, _ := scanLog(&window{r: bytes.NewReader(first), size: int64(len(first))}, vlogHeaderSize)
		var second []byte
		for i := range 64 {
			if err := w.Write(ctx, unindexed(storetest.Records(uint64(2+i), start, time.Millisecond, 200))); err != nil {
				return 0, err
			}
			if second, err = os.ReadFile(from); err != nil {
				return 0, err
			}
			if e, _ := scanLog(&window{r: bytes.NewReader(second), size: int64(len(second))}, vlogHeaderSize); e > (end/block+1)*block {
				break
			}
		}
		q := min((end/block+1)*block, int64(len(first)), int64(len(second)))
		b := append(first[:q:q], second[q:]...)
		if _, next := scanLog(&window{r: bytes.NewReader(b), size: int64(len(b))}, vlogHeaderSize); next < 0 {
			return 0, fmt.Errorf("the copy of %s is not torn (valid entries end at %d of %d)", from, end, len(b))
		}
		return int64(len(b)), os.WriteFile(to, b, 0o600)
	}
	snap := filepath.Join(t.TempDir(), "snap")
	if err := os.Mkdir(snap, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := snapshotInto(dir, snap, torn); err != nil {
		t.Fatal(err)
	}
	if !tore {
		t.Fatal("no write-ahead log was copied")
	}
	s, err := Open(snap, Options{RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.movedAside != "" {
		t.Fatalf("Open moved the snapshot aside to %s as damaged", s.movedAside)
	}
	if s.Len() < before {
		t.Fatalf("the snapshot holds %d records; %d were written before it was taken", s.Len(), before)
	}
}

// A log damaged in the source itself cannot be mended: Snapshot fails with
// an error wrapping store.ErrCorrupt, and leaves no copy that Open would
// move aside and replace by an empty store.
func TestSnapshotOfADamagedLog(t *testing.T) {
	opts, _ := Options{ValueLogFileSize: 1 << 20}.withDefaults()
	dir := storedDir(t, opts, 500)
	vlogs, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if len(vlogs) == 0 {
		t.Fatal("no value log")
	}
	newest := slices.Max(vlogs)
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xFF
	if err := os.WriteFile(newest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "snap")
	err = Snapshot(dir, snap)
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(newest)) {
		t.Fatalf("Snapshot of a store with a damaged value log = %v, want an error wrapping ErrCorrupt naming %s", err, filepath.Base(newest))
	}
	t.Logf("Snapshot: %v", err)
	if _, err := os.Stat(snap); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed snapshot left %s behind (%v)", snap, err)
	}
}

// unindexed gives recs IDs that do not hold their start, so that each has
// an s and an f entry, in the write-ahead log (records in index blocks
// put little into it: their values go to the value log), and returns
// them.
func unindexed(recs []*recording.Record) []*recording.Record {
	for _, r := range recs {
		r.ID[0] ^= 0xff
	}
	return recs
}
