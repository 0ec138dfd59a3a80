package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
)

// Write counts records in the rollups and stores them, within the
// storage budget (see [Options.RecordBudget]): every record is counted in
// the rollup deltas, and those over budget are not persisted (they are
// counted in [Store.Health]'s OverBudget). Records are committed in
// transactions of a few hundred, each with the deltas for its records, so a
// crash never leaves records and rollups disagreeing. A record whose ID is
// already stored replaces it (its rollup contribution is counted again;
// in Len and Size it counts once, and a trace it lacks is deleted), unless
// it started later than every record stored.
// The store does not keep recs or anything they point to.
//
// Records the store cannot keep safely are dropped, counted in
// [Store.Health], and not reported as an error (so that the recorder does
// not log every batch): all of them while the disk is full, and those that
// would take the directory past MaxBytes + DiskSlack/2 (see
// [Options.DiskSlack]) or are larger than a value-log file.
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if !s.writable() || s.disk.full.Load() {
		s.drop(recs)
		return nil
	}
	s.ring.newWrite()
	maxSize, maxCount := s.db.MaxBatchSize()/2, s.db.MaxBatchCount()/2
	// Values are encoded into arena chunks: the transaction references
	// them until it commits, so a full chunk is replaced, never grown (a
	// grown slice would copy, and cost more than encoding). Badger has
	// copied the values when Commit returns, so then the chunks go back to
	// a pool.
	var arena []byte
	var used [][]byte
	room := func(need int) {
		if cap(arena)-len(arena) < need {
			if arena != nil {
				used = append(used, arena)
			}
			arena = s.chunk(max(need, 16<<10))
		}
	}
	// Full records are encoded into blk and their summaries into sblk,
	// and each stored a block at a time (see block.go).
	blk, sblk := s.blockBuf(), s.blockBuf()
	defer s.putBlockBuf(blk)
	defer s.putBlockBuf(sblk)
	// recRefs holds the refs of records whose block is closed and whose
	// summary's is not: they go into their summaries' s values.
	var recRefs closedRefs
	// One string table serves the records of the Write.
	var enc codec.Encoder
	defer enc.Release()
	var durs []time.Duration
	var sum recording.Summary // its RPCs' memory serves the call's records
	for len(recs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.maybeRefresh()
		txn := s.db.NewTransaction(true)
		deltas := make(map[int64]*codec.Rollup)
		horizon := time.Now().UnixNano() + int64(futureSkew)
		var size, entries, nrec, stored, traced, counted int64
		recRefs.reset()
		// closeBlock compresses the records (p: pBlock, w: blk) or
		// summaries (pSumBlock, w: sblk) of w into one value and sets it
		// and their refs. A record's ref goes into its summary's s value
		// if its ID holds its start (see appendPair), else into its f
		// key; the block of records is closed first, so that the refs
		// of the summaries' records are known.
		var closeBlock func(w *blockWriter, p byte) error
		closeBlock = func(w *blockWriter, p byte) error {
			if p == pSumBlock {
				if err := closeBlock(blk, pBlock); err != nil {
					return err
				}
			}
			if len(w.refs) == 0 {
				return nil
			}
			bk := blockKey(p, w.last, s.seq.Add(1))
			raw := w.raw[:w.end]
			room(2 + s2.MaxEncodedLen(len(raw)) + len(w.refs)*(25+2*maxRefLen))
			off := len(arena)
			arena = appendBlock(arena, raw)
			bv := arena[off:len(arena):len(arena)]
			if err := txn.Set(bk, bv); err != nil {
				return err
			}
			s.ratioOf(p).Store(int64(len(bv)) * 1000 / int64(len(raw)))
			total := int64(len(bk) + len(bv))
			entries++
			size += int64(len(bk)) + 32
			if int64(len(bv)) < s.opts.ValueThreshold {
				// A small block stays in the tree.
				size += int64(len(bv))
				total = lsmCost(len(bk) + len(bv))
			}
			rf := ref{key: [16]byte(bk[1:])}
			left := total
			for i, pe := range w.refs {
				rf.off, rf.n = pe.off, pe.n
				rf.share = total * int64(pe.n) / int64(len(raw))
				if i == len(w.refs)-1 {
					rf.share = left
				}
				left -= rf.share
				if p == pBlock && pe.start == idTime(pe.id) {
					recRefs.add(closedRef{rf, pe.start, pe.id})
					stored += rf.share
					continue
				}
				// Keys and values go into the arena.
				koff := len(arena)
				if p == pBlock {
					arena = append(append(arena, pRecord), pe.id[:]...)
				} else {
					arena = append(timeKey(append(arena, pSummary), pe.start), pe.id[:]...)
				}
				off := len(arena)
				// A summary's record is in recRefs only if its ID
				// holds its start (and then at that start).
				if p == pSumBlock && pe.start == idTime(pe.id) {
					if rec, ok := recRefs.take(pe.id); ok {
						arena = appendPair(arena, rf, rec.rf)
					} else {
						arena = appendRef(arena, rf)
					}
				} else {
					arena = appendRef(arena, rf)
				}
				if err := txn.Set(arena[koff:off:off], arena[off:len(arena):len(arena)]); err != nil {
					return err
				}
				stored += lsmCost(len(arena)-koff) + rf.share
			}
			w.reset()
			return nil
		}
		i := 0
		var last *codec.Rollup // the delta of the last record counted
		// The budget's lock is held for the batch: one lock per
		// transaction rather than per record.
		s.budget.mu.Lock()
		for ; i < len(recs) && size < maxSize && entries < maxCount; i++ {
			r := recs[i]
			if r == nil {
				continue
			}
			// The summary and durations are read before the next
			// record: one buffer each serves the batch.
			durs = codec.SummaryInto(r, &sum, durs[:0])
			start := r.Start.UnixNano()
			m := floorDiv(start, nsMinute)
			d := deltas[m]
			if d == nil {
				d = codec.NewRollup()
				if s.hasSpan {
					d.Reserve(s.deltaSpan.lo, s.deltaSpan.hi)
				}
				deltas[m] = d
			}
			last = d
			if !s.budget.keep(sum.Route, start, sum.Duration, sum.HasError()) {
				// Over the route's budget: counted, not persisted,
				// kept in memory while the ring has room.
				d.AddCounted(&sum, durs)
				s.ring.add(r)
				counted++
				continue
			}
			// A trace is stored only where it fits well (see
			// admitTrace); otherwise the record goes without it.
			tk, tv := s.traceValue(r)
			if r.ExecTrace != nil && tv == nil {
				c := *r
				c.ExecTrace = nil
				r = &c
			}
			off := len(blk.raw)
			blk.raw = enc.AppendRecord(blk.raw, r)
			n := len(blk.raw) - off
			if m := s2.MaxEncodedLen(n); m < 0 || int64(m) >= s.opts.ValueLogFileSize-64 {
				blk.raw = blk.raw[:off]
				s.dropped.Add(1)
				s.overLog.Warn("badgerstore: record too large, dropped", "id", r.ID.String(), "bytes", n)
				continue
			}
			// On disk, a value in the LSM tree is written twice (the
			// write-ahead log, then a table), a value in the value log
			// once; a record's and a summary's parts of their blocks
			// are estimated from the last blocks' compression.
			// The keys are made in closeBlock (in the arena), and
			// by replaced for a record it looks up.
			const sk, fk = 1 + 8 + 16, 1 + 16 // key lengths
			soff := len(sblk.raw)
			sblk.raw = codec.AppendSummary(sblk.raw, &sum, durs)
			sn := len(sblk.raw) - soff
			lsm := int64(sk+fk+2*maxRefLen) + entryOverhead
			if !s.admit(2*lsm + s.compressed(pBlock, n) + s.compressed(pSumBlock, sn)) {
				blk.raw, sblk.raw = blk.raw[:off], sblk.raw[:soff]
				s.dropped.Add(1)
				continue
			}
			// A large record gets a block of its own, and so does one
			// that starts far in the future (see futureSkew):
			// retention deletes it with its blocks.
			future := start > horizon
			if (n > blockBytes || future) && off > 0 {
				if err := closeBlock(blk, pBlock); err != nil {
					s.budget.mu.Unlock()
					txn.Discard()
					return fmt.Errorf("badgerstore: write: %w", err)
				}
				off = 0
			}
			if (sn > blockBytes || future) && soff > 0 {
				// So does a large summary (closing the block of
				// records first, which takes the record along).
				if len(blk.refs) > 0 {
					off = 0
				}
				if err := closeBlock(sblk, pSumBlock); err != nil {
					s.budget.mu.Unlock()
					txn.Discard()
					return fmt.Errorf("badgerstore: write: %w", err)
				}
				soff = 0
			}
			blk.add(r.ID, off, n, start)
			sblk.add(r.ID, soff, sn, start)
			// A record stored already is replaced: what it counted
			// goes, and so does its trace if the new one has none. No
			// record stored started after the newest start: a record
			// of the service's own, written as it ends, is mostly not
			// looked up.
			if gone, err := s.replaced(txn, blk, sblk, &recRefs, r.ID, start, tv == nil); err != nil {
				s.budget.mu.Unlock()
				txn.Discard()
				return fmt.Errorf("badgerstore: write: %w", err)
			} else if gone.found {
				nrec -= gone.summary
				stored -= gone.bytes
				traced -= gone.trace
				entries += gone.deletes
			}
			entries += 2
			size += int64(sk+fk+2*maxRefLen+sn) + 64
			nrec++
			if tv != nil {
				if err := txn.Set(tk, tv); err != nil {
					s.budget.mu.Unlock()
					txn.Discard()
					return fmt.Errorf("badgerstore: write: %w", err)
				}
				entries++
				size += int64(len(tk)) + 32 // the value goes to the value log
				stored += int64(len(tk) + len(tv))
				traced += int64(len(tk) + len(tv))
			}
			d.Add(&sum, durs)
			for _, b := range []struct {
				w *blockWriter
				p byte
			}{{blk, pBlock}, {sblk, pSumBlock}} {
				if len(b.w.raw) >= blockBytes || future {
					if err := closeBlock(b.w, b.p); err != nil {
						s.budget.mu.Unlock()
						txn.Discard()
						return fmt.Errorf("badgerstore: write: %w", err)
					}
				}
			}
		}
		err := closeBlock(sblk, pSumBlock)
		// Every record's summary has taken its ref; should one not
		// have, the record is still found by its f key.
		for _, rec := range recRefs.left() {
			if err == nil {
				rf := appendRef(nil, rec.rf)
				err = txn.Set(recordKey(rec.id), rf)
				stored += lsmCost(len(rec.id) + 1 + len(rf))
			}
		}
		if err != nil {
			s.budget.mu.Unlock()
			txn.Discard()
			return fmt.Errorf("badgerstore: write: %w", err)
		}
		if last != nil {
			if lo, hi, ok := last.Span(); ok {
				// With a quarter of the width on either side: the next
				// batch's fastest and slowest requests mostly fall a
				// little outside this one's, and a sketch grown past
				// its reserved span copies it.
				m := max(8, (hi-lo)/4)
				s.deltaSpan.lo, s.deltaSpan.hi, s.hasSpan = max(0, lo-m), hi+m, true
			}
		}
		s.budget.mu.Unlock()
		recs = recs[i:]
		keys := make(map[int64][]byte, len(deltas))
		for m, d := range deltas {
			if d.Requests() == 0 { // its records were dropped
				delete(deltas, m)
				continue
			}
			k := binary.BigEndian.AppendUint64(bucketKey(pDelta, m), s.seq.Add(1))
			keys[m] = k
			if err := txn.Set(k, codec.AppendRollup(nil, d)); err != nil {
				txn.Discard()
				return fmt.Errorf("badgerstore: write rollup: %w", err)
			}
		}
		s.pmu.Lock()
		s.syncMu.RLock()
		err = txn.Commit()
		s.syncMu.RUnlock()
		if err == nil {
			for m, d := range deltas {
				s.pending[m] = append(s.pending[m], pendingDelta{key: keys[m], ru: d})
			}
		}
		s.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("badgerstore: write: %w", err)
		}
		for _, c := range append(used, arena) {
			s.putChunk(c)
		}
		used, arena = used[:0], nil
		s.count.Add(nrec)
		s.overBudget.Add(uint64(counted))
		bytes := s.bytes.Add(stored)
		if m := s.opts.MaxBytes; m > 0 && (bytes > m || s.diskNow() > m) {
			s.kickRetention()
		}
		if traced != 0 && s.traceBytes.Add(traced) > s.opts.MaxTraceBytes {
			s.kickRetention()
		}
		if s.npending.Add(int64(len(deltas))) >= foldThreshold {
			select {
			case s.foldNow <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// BorrowsRecords reports true: Write encodes the records it is given and
// keeps none of them, nor any of their slices or maps, once it returns
// (the rollups keep strings alone, and the codec's string tables the
// strings of the last record's calls, with their attributes and stacks'
// frames copied). A recorder whose sinks all borrow
// records reuses their memory (see [recording.Borrower]).
func (s *Store) BorrowsRecords() bool { return true }

var _ recording.Borrower = (*Store)(nil)

// A closedRef is the ref of a record whose block is closed, its start
// and its ID.
type closedRef struct {
	rf    ref
	start int64
	id    recording.ID
}

// closedRefs holds the refs of the records whose block is closed and
// whose summary's is not, in the order Write gave the records to their
// block; each is taken by its summary, given to the summary block in the
// same order, so the one taken is mostly the first one left, found
// without a look-up (where a map cost ~800 instructions a record to
// fill, search and empty). A ref not taken (a record given twice, whose
// earlier version replaced takes) is found by its ID among the others.
type closedRefs struct {
	refs  []closedRef
	taken []bool // refs[i] was taken
	next  int    // every ref before next is taken
}

func (c *closedRefs) add(rec closedRef) {
	c.refs = append(c.refs, rec)
	c.taken = append(c.taken, false)
}

// take returns the ref of the record with ID id and removes it, or
// reports that there is none.
func (c *closedRefs) take(id recording.ID) (closedRef, bool) {
	for i := c.next; i < len(c.refs); i++ {
		if c.taken[i] || c.refs[i].id != id {
			continue
		}
		c.taken[i] = true
		rec := c.refs[i]
		for c.next < len(c.refs) && c.taken[c.next] {
			c.next++
		}
		if c.next == len(c.refs) {
			c.reset()
		}
		return rec, true
	}
	return closedRef{}, false
}

// takePending is take for the record with ID id, whose summary is
// pending in the open summary block if pending is true. A record whose
// summary is not pending has no ref here: closing the summary block
// closes the records' block first, and every summary then takes its
// record's ref (or replaced takes it, for an earlier version whose
// summary it removed), so c is empty once the summary block is closed.
// It reports false at once then, where take would search every ref
// left: a record that started before the newest one stored, and so goes
// through replaced, is mostly new.
func (c *closedRefs) takePending(pending bool, id recording.ID) (closedRef, bool) {
	if !pending {
		return closedRef{}, false
	}
	return c.take(id)
}

// left returns the refs not taken, in the order they were added, and
// empties c.
func (c *closedRefs) left() []closedRef {
	out := c.refs[:0]
	for i := c.next; i < len(c.refs); i++ {
		if !c.taken[i] {
			out = append(out, c.refs[i])
		}
	}
	c.reset()
	return out
}

// reset empties c, keeping its memory.
func (c *closedRefs) reset() {
	c.refs, c.taken, c.next = c.refs[:0], c.taken[:0], 0
}

// entryOverhead is what Badger adds to a record's entries on disk (one or
// two; see appendPair): their versions, headers and checksums.
const entryOverhead = 64

// drop counts records dropped whole.
func (s *Store) drop(recs []*recording.Record) {
	for _, r := range recs {
		if r != nil {
			s.dropped.Add(1)
		}
	}
}

// chunkSize is the size of the chunks Write encodes values into.
const chunkSize = 1 << 20

// chunk returns an empty buffer with room for at least need bytes: the
// spare chunk, else one from the pool, else a new one. A Write takes a
// chunk when it persists a record, some twenty times a second under the
// default budget, while the sink's goroutine moves between Ps: a chunk
// the pool held in another P's own slot, or lost to a collection, was
// made again (1 MiB, ~125 bytes a record in the load test's badger
// scenario), which the spare chunk, taken by any P and kept across
// collections, spares.
func (s *Store) chunk(need int) []byte {
	if need > chunkSize {
		return make([]byte, 0, need)
	}
	if c := s.spareChunk.Swap(nil); c != nil {
		return (*c)[:0]
	}
	if c, ok := s.chunks.Get().(*[]byte); ok {
		return *c
	}
	return make([]byte, 0, chunkSize)
}

// putChunk gives back a buffer chunk returned, once the values encoded in
// it are no longer referenced: as the spare chunk if there is none, else
// to the pool. A larger buffer is dropped.
func (s *Store) putChunk(c []byte) {
	if cap(c) != chunkSize {
		return
	}
	c = c[:0]
	if s.spareChunk.CompareAndSwap(nil, &c) {
		return
	}
	s.chunks.Put(&c)
}

// old is what a record written again took: its summary (1 if found), its
// stored bytes and its trace's, and the keys deleted with it.
type old struct {
	found   bool
	summary int64
	bytes   int64
	trace   int64
	deletes int64
}

// replaced looks for the stored record with ID id, which Write is about
// to replace with a record that started at start, and returns what it
// counted; if drop is set, its trace is deleted, and a summary of the
// stored record at another start is deleted.
// A record whose ID holds its start (as the recorder's do) and that
// started later than the newest start written is taken as new: a record
// written again at the same start cannot be (one moved there from another
// start is not looked for, and is listed at both starts). It raises the
// newest start. Another is looked up where Get finds it (see recordItem;
// a summary and a trace of that ID without it are not looked for): among
// them one moved past every record stored whose ID holds another time,
// which taken as new would leave its earlier version where Get looks
// first. The record given last to blk, and its summary given last to
// sblk, are the new ones: an earlier one of the same ID in blk or sblk, or
// in recRefs, not yet in txn, is taken out of it.
func (s *Store) replaced(txn *badger.Txn, blk, sblk *blockWriter, recRefs *closedRefs, id recording.ID, start int64, drop bool) (old, error) {
	var o old
	for {
		n := s.newest.Load()
		if start <= n {
			break
		}
		if s.newest.CompareAndSwap(n, start) {
			if start == idTime(id) {
				return o, nil
			}
			break
		}
	}
	sk := summaryKey(start, id)
	// The stored record's summary key: sk, or, if it started at another
	// time, the key of that start, found in the record.
	osk := sk
	sameID := func(p pending) bool { return p.id == id }
	pendingSum := false
	if i := slices.IndexFunc(sblk.refs[:len(sblk.refs)-1], sameID); i >= 0 {
		// Its summary's ref, not yet counted, is not written either;
		// a summary stored under its key was counted as replaced
		// when it was given.
		sblk.refs = slices.Delete(sblk.refs, i, i+1)
		o.summary, pendingSum = 1, true
	}
	if i := slices.IndexFunc(blk.refs[:len(blk.refs)-1], sameID); i >= 0 {
		// Its ref, not yet counted, is not written; its bytes stay in
		// the block, whose stored size the other refs share.
		prev := blk.refs[i].start
		osk = summaryKey(prev, id)
		blk.refs = slices.Delete(blk.refs, i, i+1)
		o.found = true
		if start == idTime(id) && prev != start {
			// It would have replaced an f entry (stored, or set in
			// txn), whose size it counted as replaced: the new ref
			// goes with its summary, and that entry goes.
			if _, err := txn.Get(recordKey(id)); err == nil {
				if err := txn.Delete(recordKey(id)); err != nil {
					return o, err
				}
				o.deletes++
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return o, err
			}
		}
	} else if rec, ok := recRefs.takePending(pendingSum, id); ok {
		// Its block is closed, and its ref, counted, waits for its
		// summary's: it is not written.
		osk = summaryKey(rec.start, id)
		o.found = true
		o.bytes = rec.rf.share
	} else {
		fi, err := recordItem(txn, id)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		o.found = true
		if fi.Key()[0] != pRecord {
			// A pair of refs: the summary is there too.
			osk = fi.KeyCopy(nil)
		} else {
			o.bytes = recordSize(fi)
			if start == idTime(id) {
				// The new record's ref goes with its summary.
				if err := txn.Delete(recordKey(id)); err != nil {
					return o, err
				}
				o.deletes++
			}
			if _, err := txn.Get(sk); errors.Is(err, badger.ErrKeyNotFound) {
				// Moved: its start is read from it (a damaged
				// one keeps its summary, which retention
				// deletes with it).
				if r, _, err := s.readRecord(txn, fi); err == nil {
					osk = summaryKey(r.Start.UnixNano(), id)
				}
			}
		}
	}
	if si, err := txn.Get(osk); err == nil {
		if !pendingSum {
			o.summary = 1
			o.bytes += summarySize(si)
		}
		if !bytes.Equal(osk, sk) {
			if err := txn.Delete(osk); err != nil {
				return o, err
			}
			o.deletes++
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return o, err
	}
	tk := traceKey(id)
	if ti, err := txn.Get(tk); err == nil {
		n := int64(len(tk)) + valueLen(ti)
		o.bytes += n
		o.trace = n
		if drop {
			if err := txn.Delete(tk); err != nil {
				return o, err
			}
			o.deletes++
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return o, err
	}
	return o, nil
}
