package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
// it started later than every record stored. Writes may run at once: a
// record that another Write is storing, in a transaction not committed
// when this Write's began, is taken up once that one has committed (see
// flights), so that a record given to two Writes at once is stored once;
// so is one that a retention pass is deleting (see claims).
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
		s.drop(recs) // the disk full, or writing failed (see gated)
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
	// Full records are encoded into blk, a block at a time (see
	// block.go), and the summaries of those whose ID holds their start
	// into index blocks, one open per second (see index.go); the others
	// (IDs made elsewhere, records given again, records from the
	// future) keep an s entry holding their summary and an f entry.
	blk := s.blockBuf()
	defer s.putBlockBuf(blk)
	ix := s.idxStateBuf()
	defer s.putIdxState(ix)
	// One string table serves the records of the Write.
	var enc codec.Encoder
	defer enc.Release()
	var durs []time.Duration
	var sumBuf []byte
	var sum recording.Summary // its RPCs' memory serves the call's records
	for len(recs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.maybeRefresh()
		f := s.flights.begin()
		var wait *flight // a batch storing a record of recs[i], unseen by txn
		txn := s.db.NewTransaction(true)
		deltas := make(map[int64]*codec.Rollup)
		var snaps map[recording.ID]bool // the snapshots txn stores (see traceFor)
		horizon := time.Now().UnixNano() + int64(futureSkew)
		var size, entries, nrec, stored, traced, counted int64
		ix.slots = ix.slots[:0]
		// closeRec compresses the records of blk into one value and
		// sets it; a record's ref goes into its slot, for its index
		// entry, or else into its f key.
		closeRec := func() error {
			if len(blk.refs) == 0 {
				return nil
			}
			bk := blockKey(pBlock, blk.last, s.seq.Add(1))
			raw := blk.raw[:blk.end]
			room(2 + s2.MaxEncodedLen(len(raw)) + len(blk.refs)*(1+16+maxRefLen))
			off := len(arena)
			arena = appendBlock(arena, raw)
			bv := arena[off:len(arena):len(arena)]
			if err := txn.Set(bk, bv); err != nil {
				return err
			}
			s.ratio.Store(int64(len(bv)) * 1000 / int64(len(raw)))
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
			for i, pe := range blk.refs {
				rf.off, rf.n = pe.off, pe.n
				rf.share = total * int64(pe.n) / int64(len(raw))
				if i == len(blk.refs)-1 {
					rf.share = left
				}
				left -= rf.share
				stored += rf.share
				if pe.slot >= 0 {
					ix.slots[pe.slot] = rf
					continue
				}
				koff := len(arena)
				arena = append(append(arena, pRecord), pe.id[:]...)
				voff := len(arena)
				arena = appendRef(arena, rf)
				if err := txn.Set(arena[koff:voff:voff], arena[voff:len(arena):len(arena)]); err != nil {
					return err
				}
				stored += lsmCost(len(arena) - koff)
			}
			blk.reset()
			return nil
		}
		// closeIdx closes the records' block, so that every record's
		// ref is known, and stores w's index block.
		closeIdx := func(w *idxWriter) error {
			if err := closeRec(); err != nil {
				return err
			}
			if len(w.ents) == 0 {
				ix.drop(w)
				return nil
			}
			room(idxKeyLen + 32 + len(w.ents)*(8+6*binary.MaxVarintLen64+16) + s2.MaxEncodedLen(len(w.raw)))
			off := len(arena)
			var first, last int64
			arena, ix.sorted, first, last = appendIndex(arena, w, ix.slots, ix.sorted)
			vn := len(arena) - off + crc32.Size
			bk := indexKey(first, last, s.seq.Add(1))
			total := int64(len(bk) + vn)
			entries++
			size += int64(len(bk)) + 32
			if int64(vn) < s.opts.ValueThreshold {
				size += int64(vn)
				total = lsmCost(len(bk) + vn)
			}
			arena = append(arena[:off], sealIndex(arena[off:], total)...)
			bv := arena[off:len(arena):len(arena)]
			if err := txn.Set(bk, bv); err != nil {
				return err
			}
			s.sumRatio.Store(int64(len(bv)) * 1000 / int64(max(1, len(ix.sorted))))
			stored += total
			ix.drop(w)
			return nil
		}
		fail := func(err error) error {
			s.ring.flush()
			s.budget.mu.Unlock()
			txn.Discard()
			s.flights.end(f)
			return fmt.Errorf("badgerstore: write: %w", err)
		}
		i := 0
		var last *codec.Rollup // the delta of the last record counted
		var lastMinute int64   // its minute
		// The budget's lock is held for the batch: one lock per
		// transaction rather than per record.
		s.budget.mu.Lock()
		for ; i < len(recs) && size < maxSize && entries < maxCount; i++ {
			r := recs[i]
			if r == nil {
				continue
			}
			start := r.Start.UnixNano()
			if start <= s.newest.Load() || start >= s.future.Load() || start != idTime(r.ID) {
				// Looked up (see replaced), where txn does not
				// see what a batch begun or committed since it
				// began stores: this batch ends before it.
				if wait = s.flights.storing(f, r.ID); wait != nil {
					break
				}
			}
			if t := r.ExecTrace; t != nil && !t.Snapshot.IsZero() && t.Snapshot != r.ID {
				// Its snapshot is looked up too (see traceFor),
				// and a retention pass may be deleting it.
				if wait = s.flights.storing(f, t.Snapshot); wait != nil {
					break
				}
			}
			m := floorDiv(start, nsMinute)
			d := last
			if d == nil || m != lastMinute {
				// Another minute than the last record's (a batch's
				// records are mostly of one): looked up.
				if d = deltas[m]; d == nil {
					d = codec.NewRollup()
					if s.hasSpan {
						d.Reserve(s.deltaSpan.lo, s.deltaSpan.hi)
					}
					deltas[m] = d
				}
			}
			last, lastMinute = d, m
			// The summary and durations are read before the next
			// record: one buffer each serves the batch. A record over
			// its route's budget (decided from its own fields, which
			// its summary copies) is only counted: its summary holds
			// what the rollup counts, the rest of it the last
			// record's (see codec.CountedSummaryInto).
			if !s.budget.keep(r.Route, start, r.Duration, r.HasError()) {
				// Over the route's budget: counted, not persisted,
				// kept in memory while the ring has room.
				durs = codec.CountedSummaryInto(r, &sum, durs[:0])
				d.AddCounted(&sum, durs)
				s.ring.add(r)
				counted++
				continue
			}
			durs = codec.SummaryInto(r, &sum, durs[:0])
			// A trace is stored only where it fits well (see
			// admitTrace); otherwise the record goes without it.
			tw, err := s.traceFor(txn, r, snaps)
			if err != nil {
				return fail(err)
			}
			if r.ExecTrace != nil && !tw.keep {
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
			const sk, fk = 1 + 8 + 16, 1 + 16 // key lengths
			sumBuf = codec.AppendSummary(sumBuf[:0], &sum, durs)
			sn := len(sumBuf)
			lsm := int64(sk+fk+2*maxRefLen) + entryOverhead
			if !s.admit(2*lsm + s.compressed(pBlock, n) + s.compressed(pSumBlock, sn)) {
				blk.raw = blk.raw[:off]
				s.dropped.Add(1)
				continue
			}
			// A record stored already is replaced: what it counted
			// goes, and so does its trace if the new one has none. No
			// record stored started after the newest start: a record
			// of the service's own, written as it ends, is mostly not
			// looked up.
			future := start > horizon
			var keepSnap *recording.ID // the snapshot the new record refers to
			if tw.keep {
				keepSnap = &tw.sid
			}
			// Its old trace is looked for only once the store has
			// held traces (s.traced, set before a batch storing one
			// commits: a batch that sees its commit sees it set), or
			// this transaction stores one.
			traces := snaps != nil || s.traced.Load()
			gone, err := s.replaced(txn, blk, ix, r.ID, start, future, traces, keepSnap)
			if err != nil {
				return fail(err)
			}
			f.ids = append(f.ids, r.ID)
			if tw.keep && tw.sid != r.ID {
				// A retention pass that would delete the snapshot
				// waits for this batch (see traceTally).
				f.ids = append(f.ids, tw.sid)
			}
			if gone.found {
				nrec -= gone.summary
				stored -= gone.bytes
				traced -= gone.trace
				entries += gone.deletes
			}
			// A large record gets a block of its own, and so does one
			// that starts far in the future (see futureSkew):
			// retention deletes it with its blocks.
			indexed := !future && !gone.found && start == idTime(r.ID)
			if len(blk.refs) == 0 && blk.end > 0 {
				// The bytes before it are of records given again
				// (see replaced): the block starts with it.
				blk.reset()
			}
			if (n > blockBytes || future) && len(blk.refs) > 0 {
				if err := closeRec(); err != nil {
					return fail(err)
				}
			}
			off = blk.end
			slot := -1
			if indexed {
				slot = len(ix.slots)
				ix.slots = append(ix.slots, ref{})
			}
			blk.add(r.ID, off, n, start, slot)
			var w *idxWriter
			if indexed {
				sec := floorDiv(start, nsSecond)
				w = ix.writer(s, sec)
				if sn > blockBytes && len(w.ents) > 0 {
					// A large summary gets an index block of its own.
					if err := closeIdx(w); err != nil {
						return fail(err)
					}
					w = ix.writer(s, sec)
				}
				w.add(r.ID, start, sumBuf, slot)
			} else {
				room(sk + sn)
				koff := len(arena)
				arena = append(timeKey(append(arena, pSummary), start), r.ID[:]...)
				voff := len(arena)
				arena = append(arena, sumBuf...)
				if err := txn.Set(arena[koff:voff:voff], arena[voff:len(arena):len(arena)]); err != nil {
					return fail(err)
				}
				stored += lsmCost(len(arena) - koff)
			}
			entries += 2
			size += int64(sk+fk+2*maxRefLen+sn) + 64
			nrec++
			if tw.keep {
				if snaps == nil {
					snaps = make(map[recording.ID]bool)
				}
				e, n, err := s.setTrace(txn, r.ID, &tw, snaps)
				if err != nil {
					return fail(err)
				}
				entries += e
				size += 32*e + refBytes // the snapshot's data goes to the value log
				stored += n
				traced += n
			}
			d.Add(&sum, durs)
			if len(blk.raw) >= blockBytes || future {
				if err := closeRec(); err != nil {
					return fail(err)
				}
			}
			if w != nil && len(w.raw) >= blockBytes {
				if err := closeIdx(w); err != nil {
					return fail(err)
				}
			}
		}
		var err error
		for len(ix.open) > 0 && err == nil {
			err = closeIdx(ix.open[len(ix.open)-1])
		}
		if err == nil {
			err = closeRec()
		}
		if err != nil {
			return fail(err)
		}
		if last != nil {
			if lo, hi, ok := last.Span(); ok {
				// With margins on either side, within what Reserve
				// reserves (see codec.ReserveSpan).
				// A span too wide reserves nothing.
				s.deltaSpan.lo, s.deltaSpan.hi, s.hasSpan = codec.ReserveSpan(lo, hi)
			}
		}
		// The records kept in memory go into the ring together.
		s.ring.flush()
		s.budget.mu.Unlock()
		batch := recs[:i]
		recs = recs[i:]
		keys := make(map[int64][]byte, len(deltas))
		for m, d := range deltas {
			if d.Requests() == 0 { // its records were dropped
				delete(deltas, m)
				continue
			}
			// Its sketches lose the reserved span's margins that
			// no record fell in: the encoding below, the fold and
			// every read that merges it pass over them no more.
			d.Trim()
			k := binary.BigEndian.AppendUint64(bucketKey(pDelta, m), s.seq.Add(1))
			keys[m] = k
			if err := txn.Set(k, codec.AppendRollup(nil, d)); err != nil {
				txn.Discard()
				s.flights.end(f)
				return fmt.Errorf("badgerstore: write rollup: %w", err)
			}
		}
		if snaps != nil {
			s.traced.Store(true)
		}
		s.pmu.Lock()
		err = s.commit(txn.Commit)
		if err == nil {
			for m, d := range deltas {
				s.pending[m] = append(s.pending[m], pendingDelta{key: keys[m], ru: d})
			}
		}
		s.pmu.Unlock()
		s.flights.end(f)
		if s.writeHook != nil {
			s.writeHook("ended")
		}
		if err != nil {
			if s.failed.Load() != nil {
				// Writing failed (see gated), logged once there: this
				// batch's records and the rest are dropped, as while
				// the disk is full.
				s.drop(batch)
				s.drop(recs)
				return nil
			}
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
		if wait != nil {
			// The next transaction, begun once wait ended, finds
			// its records.
			if err := s.flights.wait(ctx, wait); err != nil {
				return err
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

// idxState holds a Write's index blocks being written, one a second,
// and the refs of the records they index (slots), filled in as their
// blocks are closed.
type idxState struct {
	open   []*idxWriter
	free   []*idxWriter
	slots  []ref
	sorted []byte // scratch: an index block's summaries in order
}

// writer returns the open index block of second sec, or a new one.
func (x *idxState) writer(s *Store, sec int64) *idxWriter {
	for i := len(x.open) - 1; i >= 0; i-- {
		if x.open[i].sec == sec {
			return x.open[i]
		}
	}
	var w *idxWriter
	if n := len(x.free); n > 0 {
		w, x.free = x.free[n-1], x.free[:n-1]
	} else {
		w = &idxWriter{raw: make([]byte, 0, 2*blockBytes)}
	}
	w.sec, w.raw, w.ents = sec, w.raw[:0], w.ents[:0]
	x.open = append(x.open, w)
	return w
}

// drop takes w, closed, out of the open blocks.
func (x *idxState) drop(w *idxWriter) {
	if i := slices.Index(x.open, w); i >= 0 {
		x.open = slices.Delete(x.open, i, i+1)
	}
	if cap(w.raw) <= 4*blockBytes {
		x.free = append(x.free, w)
	}
}

// remove takes the pending entry of the record with ID id (or, if slot
// is not negative, in that slot) out of the open blocks, and returns its
// slot.
func (x *idxState) remove(id recording.ID, slot int) (int, bool) {
	for _, w := range x.open {
		for i, e := range w.ents {
			if slot >= 0 && e.slot == slot || slot < 0 && e.id == id {
				w.ents = slices.Delete(w.ents, i, i+1)
				return e.slot, true
			}
		}
	}
	return 0, false
}

// add adds the summary sum of the record id at start, whose ref goes into
// slot.
func (w *idxWriter) add(id recording.ID, start int64, sum []byte, slot int) {
	off := len(w.raw)
	w.raw = append(w.raw, sum...)
	w.ents = append(w.ents, idxPending{id: id, start: start, off: off, n: len(sum), slot: slot})
}

// idxStateBuf returns an idxState with no open block, from the pool if it
// has one: its writers' buffers (64 KiB each) and its scratch are kept
// from Write to Write, as blockBuf keeps blockWriters.
func (s *Store) idxStateBuf() *idxState {
	if x, ok := s.idxPool.Get().(*idxState); ok {
		return x
	}
	return &idxState{}
}

// putIdxState gives x back, its open blocks (left by a failed Write)
// dropped.
func (s *Store) putIdxState(x *idxState) {
	for len(x.open) > 0 {
		x.drop(x.open[len(x.open)-1])
	}
	x.slots = x.slots[:0]
	if cap(x.sorted) > 4*blockBytes {
		x.sorted = nil
	}
	s.idxPool.Put(x)
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
// counted; with traces set, its trace's references are deleted, and its
// snapshot too unless another record or the new one (snap) refers to it
// (see takeTrace); a summary of the stored record at another start is
// deleted (at the ID's time, where an index entry may lie under it, it is
// made a gone marker).
// A record whose ID holds its start (as the recorder's do) and that
// started later than the newest start written and earlier than every
// record from the future (see futureSkew; future: it is one) is taken as
// new: a record written again at the same start cannot be (one moved
// there from another start is not looked for, and is listed at both
// starts). It raises the newest start, or lowers the future's earliest.
// Called under budget.mu. Another is looked up where Get finds it (see locate; a
// summary and a trace of that ID without it are not looked for): among
// them one moved past every record stored whose ID holds another time,
// which taken as new would leave its earlier version where Get looks
// first. An earlier one of the same ID in blk, or in ix, not yet in txn,
// is taken out of it. Write gives a record found here an s entry and an
// f entry of its own, which shadow an index entry of the same key.
func (s *Store) replaced(txn *badger.Txn, blk *blockWriter, ix *idxState, id recording.ID, start int64, future, traces bool, snap *recording.ID) (old, error) {
	var o old
	isNew := start > s.newest.Load() && start < s.future.Load() && start == idTime(id)
	if future {
		s.future.Store(min(s.future.Load(), start))
	} else {
		s.newest.Store(max(s.newest.Load(), start))
	}
	if isNew {
		return o, nil
	}
	sk := summaryKey(start, id)
	ik := summaryKey(idTime(id), id)
	// takeSummary counts the summary under k, and removes it unless the
	// new record's s entry is to replace it.
	takeSummary := func(k []byte) error {
		si, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		gone := false
		si.Value(func(v []byte) error { gone = isGone(v); return nil })
		if gone {
			return nil // see found
		}
		if bytes.Equal(k, sk) {
			o.summary = 1
			o.bytes += summarySize(si)
			return nil
		}
		o.summary = 1
		o.bytes += summarySize(si)
		if bytes.Equal(k, ik) {
			return s.setGone(txn, k, &o)
		}
		o.deletes++
		return txn.Delete(k)
	}
	// found ends a look-up that found the record, or a gone marker
	// where the new record's key is: the new record's s entry replaces
	// a gone marker at sk.
	found := func() (old, error) {
		o.found = true
		if si, err := txn.Get(sk); err == nil {
			gone := false
			si.Value(func(v []byte) error { gone = isGone(v); return nil })
			if gone {
				o.bytes += summarySize(si)
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return o, err
		}
		if !traces {
			return o, nil
		}
		err := s.takeTrace(txn, id, snap, &o)
		return o, err
	}
	if i := slices.IndexFunc(blk.refs, func(p pending) bool { return p.id == id }); i >= 0 {
		// Given earlier in this transaction, its block still open:
		// its ref, not yet counted, is not written; its bytes stay
		// in the block, whose stored size the other refs share.
		p := blk.refs[i]
		blk.refs = slices.Delete(blk.refs, i, i+1)
		if p.slot >= 0 {
			// Its index entry is still open too (closing an index
			// block closes the records' first).
			if _, ok := ix.remove(id, p.slot); ok {
				o.summary = 1
			}
		} else if err := takeSummary(summaryKey(p.start, id)); err != nil {
			return o, err
		}
		return found()
	}
	if slot, ok := ix.remove(id, -1); ok {
		// Its block closed (its ref counted), its index entry open.
		o.summary = 1
		o.bytes += ix.slots[slot].share
		return found()
	}
	fi, err := txn.Get(recordKey(id))
	switch {
	case err == nil:
		// Its f entry, which the new record's replaces; its summary
		// under sk, or else at its start, read from it (a damaged one
		// keeps its summary, which retention deletes with it).
		o.bytes += recordSize(fi)
		osk := sk
		si, err := txn.Get(sk)
		gone := false
		if err == nil {
			si.Value(func(v []byte) error { gone = isGone(v); return nil })
		}
		if errors.Is(err, badger.ErrKeyNotFound) || gone {
			if r, _, err := s.readRecord(txn, recLoc{item: fi}); err == nil {
				osk = summaryKey(r.Start.UnixNano(), id)
			}
		}
		if err := takeSummary(osk); err != nil {
			return o, err
		}
		return found()
	case !errors.Is(err, badger.ErrKeyNotFound):
		return o, err
	}
	si, err := txn.Get(ik)
	switch {
	case err == nil:
		gone := false
		si.Value(func(v []byte) error { gone = isGone(v); return nil })
		if gone {
			// Its index entry is gone, and nothing else is stored:
			// the new record is written the old way all the same,
			// since the marker would hide its index entry.
			return found()
		}
		// A pair of refs (or a damaged entry): summary and record.
		if err := takeSummary(ik); err != nil {
			return o, err
		}
		return found()
	case !errors.Is(err, badger.ErrKeyNotFound):
		return o, err
	}
	b, j, err := s.findIndexed(txn, id, nil)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return o, nil
	}
	if err != nil {
		return o, err
	}
	// In an index block: a gone marker hides its entry, unless the new
	// record's s entry, at the same key, does.
	o.summary = 1
	o.bytes += b.size(j)
	if !bytes.Equal(ik, sk) {
		if err := s.setGone(txn, ik, &o); err != nil {
			return o, err
		}
	}
	return found()
}

// setGone sets a gone marker at the s key k, counted in o.
func (s *Store) setGone(txn *badger.Txn, k []byte, o *old) error {
	o.bytes -= lsmCost(len(k) + len(goneValue))
	o.deletes++
	return txn.Set(k, goneValue)
}

// takeTrace counts the trace of the record id being replaced and deletes
// its references; the snapshot it referred to goes too when no other
// record refers to it, unless the new record refers to it (snap; nil when
// the new record has no trace stored).
func (s *Store) takeTrace(txn *badger.Txn, id recording.ID, snap *recording.ID, o *old) error {
	sid, ok, err := snapshotOf(txn, id)
	if err != nil {
		return err
	}
	if ok {
		for _, k := range [][]byte{traceRefKey(id), referrerKey(sid, id)} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		o.bytes += refBytes
		o.trace += refBytes
		o.deletes += 2
		if snap != nil && *snap == sid || referred(txn, sid, nil) {
			return nil
		}
	} else {
		// A trace of its record's own, stored before snapshots were
		// shared; it stays as the snapshot the new record refers to.
		sid = id
		if snap != nil && *snap == id {
			return nil
		}
	}
	tk := traceKey(sid)
	ti, err := txn.Get(tk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n := int64(len(tk)) + valueLen(ti)
	o.bytes += n
	o.trace += n
	if err := txn.Delete(tk); err != nil {
		return err
	}
	o.deletes++
	return nil
}
