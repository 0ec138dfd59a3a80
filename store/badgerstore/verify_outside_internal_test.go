package badgerstore

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/goappstats/appstats/store"
)

// failingReader reads r up to good bytes and fails past them, as a disk
// with a bad sector, or a file cut short after its size was read, does.
// It ends the test (it reads on the test's goroutine) after limit reads: a scan that keeps reading where
// nothing comes back does not end.
type failingReader struct {
	t            *testing.T
	r            *bytes.Reader
	good         int64
	reads, limit int
}

func (f *failingReader) ReadAt(p []byte, off int64) (int, error) {
	f.reads++
	if f.reads > f.limit {
		f.t.Fatalf("scanLog read %d times a file of %d bytes: it does not end", f.reads, f.r.Size())
	}
	if off >= f.good {
		return 0, errors.New("input/output error")
	}
	n, err := f.r.ReadAt(p[:min(int64(len(p)), f.good-off)], off)
	if err == nil && n < len(p) {
		err = errors.New("input/output error")
	}
	return n, err
}

// TestScanLogReadError: a log whose reads fail past some offset (an I/O
// error, a file truncated since its size was taken, a directory named as
// a log) is scanned to where its reads fail, and the scan ends: Open and
// Snapshot scan logs with it (failed before: it looped without end once
// a read returned nothing).
func TestScanLogReadError(t *testing.T) {
	data := make([]byte, 3*windowSize)
	for _, good := range []int64{0, vlogHeaderSize, windowSize / 2, windowSize + 7} {
		w := &window{r: &failingReader{t: t, r: bytes.NewReader(data), good: good, limit: 1000}, size: int64(len(data))}
		end, next := scanLog(w, vlogHeaderSize)
		if end != vlogHeaderSize || next != -1 {
			t.Errorf("reads failing past %d: scanLog = %d, %d; want %d, -1", good, end, next, vlogHeaderSize)
		}
	}
}

// TestCheckLogReadError: a log whose reads fail past some offset (a bad
// sector) is an error naming the log and the read's error, not a log whose
// entries end there, which Badger would cut, discarding what the
// unreadable part held (before: clean false, no error). A log cut short
// since its size was taken reads to its end without an error: what a
// crash leaves, for Badger to cut.
func TestCheckLogReadError(t *testing.T) {
	data := make([]byte, 3*windowSize)
	for _, good := range []int64{0, vlogHeaderSize, windowSize / 2, windowSize + 7} {
		r := &failingReader{t: t, r: bytes.NewReader(data), good: good, limit: 1000}
		clean, err := checkLogAt(r, int64(len(data)), "00007.mem", vlogHeaderSize)
		if err == nil || !strings.Contains(err.Error(), "00007.mem") || !strings.Contains(err.Error(), "input/output error") {
			t.Errorf("reads failing past %d: checkLogAt = %v, %v; want an error naming 00007.mem and the read's error", good, clean, err)
		}
		if errors.Is(err, store.ErrCorrupt) {
			t.Errorf("reads failing past %d: %v is ErrCorrupt (Open would move the store aside)", good, err)
		}
	}
	clean, err := checkLogAt(bytes.NewReader(data[:windowSize]), int64(len(data)), "00007.mem", vlogHeaderSize)
	if err != nil || clean {
		t.Errorf("a log cut short: checkLogAt = %v, %v; want false, nil", clean, err)
	}
}
