//go:build unix

package badgerstore

import "syscall"

// openNoBlock opens a file without waiting: a named pipe opened for
// reading returns at once rather than waiting for a writer (see
// openRegular). Every Unix has the flag, including those where the
// store's other file-system helpers are not implemented (fs_other.go).
const openNoBlock = syscall.O_NONBLOCK
