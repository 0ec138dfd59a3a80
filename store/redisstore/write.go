package redisstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
)

// RecordOverhead is what [Options.MaxBytes] counts for each record beyond
// the allocations of its two values (the full record and the summary, each
// rounded up to jemalloc's size classes): Redis's own memory for the
// record's hash field and entry and its sorted-set node and entry,
// measured with INFO memory on Redis 7.0 (64-bit, jemalloc).
const RecordOverhead = 160

// allocSize is the memory Redis allocates for a string value of n bytes:
// its header and terminator, rounded up to jemalloc's size class (16-byte
// steps up to 128, then four classes per doubling).
func allocSize(n int64) int64 {
	n += 6
	if n <= 128 {
		return (n + 15) &^ 15
	}
	step, limit := int64(32), int64(256)
	for n > limit {
		step, limit = 2*step, 2*limit
	}
	return (n + step - 1) / step * step
}

// recordSize is what MaxBytes counts for a record: its values' allocations
// and RecordOverhead.
func recordSize(full, member int) int64 {
	return allocSize(int64(full)) + allocSize(int64(member)) + RecordOverhead
}

// Batch limits of one transaction: a Write of more records or bytes makes
// several.
const (
	maxBatchRecords = 512
	maxBatchBytes   = 8 << 20
	// foldAt is the number of pending deltas of an hour that makes a
	// write wake the fold.
	foldAt = 64
)

// An hourBatch is one hour's share of a Write.
type hourBatch struct {
	hour    int64
	n       int   // records
	recs    []any // ID, record pairs
	members []any // summary members
	deltas  map[int64]*codec.Rollup
	size    int64
	ids     []any        // ID, hour pairs for the ids hash
	newest  recording.ID // of the records, by ID
}

// Write stores records, and the rollup deltas for them, with one MULTI
// transaction per hour the records fall in (sent at once), so that readers
// never see records without their rollups, and concurrent writers never
// lose each other's updates (rollups are merged by folding, under
// optimistic locks).
// A record whose ID is already stored (or that is twice in recs) replaces
// it, at whatever start either has, and is listed once, with its new
// summary: the transaction reads what it replaces (HMGET: nil for a new
// ID), and when a record replaced one in its hour, a second round trip,
// which such Writes alone pay for, removes the old version's summary and
// takes its size off the hour's size counter that MaxBytes reads; a
// record written in another hour than its version before (or, but for a
// new record on a single server, outside its ID's hour) is settled under
// a lock of its ID's, which deletes the version in the other hour, in a
// few round trips more. Until they
// return List may show both, and if they fail the old version stays
// listed and counted (the log says so); racing writers of one ID in
// several hours never lose it, but may leave it listed twice (see
// rewrite.go). The same ID twice in one Write at starts in two
// hours is stored in both hours at once (their transactions run side by
// side), and may stay listed in both. Its rollup contribution is counted
// again. The store does not keep recs.
//
// If Redis fails, or does not answer within WriteTimeout, the records are
// dropped and counted ([Store.Health]) and the error wraps
// [ErrUnavailable]; later writes are dropped at once until a backoff ends.
// Write never waits longer than WriteTimeout; a Redis that was only slow
// (a long command, DEBUG SLEEP, a fork) may still store the records of a
// Write that timed out once it gets to its transaction, sent whole: they
// are counted dropped all the same. Records Redis answered for
// but that are not stored — of an hour whose records hash or summaries set
// holds another program's value, or larger than the store reads back
// (64 MiB) — are dropped and counted too, with an error that does not wrap
// ErrUnavailable and no backoff. Records from the future ([MaxAhead]) are
// stored shifted back to Redis's clock, and counted.
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	n := 0
	for _, r := range recs {
		if r != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	retry, err := s.admit()
	if err != nil {
		s.dropped.Add(uint64(n))
		return err
	}
	if retry {
		defer s.retried()
	}
	end := time.Now().Add(s.opts.WriteTimeout)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	recs, shifted, off := s.shiftAhead(ctx, recs)
	if shifted > 0 {
		s.ahead.Add(uint64(shifted))
		note := fmt.Errorf("redisstore: write: %d records started more than %v after Redis's clock, and were stored shifted back to it (this host's clock is %v ahead of Redis's)", shifted, MaxAhead, off.Round(time.Second))
		s.omu.Lock()
		s.lastErr = note
		s.omu.Unlock()
		s.log.Warn("redisstore: records from the future stored shifted back to Redis's clock: is this host's clock ahead of Redis's?", "records", shifted, "offset", off.Round(time.Second), "max_ahead", MaxAhead)
	}
	stored := 0
	var damage []error
	// What this Write may spend, in all, waiting for other writers' locks
	// of IDs it moved (settleMoved): a tenth of WriteTimeout, so that a
	// lock held long (a process stopped while settling) leaves the
	// Write's later batches their time.
	lockWait := s.opts.WriteTimeout / 10
	for len(recs) > 0 {
		k, batches, big := s.batch(recs)
		if big > 0 {
			damage = append(damage, fmt.Errorf("%d records dropped: larger encoded than the store reads back (%d bytes)", big, s.maxValue))
		}
		m, derr, err := s.writeBatches(ctx, end, batches, &lockWait)
		stored += m
		if derr != nil {
			damage = append(damage, derr)
		}
		if err != nil {
			s.outcome(err)
			s.written.Add(uint64(stored))
			s.dropped.Add(uint64(n - stored))
			s.failures.Add(1)
			return fmt.Errorf("redisstore: write: %d of %d records dropped: %w: %w", n-stored, n, ErrUnavailable, joinDistinct(append(damage, err)...))
		}
		recs = recs[k:]
	}
	// Redis answered: damage (another program's value at a key of an
	// hour) is no outage, and starts no backoff.
	s.outcome(nil)
	s.written.Add(uint64(stored))
	if stored < n {
		s.dropped.Add(uint64(n - stored))
		s.failures.Add(1)
		return fmt.Errorf("redisstore: write: %d of %d records dropped: %w", n-stored, n, errors.Join(damage...))
	}
	return nil
}

