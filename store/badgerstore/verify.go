package badgerstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"

	"github.com/goappstats/appstats/store"
)

// Badger cannot be trusted with a damaged directory: a truncated table
// makes it panic in a goroutine it starts while opening (which no caller
// can recover), a missing MANIFEST makes it start an empty database and
// delete the tables it does not know, and a damaged entry in the newest
// value-log file or in a write-ahead log makes it cut the file there,
// silently dropping everything after. So before Badger opens a directory,
// checkDir looks for exactly that damage, reading the files as Badger
// will: the MANIFEST with Badger's own ReplayManifestFile, every table it
// lists with Badger's table.OpenTable and VerifyChecksum (in a goroutine of
// ours, where a panic can be recovered), and the logs Badger replays
// entry by entry (see scanLog).

// corruptError is damage checkDir found.
type corruptError struct{ what string }

func (e *corruptError) Error() string { return "damaged store: " + e.what }
func (e *corruptError) Unwrap() error { return store.ErrCorrupt }

func corrupt(format string, args ...any) error {
	return &corruptError{fmt.Sprintf(format, args...)}
}

// checkDir returns an error wrapping store.ErrCorrupt if the Badger
// directory dir holds damage Badger would mishandle, nil if it looks sound
// (or does not exist), or another error if it cannot be read. Clean
// reports whether Badger closed the directory cleanly: then its logs have
// no sparse tails, and it can be opened read-only.
func checkDir(dir string, bo badger.Options) (clean bool, err error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	tables := map[uint64]string{}
	var vlogs []uint64
	var mems []string
	manifest := false
	for _, e := range ents {
		name := e.Name()
		if err := badgerFileType(dir, e); err != nil {
			return false, err
		}
		switch ext := filepath.Ext(name); {
		case name == badger.ManifestFilename:
			manifest = true
		case ext == ".sst":
			if id, ok := table.ParseFileID(name); ok {
				tables[id] = filepath.Join(dir, name)
			}
		case ext == ".vlog":
			if id, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 32); err == nil {
				vlogs = append(vlogs, id)
			}
		case ext == ".mem":
			mems = append(mems, filepath.Join(dir, name))
		}
	}
	slices.Sort(vlogs)
	if !manifest {
		// Badger writes the MANIFEST before any other file.
		if len(tables) > 0 || len(vlogs) > 0 || len(mems) > 0 {
			return false, corrupt("MANIFEST missing beside %d tables and %d log files", len(tables), len(vlogs)+len(mems))
		}
		return true, nil
	}
	f, _, err := openRegular(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return false, err
	}
	m, _, err := badger.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	f.Close()
	if err != nil {
		return false, corrupt("MANIFEST: %v", err)
	}
	if len(m.Tables) == 0 && len(tables) > 0 {
		return false, corrupt("MANIFEST lists no table, %d table files exist", len(tables))
	}
	for id, tm := range m.Tables {
		path, ok := tables[id]
		if !ok {
			return false, corrupt("table %d listed in MANIFEST is missing", id)
		}
		if err := checkTable(path, tm.Compression, bo); err != nil {
			return false, err
		}
	}
	clean = true
	if len(vlogs) > 0 {
		// Badger replays (and cuts) only the newest value-log file.
		path := filepath.Join(dir, fmt.Sprintf("%06d.vlog", vlogs[len(vlogs)-1]))
		if clean, err = checkLog(path, vlogHeaderSize); err != nil {
			return false, err
		}
	}
	for _, path := range mems {
		// A clean Close flushes the memtables and deletes their logs.
		clean = false
		if _, err := checkLog(path, vlogHeaderSize); err != nil {
			return false, err
		}
	}
	return clean, nil
}

// badgerFileType returns an error naming e if it has the name of a file
// Badger opens (its MANIFEST, key registry and discard statistics, a
// table, a value log, a memtable's log) and is not a regular file, or a
// link to one: opening a named pipe for reading waits for a writer
// without end, and Badger cannot map a directory or a device. A link to a
// regular file is followed, as Badger follows it.
func badgerFileType(dir string, e fs.DirEntry) error {
	name := e.Name()
	switch filepath.Ext(name) {
	case ".sst", ".vlog", ".mem":
	default:
		if name != badger.ManifestFilename && name != badger.KeyRegistryFileName && name != "DISCARD" {
			return nil
		}
	}
	if e.Type().IsRegular() {
		return nil
	}
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	return notRegular(name, fi.Mode())
}

// notRegular returns an error naming the file name, of mode m, if it is
// not a regular file, saying what it is.
func notRegular(name string, m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	kind := "a special file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%s is %s, not a file Badger wrote", name, kind)
}

