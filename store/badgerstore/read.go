package badgerstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// Get returns the full record with the given ID, persisted or, if it was
// over the storage budget, held in memory (see [Options.RingBytes]). A
// record whose stored bytes are damaged is skipped like a missing one: the error wraps both
// [store.ErrCorrupt] and [store.ErrNotFound], and [Store.Health] counts it.
func (s *Store) Get(ctx context.Context, id recording.ID) (*recording.Record, error) {
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var r *recording.Record
	var bad []byte
	err := s.db.View(func(txn *badger.Txn) error {
		loc, err := s.locate(txn, id, s.badIndex)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if errors.Is(err, store.ErrCorrupt) {
				// It may have been in a damaged index block.
				return fmt.Errorf("get %s: %w (%w)", id, store.ErrNotFound, err)
			}
			return fmt.Errorf("get %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		r, bad, err = s.readRecord(txn, loc)
		if err != nil && bad == nil {
			return err
		}
		if err != nil {
			s.damaged("record", bad, err)
			return fmt.Errorf("get %s: record damaged, skipped: %w (%w: %v)", id, store.ErrNotFound, store.ErrCorrupt, err)
		}
		if r.ExecTrace != nil {
			// The trace may have been dropped since (see trimTraces).
			if _, err := txn.Get(traceKey(r.ExecTrace.SnapshotOf(id))); err != nil {
				r.ExecTrace = nil
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		// Not persisted: the ring may hold it.
		rr, ok, rerr := s.ring.get(id)
		switch {
		case rerr != nil:
			return nil, fmt.Errorf("badgerstore: get %s from memory: %w", id, rerr)
		case ok:
			return rr, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("badgerstore: %w", err)
	}
	return r, nil
}

// cursorLen is the length of a decoded cursor: the summary key without its
// prefix byte (start time and ID).
const cursorLen = 24

// List returns summaries newest first: a reverse scan of the summary keys,
// which decodes summaries only, never full records, merged with the
// summaries of the records over the storage budget held in memory (see
// [Options.RingBytes]). Page.Next is an opaque cursor, the same for both:
// pages follow one another across persisted records and records held in
// memory without repeating or skipping one (records that leave memory
// between two pages are not listed). A summary that cannot be decoded is
// skipped and logged.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	limit, err := storekit.Limit(&q)
	if err != nil {
		return store.Page{}, err
	}
	var cursor []byte
	if q.Cursor != "" {
		c, err := hex.DecodeString(q.Cursor)
		if err != nil || len(c) != cursorLen {
			return store.Page{}, storekit.InvalidCursor(q.Cursor, 2*cursorLen)
		}
		cursor = append([]byte{pSummary}, c...)
	}
	if err := s.rlock(); err != nil {
		return store.Page{}, err
	}
	defer s.mu.RUnlock()
	var p store.Page
	err = s.db.View(func(txn *badger.Txn) error {
		it := s.newEntIter(txn, true, s.badIndex)
		defer it.close()
		end := lastKey(pSummary)
		seek := end
		if !q.Until.IsZero() {
			seek = timeKey([]byte{pSummary}, q.Until.UnixNano())
		}
		if cursor != nil && bytes.Compare(cursor, seek) < 0 {
			seek = cursor
		}
		var since []byte
		if !q.Since.IsZero() {
			since = timeKey([]byte{pSummary}, q.Since.UnixNano())
		}
		// The ring's summaries in the same range, newest first, are
		// merged in as the scan passes their keys.
		var ringSince []byte
		if since != nil {
			ringSince = since[1:]
		}
		var ringUntil []byte
		if !bytes.Equal(seek, end) {
			ringUntil = seek[1:]
		}
		mem := ringReader{g: s.ring, since: ringSince, until: ringUntil, batch: max(limit+1, 64)}
		full := false
		// add appends sum to the page if it matches; once the page is
		// full, a further match sets the cursor and ends the scan.
		add := func(sum *recording.Summary) {
			if !storekit.Matches(&q, sum) {
				return
			}
			if len(p.Records) == limit {
				last := p.Records[limit-1]
				p.Next = hex.EncodeToString(summaryKey(last.Start.UnixNano(), last.ID)[1:])
				full = true
				return
			}
			p.Records = append(p.Records, *sum)
		}
		// prev is the key of the summary last taken from the disk or the
		// ring: a record written again with the same ID and start, held
		// in the ring and then persisted (or held twice), is listed
		// once, as the disk has it.
		var prev []byte
		// memUntil adds the ring's summaries with keys above k (all of
		// them if k is nil).
		memUntil := func(k []byte) {
			for !full {
				m := mem.peek()
				if m == nil || k != nil && bytes.Compare(m.key[:], k) <= 0 {
					return
				}
				mem.next()
				if cursor != nil && bytes.Equal(m.key[:], cursor[1:]) || bytes.Equal(m.key[:], prev) {
					continue
				}
				prev = append(prev[:0], m.key[:]...)
				if m.err != nil {
					continue // the ring encoded it: not damaged on disk
				}
				add(&m.sum)
			}
		}
		sums := s.newSumReader(txn)
		defer sums.done()
		n := 0
		var from []byte
		if !bytes.Equal(seek, end) {
			from = seek[1:]
		}
		vlog := s.opts.ValueLogFileSize
		for it.seek(from); it.valid(); it.next() {
			k := it.key()
			if since != nil && bytes.Compare(k, since[1:]) < 0 {
				break
			}
			if cursor != nil && bytes.Equal(k, cursor[1:]) || bytes.Equal(k, prev) {
				// The cursor's record, or a record in two index
				// blocks: two Writes given it at once each took it
				// as new, before Write waited for the other (see
				// flights).
				continue
			}
			if memUntil(k); full {
				break
			}
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var sum recording.Summary
			skip := false
			decode := func(v []byte, err error) error {
				if err != nil {
					return err
				}
				if q.TraceID.IsValid() {
					// One trace: compare its ID before decoding.
					if tid, ok := codec.SummaryTraceID(v); ok && tid != q.TraceID {
						skip = true
						return nil
					}
				}
				sum, err = codec.DecodeSummary(v, nil)
				return err
			}
			var err error
			var bad []byte
			if item := it.item(); item != nil {
				err = sums.read(item, decode)
				if errors.Is(err, errGone) {
					continue
				}
				bad = item.Key()
			} else {
				b, i := it.entry()
				err = decode(b.summary(i, vlog))
				bad = b.key
			}
			prev = append(prev[:0], k...)
			if skip {
				continue
			}
			if err != nil {
				s.badSummary(bad, k, err)
				continue
			}
			if add(&sum); full {
				break
			}
		}
		memUntil(nil)
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("badgerstore: list: %w", err)
	}
	return p, nil
}

// Stats aggregates the records that started within w from rollups: whole
// hours from hourly rollups, whole minutes from minute rollups and pending
// deltas, and the partial minutes at the window's edges from summaries. Its
// cost grows with the window's hours and minutes, not with the number of
// records (except those in the two edge minutes).
func (s *Store) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	rw, err := storekit.ResolveWindow(w, time.Now())
	if err != nil {
		return nil, err
	}
	if w.Since = rw.Since; !w.Until.IsZero() {
		w.Until = rw.Until
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	ru := codec.NewBoundedRollup(s.opts.MaxKeys)
	now := w.Until.IsZero()
	r := s.newReader()
	defer r.close()
	if now {
		// "Now" is read once the snapshot is taken: every record in it
		// started before it was written, so before this Until, and the
		// current minute is read whole from its running rollup (its
		// rollup and the pending deltas of every Write) rather than
		// decoded record by record, which under heavy ingest costs tens
		// of milliseconds.
		w.Until = time.Unix(0, r.now)
	}
	err = r.add(ctx, ru, w.Since.UnixNano(), w.Until.UnixNano(), false)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: stats: %w", err)
	}
	return ru.Stats(w), nil
}

// Series returns one bucket per step across w, computed as Stats is.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []store.Bucket
	r := s.newReader()
	defer r.close()
	for a, b := range storekit.Buckets(w.Since.UnixNano(), w.Until.UnixNano(), step) {
		ru := codec.NewRollup()
		if err = r.add(ctx, ru, a, b, true); err != nil {
			break
		}
		out = append(out, store.Bucket{
			Start:    time.Unix(0, a),
			Requests: ru.Requests(),
			Errors:   ru.Errors(),
			Calls:    ru.Calls(),
			Latency:  ru.Latency(),
		})
	}
	if err != nil {
		return nil, fmt.Errorf("badgerstore: series: %w", err)
	}
	return out, nil
}

// A reader answers range aggregations on one snapshot: a read transaction
// and the pending deltas as of its start. It reuses one iterator per key
// prefix.
type reader struct {
	s       *Store
	txn     *badger.Txn
	its     map[byte]*prefixIter
	sums    sumReader
	ents    *entIter
	pending []minuteDeltas // sorted by minute
	scratch sketch.Sketch
	tmp     *codec.Rollup // one stored rollup, decoded
	// recount holds the minutes with a damaged pending delta, whose
	// rollups (and their hours') lack its records, and those of a damaged
	// index block found since the last fold (see Store.lost), whose
	// rollups count records that can no longer be listed: they are
	// counted from summaries.
	recount map[int64]bool
	durs    []time.Duration
	// lossy caches minute rollups read by lossyMinute: nil for a minute
	// whose records were all persisted.
	lossy map[lossyKey]*codec.Rollup
	// now is when the snapshot was taken (Unix nanoseconds): no record
	// in it started later.
	now int64
}

type lossyKey struct {
	minute      int64
	overallOnly bool
}

type minuteDeltas struct {
	minute int64
	ds     []pendingDelta
}

func (s *Store) newReader() *reader {
	r := &reader{s: s, its: make(map[byte]*prefixIter)}
	s.pmu.RLock()
	r.txn = s.db.NewTransaction(false)
	r.sums = s.newSumReader(r.txn)
	for m, ds := range s.pending {
		r.pending = append(r.pending, minuteDeltas{m, ds[:len(ds):len(ds)]})
		for _, d := range ds {
			if d.ru == nil {
				if r.recount == nil {
					r.recount = make(map[int64]bool)
				}
				r.recount[m] = true
			}
		}
	}
	for m := range s.lost {
		if r.recount == nil {
			r.recount = make(map[int64]bool)
		}
		r.recount[m] = true
	}
	s.pmu.RUnlock()
	r.now = time.Now().UnixNano()
	slices.SortFunc(r.pending, func(a, b minuteDeltas) int { return cmp.Compare(a.minute, b.minute) })
	return r
}

func (r *reader) close() {
	for _, pi := range r.its {
		pi.it.Close()
	}
	if r.ents != nil {
		r.ents.close()
	}
	r.sums.done()
	r.txn.Discard()
}

// deltas adds the pending deltas of minutes [a, b), except those of the
// minutes in skip.
func (r *reader) deltas(into *codec.Rollup, a, b int64, overallOnly bool, skip []int64) {
	i, _ := slices.BinarySearchFunc(r.pending, a, func(md minuteDeltas, m int64) int { return cmp.Compare(md.minute, m) })
	for ; i < len(r.pending) && r.pending[i].minute < b; i++ {
		if slices.Contains(skip, r.pending[i].minute) {
			continue
		}
		for _, d := range r.pending[i].ds {
			if d.ru == nil {
				continue
			}
			if overallOnly {
				into.MergeOverall(d.ru)
			} else {
				into.Merge(d.ru)
			}
		}
	}
}

// scan calls fn for each key in [from, to) with prefix p, with its value,
// or the error reading the value (a damaged value log) as verr. The value
// of an s key is its summary (see sumReader).
//
// Consecutive scans of one prefix over ascending ranges, as Series' buckets
// are, share one pass: a scan that ends leaves the iterator at the first
// key at or past its end, and the next scan starts from there without a
// Seek when that is also the first key at or past its own start. A Seek
// costs a search of every memtable and table, and the items it reads
// ahead skip every version of their keys (a minute's rollup is rewritten
// by each fold), which for a bucket without a rollup of its own is all a
// scan does.
func (r *reader) scan(p byte, from, to []byte, fn func(k, v []byte, verr error) error) error {
	pi := r.its[p]
	if pi == nil {
		pi = &prefixIter{it: r.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})}
		r.its[p] = pi
	}
	it := pi.it
	if !pi.placed(from) {
		it.Seek(from)
	}
	pi.past = pi.past[:0]
	for ; it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if bytes.Compare(k, to) >= 0 {
			break
		}
		var err error
		if p == pSummary {
			err = r.sums.read(item, func(v []byte, verr error) error { return fn(k, v, verr) })
		} else if verr := item.Value(func(v []byte) error { err = fn(k, v, nil); return nil }); verr != nil {
			err = fn(k, nil, verr)
		}
		if err != nil {
			return err
		}
	}
	// The iterator is at the first key at or past to, or past the last
	// key: no key of [from, to) is left, and none lies between to and
	// where it stands (unless the range was empty, from past to).
	if bytes.Compare(from, to) <= 0 {
		pi.past = append(pi.past, to...)
	}
	return nil
}

