//go:build unix && !aix

package badgerstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLockDirErrLockedOnlyWhenHeld: lockDir answers ErrLocked only when
// flock says another holds the lock (EWOULDBLOCK, EAGAIN); any other
// error of flock (ENOLCK, EOPNOTSUPP, EINVAL: NFS, some file systems) is
// returned as itself, wrapped with the directory, not taken for a lock
// another holds.
func TestLockDirErrLockedOnlyWhenHeld(t *testing.T) {
	dir := t.TempDir()
	for _, errno := range []unix.Errno{unix.EWOULDBLOCK, unix.EAGAIN, unix.ENOLCK, unix.EOPNOTSUPP, unix.EINVAL} {
		flock := func(fd, how int) error {
			if how&unix.LOCK_NB != 0 {
				return errno
			}
			return nil
		}
		unlock, err := lockDirWith(dir, false, flock)
		if err == nil {
			unlock()
			t.Fatalf("%v: lockDir took the lock", errno)
		}
		held := errno == unix.EWOULDBLOCK || errno == unix.EAGAIN
		if errors.Is(err, ErrLocked) != held {
			t.Errorf("%v: lockDir: %v; want ErrLocked: %v", errno, err, held)
		}
		if !held && (!errors.Is(err, errno) || !strings.Contains(err.Error(), "badgerstore: lock "+dir+": ")) {
			t.Errorf("%v: lockDir: %v; want %v, wrapped with the directory", errno, err, errno)
		}
	}
}

// TestLockedByReadsOnlyARegularLOCK: Open of a directory another Store
// holds, whose LOCK (the pid file Badger writes) was replaced by a named
// pipe, waited in lockedBy for a writer to the pipe without end, and one
// replaced by a link to /dev/zero was read without end. Now lockedBy reads at most 32 bytes of a regular
// file, and Open answers ErrLocked at once, naming no process.
func TestLockedByReadsOnlyARegularLOCK(t *testing.T) {
	cases := []struct {
		name string
		make func(string) error
	}{
		{"named pipe", func(p string) error { return unix.Mkfifo(p, 0o644) }},
		{"link to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, blockOpts())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			lock := filepath.Join(dir, "LOCK")
			if err := os.Remove(lock); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(lock); err != nil {
				t.Skipf("%s: %v", tc.name, err)
			}
			err = returnsOrUnblocks(t, lock, "Open of a held directory whose LOCK is a "+tc.name, func() error {
				s2, err := Open(dir, blockOpts())
				if err == nil {
					s2.Close()
				}
				return err
			})
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "no process named in "+lock) {
				t.Errorf("Open: %v; want ErrLocked, naming no process", err)
			}
			// Put the pid file back for Badger's Close, which removes it.
			os.Remove(lock)
			os.WriteFile(lock, []byte("1\n"), 0o644)
		})
	}
}
