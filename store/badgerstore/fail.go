package badgerstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Badger cannot go on writing after some failures of its files. When it
// cannot create the next value-log file (the directory deleted, or made
// read-only, or the process out of file descriptors), it returns an error
// and takes the next write into the same file, whose end it has already
// cut to what it held (value.go's toDisk, v4.9.6). Seen with the directory
// deleted under a store being written: on a tmpfs a later write faulted
// (SIGBUS) copying into that file's memory map, killing the process; on
// other filesystems every later write failed, an ERROR each. When it
// cannot create the next memtable it is left with none, and its next
// write asserts one (a fatal exit, by its code). So the store lets one
// write into Badger at a time (Store.wgate), and after one that failed
// for a reason other than the write itself (see benign), it sends Badger
// no more: records are dropped and counted, Health says why, and diskLoop
// opens the directory afresh once a file can be created in it again (see
// recoverWrites).

// A writeFailure is the failure that stopped the store's writes.
type writeFailure struct {
	err     error     // Badger's error
	since   time.Time // when it happened
	dropped uint64    // s.dropped then
}

// errWritesStopped is returned by the calls into Badger refused after a
// write failed.
var errWritesStopped = errors.New("badgerstore: writes stopped after a failed write")

// benign reports whether err, returned by a call into Badger that writes,
// leaves Badger able to write: an error about the write itself, returned
// before anything was written, or one of the database's state.
func benign(err error) bool {
	for _, e := range [...]error{
		badger.ErrTxnTooBig, badger.ErrConflict, badger.ErrReadOnlyTxn, badger.ErrDiscardedTxn,
		badger.ErrEmptyKey, badger.ErrInvalidKey, badger.ErrBannedKey, badger.ErrInvalidRequest,
		badger.ErrBlockedWrites, badger.ErrDBClosed, badger.ErrNoRewrite, badger.ErrRejected,
		errWritesStopped,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	// The value log validates a batch before it writes any of it.
	return strings.Contains(err.Error(), "while validating writes")
}

// gated runs fn, a call into Badger that may write, unless writes have
// stopped; one at a time, so that no write reaches Badger after one that
// failed (see above). An error that stops the writes is returned as it is.
func (s *Store) gated(fn func() error) error {
	s.wgate.Lock()
	defer s.wgate.Unlock()
	if s.failed.Load() != nil {
		return errWritesStopped
	}
	err := fn()
	if err != nil && !benign(err) {
		s.stopWrites(err)
	}
	return err
}

// stopWrites stops the writes after err; s.wgate is held.
func (s *Store) stopWrites(err error) {
	s.failed.Store(&writeFailure{err: err, since: time.Now(), dropped: s.dropped.Load()})
	s.log.Error("badgerstore: writing failed: records are dropped until the directory can be written again",
		"dir", s.dir, "err", err)
}

// errDirDeleted is the failure of a store whose directory is found deleted.
var errDirDeleted = errors.New("the directory was deleted")

// checkDeleted stops the writes of a store whose directory was deleted, even
// if nothing was written since: Badger could not close it either (its
// Close retries flushing to the directory for good).
func (s *Store) checkDeleted() {
	if _, err := os.Stat(s.dir); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	s.wgate.Lock()
	defer s.wgate.Unlock()
	if s.failed.Load() == nil {
		s.stopWrites(errDirDeleted)
	}
}

// commit is gated with writers' shared hold of syncMu.
func (s *Store) commit(fn func() error) error {
	s.syncMu.RLock()
	defer s.syncMu.RUnlock()
	return s.gated(fn)
}

// detail is Health's Detail while writes are stopped; stand says whether
// an empty database in memory stands in for the failed one (see
// recoverWrites).
func (f *writeFailure) detail(dir string, stand bool, reopen *string) string {
	d := fmt.Sprintf("writing to %s failed at %s (%v): records are dropped until a file can be created there again",
		dir, f.since.UTC().Format(time.RFC3339), f.err)
	if reopen != nil {
		d += "; the last try to write again failed, " + *reopen + " (tried again every second)"
	}
	if stand {
		return d + "; the failed database is closing: the records stored before are not shown until the directory is opened again (none if it was deleted)"
	}
	return d + "; the records stored before are still shown"
}

// closeWait bounds how long Close waits for the database of a store whose
// writes failed to close: Badger's Close flushes the memtables, and
// retries a flush that cannot create its table every second for good (the
// directory deleted and not created again).
const closeWait = 5 * time.Second

// A failedDB is the database a failed write left, being closed apart (see
// recoverWrites).
type failedDB struct {
	done   chan struct{} // closed when its Close returned
	err    error         // Close's error, once done
	logged bool          // err was logged; diskLoop's
}

// closeApart closes db in a goroutine of its own.
func closeApart(db *badger.DB, dir string) *failedDB {
	f := &failedDB{done: make(chan struct{})}
	go func() {
		f.err = db.Close()
		if pidFileGone(f.err, dir) {
			f.err = nil
		}
		close(f.done)
	}()
	return f
}

// pidFileGone reports whether err, Badger's Close's on directory dir, says
// only that the pid file it removes last (LOCK) was not found: it went
// with the directory deleted under the store, and the database closed.
// Badger flattens the error to its text.
func pidFileGone(err error, dir string) bool {
	if err == nil {
		return false
	}
	lock, aerr := filepath.Abs(filepath.Join(dir, "LOCK"))
	if aerr != nil {
		return false
	}
	gone := &fs.PathError{Op: "remove", Path: lock, Err: syscall.ENOENT}
	return strings.HasSuffix(err.Error(), " err: "+gone.Error())
}

// canCreate reports whether a file can be created in dir (made again if
// it was deleted: made is then true) and removed.
func canCreate(dir string) (ok, made bool) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, false
		}
		made = true
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false, made
	}
	name := f.Name()
	f.Close()
	return os.Remove(name) == nil, made
}