// A prefixIter is a reader's iterator over the keys of one prefix, and
// where it stands (see reader.scan).
type prefixIter struct {
	it *badger.Iterator
	// past, if not empty, is a key the iterator stands at the first key
	// at or past (or, if it is not valid, past every key at or past).
	// It is emptied while a scan moves the iterator.
	past []byte
}

// placed reports whether the iterator stands at the first key at or past
// from (or is past the last key and none is at or past from): past is at
// most from, and from is at most the key it stands at.
func (pi *prefixIter) placed(from []byte) bool {
	if len(pi.past) == 0 || bytes.Compare(pi.past, from) > 0 {
		return false
	}
	return !pi.it.Valid() || bytes.Compare(from, pi.it.Item().Key()) <= 0
}

// rollups adds the stored rollups of buckets [from, to) with prefix p (of
// minutes or hours), and returns the buckets whose rollup is damaged, for
// the caller to count again from finer data. A rollup is decoded apart and
// then merged, so that a damaged one adds nothing.
func (r *reader) rollups(p byte, from, to int64, into *codec.Rollup, overallOnly bool) (damaged []int64, err error) {
	err = r.scan(p, bucketKey(p, from), bucketKey(p, to), func(k, v []byte, verr error) error {
		if len(k) != 9 {
			r.s.damaged("rollup", k, errBadKey)
			return nil
		}
		n := keyTime(k[1:])
		if verr == nil && bytes.Equal(v, recountRollup) || r.needsRecount(p, n) {
			damaged = append(damaged, n)
			return nil
		}
		if r.tmp == nil {
			r.tmp = codec.NewRollup()
		}
		r.tmp.Reset()
		if verr == nil {
			verr = r.tmp.MergeEncoded(v, overallOnly, &r.scratch)
		}
		if verr != nil {
			r.s.damaged("rollup", k, verr)
			damaged = append(damaged, n)
			return nil
		}
		if overallOnly {
			into.MergeOverall(r.tmp)
		} else {
			into.Merge(r.tmp)
		}
		return nil
	})
	return damaged, err
}

