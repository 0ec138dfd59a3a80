//go:build unix

package badgerstore

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
