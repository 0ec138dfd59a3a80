package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
)

// Execution traces (recording.Record.ExecTrace) are stored apart from
// their records, under t | id, and their metadata in the record. They are
// the first thing to go when space is short: Write stores one only while
// the directory is within MaxBytes (admitTrace), and retention deletes the
// oldest past MaxTraceBytes, and all of them, oldest first, before any
// record when the store is over its byte target (trimTraces).

var _ store.ExecTraceStore = (*Store)(nil)

// traceValue returns the key and the value under which r's execution
// trace is to be stored, or nils when r has none or it is not to be
// stored: larger than MaxTraceBytes or a value-log file, or refused by
// admitTrace.
func (s *Store) traceValue(r *recording.Record) (key, value []byte) {
	t := r.ExecTrace
	if t == nil || len(t.Data) == 0 || s.opts.MaxTraceBytes <= 0 {
		return nil, nil
	}
	key = traceKey(r.ID)
	n := int64(len(key) + len(t.Data) + 2)
	if n > s.opts.MaxTraceBytes || n >= s.opts.ValueLogFileSize || !s.admitTrace(n+entryOverhead) {
		return nil, nil
	}
	return key, codec.AppendExecTrace(make([]byte, 0, len(t.Data)+2), t.Data)
}

// admitTrace decides whether a trace taking n bytes on disk may be
// written: only while the disk keeps its reserve and the directory stays
// within MaxBytes and leaves the room admit keeps for Badger's own writes,
// where records may go up to MaxBytes + DiskSlack/2 (admit). It counts n
// as written when it says yes.
func (s *Store) admitTrace(n int64) bool {
	if s.disk.full.Load() || s.freeNow()-n < s.reserve() {
		return false
	}
	if m := s.opts.MaxBytes; m > 0 && (s.diskNow()+n > m || s.bytes.Load()+n > m || !s.withinSlack(n)) {
		return false
	}
	s.disk.added.Add(n)
	return true
}

// ExecTrace returns the execution trace of the record with the given ID
// (see [store.ExecTraceStore]): a copy of its data, or an error wrapping
// [store.ErrNotFound] when the record has none, or no longer has one.
func (s *Store) ExecTrace(ctx context.Context, id recording.ID) ([]byte, error) {
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var data []byte
	key := traceKey(id)
	notFound := fmt.Errorf("execution trace of %s: %w", id, store.ErrNotFound)
	err := s.db.View(func(txn *badger.Txn) error {
		// The record says whether it has a trace: Write deletes the
		// old trace of a record written again without one, but not of
		// one it does not look up (see replaced), and the old one stays
		// until retention trims it.
		loc, err := s.locate(txn, id, s.badIndex)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		r, bad, err := s.readRecord(txn, loc)
		if err != nil && bad == nil {
			return err
		}
		if err != nil || r.ExecTrace == nil {
			return notFound
		}
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			d, err := codec.DecodeExecTrace(v)
			if err != nil {
				s.damaged("execution trace", key, err)
				return fmt.Errorf("execution trace of %s damaged: %w (%w: %v)", id, store.ErrNotFound, store.ErrCorrupt, err)
			}
			data = bytes.Clone(d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: %w", err)
	}
	return data, nil
}

// trimTraces deletes the oldest execution traces (their records stay)
// while they take more than MaxTraceBytes, and, while the store is over
// the byte target of retention, until it is within it or no trace is
// left: traces go before records. target is the byte target of the pass
// (byteTarget; 0: none). It runs in a retention pass, which
// holds s.foldMu, so it is the only one deleting traces but for
// trimRecords in the same pass; a Write may give one of their records
// again, with another trace or none, which the pass, reading in a
// transaction that does not see it, would delete, and count out the old
// one's size: it takes the records of the traces it deletes (see claims).
func (s *Store) trimTraces(ctx context.Context, target int64, res *RetentionResult) error {
	for {
		want := s.opts.MaxTraceBytes
		if t := target; t > 0 {
			if over := s.bytes.Load() - t; over > 0 {
				want = min(want, s.traceBytes.Load()-over)
			}
		}
		if s.traceBytes.Load() <= want {
			return nil
		}
		var keys [][]byte
		var size int64
		cl := s.beginClaims() // the records whose traces go (see claims)
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pTrace}})
			defer it.Close()
			have := s.traceBytes.Load()
			for it.Rewind(); it.Valid() && have > want; it.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				item := it.Item()
				k := item.Key()
				if len(k) == 1+len(recording.ID{}) {
					cl.add(recording.ID(k[1:]))
				}
				n := int64(len(k)) + item.ValueSize()
				keys = append(keys, item.KeyCopy(nil))
				size += n
				have -= n
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			cl.drop()
			return err
		}
		if s.trimHook != nil {
			s.trimHook("traces read")
		}
		if !cl.take() {
			// A Write stores one of those records in a batch this
			// pass did not see: once it has, the pass reads again.
			if err := cl.wait(ctx); err != nil {
				return err
			}
			continue
		}
		if s.trimHook != nil {
			s.trimHook("traces claimed")
		}
		err = s.deleteKeys(keys)
		cl.drop()
		if err != nil {
			return fmt.Errorf("badgerstore: retention: %w", err)
		}
		s.subTraceBytes(size)
		s.bytes.Add(-size)
		res.Traces += int64(len(keys))
		res.DeletedBytes += size
		return nil
	}
}

// subTraceBytes takes n bytes of deleted traces off the count. Badger's
// sizes of stored values differ from what Write counted by a few bytes, so
// the count stops at zero.
func (s *Store) subTraceBytes(n int64) {
	for {
		old := s.traceBytes.Load()
		if s.traceBytes.CompareAndSwap(old, max(old-n, 0)) {
			return
		}
	}
}
