package badgerstore

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesSpecialBadgerFiles: a closed store whose directory holds,
// under a name Badger opens, a named pipe, a directory, or a link to a
// directory or a device, is not opened, for writing or read-only: the
// error names the file. Before, Open waited without end on a named pipe
// (opening it for reading waits for a writer) and on a directory (its
// scan of the logs did not end). A hung Open is released after a minute
// (the pipe opened for writing) and reported.
func TestOpenRefusesSpecialBadgerFiles(t *testing.T) {
	cases := []struct {
		name, file string
		make       func(path string) error
	}{
		{"fifo log", "00001.mem", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"fifo value log", "000009.vlog", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"fifo key registry", "KEYREGISTRY", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return syscall.Mkfifo(p, 0o644)
		}},
		{"directory log", "00001.mem", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"link to a directory", "00001.mem", func(p string) error { return os.Symlink(filepath.Dir(p), p) }},
		{"link to a device", "00001.mem", func(p string) error { return os.Symlink("/dev/zero", p) }},
	}
	for _, tc := range cases {
		for _, ro := range []bool{false, true} {
			dir := filepath.Join(t.TempDir(), "s")
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if err := tc.make(path); err != nil {
				t.Skipf("%s: %v", tc.name, err)
			}
			done := make(chan error, 1)
			go func() {
				s, err := Open(dir, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				t.Fatalf("%s, ReadOnly %v: Open did not return", tc.name, ro)
			}
			if err == nil || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("%s, ReadOnly %v: Open: %v; want an error naming %s", tc.name, ro, err, tc.file)
			}
		}
	}
}