// MaxAhead is how far after Redis's clock (TIME) a record may start as it
// is: Write shifts the times of a record that starts later back by this
// host's clock's lead on Redis's (or, if that is not enough, to Redis's
// time), stores it, and counts it in [WriteStats] (Ahead), in LastError,
// the log and [Store.Health]'s Detail. Such records come from a host
// whose clock runs ahead (or Redis's behind the fleet's); stored as they
// are, they would stay on top of every listing of the fleet until its
// time caught up with them, and dropped they would be lost. A minute
// allows for clocks that NTP keeps close.
const MaxAhead = time.Minute

// clockRefresh is how often a writing store asks Redis for its time.
const clockRefresh = time.Minute

// shiftAhead returns recs with the records that start more than MaxAhead
// after Redis's clock shifted back (copies: the caller's records are not
// changed), how many those were, and the offset of this host's clock on
// Redis's. A record is shifted by the offset, or, if it still starts more
// than MaxAhead after Redis's clock (the record's own time is ahead, not
// only the host's), to Redis's time. Redis's clock is read with TIME once
// a clockRefresh; until it has answered (a user refused TIME, or Redis
// down at the first write), no record is shifted.
func (s *Store) shiftAhead(ctx context.Context, recs []*recording.Record) ([]*recording.Record, int, time.Duration) {
	s.clockMu.Lock()
	if time.Since(s.clockAt) > clockRefresh {
		before := time.Now()
		t, err := s.rdb.Time(ctx).Result()
		after := time.Now()
		// Asked again a clockRefresh later, whatever the answer: a user
		// refused TIME costs one round trip a minute.
		s.clockAt = after
		if err == nil {
			// TIME ran between before and after: take the midpoint.
			s.clockOff = before.Add(after.Sub(before) / 2).Sub(t)
			s.clockKnown = true
		}
	}
	known, off := s.clockKnown, s.clockOff
	s.clockMu.Unlock()
	if !known {
		return recs, 0, 0
	}
	redisNow := time.Now().Add(-off)
	limit := redisNow.Add(MaxAhead).UnixNano()
	var out []*recording.Record
	n := 0
	for i, r := range recs {
		if r == nil || r.Start.UnixNano() <= limit {
			if out != nil {
				out = append(out, r)
			}
			continue
		}
		if out == nil {
			out = append(make([]*recording.Record, 0, len(recs)), recs[:i]...)
		}
		c := *r
		c.Start = r.Start.Add(-max(off, 0))
		if c.Start.UnixNano() > limit {
			c.Start = redisNow
		}
		out = append(out, &c)
		n++
	}
	if out == nil {
		return recs, 0, off
	}
	return out, n, off
}