// openRegular opens the file at path for reading if it is a regular file,
// and returns it with its FileInfo; otherwise an error naming it (see
// notRegular). It opens without waiting (O_NONBLOCK where there are named
// pipes) and checks the opened file's mode: a file replaced by a named
// pipe since badgerFileType checked it is refused as there, not waited on
// for a writer without end.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = notRegular(filepath.Base(path), fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// checkTable opens a table as Badger would and verifies every block's
// checksum, recovering from the panics Badger's table code raises on a
// truncated file.
func checkTable(path string, c options.CompressionType, bo badger.Options) (err error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		f.Close()
		return corrupt("table %s is empty", filepath.Base(path))
	}
	mf, err := z.OpenMmapFileUsing(f, 0, false)
	if err != nil {
		f.Close()
		return err
	}
	defer mf.Close(-1)
	defer func() {
		if v := recover(); v != nil {
			err = corrupt("table %s: unreadable (%s)", filepath.Base(path), panicLine(v))
		}
	}()
	t, err := table.OpenTable(mf, table.Options{
		BlockSize:          bo.BlockSize,
		BloomFalsePositive: bo.BloomFalsePositive,
		ChkMode:            options.NoVerification, // verified below, so that mf stays ours to close
		Compression:        c,
	})
	if err != nil {
		return corrupt("table %s: %v", filepath.Base(path), err)
	}
	if err := t.VerifyChecksum(); err != nil {
		return corrupt("table %s: %v", filepath.Base(path), err)
	}
	return nil
}

// panicLine returns the first informative line of a panic value (Badger's
// table code wraps its panics in banner lines).
func panicLine(v any) string {
	for line := range strings.Lines(fmt.Sprint(v)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "==") {
			return line
		}
	}
	return "panic"
}

// vlogHeaderSize is the size of a log file's header (a key ID and an
// initialization vector), before its first entry: value logs and
// write-ahead logs have the same.
const vlogHeaderSize = 20

// checkLog checks a value-log or write-ahead-log file from offset start,
// and reports whether it ends cleanly: its valid entries fill it (Badger
// truncated it when it closed), no tail left by a crash. It reads with
// read(2), not through a memory map: on a full tmpfs, even reading a
// sparse file's hole through a map faults.
func checkLog(path string, start int64) (clean bool, err error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return checkLogAt(f, fi.Size(), filepath.Base(path), start)
}

// checkLogAt is checkLog of the log named name, read through r, of size
// bytes. A read that fails (an I/O error: a bad sector) is an error naming
// the log, not the end of its entries: Badger would cut the log there,
// discarding whatever the unreadable part held.
func checkLogAt(r io.ReaderAt, size int64, name string, start int64) (clean bool, err error) {
	w := &window{r: r, size: size}
	end, next := scanLog(w, start)
	if w.err != nil {
		return false, fmt.Errorf("%s: reading it at offset %d: %w", name, w.errOff, w.err)
	}
	if next >= 0 {
		return false, corrupt("%s: entry at offset %d is damaged, valid entries follow at %d", name, end, next)
	}
	return end == size, nil
}

// A window reads a file through a buffer of up to windowSize bytes.
type window struct {
	r    io.ReaderAt
	size int64
	off  int64  // file offset of buf[0]
	buf  []byte // file bytes [off, off+len(buf))
	// err is the first read that failed (other than at the file's end),
	// and errOff its offset: the window then holds nothing from there.
	err    error
	errOff int64
}

const windowSize = 1 << 20

// at returns up to n bytes of the file from offset off (fewer at its end).
func (w *window) at(off int64, n int) []byte {
	if off >= w.size || n <= 0 {
		return nil
	}
	n = int(min(int64(n), w.size-off))
	if off >= w.off && off+int64(n) <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off:][:n]
	}
	size := int(min(max(int64(n), windowSize), w.size-off))
	if cap(w.buf) < size {
		w.buf = make([]byte, size)
	}
	w.buf = w.buf[:size]
	k, err := w.r.ReadAt(w.buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		if w.err == nil {
			w.err, w.errOff = err, off+int64(k)
		}
		k = 0
	}
	w.off, w.buf = off, w.buf[:k]
	return w.buf[:min(n, k)]
}

// from returns the file's bytes from offset off on, as many as the window
// holds (reading the next window if it does not hold off).
func (w *window) from(off int64) []byte {
	if off >= w.off && off < w.off+int64(len(w.buf)) {
		return w.buf[off-w.off:]
	}
	return w.at(off, windowSize)
}

// scanLog reads the entries of a Badger log file (a value log or a
// write-ahead log) from offset start, as Badger does when it replays the
// file, and returns the offset where valid entries end. Badger cuts the
// file there. That is right after a crash, when the rest is zeros or a
// torn last write; but if a valid entry follows (a damaged byte in the
// middle), cutting would silently discard it, and scanLog returns its
// offset as next (-1 when there is none).
//
// An entry is a header — meta and user-meta bytes, then the key length,
// value length and expiry as uvarints — the key (with its 8-byte version),
// the value, and a big-endian CRC-32C of all of it.
func scanLog(w *window, start int64) (end, next int64) {
	off := start
	for off < w.size {
		n := entryAt(w, off, false)
		if n == 0 {
			break
		}
		off += n
	}
	end = off
	// Look for a valid entry further on. A key is at least 9 bytes, so a
	// candidate's third byte (the key length) is non-zero: zero runs (the
	// tail of a file Badger made sparse) are skipped a window at a time.
	for p := end + 1; p+2 < w.size; p++ {
		b := w.from(p + 2)
		if len(b) == 0 {
			// Nothing read where the size said there was more: an
			// I/O error (the window keeps it, for checkLogAt to
			// report), a file cut short since, or not a file at all
			// (a directory). Scanning on would not move.
			break
		}
		i := firstNonZero(b)
		if i < 0 {
			p += int64(len(b)) - 1
			continue
		}
		p += int64(i)
		if entryAt(w, p, true) > 0 && plausibleKey(w, p) {
			return end, p
		}
	}
	return end, -1
}

