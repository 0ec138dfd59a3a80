package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// RetentionResult says what one [Store.EnforceRetention] pass did.
type RetentionResult struct {
	Deleted      int64 // records deleted
	Traces       int64 // execution traces deleted, with their records or alone
	DeletedBytes int64 // their stored size
	Rollups      int64 // rollup entries deleted
	GCRewrites   int   // value-log files rewritten by garbage collection
}

// EnforceRetention applies MaxAge, MaxRecords and MaxBytes now: it deletes
// the oldest records until all three hold, deletes rollups older than the
// oldest record kept (and older than MaxAge), and runs Badger's value-log
// garbage collection until it has nothing left to rewrite, so disk use
// shrinks. When it deleted much (an eighth of what remains, or 64 MiB), it
// first flushes and compacts the LSM tree so the garbage collector sees the
// deleted space; writers and readers wait for the flush of the memtables
// (a few MiB: well under a second), not for the compaction. The
// background loop calls it every RetentionInterval. Once the store is
// closed it returns [store.ErrClosed]; while nothing may be written (the
// disk full, or writes stopped after a failed write: see [Store.Health])
// it does nothing and returns nil.
func (s *Store) EnforceRetention(ctx context.Context) error {
	_, err := s.Retain(ctx)
	return err
}

// Retain is [Store.EnforceRetention] reporting what it did.
func (s *Store) Retain(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	if s.opts.ReadOnly {
		return res, ErrReadOnly
	}
	// Closed first: a caller's loop waits for ErrClosed.
	if err := s.rlock(); err != nil {
		return res, err
	}
	s.mu.RUnlock()
	if !s.writable() {
		// Opened on a full disk, or writes stopped after a failed
		// write: nothing may be written.
		return res, nil
	}
	s.measure()
	if !s.hasRoom(0) {
		// Even deleting writes to the logs, and starts flushes.
		return res, nil
	}
	// Limits hold to the records that can be read.
	if err := s.recount(); err != nil {
		return res, err
	}
	if err := s.trim(ctx, &res); err != nil {
		return res, err
	}
	g := s.garbage.Add(res.DeletedBytes)
	big := g >= min(s.opts.ValueLogFileSize, 64<<20) || g >= s.bytes.Load()/8 ||
		s.opts.MaxBytes > 0 && s.diskNow() > s.opts.MaxBytes
	// Compacting rewrites the LSM tree's tables before deleting the old
	// ones: it needs that much room, on the disk and within MaxBytes plus
	// DiskSlack (records in blocks take little of the value log, so the
	// tree can be most of the directory; Badger's own compactions, a few
	// tables at a time, then drop the deleted keys).
	if g > 0 && big {
		s.measure()
	}
	lsm := s.disk.lsm.Load()
	if g > 0 && big && s.hasRoom(lsm) && (s.limit == 0 || s.diskNow()+lsm <= s.opts.MaxBytes+s.slack) {
		// Flush memtables and compact, so that the deletions reach the
		// levels where the value log's discard statistics are kept.
		if err := s.compact(); err != nil {
			return res, err
		}
		s.garbage.Store(0)
	}
	if err := s.rlock(); err != nil {
		return res, err
	}
	defer s.mu.RUnlock()
	// Garbage collection copies a file's live entries before deleting it.
	for ctx.Err() == nil && s.hasRoom(s.opts.ValueLogFileSize) {
		s.syncMu.Lock() // exclusive: see syncMu
		err := s.gated(func() error { return s.db.RunValueLogGC(0.5) })
		s.syncMu.Unlock()
		if err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				return res, fmt.Errorf("badgerstore: value-log gc: %w", err)
			}
			break
		}
		res.GCRewrites++
	}
	return res, ctx.Err()
}