// BorrowsRecords reports true: Write encodes the records it is given
// before sending anything, and keeps none of them, nor any of their slices
// or maps, once it returns (the rollup deltas keep strings alone). A
// recorder whose sinks all borrow records reuses their memory (see
// [recording.Borrower]).
func (s *Store) BorrowsRecords() bool { return true }

var _ recording.Borrower = (*Store)(nil)

// batch encodes records from the start of recs, up to the batch limits,
// grouped by hour, and returns how many it took, and how many of those it
// left out for being larger encoded (record or summary) than maxValue:
// stored, such a record could not be read back.
func (s *Store) batch(recs []*recording.Record) (int, []*hourBatch, int) {
	big := 0
	byHour := make(map[int64]*hourBatch)
	var size int64
	count := 0
	var buf []byte // the current encoding chunk
	last := 0      // the previous record's encoded size
	i := 0
	for ; i < len(recs) && count < maxBatchRecords && size < maxBatchBytes; i++ {
		r := recs[i]
		if r == nil {
			continue
		}
		start := r.Start.UnixNano()
		h := hourOf(start)
		b := byHour[h]
		if b == nil {
			b = &hourBatch{hour: h, deltas: make(map[int64]*codec.Rollup)}
			byHour[h] = b
		}
		sum := r.Summary()
		durs := codec.CallDurations(r, &sum)
		// Values are encoded into shared chunks, a new one when the
		// current may not hold the next record, so that a batch makes a
		// few allocations, not a growing slice per value.
		if cap(buf)-len(buf) < max(2*last, 16<<10) {
			buf = make([]byte, 0, max(1<<20, 4*last))
		}
		off := len(buf)
		if r.ExecTrace != nil {
			// The store keeps no execution traces (it is no
			// store.ExecTraceStore): the record goes without one.
			c := *r
			c.ExecTrace = nil
			r = &c
		}
		recOff := off
		buf = codec.AppendRecord(buf, r)
		full := buf[off:len(buf):len(buf)]
		off = len(buf)
		buf = codec.AppendSummary(append(buf, sumKey(start, r.ID)...), &sum, durs)
		member := buf[off:len(buf):len(buf)]
		last = len(full) + len(member)
		if int64(len(full)) > s.maxValue || int64(len(member)) > s.maxValue {
			buf = buf[:recOff]
			big++
			if b.n == 0 {
				delete(byHour, h)
			}
			continue
		}
		b.recs = append(b.recs, string(r.ID[:]), full)
		b.members = append(b.members, member)
		m := minuteOf(start)
		d := b.deltas[m]
		if d == nil {
			d = codec.NewRollup()
			b.deltas[m] = d
		}
		d.Add(&sum, durs)
		sz := recordSize(len(full), len(member))
		b.size += sz
		b.n++
		if string(r.ID[:]) > string(b.newest[:]) {
			b.newest = r.ID
		}
		size += sz
		count++
		if hourOf(r.ID.Time().UnixNano()) != h {
			b.ids = append(b.ids, string(r.ID[:]), strconv.FormatInt(h, 10))
		}
	}
	return i, slices.SortedFunc(maps.Values(byHour), func(a, b *hourBatch) int { return cmp.Compare(a.hour, b.hour) }), big
}

