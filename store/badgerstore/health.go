package badgerstore

import (
	"encoding/hex"
	"fmt"

	"github.com/goappstats/appstats/store"
)

var _ store.HealthReporter = (*Store)(nil)

// Health reports the store's condition: whether the disk is full (records
// are then dropped), whether writing failed (records are then dropped too;
// the Detail says whether the records stored before are still shown, or
// not until the directory is opened again), how many records it dropped
// and how many damaged entries reads skipped since Open, where a damaged
// directory was moved at Open, and its disk use against MaxBytes. It does no I/O: the figures are
// those of the last measurement (at most a second old while the store is
// open for writing).
func (s *Store) Health() store.Health {
	h := store.Health{
		State:      store.StateOK,
		Dropped:    s.dropped.Load(),
		Skipped:    s.skipped.Load(),
		OverBudget: s.overBudget.Load(),
		MovedAside: s.movedAside,
		DiskBytes:  s.diskNow(),
		DiskFree:   s.disk.free.Load(),
		MaxBytes:   max(s.opts.MaxBytes, 0),
	}
	if h.DiskFree >= 0 {
		h.DiskFree = max(s.freeNow(), 0)
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		h.State = store.StateClosed
	case s.opts.ReadOnly:
		h.State = store.StateReadOnly
	case s.failed.Load() != nil:
		h.State = store.StateWriteFailed
		h.Detail = s.failed.Load().detail(s.dir, s.standIn.Load(), s.reopenErr.Load())
	case s.disk.full.Load():
		h.State = store.StateDiskFull
		h.Detail = fmt.Sprintf("%s free on the filesystem of %s, %s needed to write safely: records are dropped until space returns",
			mib(h.DiskFree), s.dir, mib(s.reserve()))
		switch s.mode.Load() {
		case modeReadOnly:
			h.Detail += " (the records stored before are shown read-only)"
		case modeMemory:
			h.Detail += " (stored records are not shown until then: the store is new, or was not closed cleanly and cannot be opened read-only)"
		}
	case s.movedAside != "":
		h.Detail = fmt.Sprintf("the store in %s was damaged: it was moved to %s and an empty store started", s.dir, s.movedAside)
	}
	return h
}

// maxDamagedKeys bounds the set of damaged keys the store remembers, so
// that a key read again is not counted again; past it, every read of a
// damaged entry counts.
const maxDamagedKeys = 4096

// damaged notes that reading the entry at key failed (err): it is counted
// once in Health's Skipped, and logged at most every few seconds. It
// reports whether the key was not known damaged.
func (s *Store) damaged(kind string, key []byte, err error) bool {
	s.damagedMu.Lock()
	_, seen := s.damagedKeys[string(key)]
	if !seen && len(s.damagedKeys) < maxDamagedKeys {
		if s.damagedKeys == nil {
			s.damagedKeys = make(map[string]struct{})
		}
		s.damagedKeys[string(key)] = struct{}{}
	}
	s.damagedMu.Unlock()
	if seen {
		return false
	}
	s.skipped.Add(1)
	s.readLog.Warn("badgerstore: skipping a damaged "+kind, "key", hex.EncodeToString(key), "err", err)
	return true
}
