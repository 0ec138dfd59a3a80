package badgerstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxMemTableSize is the largest MemTableSize a store opens with, set or
// found in the logs of a directory's memtables (see memTableFor).
const maxMemTableSize = 1 << 30

// earlierMemTableSize is the largest default MemTableSize an earlier
// version of the store wrote memtable logs with: 8 MiB until the
// twenty-ninth round, 4 MiB in it. Opening a directory whose logs need
// memtables up to this size is what a crash before an upgrade leaves,
// and is logged at info level; a larger size, which only a setting gives,
// is logged as a warning (each memtable takes that much heap).
const earlierMemTableSize = 8 << 20

// memTableFor returns the memtable size Open must give Badger for the
// memtables' logs in dir, at least size: the size each was written with,
// where it is larger. Badger makes a memtable's log twice its memtable's
// size and, after a crash, replays each log whole into a memtable of the
// size it is opened with, exiting the process (log.Fatalf "Arena too
// small") when the log holds more than that memtable takes. So a store
// written with larger memtables than it is opened with — one written
// before the default shrank (8 MiB until the twenty-ninth round), one set
// larger, or a snapshot of such a service's store opened by `appstats
// serve` — is opened with memtables of the size its logs need. A log that
// would need more than maxMemTableSize is an error, not an allocation
// that large. A directory that cannot be read is left to Open to report.
func memTableFor(dir string, size int64) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return size, nil
	}
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".mem" {
			continue
		}
		// A link is followed, as Badger follows it; what is not a
		// regular file checkDir reports.
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		need := (fi.Size() + 1) / 2
		if need > maxMemTableSize {
			return 0, fmt.Errorf("memtable log %s is %d bytes: written with memtables of %d bytes, more than the %d a store opens with",
				e.Name(), fi.Size(), need, maxMemTableSize)
		}
		size = max(size, need)
	}
	return size, nil
}

// emptyLogs returns the names of the memtable logs in dir (named as
// Badger names them, digits and .mem) that are empty files: a crash
// between Badger's creating a log and its sizing it leaves one, and
// Badger, finding it, sizes it and fails its Open ("Create a new file"),
// opening the directory only the next time; opened read-only, it cannot
// size it and fails every time. An empty log holds nothing.
func emptyLogs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var empty []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".mem")
		if !ok || id == "" || strings.Trim(id, "0123456789") != "" || !e.Type().IsRegular() {
			continue // not a name Badger gives its logs: not ours to remove
		}
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			empty = append(empty, e.Name())
		}
	}
	return empty, nil
}

// removeEmptyLogs removes the empty memtable logs in dir (see emptyLogs),
// for Open for writing, under the directory's lock.
func removeEmptyLogs(dir string) error {
	empty, err := emptyLogs(dir)
	for _, name := range empty {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return err
}

// refuseEmptyLogs returns an error naming the first empty memtable log in
// dir (see emptyLogs), for a read-only Open, which Badger would fail with
// its own words ("error while truncation").
func refuseEmptyLogs(dir string) error {
	empty, err := emptyLogs(dir)
	if err != nil || len(empty) == 0 {
		return err
	}
	return fmt.Errorf("%s is an empty memtable log (left by a crash): open the store for writing once, which removes it, to open it read-only", empty[0])
}