// needsRecount reports whether bucket n with prefix p (pMinute or pHour)
// lacks the records of a damaged pending delta.
func (r *reader) needsRecount(p byte, n int64) bool {
	if len(r.recount) == 0 {
		return false
	}
	if p == pMinute {
		return r.recount[n]
	}
	for m := range r.recount {
		if floorDiv(m, 60) == n {
			return true
		}
	}
	return false
}

// errBadKey: a key of the wrong length under a rollup prefix.
var errBadKey = errors.New("malformed key")

// summaries adds the records that started in [a, b) from their summaries.
func (r *reader) summaries(ctx context.Context, into *codec.Rollup, a, b int64, overallOnly bool) error {
	if a >= b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	it := r.entries()
	to := timeKey(nil, b)
	vlog := r.s.opts.ValueLogFileSize
	for it.seek(timeKey(nil, a)); it.valid(); it.next() {
		k := it.key()
		if bytes.Compare(k, to) >= 0 {
			break
		}
		fn := func(v []byte, verr error) error {
			if overallOnly {
				var o codec.Overall
				if verr == nil {
					o, verr = codec.DecodeOverall(v)
				}
				if verr != nil {
					return verr
				}
				into.AddOverall(o)
				return nil
			}
			r.durs = r.durs[:0]
			var sum recording.Summary
			if verr == nil {
				sum, verr = codec.DecodeSummary(v, &r.durs)
			}
			if verr != nil {
				return verr
			}
			into.Add(&sum, r.durs)
			return nil
		}
		if item := it.item(); item != nil {
			if err := r.sums.read(item, fn); err != nil && !errors.Is(err, errGone) {
				r.s.badSummary(item.Key(), k, err)
			}
		} else {
			b, i := it.entry()
			if err := fn(b.summary(i, vlog)); err != nil {
				r.s.badSummary(b.key, k, err)
			}
		}
	}
	return nil
}

