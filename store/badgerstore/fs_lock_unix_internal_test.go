//go:build unix && !aix

package badgerstore

import (
	"errors"
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