// recoverWrites is diskLoop's step while writes are stopped: once a file
// can be created in the directory again, it puts an empty database in
// memory in place of the failed one (reads show nothing meanwhile: the
// failed one cannot be read while it closes, and closing it with the
// store's lock held would stall every Write for as long as Badger's Close
// takes) and closes the failed one apart; once that is closed, it opens the
// directory as Open does, and writing resumes. A directory deleted under
// the store is made again, empty.
func (s *Store) recoverWrites() {
	f := s.failed.Load()
	if f == nil {
		return
	}
	if s.oldDB == nil {
		ok, made := canCreate(s.dir)
		if made {
			s.remade = true
		}
		if !ok {
			return
		}
		mem, err := badger.Open(s.opts.badger("").WithInMemory(true))
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			mem.Close()
			return
		}
		s.oldDB = closeApart(s.db, s.dir)
		s.db = mem
		s.standIn.Store(true)
		s.mu.Unlock()
	}
	select {
	case <-s.oldDB.done:
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if err := s.oldDB.err; err != nil && !s.oldDB.logged {
		s.oldDB.logged = true
		s.log.Warn("badgerstore: closing the database after the failed write", "err", err)
	}
	if s.remade && !s.clearRemade() {
		return
	}
	mem := s.db
	s.pmu.Lock()
	s.pending = make(map[int64][]pendingDelta)
	s.npending.Store(0)
	s.pmu.Unlock()
	if err := s.open(); err != nil {
		s.db = mem
		s.reopenFailed("opening the directory again", err)
		return
	}
	mem.Close()
	s.oldDB = nil
	s.standIn.Store(false)
	s.reopenOK()
	s.failed.Store(nil)
	s.log.Warn("badgerstore: directory writable again: opened for writing", "dir", s.dir,
		"dropped", s.dropped.Load()-f.dropped, "after", time.Since(f.since).Round(time.Second))
}

// clearRemade clears the directory canCreate made again after it was
// deleted, once the failed database has closed, and reports whether it
// could. Made again empty, its files of Badger's hold only what the failed
// database flushed as it closed, tables of a store whose manifest was
// deleted with the directory. Anything else was put there since, by
// someone else.
func (s *Store) clearRemade() bool {
	// The failed database's MANIFEST went with the deleted directory: it
	// goes on writing to that file, and makes no other (but when it
	// rewrites it, after ten thousand tables deleted). A MANIFEST here
	// is a store put here meanwhile (a backup restored): nothing is
	// removed, and the store opens it (Badger then removes the tables
	// its MANIFEST does not list, the failed database's among them).
	if fi, err := os.Lstat(filepath.Join(s.dir, badger.ManifestFilename)); err == nil && fi.Mode().IsRegular() {
		s.log.Warn("badgerstore: the directory made again after it was deleted holds a store put there meanwhile: opened as it is, nothing removed",
			"dir", s.dir)
		s.remade = false
		return true
	}
	kept, err := clearDir(s.dir)
	if err != nil {
		s.reopenFailed("clearing the directory made again after it was deleted", err)
		return false
	}
	if len(kept) > 0 {
		// Badger and the store ignore other names; one of Badger's
		// that is not a regular file (a directory named MANIFEST)
		// makes the open that follows fail, and the writes stay
		// stopped, the open tried again every step, until it is
		// taken away.
		s.log.Warn("badgerstore: the directory made again after it was deleted holds files that are not the store's: left in place",
			"dir", s.dir, "kept", kept)
	}
	s.remade = false
	return true
}

