//go:build unix && !aix

package badgerstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// locksDir says that lockDir locks the directory on this platform.
const locksDir = true

// lockDir takes the lock Badger takes on dir (a flock on the directory:
// shared for reading, else exclusive), so that the directory is not
// checked or moved while another process, or another Store of this one,
// writes it. The returned function releases it. Every Unix but AIX has
// flock, and Badger takes its lock with it on each (fs_lock_other.go).
func lockDir(dir string, shared bool) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, ErrLocked
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
