//go:build !unix || aix

package badgerstore

// locksDir says that lockDir does not lock the directory on this
// platform.
const locksDir = false

// lockDir does nothing on this platform; Badger's own lock still keeps a
// second process out when the store opens, with an error of its own (not
// [ErrLocked]). On AIX Badger locks a file in the directory with fcntl,
// whose locks belong to the process and are all dropped when the process
// closes any descriptor of the file: a lockDir taking that lock would
// release a live Store's when it let go of its own.
func lockDir(string, bool) (func(), error) { return func() {}, nil }