// writeBatches stores each hour's batch in a MULTI transaction of its own
// (the hour's keys share a slot) — records, summaries, deltas, size,
// expiry, and the announcement with the last — while the hours are listed
// (and the ids hash read) in a pipeline of their own, at the same time:
// in a cluster those keys live in other slots, and there the records
// stored outside their ID's hour are named in the ids hash once that
// pipeline has answered (on a single server, by their hour's
// transaction). It returns how many records
// it stored, what another program's values at the store's keys made it
// drop (damage), and the error of a failed round trip (an outage).
//
// A record counts as stored when its full record and its summary are: a
// foreign value at the hour's deltas list or size counter (or at the
// hours list, or the ids hash) loses the records' share of the rollups, or
// their listing until the hours list is repaired, and is counted in
// Health's Skipped, not the records.
//
// lockWait is what the Write has left to wait for locks of IDs it moved
// (settleMoved); the wait is taken off it.
func (s *Store) writeBatches(ctx context.Context, end time.Time, batches []*hourBatch, lockWait *time.Duration) (stored int, damage, outage error) {
	if len(batches) == 0 {
		return 0, nil, nil // every record was refused
	}
	var total int
	var newest recording.ID
	for _, b := range batches {
		total += b.n
		if string(b.newest[:]) > string(newest[:]) {
			newest = b.newest
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(batches)+1)
	type txCmds struct {
		old        *redis.Cmd       // HMGET: what the hour held under the IDs before
		ids        *redis.Cmd       // HMGET: what the ids hash held under them (idsInTx)
		named      []*redis.BoolCmd // HSETNX of the ids hash, for b.ids (single server)
		home       []*redis.IntCmd  // HSTRLEN of those IDs in their own hour (single server)
		had        *redis.IntCmd    // EXISTS: the hour's records hash and summaries set, before
		recs, sums *redis.IntCmd
		pushed     *redis.IntCmd
		size       *redis.IntCmd
		deltas     []any
		dsize      int64
		all        []redis.Cmder
	}
	txs := make([]txCmds, len(batches))
	var listCmds []redis.Cmder
	var listed, card *redis.IntCmd
	// The IDs of every batch, in order (batch i's from off[i]), and
	// what the ids hash held under them before (see rewrite.go).
	// The IDs go as the batches hold them (already in interfaces: no
	// allocation per ID): HMGET of the ids hash, every batch's IDs from
	// off[i]; and each batch's HMGET of its hour (hmgets[i]).
	fields := make([]any, 0, 2+total+2*len(batches))
	fields = append(fields, "hmget", s.k.ids())
	off := make([]int, len(batches))
	for i, b := range batches {
		off[i] = len(fields)
		for j := 0; j < len(b.recs); j += 2 {
			fields = append(fields, b.recs[j])
		}
	}
	hmgets := make([][]any, len(batches))
	all := make([]any, 0, total+2*len(batches))
	for i, b := range batches {
		n := len(all)
		all = append(append(all, "hmget", s.k.hour(b.hour).recs), fields[off[i]:off[i]+b.n]...)
		hmgets[i] = all[n:len(all):len(all)]
	}
	// The ids hash is read only while it may hold entries (idsSeen: it
	// existed at this store's last write, or at Open); every write asks
	// EXISTS, and one that skipped the read while the hash has come to
	// exist reads it after (below).
	//
	// On a single server each hour's transaction reads the ids hash for
	// its IDs (atomically with its HSET): a write that lands in an hour
	// after a settling writer read there then sees the entry that writer
	// put first, and settles the ID in turn (see rewrite.go). A Redis
	// Cluster (or a Ring) keeps the ids hash in another slot: there the
	// pipeline reads it, concurrently with the transactions.
	var idsOld *redis.Cmd
	var idsExist *redis.IntCmd
	readIDs := s.idsSeen.Load()
	cluster := !s.single
	idsInTx := readIDs && !cluster
	wg.Go(func() {
		// Every write lists its hours (a no-op when they are listed), so
		// the list holds them again after another process's Clear.
		listCmds, errs[len(batches)] = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			if readIDs && !idsInTx {
				idsOld = p.Do(ctx, fields...)
			}
			idsExist = p.Exists(ctx, s.k.ids())
			z := make([]redis.Z, len(batches))
			for i, b := range batches {
				z[i] = redis.Z{Score: float64(b.hour), Member: strconv.FormatInt(b.hour, 10)}
			}
			listed = p.ZAdd(ctx, s.k.hours(), z...)
			card = p.ZCard(ctx, s.k.hours())
			return nil
		})
		// A record stored outside its ID's hour is named in the ids hash
		// unless an entry is there: settleMoved (under the ID's lock)
		// alone moves an entry. On a single server its hour's transaction
		// names it, in no order with the ZADD above: retention's
		// cleanIDsScript, which asks the hour for the record atomically
		// with its delete, keeps such an entry. Elsewhere (the hour in
		// another slot than the ids hash) cleanIDs asks the hour before
		// its delete, and counts on the hour being listed before the ids
		// hash names it: a cluster client sends each node's part of a
		// pipeline concurrently, so the HSETNXs are sent only once the
		// ZADD has been answered: a round trip that only writes of such
		// records pay, beside their transactions. The transactions may
		// have stored the records by then: the naming is sent even when
		// the Write's context has ended meanwhile (its caller cancelled
		// it, or its own deadline came first), within the Write's
		// WriteTimeout; a naming not answered makes the Write fail.
		outside := slices.ContainsFunc(batches, func(b *hourBatch) bool { return len(b.ids) > 0 })
		if cluster && outside && (listed.Err() == nil || isForeign(listed.Err())) {
			nctx, ncancel := context.WithDeadline(context.WithoutCancel(ctx), end)
			named, err := s.rdb.Pipelined(nctx, func(p redis.Pipeliner) error {
				for _, b := range batches {
					for j := 0; j < len(b.ids); j += 2 {
						p.HSetNX(nctx, s.k.ids(), b.ids[j].(string), b.ids[j+1])
					}
				}
				return nil
			})
			ncancel()
			listCmds = append(listCmds, named...)
			if errs[len(batches)] == nil {
				errs[len(batches)] = err
			}
		}
		if s.writeHook != nil {
			s.writeHook("listed")
		}
		if errors.Is(errs[len(batches)], redis.Nil) {
			// An HGET that found nothing: the error is another
			// command's, if any.
			errs[len(batches)] = nil
			for _, c := range listCmds {
				if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
					errs[len(batches)] = err
					break
				}
			}
		}
	})
	announce := s.mayPublish()
	for i, b := range batches {
		wg.Go(func() {
			hk := s.k.hour(b.hour)
			deltas := make([]any, 0, len(b.deltas))
			var dsize int64
			for m, ru := range b.deltas {
				v := codec.AppendRollup(binary.AppendVarint(nil, m), ru)
				if int64(len(v)) > s.maxValue {
					// Too many keys, or too long, for reads to take.
					v = append(binary.AppendVarint(nil, m), s.fitRollup(b.hour, ru)...)
				}
				deltas = append(deltas, v)
				dsize += allocSize(int64(len(v)))
			}
			tx := &txs[i]
			tx.deltas, tx.dsize = deltas, dsize
			ann := announce && i == len(batches)-1
			var pub *redis.IntCmd
			write := func(p redis.Pipeliner) error {
				tx.had = p.Exists(ctx, hk.recs, hk.sums)
				tx.old = p.Do(ctx, hmgets[i]...)
				if idsInTx {
					tx.ids = p.Do(ctx, append([]any{"hmget", s.k.ids()}, fields[off[i]:off[i]+b.n]...)...)
				}
				if !cluster && len(b.ids) > 0 {
					// The records stored outside their ID's hour: named
					// in the ids hash unless an entry is there, and their
					// ID's hour asked for a version, atomically with the
					// HSET, so that a record named here with none there
					// has no other version to settle.
					tx.named = make([]*redis.BoolCmd, 0, len(b.ids)/2)
					tx.home = make([]*redis.IntCmd, 0, len(b.ids)/2)
					for j := 0; j < len(b.ids); j += 2 {
						id := b.ids[j].(string)
						tx.named = append(tx.named, p.HSetNX(ctx, s.k.ids(), id, b.ids[j+1]))
						tx.home = append(tx.home, p.HStrLen(ctx, s.k.hour(idHour(id)).recs, id))
					}
				}
				tx.recs = p.HSet(ctx, hk.recs, b.recs...)
				z := make([]redis.Z, len(b.members))
				for j, m := range b.members {
					z[j] = redis.Z{Member: m}
				}
				tx.sums = p.ZAdd(ctx, hk.sums, z...)
				tx.pushed = p.RPush(ctx, hk.deltas, deltas...)
				tx.size = p.IncrBy(ctx, hk.bytes, b.size+dsize)
				s.expire(ctx, p, b.hour, hk.recs, hk.sums, hk.deltas, hk.bytes)
				if ann {
					pub = p.Publish(ctx, s.k.events(), strconv.Itoa(total)+" "+newest.String())
				}
				return nil
			}
			if s.writeHook != nil {
				s.writeHook("tx")
			}
			tx.all, errs[i] = s.rdb.TxPipelined(ctx, write)
			if pub != nil && noPerm(pub.Err()) {
				// Redis refused the transaction for its announcement
				// (the user's ACL changed, or New made the store): it is
				// written again without it.
				s.refusedPublish(pub.Err())
				pub = nil
				ann = false
				tx.all, errs[i] = s.rdb.TxPipelined(ctx, write)
			} else if pub != nil && pub.Err() == nil {
				s.published()
			}
		})
	}
	wg.Wait()
	var damages []error
	movedAt := make(map[string]int64) // IDs that may have a version in another hour: the hour stored in
	for i, b := range batches {
		if errs[i] != nil {
			if !s.foreignOnly(b.hour, txs[i].all) {
				continue // an outage
			}
			errs[i] = nil
			if txs[i].recs.Err() != nil || txs[i].sums.Err() != nil {
				if s.beforeUnwrite != nil {
					s.beforeUnwrite()
				}
				kept, err := s.unwrite(ctx, b, txs[i].recs, txs[i].sums, txs[i].pushed, txs[i].size, txs[i].deltas, txs[i].dsize)
				if err != nil {
					s.log.Warn("redisstore: removing the rest of records dropped", "hour", b.hour, "err", err)
				}
				why := ""
				if kept {
					why = " (unlisted; their full records stay for Get, as some replaced records stored before)"
				}
				damages = append(damages, fmt.Errorf("hour %d: %d records dropped%s: a key of the hour holds another program's value", b.hour, b.n, why))
				continue
			}
		}
		stored += b.n
		if txs[i].recs.Val() < int64(b.n) {
			// HSET added fewer fields than the batch has records: some
			// IDs were stored already (or are twice in the batch).
			old, _ := txs[i].old.Slice()
			if err := s.unlistReplaced(ctx, b, old); err != nil {
				s.log.Warn("redisstore: removing the summaries of rewritten records failed: they stay listed beside the new ones", "hour", b.hour, "err", err)
			}
		}
		var olds []any // what the ids hash held under b's IDs
		if txs[i].ids != nil {
			if v, err := txs[i].ids.Slice(); err == nil && len(v) == b.n {
				olds = v
			}
		} else {
			if idsOld == nil && idsExist.Val() > 0 {
				// The ids hash came to exist since this store's last
				// write: read it now (a round trip that only such a
				// write pays).
				idsOld = s.rdb.Do(ctx, fields...)
			}
			if idsOld == nil {
				// No ids hash: no version in another hour.
			} else if v, err := idsOld.Slice(); err == nil && len(v) == len(fields)-2 {
				olds = v[off[i]-2 : off[i]-2+b.n]
			}
		}
		for j, v := range olds {
			hs, ok := v.(string)
			if !ok {
				continue
			}
			if h, ok := parseHour(hs); ok && h != b.hour {
				movedAt[b.recs[2*j].(string)] = b.hour
			}
		}
		for j := 0; j < len(b.ids); j += 2 {
			if k := j / 2; k < len(txs[i].named) && txs[i].named[k].Val() && txs[i].home[k].Err() == nil && txs[i].home[k].Val() == 0 {
				// Named by this write's transaction, none in its ID's
				// hour (nor, the ids hash naming none, in another):
				// nothing to settle.
				continue
			}
			movedAt[b.ids[j].(string)] = b.hour
		}
		s.dmu.Lock()
		s.dirty[b.hour] = true
		s.dmu.Unlock()
		if txs[i].pushed.Val() >= foldAt {
			select {
			case s.foldNow <- struct{}{}:
			default:
			}
		}
	}
	if idsExist != nil && idsExist.Err() == nil {
		s.idsSeen.Store(idsExist.Val() > 0)
	}
	if len(movedAt) > 0 {
		// What each such ID's write stored (the last copy in the batch).
		moved := make([]movedVersion, 0, len(movedAt))
		at := make(map[string]int, len(movedAt))
		for _, b := range batches {
			for j := 0; j < len(b.recs); j += 2 {
				id := b.recs[j].(string)
				if h, ok := movedAt[id]; ok && h == b.hour {
					if k, ok := at[id]; ok {
						moved[k].full = b.recs[j+1].([]byte)
						continue
					}
					at[id] = len(moved)
					moved = append(moved, movedVersion{hour: h, id: id, full: b.recs[j+1].([]byte)})
				}
			}
		}
		if err := s.settleMoved(ctx, moved, lockWait); err != nil {
			s.log.Warn("redisstore: removing records written again in another hour failed: their old versions stay", "err", err)
		}
	}
	if listed != nil && listed.Err() == nil {
		held := make([]bool, len(batches))
		for i, b := range batches {
			// The records hash or summaries set was there, or the
			// counter holds more than this write added (or is not the
			// store's): the hour held data before. (An allkeys-* policy
			// may evict the counter with the hours list.)
			sz, had := txs[i].size, txs[i].had
			held[i] = sz == nil || sz.Err() != nil || sz.Val() != b.size+txs[i].dsize ||
				had == nil || had.Err() != nil || had.Val() > 0
		}
		n := int64(-1) // unknown: the list is not taken to have been empty
		if card != nil && card.Err() == nil {
			n = card.Val()
		}
		s.relisted(batches, listed.Val(), n, held)
	}
	if errs[len(batches)] != nil && s.foreignOnly(noHour, listCmds) {
		errs[len(batches)] = nil
	}
	return stored, errors.Join(damages...), joinDistinct(errs...)
}