// trim folds deltas, then deletes records and rollups past the limits.
func (s *Store) trim(ctx context.Context, res *RetentionResult) error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	if err := s.foldLocked(); err != nil {
		return err
	}
	ageCutoff := int64(-1 << 63)
	if s.opts.MaxAge > 0 {
		ageCutoff = s.now().UnixNano() - int64(s.opts.MaxAge)
	}
	// The byte target is set before anything is deleted: deleting frees
	// no disk space until compaction and garbage collection, and the
	// target follows the disk's use.
	target := s.byteTarget()
	// Traces go first, past their own cap and when space is short.
	if err := s.trimTraces(ctx, target, res); err != nil {
		return err
	}
	// Delete the oldest records while any limit is exceeded.
	keepFrom, err := s.trimRecords(ctx, ageCutoff, target, res)
	if err != nil {
		return err
	}
	// Rollups of minutes before keepFrom (and before the age cutoff) go too.
	if cutoff := max(ageCutoff, keepFrom); cutoff > int64(-1<<63) {
		n, err := s.trimRollups(floorDiv(cutoff, nsMinute))
		res.Rollups = n
		if err != nil {
			return err
		}
	}
	return nil
}

// trimRecords deletes records, oldest first, while they started before
// ageCutoff or the store holds more than MaxRecords or maxBytes (the byte
// target of MaxBytes; 0: none). It returns
// the start time of the oldest record kept (or, when none is kept, just
// after the newest deleted; or the minimum time when nothing was deleted).
func (s *Store) trimRecords(ctx context.Context, ageCutoff, maxBytes int64, res *RetentionResult) (int64, error) {
	keepFrom := int64(-1 << 63)
	over := func() bool {
		return s.opts.MaxRecords > 0 && s.count.Load() > s.opts.MaxRecords ||
			maxBytes > 0 && s.bytes.Load() > maxBytes
	}
	if over() {
		// Records from the future go first (see futureSkew).
		if err := s.trimFuture(ctx, maxBytes, res); err != nil {
			return keepFrom, err
		}
	}
	const chunk = 1000
	for {
		if err := ctx.Err(); err != nil {
			return keepFrom, err
		}
		var keys [][]byte              // keys to delete
		marks := make(map[string]bool) // keys to make gone markers
		var size, nrec int64
		tr := traceTally{stored: &s.traceBytes} // traces deleted with their records
		done := false
		cl := s.beginClaims() // the records deleted (see claims)
		tr.cl = cl
		claimBlock := func(b *idxBlock) {
			for i := range b.ents {
				cl.add(b.ents[i].id())
			}
		}
		err := s.db.View(func(txn *badger.Txn) error {
			it := s.newEntIter(txn, false, s.badIndex)
			defer it.close()
			count, bytes := s.count.Load(), s.bytes.Load()
			// Index blocks deleted in this pass: their entries
			// further on are skipped. Of those seen, the state of
			// their entries (see liveEntries).
			gone := make(map[string]bool)
			seen := make(map[string][]entryState)
			decided := make(map[string]bool) // whether to go whole
			states := func(b *idxBlock) []entryState {
				st, ok := seen[string(b.key)]
				if !ok {
					st = s.liveEntries(txn, b)
					seen[string(b.key)] = st
				}
				return st
			}
			// dropIndex deletes the index block b, with its records
			// that no s entry shadows, their traces, and the gone
			// markers that hide its others.
			dropIndex := func(b *idxBlock) {
				gone[string(b.key)] = true
				keys = append(keys, b.key)
				for i, st := range states(b) {
					if st != entryLive {
						// A marker (set before, or to be set by
						// this pass) goes; a record's s entry
						// stays.
						mk := append([]byte{pSummary}, b.ents[i].key[:]...)
						if st == entryMarked || marks[string(mk)] {
							delete(marks, string(mk))
							keys = append(keys, mk)
							bytes -= markCost
							size += markCost
						}
						continue
					}
					sz := b.size(i)
					sz += tr.add(txn, b.ents[i].id(), &keys)
					nrec++
					count--
					bytes -= sz
					size += sz
				}
			}
			// indexedUnder reports whether a live index entry lies
			// under the s key k (see entIter).
			// (or, with dropped set, one in a block deleted in this
			// pass, which deletes the markers of its entries).
			indexedUnder := func(k []byte) (b *idxBlock, dropped bool) {
				id := recording.ID(k[8:24])
				if keyTime(k[:8]) != idTime(id) {
					return nil, false
				}
				b, _, err := s.findIndexed(txn, id, nil)
				if err != nil {
					return nil, false
				}
				if gone[string(b.key)] {
					return nil, true
				}
				return b, false
			}
			for it.seek(nil); ; it.next() {
				if !it.valid() {
					done = true
					keys = s.oldBlocks(txn, keys, math.MaxInt64)
					return nil
				}
				k := it.key()
				item := it.item()
				if item != nil && len(k) != 24 {
					keys = append(keys, item.KeyCopy(nil))
					continue
				}
				if item != nil {
					marker := false
					item.Value(func(v []byte) error { marker = isGone(v); return nil })
					if marker {
						// A gone marker goes once no index entry
						// lies under it.
						b, dropped := indexedUnder(k)
						if dropped {
							continue
						}
						if b == nil {
							cl.add(recording.ID(k[8:24]))
							keys = append(keys, item.KeyCopy(nil))
							bytes -= markCost
							size += markCost
						} else if !slices.Contains(states(b), entryLive) {
							// A block whose records are all
							// gone goes, with its markers.
							claimBlock(b)
							dropIndex(b)
						}
						continue
					}
				}
				var blk *idxBlock
				var ei int
				if item == nil {
					blk, ei = it.entry()
					if gone[string(blk.key)] {
						continue
					}
				}
				start := keyTime(k[:8])
				tooOld := start < ageCutoff
				tooMany := s.opts.MaxRecords > 0 && count > s.opts.MaxRecords
				tooBig := maxBytes > 0 && bytes > maxBytes
				if !tooOld && !tooMany && !tooBig {
					keepFrom = start
					done = true
					keys = s.oldBlocks(txn, keys, start)
					return nil
				}
				if len(keys)+len(marks) >= 2*chunk {
					keys = s.oldBlocks(txn, keys, start)
					return nil
				}
				if blk != nil {
					st := states(blk)
					if !decided[string(blk.key)] {
						decided[string(blk.key)] = true
						// An index block goes whole if all its
						// records are to go: too old, or not
						// more than MaxRecords and MaxBytes
						// ask for, no other record lying
						// among them (see overlapped).
						var n, sz int64
						for i, e := range st {
							if e == entryLive {
								n++
								sz += blk.size(i)
							}
						}
						if blk.last < ageCutoff ||
							!tooOld && (s.opts.MaxRecords <= 0 || count-n >= s.opts.MaxRecords) && (maxBytes <= 0 || bytes-sz >= maxBytes) && !s.overlapped(txn, blk) {
							claimBlock(blk)
							dropIndex(blk)
							keepFrom = start + 1
							continue
						}
					}
					// The boundary's records go one by one, each
					// hidden by a gone marker until the block
					// goes.
					cl.add(blk.ents[ei].id())
					marks[string(append([]byte{pSummary}, k...))] = true
					st[ei] = entryMarked
					sz := blk.size(ei) - markCost
					sz += tr.add(txn, blk.ents[ei].id(), &keys)
					nrec++
					count--
					bytes -= sz
					size += sz
					keepFrom = start + 1
					continue
				}
				id := recording.ID(k[8:24])
				cl.add(id)
				sz := summarySize(item)
				b, _ := indexedUnder(k)
				if b != nil && !slices.Contains(states(b), entryLive) {
					// A block whose records are all gone goes.
					claimBlock(b)
					dropIndex(b)
					b = nil
				}
				if b != nil {
					// An index entry under it would show: a
					// gone marker replaces it.
					marks[string(item.Key())] = true
					sz -= markCost
				} else {
					keys = append(keys, item.KeyCopy(nil))
				}
				pair := false
				item.Value(func(v []byte) error { pair = isPair(v); return nil })
				// A record's ref is in its f entry, or with its
				// summary's (see appendPair): then an f entry of its
				// ID is another version's, written later than every
				// record stored (see replaced), and stays.
				rk := recordKey(id)
				if ri, err := txn.Get(rk); err == nil && !pair {
					sz += recordSize(ri)
					keys = append(keys, rk)
				}
				sz += tr.add(txn, id, &keys) // the record's trace goes with it
				nrec++
				count--
				bytes -= sz
				size += sz
				keepFrom = start + 1
			}
		})
		if err != nil {
			cl.drop()
			return keepFrom, fmt.Errorf("badgerstore: retention: %w", err)
		}
		if s.trimHook != nil {
			s.trimHook("read")
		}
		if !cl.take() {
			// A Write stores one of them in a batch this pass did
			// not see: once it has, the pass reads again.
			if err := cl.wait(ctx); err != nil {
				return keepFrom, err
			}
			continue
		}
		if s.trimHook != nil {
			s.trimHook("claimed")
		}
		if len(keys) > 0 || len(marks) > 0 {
			var set [][]byte
			for k := range marks {
				set = append(set, []byte(k))
			}
			if err := s.writeKeys(keys, set); err != nil {
				cl.drop()
				return keepFrom, fmt.Errorf("badgerstore: retention: %w", err)
			}
			s.count.Add(-nrec)
			s.bytes.Add(-size)
			s.subTraceBytes(tr.bytes)
			res.Deleted += nrec
			res.Traces += tr.n
			res.DeletedBytes += size
		}
		cl.drop()
		if done || len(keys)+len(marks) == 0 || !over() && keepFrom > ageCutoff {
			return keepFrom, nil
		}
	}
}

