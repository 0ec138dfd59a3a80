package badgerstore

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Badger writes its files through memory maps: a page of a value log, a
// write-ahead log or a new table is backed by the filesystem only when it
// is first written, and if the filesystem has no block left then, the
// kernel kills the process with SIGBUS — no error is returned anywhere.
// The store therefore watches its filesystem's free space and stops
// writing while it is below a reserve (see Store.reserve) that covers
// everything Badger may still write on its own after the store's last
// write.

const (
	// diskInterval is how often the background loop measures the
	// directory and the free space (and tries to resume writing).
	diskInterval = time.Second
	// diskRecheck is how old a measurement Write trusts before it measures
	// again; between measurements it adds what it wrote to the last one.
	diskRecheck = 100 * time.Millisecond
	// maxCompactionReserve bounds the part of the reserve kept for a
	// compaction's new tables (written before the tables they replace are
	// deleted).
	maxCompactionReserve = 64 << 20
)

// diskState is what the store knows of its directory's size and its
// filesystem's free space: the last measurement, plus an estimate of what
// Write has handed Badger since.
type diskState struct {
	mu      sync.Mutex   // one measurement at a time; guards the fields below it
	checked atomic.Int64 // when the last measurement was taken (Unix ns)
	used    atomic.Int64 // bytes the directory's files took then
	lsm     atomic.Int64 // of which the LSM tree's tables
	mem     atomic.Int64 // and the memtables' write-ahead logs
	free    atomic.Int64 // bytes free on the filesystem then; -1: unknown
	added   atomic.Int64 // bytes written since (an estimate, see Write)
	full    atomic.Bool  // not writing for lack of space

	fullSince   time.Time // when the current disk-full episode began
	fullDropped uint64    // s.dropped when it began
}

// measure measures the directory and the free space now.
func (s *Store) measure() {
	d := &s.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	s.measureLocked()
}

func (s *Store) measureLocked() {
	d := &s.disk
	added := d.added.Load()
	used, lsm, mem := dirUsage(s.dir)
	statfs := fsFree
	if s.opts.statfs != nil {
		statfs = s.opts.statfs
	}
	free, err := statfs(s.dir)
	if err != nil {
		free = -1
	}
	d.used.Store(used)
	d.lsm.Store(lsm)
	d.mem.Store(mem)
	d.free.Store(free)
	d.added.Add(-added)
	d.checked.Store(time.Now().UnixNano())
}

// dirUsage returns the bytes the files in dir take on disk, those of its
// tables (.sst) and those of its memtables' write-ahead logs (.mem).
func dirUsage(dir string) (used, lsm, mem int64) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, 0
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		n := allocated(fi)
		used += n
		switch filepath.Ext(e.Name()) {
		case ".sst":
			lsm += n
		case ".mem":
			mem += n
		}
	}
	return used, lsm, mem
}

// working is the space Badger needs for its small writes and what they
// set off: a write-ahead log and a level-0 table for every memtable, and a
// MiB for the manifest and the discard statistics. Below it the store
// writes nothing at all (no retention, no rollup folding).
func (s *Store) working() int64 {
	return 2*int64(s.opts.NumMemtables+1)*s.opts.MemTableSize + 1<<20
}

// reserve is the free space below which the store stops writing records:
// the working space, one value-log file (value-log garbage collection
// rewrites the live part of one file before deleting it), and room for a
// compaction's new tables (up to the size of the LSM tree, at most
// maxCompactionReserve).
func (s *Store) reserve() int64 {
	return s.working() + s.opts.ValueLogFileSize + min(s.disk.lsm.Load(), maxCompactionReserve)
}

// badgerPending bounds what Badger may write on its own, from the directory as
// last measured, before it deletes what that replaces: a compaction
// writes its new tables before it deletes the tables it merges, and
// NumCompactors compactions run at once, each on tables of its own, so
// together they write at most the LSM tree's size (a table in level 0
// spans from the newest keys to the tombstones of the oldest, and a
// compaction from it takes every table of the next level it overlaps:
// measured with records that stay in the tree, two compactions held 26
// MiB of new tables beside a 58 MiB tree); each memtable's log becomes a
// level-0 table of about its size before the log is deleted; and
// value-log garbage collection copies the live part of one file.
func (s *Store) badgerPending() int64 {
	return s.disk.lsm.Load() + s.disk.mem.Load() + s.opts.ValueLogFileSize
}

// withinSlack reports whether the directory, n bytes more, leaves room
// for badgerPending within MaxBytes + DiskSlack (always true without
// MaxBytes), less a 64th of DiskSlack: the estimate counts n once, but
// what a write adds to the memtables' logs is on disk and in
// badgerPending both, and the logs' blocks are allocated as the system
// writes their pages back, so a directory measured just after a write can
// pass the estimate by tens of kilobytes.
func (s *Store) withinSlack(n int64) bool {
	return s.limit == 0 || s.diskNow()+n+s.badgerPending()+s.slack/64 <= s.opts.MaxBytes+s.slack
}

