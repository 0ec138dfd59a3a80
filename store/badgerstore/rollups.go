package badgerstore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
)

const (
	// foldThreshold is the number of pending deltas that triggers a fold.
	// Every read of the current minute merges its pending deltas (one per
	// Write), and each holds a rollup with its sketches in memory: at 1024
	// deltas, a live dashboard's refresh during heavy ingest spent ~8 ms of
	// CPU merging them, and they held tens of MiB. Folding 64 at a time
	// costs the fold goroutine a read and a write of a minute and an hour
	// rollup about once a second at 20k records/s.
	foldThreshold = 64
	// foldChunk is the number of deltas folded per transaction.
	foldChunk = 256
)

// recountRollup is stored in place of a minute or hour rollup that lacks
// records (a damaged delta could not be folded into it, or it was damaged
// itself): reads count its bucket from finer data instead — an hour from
// its minutes, a minute from its summaries.
var recountRollup = []byte{0}

// A pendingDelta is a rollup delta stored under key, not yet folded. Its
// rollup is never modified.
type pendingDelta struct {
	key []byte
	ru  *codec.Rollup // nil if the stored delta is corrupt
}

// fold merges pending deltas into the minute and hour rollups, a chunk per
// transaction; each transaction also deletes the deltas it merged, so
// readers (who add minute, hour and delta rollups) never count one twice.
func (s *Store) fold() error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	return s.foldLocked()
}

// foldLocked is fold with s.foldMu held.
func (s *Store) foldLocked() error {
	if err := s.markLost(); err != nil {
		// The minutes stay noted in memory, for the next fold.
		s.log.Warn("badgerstore: marking rollups to be counted again", "err", err)
	}
	s.pmu.RLock()
	var todo []foldItem
	for m, ds := range s.pending {
		for _, d := range ds {
			todo = append(todo, foldItem{m, d})
		}
	}
	s.pmu.RUnlock()
	for len(todo) > 0 {
		n := min(len(todo), foldChunk)
		if err := s.foldChunk(todo[:n]); err != nil {
			return fmt.Errorf("fold rollups: %w", err)
		}
		todo = todo[n:]
	}
	return nil
}

// markLost stores recountRollup in place of the minute and hour rollups
// of the minutes in s.lost (those of damaged index blocks and summaries
// found, see loseAt), and then forgets them: from then on the stored
// rollups say so, for readers and after a reopen. A fold merging into
// such a rollup keeps it so (see mergeInto). s.foldMu must be held. A
// store that cannot write keeps them in memory.
func (s *Store) markLost() error {
	if !s.writable() {
		return nil
	}
	s.pmu.RLock()
	var minutes []int64
	for m := range s.lost {
		minutes = append(minutes, m)
	}
	s.pmu.RUnlock()
	if len(minutes) == 0 {
		return nil
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for _, m := range minutes {
		for _, k := range [][]byte{bucketKey(pMinute, m), bucketKey(pHour, floorDiv(m, 60))} {
			if err := txn.Set(k, recountRollup); err != nil {
				return err
			}
		}
	}
	err := s.commit(txn.Commit)
	if err != nil {
		return err
	}
	s.pmu.Lock()
	for _, m := range minutes {
		delete(s.lost, m)
	}
	s.pmu.Unlock()
	return nil
}

// A foldItem is a pending delta of a minute.
type foldItem struct {
	minute int64
	d      pendingDelta
}

// foldChunk merges deltas into their minute and hour rollups and deletes
// them, in one transaction.
func (s *Store) foldChunk(items []foldItem) error {
	var scratch sketch.Sketch
	minutes := make(map[int64]*codec.Rollup)
	hours := make(map[int64]*codec.Rollup)
	recount := make(map[string]bool) // keys of rollups that lose a damaged delta
	for _, it := range items {
		if it.d.ru == nil {
			recount[string(bucketKey(pMinute, it.minute))] = true
			recount[string(bucketKey(pHour, floorDiv(it.minute, 60)))] = true
			continue
		}
		for _, b := range []struct {
			m map[int64]*codec.Rollup
			k int64
		}{{minutes, it.minute}, {hours, floorDiv(it.minute, 60)}} {
			ru := b.m[b.k]
			if ru == nil {
				ru = codec.NewBoundedRollup(s.opts.MaxKeys)
				b.m[b.k] = ru
			}
			ru.Merge(it.d.ru)
		}
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for m, ru := range minutes {
		if err := s.mergeInto(txn, bucketKey(pMinute, m), ru, &scratch); err != nil {
			return err
		}
	}
	for h, ru := range hours {
		if err := s.mergeInto(txn, bucketKey(pHour, h), ru, &scratch); err != nil {
			return err
		}
	}
	for k := range recount {
		if err := txn.Set([]byte(k), recountRollup); err != nil {
			return err
		}
	}
	for _, it := range items {
		if err := txn.Delete(it.d.key); err != nil {
			return err
		}
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	err := s.commit(txn.Commit)
	if err != nil {
		return err
	}
	done := make(map[string]bool, len(items))
	for _, it := range items {
		done[string(it.d.key)] = true
	}
	for m := range minutes {
		s.removePending(m, done)
	}
	for _, it := range items {
		if it.d.ru == nil {
			s.removePending(it.minute, done)
		}
	}
	return nil
}

// removePending drops minute m's pending deltas whose keys are in done.
// s.pmu must be held.
func (s *Store) removePending(m int64, done map[string]bool) {
	ds := s.pending[m]
	// A new slice: readers hold the old one.
	var kept []pendingDelta
	for _, d := range ds {
		if !done[string(d.key)] {
			kept = append(kept, d)
		}
	}
	s.npending.Add(-int64(len(ds) - len(kept)))
	if len(kept) == 0 {
		delete(s.pending, m)
	} else {
		s.pending[m] = kept
	}
}

// mergeInto adds ru to the rollup stored at key. A rollup to be recounted
// stays so; a damaged one becomes one.
func (s *Store) mergeInto(txn *badger.Txn, key []byte, ru *codec.Rollup, scratch *sketch.Sketch) error {
	item, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return err
	default:
		stored := codec.NewRollup()
		recount := false
		err := item.Value(func(v []byte) error {
			recount = bytes.Equal(v, recountRollup)
			if recount {
				return nil
			}
			return stored.MergeEncoded(v, false, scratch)
		})
		if err != nil {
			s.damaged("rollup", key, err)
			recount = true
		}
		if recount {
			return txn.Set(key, recountRollup)
		}
		ru.Merge(stored)
	}
	return txn.Set(key, codec.AppendRollup(nil, ru))
}
