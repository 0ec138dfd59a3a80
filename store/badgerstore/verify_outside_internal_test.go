package badgerstore

import (
	"bytes"
	"errors"
	"testing"
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
