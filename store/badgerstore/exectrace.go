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
// their records, and their metadata in the record. The records of slow
// requests that ended in one batch share one snapshot of the flight
// recorder (recording.ExecTrace.Snapshot), which is stored once, under
// t | snapshot ID; each record refers to it with two small keys, u | id ->
// snapshot ID (the record's reference) and u | snapshot ID | id (the
// snapshot's referrer), and the snapshot goes with the last record
// referring to it. A trace stored before snapshots were shared is under
// t | id alone, with no u keys: its record's own. Traces are the first
// thing to go when space is short: Write stores one only while the
// directory is within MaxBytes (admitTrace), and retention deletes the
// oldest past MaxTraceBytes, and all of them, oldest first, before any
// record when the store is over its byte target (trimTraces). The u keys
// count in the traces' size.

var _ store.ExecTraceStore = (*Store)(nil)

// refBytes is what a record's reference to a snapshot stores: its u | id
// key with the snapshot's ID, and the snapshot's u | snapshot | id key.
const refBytes = 1 + 16 + 16 + 1 + 16 + 16

// traceWrite is what Write stores of a record's execution trace: a
// reference to the snapshot sid (keep), and the snapshot's data under
// key when it is not stored yet.
type traceWrite struct {
	keep       bool
	sid        recording.ID
	key, value []byte
}

// traceFor decides what Write stores of r's execution trace: nothing when
// r has none or it is not to be stored (larger than MaxTraceBytes or a
// value-log file, or refused by admitTrace); a reference alone when its
// snapshot is stored already, by this transaction (snaps) or before; else
// the reference and the snapshot's data.
func (s *Store) traceFor(txn *badger.Txn, r *recording.Record, snaps map[recording.ID]bool) (w traceWrite, err error) {
	t := r.ExecTrace
	if t == nil || s.opts.MaxTraceBytes <= 0 {
		return w, nil
	}
	w.sid = t.SnapshotOf(r.ID)
	if snaps[w.sid] {
		w.keep = true
		return w, nil
	}
	switch _, err := txn.Get(traceKey(w.sid)); {
	case err == nil:
		w.keep = true
		return w, nil
	case !errors.Is(err, badger.ErrKeyNotFound):
		return w, err
	}
	if len(t.Data) == 0 {
		return w, nil
	}
	key := traceKey(w.sid)
	n := int64(len(key) + len(t.Data) + 2)
	if n > s.opts.MaxTraceBytes || n >= s.opts.ValueLogFileSize || !s.admitTrace(n+entryOverhead) {
		return w, nil
	}
	w.keep, w.key, w.value = true, key, codec.AppendExecTrace(make([]byte, 0, len(t.Data)+2), t.Data)
	return w, nil
}

// setTrace stores what w says of the record id's trace in txn, and
// returns the entries it set and the bytes they take.
func (s *Store) setTrace(txn *badger.Txn, id recording.ID, w *traceWrite, snaps map[recording.ID]bool) (entries, n int64, err error) {
	if err := txn.Set(traceRefKey(id), bytes.Clone(w.sid[:])); err != nil {
		return 0, 0, err
	}
	if err := txn.Set(referrerKey(w.sid, id), nil); err != nil {
		return 0, 0, err
	}
	entries, n = 2, refBytes
	if w.value != nil {
		if err := txn.Set(w.key, w.value); err != nil {
			return 0, 0, err
		}
		entries++
		n += int64(len(w.key)) + s.reportedValueSize(len(w.key), len(w.value))
	}
	snaps[w.sid] = true
	return entries, n, nil
}

// reportedValueSize is what Badger's Item.ValueSize will report for a
// value of n bytes set under a key of klen bytes, which is what a
// rewrite (takeTrace), retention and the count at Open take from the
// store for it: n for a value in the LSM tree (shorter than
// ValueThreshold); for one in the value log, the length of its entry
// there less the key's, its timestamp, its checksum and 6 bytes taken for
// its header, whose varints make it 4 to 12 (n and 1 more for a value of
// 16 KiB to 2 MiB). Write counts a trace so, so that TraceSize and Size
// stay equal to what the store would count again: counted as len(value),
// a trace of 16 KiB or more took a byte more from TraceSize when it was
// deleted or rewritten than it had added (TestTraceRewriteBeforeCount).
func (s *Store) reportedValueSize(klen, n int) int64 {
	if int64(n) < s.opts.ValueThreshold {
		return int64(n)
	}
	// Meta and user meta, the key's length (with its 8-byte timestamp),
	// the value's, and an expiry of 0 (the store sets none).
	h := 2 + uvarintLen(uint64(klen+8)) + uvarintLen(uint64(n)) + 1
	return int64(h+n) - 6
}

// uvarintLen is the length of x as binary.AppendUvarint writes it.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// referred reports whether a record refers to the snapshot sid in txn,
// but those whose referrer keys are in gone.
func referred(txn *badger.Txn, sid recording.ID, gone map[string]bool) bool {
	prefix := append([]byte{pTraceRef}, sid[:]...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if k := it.Item().Key(); len(k) == 1+2*16 && !gone[string(k)] {
			return true
		}
	}
	return false
}

// snapshotOf returns the snapshot the record id refers to in txn, if it
// refers to one (a trace stored before snapshots were shared has no
// reference).
func snapshotOf(txn *badger.Txn, id recording.ID) (sid recording.ID, ok bool, err error) {
	item, err := txn.Get(traceRefKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return sid, false, nil
	}
	if err != nil {
		return sid, false, err
	}
	err = item.Value(func(v []byte) error {
		if len(v) != len(sid) {
			return fmt.Errorf("execution trace reference of %s: %d bytes: %w", id, len(v), store.ErrCorrupt)
		}
		copy(sid[:], v)
		return nil
	})
	return sid, err == nil, err
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
	var key []byte
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
		key = traceKey(r.ExecTrace.SnapshotOf(id))
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
		var size, snaps int64
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
				n := int64(len(k)) + item.ValueSize()
				keys = append(keys, item.KeyCopy(nil))
				snaps++
				if len(k) == 1+len(recording.ID{}) {
					// The snapshot (or a record's own trace), and
					// the references of the records referring to it.
					sid := recording.ID(k[1:])
					cl.add(sid)
					refs, m, err := referrers(txn, sid)
					if err != nil {
						return err
					}
					for _, id := range refs {
						cl.add(id)
						keys = append(keys, traceRefKey(id), referrerKey(sid, id))
					}
					n += m
				}
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
		res.Traces += snaps
		res.DeletedBytes += size
		return nil
	}
}

// referrers returns the records referring to the snapshot sid in txn, and
// the bytes of their references.
func referrers(txn *badger.Txn, sid recording.ID) (ids []recording.ID, n int64, err error) {
	prefix := append([]byte{pTraceRef}, sid[:]...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if k := it.Item().Key(); len(k) == 1+2*16 {
			ids = append(ids, recording.ID(k[17:]))
			n += refBytes
		}
	}
	return ids, n, nil
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
