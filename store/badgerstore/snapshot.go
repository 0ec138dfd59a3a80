package badgerstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// ErrLocked is wrapped by the error of [Open] or [OpenReadOnly] on a
// directory another process (or Store) holds open. Such a directory can
// still be read through [Snapshot].
var ErrLocked = errors.New("directory in use by another process")

// lockedBy returns ErrLocked for dir, saying which lock is held (a flock
// on the directory, Badger's) and the process its LOCK file names, if it
// names one (Badger writes its pid there when it opens the directory for
// writing).
func lockedBy(dir string) error {
	lock := filepath.Join(dir, "LOCK")
	holder := "no process named in " + lock
	if b, err := readPid(lock); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			holder = fmt.Sprintf("%s names pid %d", lock, pid)
			if pid == os.Getpid() {
				holder += ", this process (another Store)"
			}
		}
	}
	return fmt.Errorf("%w (it holds the lock on the directory, a flock; %s): read it through Snapshot", ErrLocked, holder)
}

// readPid reads the start of the pid file at path (at most 32 bytes, more
// than any pid takes) if it is a regular file: a LOCK that is a named pipe
// is not waited on for a writer, nor one that links to a device read
// without end (see openRegular).
func readPid(path string) ([]byte, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 32))
}

// Snapshot copies the store in directory src — which a running service may
// hold open and keep writing — into directory dst, which must not exist,
// so that dst opens with [Open] as the store src held at about the time of
// the copy, the way a crash at that moment would have left it: Badger's
// recovery drops writes the copy caught half done.
//
// The manifest is copied first, then the tables it names, then the
// write-ahead logs, in passes until the manifest stays the same (each pass
// copies only the tables new since the last), and the value logs last, so
// that every value the copied tables and logs point to was copied. Files
// are read with read(2), never mapped, so a file the service shrinks
// meanwhile cannot fault this process; nothing is hard-linked, since Badger
// truncates a table it deletes; a file that is a symbolic link is copied
// through it, as a file of the copy's own. A copy costs as much disk and
// time as the directory is large.
//
// A log the service appends to while it is read can be copied torn (a
// block read before the service wrote there, the next after it wrote
// further); Snapshot reads such gaps again from the source (see mendLog),
// then checks the copy as [Open] will. A copy Open would find damaged —
// and move aside, starting an empty store — is not returned: the error
// wraps [store.ErrCorrupt] instead. Nor is a copy whose memtable logs Open
// refuses (more than 66 non-empty ones, or one written with memtables
// over 1 GiB): that is an error naming them, found in the source before
// anything is copied.
//
// Open the copy read-write (it is private): Badger refuses a read-only
// open of a store whose last writes need recovery.
func Snapshot(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("badgerstore: snapshot: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("badgerstore: snapshot: %s is not a directory", src)
	}
	if _, err := os.Stat(filepath.Join(src, badger.ManifestFilename)); err != nil {
		return fmt.Errorf("badgerstore: snapshot: %s holds no store: %w", src, err)
	}
	// Logs Open would refuse in the copy are refused before anything is
	// copied (up to 2 GiB a log): checked again in the copy.
	if err := logsRefused(src); err != nil {
		return fmt.Errorf("badgerstore: snapshot of %s: %w", src, err)
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return fmt.Errorf("badgerstore: snapshot: %w", err)
	}
	if err := snapshotInto(src, dst, copyFile); err != nil {
		os.RemoveAll(dst)
		return fmt.Errorf("badgerstore: snapshot of %s: %w", src, err)
	}
	return nil
}

// A copier copies file from to the new file to and returns the bytes
// copied: copyFile, or in tests one that interleaves with a writer.
type copier func(from, to string) (int64, error)

// snapshotPasses bounds the passes of a snapshot over a store that keeps
// compacting.
const snapshotPasses = 20

var errChanged = errors.New("changed during the copy")