// futureSkew is how far after now a record may start and be taken as
// started then: one that starts later was written under a wrong clock (or
// the clock is wrong now). Its age is not known, so MaxAge keeps it until
// the clock reaches its start; MaxBytes and MaxRecords delete it before
// any other (see trimFuture), and Write gives it blocks of its own, which
// go with it.
const futureSkew = 24 * time.Hour

// trimFuture deletes the records that start more than futureSkew after
// now, earliest first, while the store holds more than MaxRecords or
// maxBytes (0: none), with the blocks that hold them alone.
func (s *Store) trimFuture(ctx context.Context, maxBytes int64, res *RetentionResult) error {
	from := summaryKey(time.Now().UnixNano()+int64(futureSkew), recording.ID{})
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var keys [][]byte
		var size, nrec int64
		cl := s.beginClaims()    // the records deleted (see claims)
		tr := traceTally{cl: cl} // traces deleted with their records
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}})
			defer it.Close()
			count, bytes := s.count.Load(), s.bytes.Load()
			for it.Seek(from); it.Valid() && nrec < 1000; it.Next() {
				if !(s.opts.MaxRecords > 0 && count > s.opts.MaxRecords || maxBytes > 0 && bytes > maxBytes) {
					break
				}
				item := it.Item()
				k := item.Key()
				if len(k) != 25 {
					continue
				}
				marker := false
				item.Value(func(v []byte) error { marker = isGone(v); return nil })
				if marker {
					// A gone marker, not a record: left at the
					// ID's time by a record from the future
					// written again at another start (see
					// replaced), which its f entry now serves.
					continue
				}
				id := recording.ID(k[9:25])
				cl.add(id)
				keys = append(keys, item.KeyCopy(nil))
				sz := summarySize(item)
				type blockRef struct {
					p  byte
					rf ref
				}
				var blocks []blockRef // the summary's block, and the record's
				pair := false
				item.Value(func(v []byte) error {
					if sr, rr, err := decodePair(v); err == nil {
						pair = true
						blocks = append(blocks, blockRef{pSumBlock, sr}, blockRef{pBlock, rr})
					} else if rf, err := decodeRef(v); err == nil {
						blocks = append(blocks, blockRef{pSumBlock, rf})
					}
					return nil
				})
				if ri, err := txn.Get(recordKey(id)); err == nil && !pair {
					// As in trimRecords: an f entry beside a pair is
					// another version's, which stays.
					sz += recordSize(ri)
					keys = append(keys, recordKey(id))
					ri.Value(func(v []byte) error {
						if rf, err := decodeRef(v); err == nil {
							blocks = append(blocks, blockRef{pBlock, rf})
						}
						return nil
					})
				}
				for _, b := range blocks {
					if bk := s.soleBlock(txn, b.p, b.rf); bk != nil {
						keys = append(keys, bk)
					}
				}
				sz += tr.add(txn, id, &keys)
				nrec++
				count--
				bytes -= sz
				size += sz
			}
			return nil
		})
		if err != nil {
			cl.drop()
			return fmt.Errorf("badgerstore: retention: %w", err)
		}
		if nrec == 0 {
			cl.drop()
			return nil
		}
		if !cl.take() {
			if err := cl.wait(ctx); err != nil {
				return err
			}
			continue
		}
		err = s.deleteKeys(keys)
		cl.drop()
		if err != nil {
			return fmt.Errorf("badgerstore: retention: %w", err)
		}
		s.count.Add(-nrec)
		s.bytes.Add(-size)
		s.subTraceBytes(tr.bytes)
		res.Deleted += nrec
		res.Traces += tr.n
		res.DeletedBytes += size
	}
}