// firstNonZero returns the index of b's first non-zero byte, or -1: a
// block of zeros at a time, compared with bytes.Equal (vectorized), so
// that the long zero tails of preallocated logs are skipped quickly.
func firstNonZero(b []byte) int {
	var zero [4096]byte
	for off := 0; off < len(b); off += len(zero) {
		c := b[off:min(off+len(zero), len(b))]
		if !bytes.Equal(c, zero[:len(c)]) {
			return off + slices.IndexFunc(c, func(x byte) bool { return x != 0 })
		}
	}
	return -1
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxHeader is the longest entry header: two bytes and three uvarints.
const maxHeader = 2 + 3*binary.MaxVarintLen64

// header decodes the entry header at off: its length and the key and value
// lengths; ok is false if it is not well formed. Strict, it also wants the
// meta bits Badger uses and no user meta (the store sets none): that keeps
// a damaged file's random bytes from passing for an entry.
func header(w *window, off int64, strict bool) (hlen int, klen, vlen uint64, ok bool) {
	b := w.at(off, maxHeader)
	if len(b) < 2 {
		return 0, 0, 0, false
	}
	meta, userMeta := b[0], b[1]
	i := 2
	klen, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, 0, 0, false
	}
	i += n
	vlen, n = binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, 0, 0, false
	}
	i += n
	if _, n = binary.Uvarint(b[i:]); n <= 0 {
		return 0, 0, 0, false
	}
	i += n
	if klen == 0 || klen > 1<<16 || vlen > uint64(w.size) || strict && (meta&0x30 != 0 || userMeta != 0) {
		return 0, 0, 0, false
	}
	return i, klen, vlen, true
}

// entryAt returns the length of the valid entry at offset off, or 0 if
// there is none (zeros, a torn entry, a checksum mismatch); strict as for
// header.
func entryAt(w *window, off int64, strict bool) int64 {
	hlen, klen, vlen, ok := header(w, off, strict)
	if !ok {
		return 0
	}
	body := int64(hlen) + int64(klen) + int64(vlen)
	if off+body+crc32.Size > w.size {
		return 0
	}
	var crc uint32
	for p := off; p < off+body; {
		b := w.at(p, int(min(off+body-p, windowSize)))
		if len(b) == 0 {
			return 0
		}
		crc = crc32.Update(crc, castagnoli, b)
		p += int64(len(b))
	}
	sum := w.at(off+body, crc32.Size)
	if len(sum) != crc32.Size || binary.BigEndian.Uint32(sum) != crc {
		return 0
	}
	return body + crc32.Size
}

// plausibleKey reports whether the entry at off (valid, see entryAt) has a
// key the store writes: one of its prefixes, or Badger's internal
// "!badger!" ones, followed by an 8-byte version.
func plausibleKey(w *window, off int64) bool {
	hlen, klen, _, _ := header(w, off, true)
	if klen < 9 {
		return false
	}
	key := w.at(off+int64(hlen), int(klen))
	if len(key) == 0 {
		return false
	}
	switch key[0] {
	case pSummary, pRecord, pBlock, pSumBlock, pIndex, pDelta, pMinute, pHour, pMarker, pMeta, pTrace, pTraceRef:
		return true
	}
	return bytes.HasPrefix(key, []byte("!badger!"))
}

// moveAside renames the damaged directory dir to a new name beside it,
// dir.damaged-<time>, and returns that name. If dir cannot be renamed (a
// mount point), its files are moved into a new directory inside it
// instead.
func moveAside(dir string) (string, error) {
	clean := filepath.Clean(dir)
	stamp := time.Now().Format("20060102-150405")
	for i := 0; ; i++ {
		name := clean + ".damaged-" + stamp
		if i > 0 {
			name += "-" + strconv.Itoa(i)
		}
		if _, err := os.Lstat(name); err == nil {
			continue
		}
		err := os.Rename(clean, name)
		if err == nil {
			return name, os.MkdirAll(clean, 0o755)
		}
		break
	}
	inner := filepath.Join(clean, "damaged-"+stamp)
	if err := os.Mkdir(inner, 0o755); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(clean)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		if err := os.Rename(filepath.Join(clean, e.Name()), filepath.Join(inner, e.Name())); err != nil {
			return "", err
		}
	}
	return inner, nil
}