// snapshotInto makes passes until one saw no change, then copies the value
// logs, and checks the copy as Open will: a copy Open would move aside
// (and start empty) is an error, not a snapshot.
func snapshotInto(src, dst string, cp copier) error {
	copied := make(map[uint64]bool)
	var err error
	for range snapshotPasses {
		if err = snapshotPass(src, dst, copied, cp); err == nil || !errors.Is(err, errChanged) && !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, errChanged) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("after %d passes: %w", snapshotPasses, err)
	}
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fileOrLink(e) && (filepath.Ext(e.Name()) == ".vlog" || e.Name() == "DISCARD") {
			from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
			_, err := cp(from, to)
			err = danglingLink(from, err)
			if err == nil && e.Name() != "DISCARD" {
				err = mendLog(from, to)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	o, err := Options{}.withDefaults()
	if err != nil {
		return err
	}
	if _, err := checkDir(dst, o.badger(dst)); err != nil {
		return fmt.Errorf("the copy: %w", err)
	}
	if err := logsRefused(dst); err != nil {
		return fmt.Errorf("the copy: %w", err)
	}
	return nil
}

// logsRefused returns an error for the memtable logs in dir that Open
// with the default options would refuse before Badger reads them: one
// written with memtables larger than a store opens with (memTableFor), or
// more logs than Badger leaves (as tooManyLogs counts them, without Open's
// advice to move logs out of the directory, which does not suit a store a
// service may hold).
func logsRefused(dir string) error {
	o, err := Options{}.withDefaults()
	if err != nil {
		return err
	}
	if _, err := memTableFor(dir, o.MemTableSize); err != nil {
		return err
	}
	if logs := memLogs(dir); len(logs) > maxMemLogs {
		return fmt.Errorf("%d memtable logs (%s to %s), more than Badger leaves (NumMemtables+2, at most %d): Open would refuse a copy of them. "+
			"Take the snapshot once the store has been opened and closed (which flushes them); with no process holding it, Open's error says how",
			len(logs), logs[0], logs[len(logs)-1], maxMemLogs)
	}
	return nil
}

// snapshotPass copies the manifest, the tables it names not copied yet,
// and the write-ahead logs; it fails with errChanged if a memtable was
// flushed into a new table meanwhile (the copy would miss its writes).
func snapshotPass(src, dst string, copied map[uint64]bool, cp copier) error {
	for _, name := range []string{badger.ManifestFilename, badger.KeyRegistryFileName} {
		os.Remove(filepath.Join(dst, name))
		if _, err := cp(filepath.Join(src, name), filepath.Join(dst, name)); err != nil && !(errors.Is(err, fs.ErrNotExist) && name != badger.ManifestFilename) {
			return err
		}
	}
	tables, err := manifestTables(filepath.Join(dst, badger.ManifestFilename))
	if err != nil {
		return err
	}
	for id := range tables {
		if copied[id] {
			continue
		}
		name := fmt.Sprintf("%06d.sst", id)
		from, to := filepath.Join(src, name), filepath.Join(dst, name)
		fi, err := os.Stat(from)
		if err != nil {
			return err // fs.ErrNotExist: compacted away since the manifest was read
		}
		os.Remove(to)
		n, err := cp(from, to)
		if err != nil {
			return err
		}
		if n == 0 || n != fi.Size() {
			return fmt.Errorf("%s: %w", name, errChanged) // truncated: being deleted
		}
		copied[id] = true
	}
	for id := range copied {
		if !tables[id] {
			os.Remove(filepath.Join(dst, fmt.Sprintf("%06d.sst", id)))
			delete(copied, id)
		}
	}
	old, _ := filepath.Glob(filepath.Join(dst, "*.mem"))
	for _, f := range old {
		os.Remove(f)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !fileOrLink(e) || filepath.Ext(e.Name()) != ".mem" {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		n, err := cp(from, to)
		err = danglingLink(from, err)
		if err == nil && n > 0 {
			err = mendLog(from, to)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", e.Name(), errChanged) // flushed since the listing
		}
		if err != nil {
			return err
		}
		if n == 0 {
			os.Remove(to) // a write-ahead log not yet written: Badger refuses it
		}
	}
	now, err := manifestTables(filepath.Join(src, badger.ManifestFilename))
	if err != nil {
		return err
	}
	for id := range now {
		if !tables[id] {
			return fmt.Errorf("table %d: %w", id, errChanged)
		}
	}
	return nil
}

// manifestTables returns the IDs of the tables a manifest file names.
func manifestTables(path string) (map[uint64]bool, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(filepath.Dir(path)))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	ids := make(map[uint64]bool, len(m.Tables))
	for id := range m.Tables {
		ids[id] = true
	}
	return ids, nil
}

// fileOrLink reports whether e is a regular file or a symbolic link, which
// Snapshot copies (through the link) as Badger reads it (through the link):
// a link to anything but a regular file is an error naming it, as at Open.
func fileOrLink(e fs.DirEntry) bool {
	return e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0
}

// danglingLink returns err, from reading the file at path, or, when err
// is that nothing is there and path is a symbolic link, an error naming
// the link and its target that is not fs.ErrNotExist: a log Badger
// flushed or deleted since the listing is gone, name and all, while a
// link to nothing stays (Open refuses it), and reading it again in
// another pass would find it the same.
func danglingLink(path string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return fmt.Errorf("%s is a symbolic link to %s, which does not exist", filepath.Base(path), target)
	}
	return err
}

