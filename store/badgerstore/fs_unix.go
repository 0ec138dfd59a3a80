//go:build linux || darwin || freebsd

package badgerstore

import (
	"io/fs"
	"syscall"
)

// fsFree returns the bytes available to an unprivileged writer on the
// filesystem holding dir (statfs's f_bavail: ext4's reserved blocks do not
// count).
func fsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// allocated returns the bytes a file takes on disk: its allocated blocks,
// which for Badger's sparse, memory-mapped files is far less than their
// length.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
