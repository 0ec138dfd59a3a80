//go:build !(linux || darwin || freebsd)

package badgerstore

import (
	"errors"
	"io/fs"
)

// fsFree is not implemented on this platform: free space is unknown, and
// the store does not watch it.
func fsFree(string) (int64, error) { return -1, errors.ErrUnsupported }

// allocated returns a file's length: block counts are not known here.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }
