package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
)

// Folding merges the deltas writers push into an hour's list into the
// hour's minute and hour rollups. It reads the rollups and the oldest
// deltas under WATCH, merges them in Go (the rollup encoding is the one
// badgerstore uses, so the merge is the same code), and writes the rollups
// and trims the folded deltas from the list's head in one MULTI; if another
// process changed the rollups meanwhile, EXEC fails and the fold starts
// over. Writers only append to the list, so they never conflict with a
// fold, and no update is lost. A lease (SET NX with a expiry) keeps
// processes from folding the same hour at once, which would only waste
// work.

const (
	// foldChunk is the number of deltas folded per transaction.
	foldChunk = 256
	// foldTries bounds the retries of a fold that lost a race.
	foldTries = 10
)

// releaseScript deletes a lease if this process still holds it.
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

// release gives up the lease at key (if this store's token is still in
// it) on a context without ctx's cancellation, so that a fold or pass
// that Close cancelled still releases its lease, but with a deadline of
// WriteTimeout: a Redis that stopped answering mid-fold keeps Close no
// longer (without it, the client's read timeout bounded the release).
func (s *Store) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.WriteTimeout)
	defer cancel()
	s.rdb.Eval(ctx, releaseScript, []string{key}, s.token)
}

// foldLoop folds the hours this store wrote to every FoldInterval, and when
// a write finds many deltas pending, until Close.
func (s *Store) foldLoop() {
	defer s.wg.Done()
	var tick <-chan time.Time
	if s.opts.FoldInterval > 0 {
		t := time.NewTicker(s.opts.FoldInterval)
		defer t.Stop()
		tick = t.C
	}
	// The hours list is repaired here, off the Write path, when a read
	// or write found it damaged; a failed repair is tried again after a
	// backoff (retry), not on every wake.
	var retry <-chan time.Time
	var wait time.Duration
	repair := func() {
		if wait = s.repairInBackground(wait); wait > 0 {
			retry = time.After(wait)
		} else {
			retry = nil
		}
	}
	var probe <-chan time.Time
	evict := time.NewTicker(evictEvery)
	defer evict.Stop()
	s.checkEvictions(s.bg)
	reprobe := func(d time.Duration) {
		if d > 0 {
			probe = time.After(d)
		} else {
			probe = nil
		}
	}
	for {
		select {
		case <-s.stop:
			return
		case <-s.probeNow:
			if probe == nil {
				reprobe(s.probe(s.bg))
			}
			continue
		case <-probe:
			reprobe(s.probe(s.bg))
			continue
		case <-evict.C:
			s.checkEvictions(s.bg)
			continue
		case <-s.repairNow:
			if retry == nil {
				repair()
			}
			continue
		case <-retry:
			repair()
			continue
		case <-tick:
		case <-s.foldNow:
		}
		if err := s.foldDirty(s.bg); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, store.ErrClosed) {
			s.log.Warn("redisstore: folding rollups", "err", err)
		}
		if retry == nil {
			repair()
		}
	}
}

// foldDirty folds the hours this store wrote to since it last folded them.
func (s *Store) foldDirty(ctx context.Context) error {
	s.dmu.Lock()
	hours := make([]int64, 0, len(s.dirty))
	for h := range s.dirty {
		hours = append(hours, h)
	}
	clear(s.dirty)
	s.dmu.Unlock()
	var errs []error
	for i, h := range hours {
		err := s.fold(ctx, h)
		if isForeign(err) {
			// A key of the hour holds another program's value (counted
			// when met): its deltas stay pending, read by Stats, until
			// retention deletes the hour, and the log is spared a line
			// a fold.
			continue
		}
		if err != nil {
			// Folded later, by this store or by retention.
			s.dmu.Lock()
			for _, h := range hours[i:] {
				s.dirty[h] = true
			}
			s.dmu.Unlock()
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// fold folds hour h's pending deltas, unless another process holds the
// hour's fold lease.
func (s *Store) fold(ctx context.Context, h int64) error {
	hk := s.k.hour(h)
	ok, err := s.rdb.SetNX(ctx, hk.lease, s.token, time.Minute).Result()
	if err == nil && !ok {
		ok, err = s.reclaimLease(ctx, h, hk.lease, time.Minute)
	}
	if err != nil {
		return fmt.Errorf("fold hour %d: %w", h, err)
	}
	if !ok {
		return nil
	}
	defer s.release(ctx, hk.lease)
	cleared := false
	for tries := 0; tries < foldTries; {
		n, err := s.foldChunk(ctx, h, hk)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			tries++
			continue
		case errors.Is(err, errNewer):
			// Counted and logged where met; folded by a newer release.
			return nil
		case isWrongType(err) && !cleared:
			cleared = true
			if ok, cerr := s.clearForeignRollups(ctx, h); cerr != nil {
				return fmt.Errorf("fold hour %d: %w", h, cerr)
			} else if ok {
				continue
			}
			return fmt.Errorf("fold hour %d: %w", h, err)
		case err != nil:
			return fmt.Errorf("fold hour %d: %w", h, err)
		case n < foldChunk:
			return nil
		}
	}
	return fmt.Errorf("fold hour %d: %d attempts lost to concurrent changes", h, foldTries)
}

// Reads of the fold that leave values over a limit (maxValue: another
// program's) in Redis, as the dashboard's reads do.
const (
	// boundedRangeScript is LRANGE with a longer element read as "" (no
	// delta): KEYS: the list; ARGV: start, stop, the limit.
	boundedRangeScript = `
local r = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
local cap = tonumber(ARGV[3])
for i, v in ipairs(r) do
  if #v > cap then r[i] = '' end
end
return r
`
	// foldRangeScript is boundedRangeScript for a fold, which leaves the
	// deltas pending (a WRONGTYPE error) while the hour's records hash or
	// summaries set holds another program's value: the deltas pushed then
	// are those of writes that dropped their records, which the writes
	// remove (unwrite), and a fold landing first would leave counted.
	// Retention deletes such an hour whole in its turn. KEYS: the list, the
	// records, the summaries; ARGV: as boundedRangeScript's.
	foldRangeScript = `
local tr, ts = redis.call('TYPE', KEYS[2]).ok, redis.call('TYPE', KEYS[3]).ok
if (tr ~= 'hash' and tr ~= 'none') or (ts ~= 'zset' and ts ~= 'none') then
  return redis.error_reply('WRONGTYPE the hour\'s records or summaries hold another program\'s value: deltas left pending')
end
` + boundedRangeScript
	// boundedFieldsScript is HMGET with a longer value read as absent,
	// measured first (HSTRLEN): KEYS: the hash; ARGV: the limit, fields.
	boundedFieldsScript = `
local cap = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV do
  if redis.call('HSTRLEN', KEYS[1], ARGV[i]) > cap then
    out[i - 1] = false
  else
    out[i - 1] = redis.call('HGET', KEYS[1], ARGV[i])
  end
end
return out
`
	// boundedAllScript is HGETALL with a longer value read as "" (no
	// rollup): KEYS: the hash; ARGV: the limit.
	boundedAllScript = `
local r = redis.call('HGETALL', KEYS[1])
local cap = tonumber(ARGV[1])
for i = 2, #r, 2 do
  if #r[i] > cap then r[i] = '' end
end
return r
`
)

// errNewer ends a fold or refold that met a rollup or delta of a newer
// release's encoding (codec.Newer: a fleet sharing the store while it is
// upgraded one instance at a time). Merging what this release reads and
// writing the result would overwrite the newer rollup without what it
// held, or trim the newer deltas unread: the hour's rollups and deltas are
// left as they are, for a newer release to fold, and reads skip (and
// count) what they cannot read. The deltas before the first newer one are
// folded.
var errNewer = errors.New("rollups of a newer version of appstats: left for it to fold")

// A delta is one pending rollup delta of an hour, split from its minute.
type delta struct {
	minute int64
	b      []byte // encoded rollup; nil if the delta is corrupt
}

// errBadDelta is the error of a delta whose minute does not parse or is
// not in its hour.
var errBadDelta = errors.New("no minute of its hour")

func parseDelta(v string) delta {
	m, n := binary.Varint([]byte(v[:min(len(v), binary.MaxVarintLen64)]))
	if n <= 0 {
		return delta{}
	}
	return delta{minute: m, b: []byte(v[n:])}
}

// foldChunk folds up to foldChunk deltas of hour h and returns how many.
func (s *Store) foldChunk(ctx context.Context, h int64, hk hourKeys) (int, error) {
	var n int
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		items, err := tx.Eval(ctx, foldRangeScript, []string{hk.deltas, hk.recs, hk.sums}, 0, foldChunk-1, s.maxValue).StringSlice()
		if err != nil || len(items) == 0 {
			return err
		}
		var scratch sketch.Sketch
		merged := map[string]*codec.Rollup{hourRollup: codec.NewBoundedRollup(s.opts.MaxKeys)}
		var size int64
		for i, it := range items {
			d := parseDelta(it)
			if codec.Newer(d.b) {
				// A newer release's delta, and those after it, are left
				// for it to fold (see errNewer).
				s.damaged("rollup delta", h, d.b, codec.ErrNewerVersion)
				if items = items[:i]; i == 0 {
					return errNewer
				}
				break
			}
			size -= allocSize(int64(len(it)))
			if d.b == nil || hourOf(d.minute*int64(time.Minute)) != h {
				s.damaged("rollup delta", h, []byte(it), errBadDelta)
				continue
			}
			f := minuteField(d.minute)
			ru := merged[f]
			if ru == nil {
				ru = codec.NewBoundedRollup(s.opts.MaxKeys)
				merged[f] = ru
			}
			if err := ru.MergeEncoded(d.b, false, &scratch); err != nil {
				s.damaged("rollup", h, d.b, err)
				continue
			}
			merged[hourRollup].MergeEncoded(d.b, false, &scratch)
		}
		fields := make([]string, 0, 2*len(merged))
		for f := range merged {
			fields = append(fields, f, overall(f))
		}
		args := make([]any, 0, 1+len(fields))
		args = append(args, s.maxValue)
		for _, f := range fields {
			args = append(args, f)
		}
		cur, err := tx.Eval(ctx, boundedFieldsScript, []string{hk.rollups}, args...).Slice()
		if err != nil {
			return err
		}
		for i, f := range fields {
			v, ok := cur[i].(string)
			if !ok {
				continue
			}
			if codec.Newer([]byte(v)) {
				s.damaged("rollup", h, []byte(v), codec.ErrNewerVersion)
				return errNewer
			}
			size -= allocSize(int64(len(v)))
			if ru := merged[f]; ru != nil {
				if err := ru.MergeEncoded([]byte(v), false, &scratch); err != nil {
					s.damaged("rollup", h, []byte(v), err)
				}
			}
		}
		kv, grown := s.rollupFields(h, merged)
		size += grown
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, hk.rollups, kv...)
			p.LTrim(ctx, hk.deltas, int64(len(items)), -1)
			p.IncrBy(ctx, hk.bytes, size)
			s.expire(ctx, p, h, hk.rollups, hk.bytes)
			return nil
		})
		n = len(items)
		return err
	}, hk.rollups)
	return n, err
}

// rollupFields encodes rollups for hour h's hash, each in full (fitted:
// see fitRollup) and its overall part, and returns the field-value pairs
// and their size.
func (s *Store) rollupFields(h int64, byField map[string]*codec.Rollup) ([]any, int64) {
	kv := make([]any, 0, 4*len(byField))
	var size int64
	for f, ru := range byField {
		full, head := s.fitRollup(h, ru), codec.AppendOverall(nil, ru)
		size += allocSize(int64(len(full))) + allocSize(int64(len(head)))
		kv = append(kv, f, full, overall(f), head)
	}
	return kv, size
}

// fitRollup encodes ru, folding its least busy routes, RPCs, route×RPC
// pairs and instances into [store.Other] until the encoding is no longer
// than the longest value the store reads (maxValue): with no cap on keys
// (MaxKeys < 0), or keys of kilobytes, an hour of very many distinct
// routes could pass it, and would then be read as absent (and the next
// fold, reading it so, would write the hour's rollup again without what
// it held). The totals, errors and latencies stay whole; the fold is
// logged. An encoding that does not fit with one key of each kind (a
// route of more than maxValue bytes) is written as it is, and read as
// absent.
func (s *Store) fitRollup(h int64, ru *codec.Rollup) []byte {
	full := codec.AppendRollup(nil, ru)
	if int64(len(full)) <= s.maxValue {
		return full
	}
	long := len(full)
	k := 1 << 16
	for ; int64(len(full)) > s.maxValue && k >= 1; k /= 4 {
		b := codec.NewBoundedRollup(k)
		b.Merge(ru)
		full = codec.AppendRollup(full[:0], b)
	}
	s.log.Warn("redisstore: a rollup longer than the store reads had its least busy keys folded into "+store.Other+" (set Options.MaxKeys)",
		"hour", h, "bytes", long, "fitted", len(full), "max_keys", k*4)
	return full
}

// expire sets the expiry of hour h's keys: MaxAge after the hour ends.
func (s *Store) expire(ctx context.Context, p redis.Pipeliner, h int64, keys ...string) {
	if s.opts.MaxAge <= 0 {
		return
	}
	at := time.Unix((h+1)*3600, 0).Add(s.opts.MaxAge)
	for _, k := range keys {
		p.PExpireAt(ctx, k, at)
	}
}

// refold rebuilds hour h's rollups without the minutes before minute from
// (whose records retention deleted): it folds the pending deltas, drops
// the minute rollups before from, and makes the hour rollup the sum of the
// minutes left.
func (s *Store) refold(ctx context.Context, h, from int64) error {
	hk := s.k.hour(h)
	cleared := false
	for range foldTries {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			items, err := tx.Eval(ctx, boundedRangeScript, []string{hk.deltas}, 0, -1, s.maxValue).StringSlice()
			if err != nil {
				return err
			}
			pairs, err := tx.Eval(ctx, boundedAllScript, []string{hk.rollups}, s.maxValue).StringSlice()
			if err != nil {
				return err
			}
			all := make(map[string]string, len(pairs)/2)
			for i := 0; i+1 < len(pairs); i += 2 {
				all[pairs[i]] = pairs[i+1]
			}
			for _, v := range all {
				if codec.Newer([]byte(v)) {
					s.damaged("rollup", h, []byte(v), codec.ErrNewerVersion)
					return errNewer
				}
			}
			for _, it := range items {
				if d := parseDelta(it); codec.Newer(d.b) {
					s.damaged("rollup delta", h, d.b, codec.ErrNewerVersion)
					return errNewer
				}
			}
			var scratch sketch.Sketch
			var size int64
			minutes := make(map[int64]*codec.Rollup)
			add := func(m int64, b []byte) {
				if m < from || hourOf(m*int64(time.Minute)) != h {
					return
				}
				ru := minutes[m]
				if ru == nil {
					ru = codec.NewBoundedRollup(s.opts.MaxKeys)
					minutes[m] = ru
				}
				if err := ru.MergeEncoded(b, false, &scratch); err != nil {
					s.damaged("rollup", h, b, err)
				}
			}
			for f, v := range all {
				size -= allocSize(int64(len(v)))
				if off, err := strconv.ParseInt(f, 10, 64); err == nil {
					add(60*h+off, []byte(v)) // a minute's; "h" and overall parts are rebuilt
				}
			}
			for _, it := range items {
				size -= allocSize(int64(len(it)))
				if d := parseDelta(it); d.b != nil {
					add(d.minute, d.b)
				}
			}
			byField := make(map[string]*codec.Rollup, len(minutes)+1)
			hour := codec.NewBoundedRollup(s.opts.MaxKeys)
			for m, ru := range minutes {
				hour.Merge(ru)
				byField[minuteField(m)] = ru
			}
			if len(minutes) > 0 {
				byField[hourRollup] = hour
			}
			kv, grown := s.rollupFields(h, byField)
			size += grown
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, hk.rollups)
				if len(kv) > 0 {
					p.HSet(ctx, hk.rollups, kv...)
				}
				p.LTrim(ctx, hk.deltas, int64(len(items)), -1)
				p.IncrBy(ctx, hk.bytes, size)
				s.expire(ctx, p, h, hk.rollups, hk.bytes)
				return nil
			})
			return err
		}, hk.rollups)
		if errors.Is(err, errNewer) {
			// The rollups stay as they are, still counting the
			// records retention deleted.
			return nil
		}
		if isWrongType(err) && !cleared {
			cleared = true
			ok, cerr := s.clearForeignRollups(ctx, h)
			if cerr != nil {
				return cerr
			}
			if ok {
				continue
			}
		}
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("refold hour %d: %d attempts lost to concurrent changes", h, foldTries)
}

// clearForeignScript deletes an hour's rollups hash and deltas list where
// they hold a value of another type (another program's): KEYS: the
// rollups, the deltas. It returns the indexes (1, 2) of the keys deleted.
const clearForeignScript = `
local want = {'hash', 'list'}
local out = {}
for i, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k).ok
  if t ~= 'none' and t ~= want[i] then
    redis.call('DEL', k)
    out[#out + 1] = i
  end
end
return out
`

// clearForeignRollups deletes another program's value at hour h's rollups
// hash or deltas list, counts it in Health's Skipped, and reports whether
// there was one. The hour's rollups lose what the value stood in place of
// (the store's own rollups it replaced, or the deltas Redis refused to push
// onto it); its records, summaries and the rollups folded from then on
// stay. Before, a fold or retention pass that met it gave up, and retention
// deleted the hour whole, good records included.
func (s *Store) clearForeignRollups(ctx context.Context, h int64) (bool, error) {
	hk := s.k.hour(h)
	keys := []string{hk.rollups, hk.deltas}
	idx, err := s.rdb.Eval(ctx, clearForeignScript, keys).Int64Slice()
	if err != nil {
		return false, err
	}
	for _, i := range idx {
		if i >= 1 && int(i) <= len(keys) {
			s.damagedKey(h, keys[i-1])
		}
	}
	return len(idx) > 0, nil
}