// freeNow estimates the free space now: the last measurement less what was
// written since. It is MaxInt64 when the free space is unknown.
func (s *Store) freeNow() int64 {
	f := s.disk.free.Load()
	if f < 0 {
		return math.MaxInt64
	}
	return f - s.disk.added.Load()
}

// diskNow estimates the directory's size now.
func (s *Store) diskNow() int64 { return s.disk.used.Load() + s.disk.added.Load() }

// hasRoom reports whether n more bytes can be written leaving the working
// space free.
func (s *Store) hasRoom(n int64) bool {
	return s.freeNow()-n >= s.working()
}

// refresh measures, then enters or leaves the disk-full state: it is
// entered below the reserve, and left once the free space is an eighth
// above it (so that it does not flap). A store opened degraded (see
// openDegraded) leaves it only by reopening, in diskLoop.
func (s *Store) refresh() {
	d := &s.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	s.measureLocked()
	free, reserve := s.freeNow(), s.reserve()
	switch full := d.full.Load(); {
	case !full && free < reserve:
		s.setFullLocked()
	case full && s.mode.Load() == modeNormal && free >= reserve+reserve/8:
		d.full.Store(false)
		s.log.Warn("badgerstore: disk space available again: writing resumed",
			"dir", s.dir, "free", mib(free), "dropped", s.dropped.Load()-d.fullDropped,
			"after", time.Since(d.fullSince).Round(time.Second))
	}
}

// setFull enters the disk-full state, logging it once.
func (s *Store) setFull() {
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	s.setFullLocked()
}

func (s *Store) setFullLocked() {
	d := &s.disk
	if d.full.Load() {
		return
	}
	d.full.Store(true)
	d.fullSince = time.Now()
	d.fullDropped = s.dropped.Load()
	s.log.Error("badgerstore: disk full: records are dropped until space returns",
		"dir", s.dir, "free", mib(s.freeNow()), "needed", mib(s.reserve()))
}

// maybeRefresh refreshes when the last measurement is older than
// diskRecheck.
func (s *Store) maybeRefresh() {
	if time.Now().UnixNano()-s.disk.checked.Load() > int64(diskRecheck) {
		s.refresh()
	}
}

// admit decides whether a value of n bytes (as it will take on disk) may be
// written: not while the disk is full, not when it would leave less than
// the reserve free, and not beyond the disk limit. An estimate that says no
// is checked against a fresh measurement (if the last is older than
// diskRecheck) before the record is dropped.
func (s *Store) admit(n int64) bool {
	d := &s.disk
	if d.full.Load() {
		return false
	}
	// The limit holds for the directory as last measured and for the
	// records' Size, which counts what the LSM tree will take as its
	// compactions catch up (see lsmCost); and the directory must leave
	// room within MaxBytes + DiskSlack for what Badger may write on its
	// own before deleting (see badgerPending), which binds first when the
	// tree is a large part of the directory.
	fits := func() (room, limit bool) {
		return s.freeNow()-n >= s.reserve(),
			s.limit == 0 || max(s.diskNow(), s.bytes.Load())+n <= s.limit && s.withinSlack(n)
	}
	if room, limit := fits(); !room || !limit {
		s.maybeRefresh()
		room, limit = fits()
		if !room {
			s.setFull()
		}
		if !limit {
			s.kickRetention()
			s.overLog.Warn("badgerstore: store over its size limit: records are dropped until retention catches up",
				"dir", s.dir, "disk", mib(s.diskNow()), "limit", mib(s.limit),
				"compaction_room", mib(s.badgerPending()), "bound", mib(s.opts.MaxBytes+s.slack))
		}
		if !room || !limit {
			return false
		}
	}
	d.added.Add(n)
	return true
}

// diskLoop measures the directory every diskInterval, entering or leaving
// the disk-full state, reopening a store opened degraded once space has
// returned, and starting retention early when the directory outgrows
// MaxBytes.
func (s *Store) diskLoop() {
	defer s.wg.Done()
	t := time.NewTicker(diskInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.writable() {
			s.checkDeleted()
		}
		if s.failed.Load() != nil {
			s.recoverWrites()
			continue
		}
		s.refresh()
		if s.mode.Load() != modeNormal {
			if s.freeNow() >= s.reserve()+s.reserve()/8 {
				s.reopen()
			}
			continue
		}
		if s.opts.MaxBytes > 0 && (s.diskNow() > s.opts.MaxBytes || s.bytes.Load() > s.opts.MaxBytes || s.overTarget() > 0) {
			s.kickRetention()
		}
	}
}

// kickRetention asks the retention loop for a pass now.
func (s *Store) kickRetention() {
	select {
	case s.retainNow <- struct{}{}:
	default:
	}
}

// mib formats a byte count for a log line.
func mib(n int64) string {
	if n == math.MaxInt64 {
		return "unknown"
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), "0"), ".") + " MiB"
}