// soleBlock returns the key of the block (prefix p) that rf points into if
// rf's record or summary is all the block holds, as Write stores one that
// starts far in the future (its share is then the block's whole stored
// size, as closeBlock counts it); else nil.
func (s *Store) soleBlock(txn *badger.Txn, p byte, rf ref) []byte {
	if rf.off != 0 {
		return nil
	}
	bk := append([]byte{p}, rf.key[:]...)
	bi, err := txn.Get(bk)
	if err != nil {
		return nil
	}
	n := valueLen(bi)
	total := int64(len(bk)) + n
	if n < s.opts.ValueThreshold {
		total = lsmCost(len(bk) + int(n))
	}
	if rf.share != total {
		return nil
	}
	return bk
}

// byteTarget is the stored size of the records retention keeps, when
// MaxBytes is set: MaxBytes, less what the directory holds beyond MaxBytes
// besides records and the garbage already deleted (Badger's own files),
// and less what the directory and what Badger may write on its own are
// beyond MaxBytes + DiskSlack/2 (see overTarget), down to half of MaxBytes
// at most, so that the directory itself stays within MaxBytes and Write
// (which drops records past MaxBytes + DiskSlack with that room) keeps
// writing. Past it, records go down an extra sixteenth of MaxBytes,
// so that passes started by writes free space in steps (a value-log file,
// with the default file size), not a record at a time.
func (s *Store) byteTarget() int64 {
	limit := s.opts.MaxBytes
	if limit <= 0 {
		return limit
	}
	bytes := s.bytes.Load()
	target := limit
	if over := s.diskNow() - s.garbage.Load() - limit; over > 0 {
		target = min(target, bytes-over)
	}
	if over := s.overTarget(); over > 0 {
		// Deleting a record frees its value-log bytes, or its tree
		// bytes twice over (from the directory and from badgerPending):
		// either way about its Size.
		target = min(target, bytes-over)
	}
	if bytes > target {
		target -= limit / 16
	}
	return max(target, limit/2)
}

