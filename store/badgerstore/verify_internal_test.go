package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// logEntry encodes an entry as Badger writes it to a log file.
func logEntry(key, value []byte) []byte {
	var b []byte
	b = append(b, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = binary.AppendUvarint(b, uint64(len(value)))
	b = binary.AppendUvarint(b, 0)
	b = append(b, key...)
	b = append(b, value...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func TestScanLog(t *testing.T) {
	var entries [][]byte
	for i := range 5 {
		key := append(recordKey([16]byte{byte(i)}), 0, 0, 0, 0, 0, 0, 0, 1) // and a version
		entries = append(entries, logEntry(key, bytes.Repeat([]byte{byte('a' + i)}, 100*(i+1))))
	}
	header := make([]byte, vlogHeaderSize)
	all := slices.Concat(append([][]byte{header}, entries...)...)
	at := func(i int) int64 { // offset of entry i
		n := int64(vlogHeaderSize)
		for _, e := range entries[:i] {
			n += int64(len(e))
		}
		return n
	}
	flipped := bytes.Clone(all)
	flipped[at(2)+10] ^= 0xFF
	for _, tt := range []struct {
		name      string
		data      []byte
		end, next int64
	}{
		{"clean", all, int64(len(all)), -1},
		{"zero tail", append(bytes.Clone(all), make([]byte, 3<<20)...), int64(len(all)), -1},
		{"torn last entry", append(bytes.Clone(all[:at(4)+50]), make([]byte, 4096)...), at(4), -1},
		{"flipped byte", flipped, at(2), at(3)},
		{"empty", header, vlogHeaderSize, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &window{r: bytes.NewReader(tt.data), size: int64(len(tt.data))}
			end, next := scanLog(w, vlogHeaderSize)
			if end != tt.end || next != tt.next {
				t.Errorf("scanLog = %d, %d; want %d, %d", end, next, tt.end, tt.next)
			}
		})
	}
}

// storedDir returns a directory with a cleanly closed store of n records
// (full records of about 6 KB: they go to the value log).
func storedDir(t *testing.T, opts Options, n int) string {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	for i := range n {
		if err := s.Write(context.Background(), []*recording.Record{Noisy(storetest.Record20(start.Add(time.Duration(i)*time.Millisecond), uint32(i)), uint64(i), 4096)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckDir(t *testing.T) {
	glob := func(t *testing.T, dir, pattern string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) == 0 {
			t.Fatalf("no %s in %s", pattern, dir)
		}
		slices.Sort(m)
		return m
	}
	flip := func(t *testing.T, path string, at func(size int) int) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[at(len(b))] ^= 0xFF
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		damage  func(t *testing.T, dir string)
		corrupt string // what the error says; "" for sound
		clean   bool
	}{
		{"sound", func(*testing.T, string) {}, "", true},
		{"table cut in half", func(t *testing.T, dir string) {
			sst := glob(t, dir, "*.sst")[0]
			fi, _ := os.Stat(sst)
			os.Truncate(sst, fi.Size()/2)
		}, ".sst", false}, // Badger's table code panics, or fails, depending on where the cut falls
		{"table footer damaged", func(t *testing.T, dir string) {
			// A checksum length past the file's start: Badger's table code
			// panics (recovered by checkTable).
			flip(t, glob(t, dir, "*.sst")[0], func(n int) int { return n - 4 })
		}, "unreadable", false},
		{"table emptied", func(t *testing.T, dir string) {
			os.Truncate(glob(t, dir, "*.sst")[0], 0)
		}, "empty", false},
		{"table block damaged", func(t *testing.T, dir string) {
			flip(t, glob(t, dir, "*.sst")[0], func(int) int { return 100 })
		}, "checksum", false},
		{"MANIFEST deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "MANIFEST"))
		}, "MANIFEST missing", false},
		{"MANIFEST emptied", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "MANIFEST"))
			os.WriteFile(filepath.Join(dir, "MANIFEST"), b[:8], 0o644)
		}, "lists no table", false},
		{"table missing", func(t *testing.T, dir string) {
			os.Remove(glob(t, dir, "*.sst")[0])
		}, "missing", false},
		{"newest value log damaged", func(t *testing.T, dir string) {
			vlogs := glob(t, dir, "*.vlog")
			flip(t, vlogs[len(vlogs)-1], func(n int) int { return n / 2 })
		}, "valid entries follow", false},
		{"older value log damaged", func(t *testing.T, dir string) {
			// Found by reads, not at Open.
			flip(t, glob(t, dir, "*.vlog")[0], func(n int) int { return n / 2 })
		}, "", true},
		{"value log with a crash's tail", func(t *testing.T, dir string) {
			vlogs := glob(t, dir, "*.vlog")
			f, _ := os.OpenFile(vlogs[len(vlogs)-1], os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 1<<20))
			f.Close()
		}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, _ := Options{ValueLogFileSize: 1 << 20}.withDefaults()
			dir := storedDir(t, opts, 500)
			if len(glob(t, dir, "*.vlog")) < 2 {
				t.Fatal("want several value-log files")
			}
			tt.damage(t, dir)
			clean, err := checkDir(dir, opts.badger(dir))
			switch {
			case tt.corrupt == "" && err != nil:
				t.Fatalf("checkDir = %v, want nil", err)
			case tt.corrupt != "" && (!errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), tt.corrupt)):
				t.Fatalf("checkDir = %v, want a corrupt-data error saying %q", err, tt.corrupt)
			case tt.corrupt == "" && clean != tt.clean:
				t.Errorf("clean = %v, want %v", clean, tt.clean)
			}
			t.Logf("checkDir: %v", err)
		})
	}
}

// TestOpenMovesDamageAside: Open moves a damaged directory aside, logs it
// once, keeps every file, and starts an empty store that works.
func TestOpenMovesDamageAside(t *testing.T) {
	opts, _ := Options{}.withDefaults()
	dir := storedDir(t, opts, 50)
	sst, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	fi, _ := os.Stat(sst[0])
	os.Truncate(sst[0], fi.Size()/2)
	before, _ := os.ReadDir(dir)

	var logs testlog.Buffer
	s := openWithLog(t, dir, &logs)
	h := s.Health()
	if s.Len() != 0 || h.MovedAside == "" || !strings.Contains(h.Detail, h.MovedAside) {
		t.Fatalf("Len %d, %+v; want an empty store and the damaged one moved aside", s.Len(), h)
	}
	after, err := os.ReadDir(h.MovedAside)
	if err != nil || len(after) != len(before) {
		t.Errorf("moved directory holds %d files (%v), the damaged one held %d", len(after), err, len(before))
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), h.MovedAside) {
		t.Errorf("want one ERROR line naming %s:\n%s", h.MovedAside, logs.String())
	}
	if err := s.Write(context.Background(), storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10)); err != nil || s.Len() != 10 {
		t.Errorf("Write to the new store: %v, Len %d", err, s.Len())
	}
}

// TestOpenLockedDirLeftAlone: a directory another Store has open is not
// checked, let alone moved: Open fails.
func TestOpenLockedDirLeftAlone(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := Open(dir, Options{}); err == nil {
		s2.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
	if _, err := os.Stat(dir); err != nil || s.Health().MovedAside != "" {
		t.Errorf("the open directory was disturbed: %v, %+v", err, s.Health())
	}
}

// openWithLog opens the store in dir with its log going to logs, closing it
// when the test ends.
func openWithLog(t *testing.T, dir string, logs *testlog.Buffer) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