// maxReopenCauses bounds how many causes of failed opens reopenFailed
// remembers (see there).
const maxReopenCauses = 8

// reopenFailed notes that recoverWrites could not open the directory
// again (what it was doing, and err): Health's Detail says it until the
// store writes again, and it is logged once for each cause (what, and
// err's text) since the store last wrote, not at every step of diskLoop
// that tries again, nor each time causes that alternate come round
// again. The causes logged are remembered up to maxReopenCauses of them,
// the last seen kept: beyond that many causes at once, one seen least
// recently is logged again.
func (s *Store) reopenFailed(what string, err error) {
	cause := what + ": " + err.Error()
	s.reopenErr.Store(&cause)
	if i := slices.Index(s.reopenSeen, cause); i >= 0 {
		// Seen: now the latest.
		s.reopenSeen = append(slices.Delete(s.reopenSeen, i, i+1), cause)
		return
	}
	if len(s.reopenSeen) == maxReopenCauses {
		s.reopenSeen = slices.Delete(s.reopenSeen, 0, 1)
	}
	s.reopenSeen = append(s.reopenSeen, cause)
	s.log.Warn("badgerstore: "+what+" after the failed write (tried again every second; logged once for each cause)",
		"dir", s.dir, "err", err)
}

// reopenOK notes that the store writes again: no cause of a failed open
// is said or remembered (see reopenFailed).
func (s *Store) reopenOK() {
	s.reopenErr.Store(nil)
	s.reopenSeen = nil
}

// closeFailed closes the database of a store whose writes failed, waiting
// at most closeWait: past it, the database is left as a crash would leave
// it, its goroutines running. Badger's Close flushes the memtables, and
// retries a flush that cannot create its table every second, stopping
// none of its goroutines meanwhile; so a directory deleted is made again
// first, as recoverWrites does, for the flush to land in, and the tables
// it left there are removed once the database has closed (see
// clearRemade).
func (s *Store) closeFailed() error {
	if _, made := canCreate(s.dir); made {
		s.remade = true
	}
	old := s.oldDB
	if old == nil {
		old = closeApart(s.db, s.dir)
	} else if err := s.db.Close(); err != nil { // the empty one in memory
		return err
	}
	select {
	case <-old.done:
		if s.remade && s.clearRemade() {
			// Made again by the store (here, or by diskLoop
			// before) for the flush only: gone again, as it was
			// left, unless something was put there meanwhile
			// (os.Remove removes only an empty directory).
			os.Remove(s.dir)
		}
		return old.err
	case <-time.After(closeWait):
		s.log.Error("badgerstore: writing had failed, and the database did not close within "+closeWait.String()+": left as a crash would leave it",
			"dir", s.dir, "err", s.failed.Load().err)
		return fmt.Errorf("badgerstore: close: writing had failed (%w) and the database did not close", s.failed.Load().err)
	}
}

// ownFile reports whether name, an entry of a store's directory, is one
// Badger or the store writes there: Badger's MANIFEST, key registry and
// discard statistics (and the files it rewrites them in), its LOCK (pid
// file), its tables (.sst), value logs (.vlog) and memtable logs (.mem),
// and canCreate's probes.
func ownFile(name string) bool {
	switch name {
	case badger.ManifestFilename, "MANIFEST-REWRITE", badger.KeyRegistryFileName,
		badger.KeyRegistryRewriteFileName, "DISCARD", "LOCK":
		return true
	}
	switch filepath.Ext(name) {
	case ".sst", ".vlog", ".mem":
		return true
	}
	return strings.HasPrefix(name, ".probe-")
}

// clearDir removes from dir the regular files Badger and the store write
// there (see ownFile), and returns the names of the entries it left: an
// operator's, put there since the directory was made again (a backup
// moved in, say), which are not the store's to delete.
func clearDir(dir string) (kept []string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !ownFile(e.Name()) || !e.Type().IsRegular() {
			kept = append(kept, e.Name())
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return kept, err
		}
	}
	return kept, nil
}