// overTarget is how far the directory (less the garbage already deleted)
// and what Badger may write on its own (see badgerPending) are beyond MaxBytes +
// DiskSlack/2: retention deletes records to bring it to zero, so that
// Write, which drops records past MaxBytes + DiskSlack, has half the
// slack to fill. Zero or less when within, or without MaxBytes.
func (s *Store) overTarget() int64 {
	if s.limit == 0 {
		return 0
	}
	return s.diskNow() - s.garbage.Load() + s.badgerPending() - s.opts.MaxBytes - s.slack/2
}

// trimRollups deletes minute rollups and deltas before minute m, and hour
// rollups that end at or before it.
func (s *Store) trimRollups(m int64) (int64, error) {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		for _, b := range []struct {
			p   byte
			end int64
		}{{pMinute, m}, {pHour, floorDiv(m, 60)}} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{b.p}})
			end := bucketKey(b.p, b.end)
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().Key()
				if string(k) >= string(end) {
					break
				}
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Pending deltas of those minutes (written since the fold that
	// preceded this pass) go too.
	s.pmu.Lock()
	for pm, ds := range s.pending {
		if pm < m {
			for _, d := range ds {
				keys = append(keys, d.key)
			}
			s.npending.Add(-int64(len(ds)))
			delete(s.pending, pm)
		}
	}
	// Lost minutes trimmed leave nothing to count again.
	maps.DeleteFunc(s.lost, func(lm int64, _ bool) bool { return lm < m })
	s.trimmed = max(s.trimmed, m)
	s.pmu.Unlock()
	if len(keys) == 0 {
		return 0, nil
	}
	if err := s.deleteKeys(keys); err != nil {
		return 0, fmt.Errorf("badgerstore: retention: %w", err)
	}
	return int64(len(keys)), nil
}

// compact flushes the memtables (Badger flushes them when dropping a
// prefix, so a scratch key is written and dropped; writers wait for this)
// and compacts the LSM tree into one level (concurrently with reads and
// writes), dropping the deleted versions and updating the value log's
// discard statistics.
func (s *Store) compact() error {
	if err := s.flushMemtables(); err != nil {
		return err
	}
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.db.Flatten(s.opts.NumCompactors); err != nil {
		return fmt.Errorf("badgerstore: compact: %w", err)
	}
	return nil
}