// entries returns the reader's entIter (forward), made on first use.
func (r *reader) entries() *entIter {
	if r.ents == nil {
		r.ents = r.s.newEntIter(r.txn, false, r.s.badIndex)
	}
	return r.ents
}

// add aggregates the records that started in [a, b) (Unix nanoseconds)
// into into: the partial minutes at the edges from summaries, whole hours
// from hour rollups, the other whole minutes from minute rollups, and the
// pending deltas of all those minutes. A damaged hour rollup is replaced by
// its minutes' rollups, and a damaged minute rollup by its summaries
// (without its pending deltas, which the summaries include), so that
// Stats stays consistent with what List shows.
func (r *reader) add(ctx context.Context, into *codec.Rollup, a, b int64, overallOnly bool) error {
	if a >= b {
		return nil
	}
	ma := -floorDiv(-a, nsMinute) // first whole minute
	mb := floorDiv(b, nsMinute)   // end of the last whole minute
	// A minute cut by an edge of the window, with no record on the far
	// side of the edge, counts whole, from its rollup: the window's end is
	// usually now, and the current minute may hold a flood of records
	// that reading summaries would cost far more.
	// (A minute whose records were not all persisted may hold records
	// beyond the edge that have no summary.)
	if ma*nsMinute > a && r.lossyMinute(ma-1, true) == nil && r.none((ma-1)*nsMinute, a) {
		ma--
	}
	if mb*nsMinute < b && r.lossyMinute(mb, true) == nil && r.none(b, (mb+1)*nsMinute) {
		mb++
	}
	if ma >= mb {
		return r.cut(ctx, into, a, b, overallOnly)
	}
	if err := r.cut(ctx, into, a, ma*nsMinute, overallOnly); err != nil {
		return err
	}
	if err := r.cut(ctx, into, mb*nsMinute, b, overallOnly); err != nil {
		return err
	}
	var redo []int64 // minutes to count from summaries
	for m := range r.recount {
		if ma <= m && m < mb {
			redo = append(redo, m)
		}
	}
	minutes := func(a, b int64) error {
		if a >= b {
			return nil
		}
		d, err := r.rollups(pMinute, a, b, into, overallOnly)
		for _, m := range d {
			if !slices.Contains(redo, m) {
				redo = append(redo, m)
			}
		}
		return err
	}
	ha, hb := -floorDiv(-ma, 60), floorDiv(mb, 60)
	if ha < hb {
		if err := minutes(ma, ha*60); err != nil {
			return err
		}
		hours, err := r.rollups(pHour, ha, hb, into, overallOnly)
		if err != nil {
			return err
		}
		for _, h := range hours {
			if err := minutes(h*60, h*60+60); err != nil {
				return err
			}
		}
		if err := minutes(hb*60, mb); err != nil {
			return err
		}
	} else if err := minutes(ma, mb); err != nil {
		return err
	}
	r.deltas(into, ma, mb, overallOnly, redo)
	for _, m := range redo {
		if err := r.summaries(ctx, into, m*nsMinute, (m+1)*nsMinute, overallOnly); err != nil {
			return err
		}
	}
	return nil
}

// cut adds the records that started in [a, b), a range within minutes
// that it does not cover whole: in each minute whose records were all
// persisted, from their summaries; in a minute whose records were not
// (over the storage budget), the share of the minute's rollup that the
// range covers (see [Options.RecordBudget]): of the part of the minute
// that has passed, for the current minute.
func (r *reader) cut(ctx context.Context, into *codec.Rollup, a, b int64, overallOnly bool) error {
	for a < b {
		m := floorDiv(a, nsMinute)
		e := min(b, (m+1)*nsMinute)
		if ru := r.lossyMinute(m, overallOnly); ru != nil {
			// The minute's records started before the snapshot: of
			// the current minute, the part that has passed holds them.
			if span, part := min(nsMinute, r.now-m*nsMinute), min(e, r.now)-a; part > 0 {
				into.MergeShare(ru, min(part, span), span)
			}
		} else if err := r.summaries(ctx, into, a, e, overallOnly); err != nil {
			return err
		}
		a = e
	}
	return nil
}

// lossyMinute returns the rollup of minute m (its stored rollup and
// pending deltas) if some of its records were counted but not persisted,
// or nil if all were (or the minute's rollup is to be recounted).
func (r *reader) lossyMinute(m int64, overallOnly bool) *codec.Rollup {
	k := lossyKey{m, overallOnly}
	if ru, ok := r.lossy[k]; ok {
		return ru
	}
	if r.lossy == nil {
		r.lossy = make(map[lossyKey]*codec.Rollup)
	}
	var ru *codec.Rollup
	if !r.recount[m] {
		if !overallOnly && r.lossyMinute(m, true) == nil {
			r.lossy[k] = nil
			return nil
		}
		ru = codec.NewBoundedRollup(r.s.opts.MaxKeys)
		damaged, err := r.rollups(pMinute, m, m+1, ru, overallOnly)
		if err != nil || len(damaged) > 0 {
			ru = nil
		} else {
			r.deltas(ru, m, m+1, overallOnly, nil)
			if ru.Stored() >= ru.Requests() {
				ru = nil
			}
		}
	}
	r.lossy[k] = ru
	return ru
}

// none reports whether no record started in [a, b) (Unix nanoseconds).
func (r *reader) none(a, b int64) bool {
	it := r.entries()
	it.seek(timeKey(nil, a))
	return !it.valid() || bytes.Compare(it.key(), timeKey(nil, b)) >= 0
}
