//go:build !unix

package badgerstore

// openNoBlock is no flag on this platform (see openRegular): it has no
// named pipes to wait on.
const openNoBlock = 0