// maxListed bounds the hours a store remembers having listed (see
// relisted); past it, it forgets them all and starts again.
const maxListed = 1024

// relisted notes the hours a write listed, of which the ZADD added n
// (card: the list's size after it, -1 if unknown):
// an hour this store had listed before that the ZADD added again, and
// that held data before the write (held: its records hash, summaries set
// or size counter was there — an allkeys-* policy may evict the counter
// with the list), was missing from the hours list — evicted (a maxmemory policy of
// allkeys-*: the list has no expiry, but may go under allkeys-lru), or
// deleted by hand — and so may be older hours, which reads would no
// longer find: the list is marked for repair (a SCAN for the hours' keys,
// in the background). An hour that held nothing — deleted whole by
// retention (this store's or another process's), expired, or cleared —
// was unlisted with its keys: listing it again repairs nothing, and
// costs no scan.
//
// A write into hours this store had not listed yet cannot tell that way:
// the ZADD adds them anyway. It can when the list held nothing else after
// it (card == n: the list was missing before the write) while this store
// had listed other hours: the list went missing, or every hour this store
// listed was deleted (retention, another process's Clear); the repair's
// scan then tells which, at the cost of one SCAN.
func (s *Store) relisted(batches []*hourBatch, n, card int64, held []bool) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	fresh := int64(0)
	for i, b := range batches {
		if !s.listed[b.hour] || !held[i] {
			fresh++
		}
	}
	if n > fresh || (n > 0 && card == n && s.listedOther(batches)) {
		defer s.hoursDamaged()
	}
	if len(s.listed)+len(batches) > maxListed {
		clear(s.listed)
	}
	for _, b := range batches {
		s.listed[b.hour] = true
	}
}