// mendAttempts bounds the re-reads of a log's torn parts.
const mendAttempts = 10

// mendLog repairs the copy to of a log file (a write-ahead log or a value
// log) that the service was appending to while it was read. The copy reads
// the file a block at a time: a block read before the service wrote its
// part of an entry, followed by a block read after the service had written
// further, leaves the copy with a hole or torn entry between valid entries
// — a file no crash leaves, which Open would take for damage and move
// aside, starting empty. The bytes from the end of the valid entries to the
// next valid entry were all written by then, so mendLog reads them again
// from the source until the copy's entries run without a gap. A gap the
// source still holds after that is damage in the source.
func mendLog(from, to string) error {
	out, err := os.OpenFile(to, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer out.Close()
	fi, err := out.Stat()
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		w := &window{r: out, size: fi.Size()}
		end, next := scanLog(w, vlogHeaderSize)
		if w.err != nil {
			return fmt.Errorf("%s: reading the copy at offset %d: %w", filepath.Base(to), w.errOff, w.err)
		}
		if next < 0 {
			return nil
		}
		if i == mendAttempts {
			return corrupt("%s: entry at offset %d is damaged in the source, valid entries follow at %d", filepath.Base(from), end, next)
		}
		if err := copyRange(out, from, end, next-end); err != nil {
			return err
		}
	}
}

// copyRange copies the n bytes at offset off of file from to the same
// offset of out.
func copyRange(out *os.File, from string, off, n int64) error {
	in, _, err := openRegular(from)
	if err != nil {
		return err
	}
	defer in.Close()
	k, err := io.Copy(io.NewOffsetWriter(out, off), io.NewSectionReader(in, off, n))
	if err == nil && k != n {
		err = fmt.Errorf("%s: %w", filepath.Base(from), errChanged) // shrunk since the copy
	}
	return err
}

// copyFile copies with read(2), never mmap: a file the writer truncates
// meanwhile gives a short copy, not a fault. It returns the bytes copied.
func copyFile(from, to string) (int64, error) {
	// A file under a Badger name that is not a regular one (a named pipe
	// would block the open until a writer came) is refused, as Open
	// refuses it (badgerFileType).
	in, _, err := openRegular(from)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := copySparse(out, in)
	if err != nil {
		out.Close()
		return n, err
	}
	return n, out.Close()
}

// copySparse copies in to out and returns the bytes copied. Blocks of
// zeros are skipped rather than written, so that the preallocated tails of
// Badger's logs (holes in the source) stay holes in the copy instead of
// taking disk space and time.
func copySparse(out, in *os.File) (int64, error) {
	const block = 64 << 10
	buf, zero := make([]byte, block), make([]byte, block)
	var n int64
	for {
		k, err := io.ReadFull(in, buf)
		if k > 0 {
			if bytes.Equal(buf[:k], zero[:k]) {
				_, serr := out.Seek(int64(k), io.SeekCurrent)
				if serr != nil {
					return n, serr
				}
			} else if _, werr := out.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// A trailing hole: Truncate gives the copy its size.
			return n, out.Truncate(n)
		}
		if err != nil {
			return n, err
		}
	}
}
