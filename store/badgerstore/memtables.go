package badgerstore

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4/skl"
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

// memtableArena returns the heap Badger allocates for a memtable of size
// bytes, whatever it holds (Badger's arenaSize): the size, its largest
// batch (15%) and room for that batch's nodes.
func memtableArena(size int64) int64 {
	batch := size * 15 / 100
	return size + batch + batch/int64(skl.MaxNodeSize)*int64(skl.MaxNodeSize)
}

// maxMemLogs is the most memtable logs Open lets Badger replay: the most
// Badger leaves with the largest NumMemtables the store accepts. Badger
// keeps up to NumMemtables full memtables waiting for their flush, one
// being flushed and the one being written, each with its log, and at
// Open replays every log it finds into a memtable of its own, all held on
// the heap until flushed (memtableArena each, 2.3 MiB with the default
// MemTableSize). A directory with more (copies of logs under new names,
// files dropped in) would make Open allocate without bound. Their total
// size is not bounded apart: the heap Badger allocates is their count
// times the arena of the largest log's memtable (memTableFor, at most
// maxMemTableSize), and only what the logs hold is written into it (66
// logs, one of them 512 MiB and sparse: 22.6 GiB allocated, 386 MB
// resident; 6 of them: 2.4 GiB, 361 MB); full logs, which only a store
// run with the largest options writes, fill as much as that store held.
const maxMemLogs = maxBadgerCount + 2

// memLogs returns the names of the non-empty memtable logs in dir (named
// as Badger names them, a link followed as Badger follows it), in the
// order Badger replays them. A directory that cannot be read is left to
// Open to report.
func memLogs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type log struct {
		name string
		id   uint64
	}
	var logs []log
	for _, e := range ents {
		digits, ok := strings.CutSuffix(e.Name(), ".mem")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			continue // Badger refuses the directory, naming it
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			logs = append(logs, log{e.Name(), id})
		}
	}
	slices.SortFunc(logs, func(a, b log) int { return cmp.Compare(a.id, b.id) })
	names := make([]string, len(logs))
	for i, l := range logs {
		names[i] = l.name
	}
	return names
}

// tooManyLogs returns an error if logs, the memtable logs of a directory
// (see memLogs), are more than maxMemLogs: replaying them would take
// memtableArena(memTableSize) of heap each, at once.
func tooManyLogs(logs []string, memTableSize int64) error {
	if len(logs) <= maxMemLogs {
		return nil
	}
	return fmt.Errorf("%d memtable logs (%s to %s), more than Badger leaves (NumMemtables+2, at most %d): replaying them would take %d MiB of heap at once. "+
		"If they are copies or were not written by this store, remove them; to keep their entries, move all but the newest %d out, open and close the store (which flushes them), then move the others back at most %d at a time, oldest last, opening and closing the store after each",
		len(logs), logs[0], logs[len(logs)-1], maxMemLogs, int64(len(logs))*memtableArena(memTableSize)>>20, maxMemLogs, maxMemLogs)
}