// listedOther reports whether this store listed an hour that is none of
// batches'. Called with dmu held.
func (s *Store) listedOther(batches []*hourBatch) bool {
	for h := range s.listed {
		if !slices.ContainsFunc(batches, func(b *hourBatch) bool { return b.hour == h }) {
			return true
		}
	}
	return false
}

// foreignOnly reports whether every command of cmds (those of one
// transaction or pipeline) that failed was refused because of another
// program's value at its key, and counts each such key, of hour h (or of
// no hour), once in Health's Skipped. A foreign value at the hours list
// marks it for repair.
func (s *Store) foreignOnly(h int64, cmds []redis.Cmder) bool {
	failed := 0
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			if !isForeign(err) {
				return false
			}
			failed++
		}
	}
	if failed == 0 {
		return false // nothing says why the round trip failed
	}
	for _, c := range cmds {
		if c.Err() == nil || len(c.Args()) < 2 {
			continue
		}
		key := fmt.Sprint(c.Args()[1])
		if key == s.k.hours() {
			s.hoursDamaged()
		}
		s.damaged("key", h, []byte(key), c.Err())
	}
	return true
}

// unwrite removes what a transaction stored of a batch whose records were
// dropped (its records hash or summaries set held another program's
// value), so that no part of a dropped record stays listed or counted:
// its summaries (which List would list), its deltas (which Stats would
// count) and its share of the size counter, and its full records unless
// some of them replaced records stored before (HSET added fewer fields
// than the batch has IDs: the transaction has overwritten those, and
// deleting them would lose IDs Get found before the write); then the full
// records stay, unlisted, for Get (kept is true), and go with their hour.
//
// A fold that lands between the write and its undo (another process's)
// cannot move the batch's deltas into the rollups first: a fold leaves the
// deltas of an hour whose records hash or summaries set holds another
// program's value pending (see foldRangeScript).
func (s *Store) unwrite(ctx context.Context, b *hourBatch, recs, sums, pushed, size *redis.IntCmd, deltas []any, dsize int64) (kept bool, err error) {
	hk := s.k.hour(b.hour)
	freed := b.size + dsize
	ids := make([]string, 0, len(b.recs)/2)
	for j := 0; j < len(b.recs); j += 2 {
		ids = append(ids, b.recs[j].(string))
	}
	kept = recs.Err() == nil && recs.Val() < int64(len(ids))
	if kept {
		for j := 1; j < len(b.recs); j += 2 {
			freed -= allocSize(int64(len(b.recs[j].([]byte))))
		}
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if recs.Err() == nil && !kept {
			p.HDel(ctx, hk.recs, ids...)
		}
		if sums.Err() == nil {
			p.ZRem(ctx, hk.sums, b.members...)
		}
		if pushed.Err() == nil {
			for _, d := range deltas {
				p.LRem(ctx, hk.deltas, -1, d)
			}
		}
		if size.Err() == nil {
			p.DecrBy(ctx, hk.bytes, freed)
		}
		return nil
	})
	if err != nil && !isForeign(err) {
		return kept, err
	}
	return kept, nil
}