func (s *Store) flushMemtables() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set([]byte{pMarker}, []byte{1}) }); err != nil {
		return fmt.Errorf("badgerstore: compact: %w", err)
	}
	if err := s.gated(func() error { return s.db.DropPrefix([]byte{pMarker}) }); err != nil {
		return fmt.Errorf("badgerstore: compact: %w", err)
	}
	return nil
}

// minRetentionGap is the least time between the end of a retention pass
// and the start of one asked for by Write.
const minRetentionGap = 200 * time.Millisecond

// maxRetentionBackoff bounds how long the passes asked for by writes and
// the disk loop wait after a pass that could not help (see
// retentionBackoff).
const maxRetentionBackoff = time.Minute

// retentionBackoff is what the retention loop keeps of its last pass if
// that pass deleted and rewrote nothing: the directory can then stay over
// its target (an LSM tree of tables that are not records, a MaxBytes made
// smaller) until Badger's own compactions shrink it, and the passes that
// writes and the disk loop keep asking for would be as futile. They are
// skipped until the tree has changed, or a pass could delete records for
// MaxBytes or MaxRecords, or wait has passed since that pass; wait doubles
// with every futile pass, from diskInterval up to maxRetentionBackoff.
// Passes every RetentionInterval run regardless.
type retentionBackoff struct {
	futile bool
	at     time.Time     // when the futile pass ended
	wait   time.Duration // how long after it asked-for passes are skipped
	lsm    int64         // the tree's size as measured then
}

// done records the result of a pass that ended at now.
func (b *retentionBackoff) done(s *Store, res RetentionResult, now time.Time) {
	if res.Deleted > 0 || res.Traces > 0 || res.Rollups > 0 || res.GCRewrites > 0 {
		*b = retentionBackoff{}
		return
	}
	b.wait = min(max(2*b.wait, diskInterval), maxRetentionBackoff)
	b.futile, b.at, b.lsm = true, now, s.disk.lsm.Load()
}

// skip reports whether a pass asked for at now would repeat the last,
// futile one.
func (b *retentionBackoff) skip(s *Store, now time.Time) bool {
	return b.futile && now.Sub(b.at) < b.wait && s.disk.lsm.Load() == b.lsm && !s.couldTrim()
}

// couldTrim reports whether a retention pass would delete records for
// MaxRecords or MaxBytes (see trimRecords).
func (s *Store) couldTrim() bool {
	return s.opts.MaxRecords > 0 && s.count.Load() > s.opts.MaxRecords ||
		s.opts.MaxBytes > 0 && s.bytes.Load() > s.byteTarget()
}

