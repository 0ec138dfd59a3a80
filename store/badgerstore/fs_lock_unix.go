//go:build unix && !aix

package badgerstore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// locksDir says that lockDir locks the directory on this platform.
const locksDir = true

// lockDir takes the lock Badger takes on dir (a flock on the directory:
// shared for reading, else exclusive), so that the directory is not
// checked or moved while another process, or another Store of this one,
// writes it. The returned function releases it. It answers [ErrLocked]
// only when flock says another holds the lock; any other error of flock
// is returned wrapped with dir. Every Unix but AIX has
// flock, and Badger takes its lock with it on each (fs_lock_other.go).
func lockDir(dir string, shared bool) (func(), error) {
	return lockDirWith(dir, shared, unix.Flock)
}

// lockDirWith is lockDir, locking with flock (unix.Flock; tests give
// others).
func lockDirWith(dir string, shared bool, flock func(fd, how int) error) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	if err := flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN) {
			return nil, lockedBy(dir)
		}
		// ENOLCK, EOPNOTSUPP, EINVAL...: the file system cannot lock
		// (NFS, some others), which is not another holding the lock.
		return nil, fmt.Errorf("badgerstore: lock %s: %w", dir, err)
	}
	return func() {
		flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