// retentionLoop calls EnforceRetention every RetentionInterval, and when
// Write finds the store over MaxBytes, until Close, which cancels a pass
// under way.
func (s *Store) retentionLoop() {
	defer s.wg.Done()
	if s.opts.RetentionInterval < 0 {
		return
	}
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	var last time.Time
	var backoff retentionBackoff
	for {
		var now time.Time
		select {
		case <-s.stop:
			return
		case <-t.C:
			now = s.now()
		case <-s.retainNow:
			now = s.now()
			if backoff.skip(s, now) {
				if s.opts.retained != nil {
					s.opts.retained(now, false, s.passes.Load())
				}
				continue
			}
			// Writes ask for passes as long as the store is over
			// MaxBytes: one every minRetentionGap at most.
			select {
			case <-s.stop:
				return
			case <-s.after(last.Add(minRetentionGap).Sub(now)):
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		res, err := s.Retain(ctx)
		if err != nil && !errors.Is(err, store.ErrClosed) && !errors.Is(err, context.Canceled) {
			s.log.Warn("badgerstore: retention", "err", err)
		}
		cancel()
		last = s.now()
		n := s.passes.Add(1)
		backoff.done(s, res, last)
		if s.opts.retained != nil {
			s.opts.retained(now, true, n)
		}
	}
}

// now is the time retention goes by: time.Now, or a test's clock.
func (s *Store) now() time.Time {
	if s.opts.now != nil {
		return s.opts.now()
	}
	return time.Now()
}

// after is time.After, or a test's wait for the gap between passes.
func (s *Store) after(d time.Duration) <-chan time.Time {
	if s.opts.after != nil {
		return s.opts.after(d)
	}
	return time.After(d)
}

// oldBlocks appends to keys those of the blocks (of records and of
// summaries) whose records all started before the summary at start, the
// first retention keeps: every record before it is deleted with keys, and
// their blocks can go with them.
func (s *Store) oldBlocks(txn *badger.Txn, keys [][]byte, start int64) [][]byte {
	for _, p := range []byte{pBlock, pSumBlock} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != 17 || keyTime(k[1:9]) >= start {
				break
			}
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
	}
	// Index blocks whose records are all before start (their keys lead
	// with their last start): deleted in this pass (again), or all
	// shadowed by s entries (see entIter), which counted nothing of them.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}})
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != idxKeyLen || keyTime(k[1:9]) >= start {
			break
		}
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	return keys
}

// traceTally counts the execution traces a retention pass deletes with
// their records: a record's references to its snapshot, and the snapshot
// once no record kept refers to it. With stored set, it looks for a
// record's trace only while the store holds traces.
type traceTally struct {
	stored   *atomic.Int64 // the store's traceBytes, or nil: always look
	cl       *claims       // the pass's claims: a snapshot deleted is taken
	n, bytes int64
	gone     map[string]bool // referrer keys deleted in the pass
}

// add appends to *keys the keys of the trace of the record id, if it has
// one, and counts them; it returns the bytes they take.
func (t *traceTally) add(txn *badger.Txn, id [16]byte, keys *[][]byte) int64 {
	if t.stored != nil && t.stored.Load() <= 0 {
		return 0
	}
	sid, ok, err := snapshotOf(txn, id)
	if err != nil {
		return 0
	}
	if !ok {
		// A trace of its record's own, stored before snapshots were
		// shared.
		return t.snapshot(txn, id, keys)
	}
	rk := referrerKey(sid, id)
	*keys = append(*keys, traceRefKey(id), rk)
	if t.gone == nil {
		t.gone = make(map[string]bool)
	}
	t.gone[string(rk)] = true
	t.bytes += refBytes
	n := int64(refBytes)
	if !referred(txn, sid, t.gone) {
		n += t.snapshot(txn, sid, keys)
		if t.cl != nil {
			// A Write referring to it in a batch the pass does
			// not see makes the pass read again.
			t.cl.add(sid)
		}
	}
	return n
}

// snapshot appends the key of the trace data sid to *keys, if it is
// stored, and counts it.
func (t *traceTally) snapshot(txn *badger.Txn, sid recording.ID, keys *[][]byte) int64 {
	key := traceKey(sid)
	ti, err := txn.Get(key)
	if err != nil {
		return 0
	}
	n := int64(len(key)) + ti.ValueSize()
	t.n++
	t.bytes += n
	*keys = append(*keys, key)
	return n
}

// overlapped reports whether a record not in b may lie among b's entries
// in (start, ID) order: an s entry within b's starts (a gone marker
// aside), or another index block of b's second whose starts meet b's.
// Retention then deletes b's records one by one, oldest first, rather
// than b whole: deleting b whole could delete a record newer than one
// kept.
func (s *Store) overlapped(txn *badger.Txn, b *idxBlock) bool {
	hi := append([]byte{pSummary}, lastBound(b.last)...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}})
	for it.Seek(timeKey([]byte{pSummary}, b.first)); it.Valid(); it.Next() {
		if bytes.Compare(it.Item().Key(), hi) > 0 {
			break
		}
		marker := false
		it.Item().Value(func(v []byte) error { marker = isGone(v); return nil })
		if !marker {
			it.Close()
			return true
		}
	}
	it.Close()
	ii := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}, PrefetchValues: false})
	defer ii.Close()
	end := secondEnd(floorDiv(b.first, nsSecond))
	for ii.Seek(timeKey([]byte{pIndex}, b.first)); ii.Valid(); ii.Next() {
		k := ii.Item().Key()
		if bytes.Compare(k, end) >= 0 {
			break
		}
		if len(k) == idxKeyLen && !bytes.Equal(k, b.key) && keyTime(k[9:17]) <= b.last {
			return true
		}
	}
	return false
}
