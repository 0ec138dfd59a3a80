package redisstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
)

// RecordOverhead is what [Options.MaxBytes] counts for each record beyond
// its encoded bytes: Redis's own memory for the record's hash field and
// sorted-set entry, measured with INFO memory on Redis 7.0 (64-bit,
// jemalloc).
const RecordOverhead = 160

// writeScript stores one hour's share of a Write in one atomic step: the
// full records, the summaries, the rollup deltas, the hour's size; it sets
// the hour's expiry and announces the write. It returns the number of
// pending deltas.
//
// KEYS: recs, sums, deltas, bytes. ARGV: expiry (Unix ms, 0 for none),
// size, records n, deltas d, the announcement ("" for none), then n ID and
// record pairs, n summary members and d deltas.
const writeScript = `
local n, d = tonumber(ARGV[3]), tonumber(ARGV[4])
local function each(cmd, key, pre, from, to, step)
  local i = from
  while i <= to do
    local j = math.min(to, i + step - 1)
    local args = {}
    for k = i, j do
      if pre then args[#args+1] = pre end
      args[#args+1] = ARGV[k]
    end
    redis.call(cmd, key, unpack(args))
    i = j + 1
  end
end
each('HSET', KEYS[1], nil, 6, 5 + 2*n, 1000)
each('ZADD', KEYS[2], '0', 6 + 2*n, 5 + 3*n, 500)
local pending = 0
if d > 0 then
  each('RPUSH', KEYS[3], nil, 6 + 3*n, 5 + 3*n + d, 1000)
  pending = redis.call('LLEN', KEYS[3])
end
redis.call('INCRBY', KEYS[4], ARGV[2])
if ARGV[1] ~= '0' then
  for i = 1, 4 do redis.call('PEXPIREAT', KEYS[i], ARGV[1]) end
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[6 + 3*n + d], ARGV[5]) end
return pending
`

// Batch limits of one script call: a Write of more records or bytes makes
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

// Write stores records, and the rollup deltas for them, in one pipeline:
// one atomic script per hour the records fall in, so that readers never see
// records without their rollups, and concurrent writers never lose each
// other's updates (rollups are merged by folding, under optimistic locks).
// A record whose ID is already stored replaces it (its rollup contribution
// is counted again). The store does not keep recs.
//
// If Redis fails, or does not answer within WriteTimeout, the records are
// dropped and counted ([Store.Health]) and the error wraps
// [ErrUnavailable]; later writes are dropped at once until a backoff ends.
// Write never waits longer than WriteTimeout.
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
	if err := s.admit(); err != nil {
		s.dropped.Add(uint64(n))
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	stored := 0
	for len(recs) > 0 {
		k, batches := s.batch(recs)
		m, err := s.writeBatches(ctx, batches)
		stored += m
		if err != nil {
			s.outcome(err)
			s.written.Add(uint64(stored))
			s.dropped.Add(uint64(n - stored))
			s.failures.Add(1)
			return fmt.Errorf("redisstore: write: %d of %d records dropped: %w: %w", n-stored, n, ErrUnavailable, err)
		}
		recs = recs[k:]
	}
	s.outcome(nil)
	s.written.Add(uint64(stored))
	return nil
}

// batch encodes records from the start of recs, up to the batch limits,
// grouped by hour, and returns how many it took.
func (s *Store) batch(recs []*recording.Record) (int, []*hourBatch) {
	byHour := make(map[int64]*hourBatch)
	var size int64
	count := 0
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
		full := codec.AppendRecord(nil, r)
		member := codec.AppendSummary(sumKey(start, r.ID), &sum, durs)
		b.recs = append(b.recs, string(r.ID[:]), full)
		b.members = append(b.members, member)
		m := minuteOf(start)
		d := b.deltas[m]
		if d == nil {
			d = codec.NewRollup()
			b.deltas[m] = d
		}
		d.Add(&sum, durs)
		sz := int64(len(full)+len(member)+len(r.ID)) + RecordOverhead
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
	return i, slices.SortedFunc(maps.Values(byHour), func(a, b *hourBatch) int { return int(a.hour - b.hour) })
}

// writeBatches runs the write script of each hour, with the hours' listing,
// in one pipeline, and returns how many records it stored.
func (s *Store) writeBatches(ctx context.Context, batches []*hourBatch) (int, error) {
	var total int
	var newest recording.ID
	for _, b := range batches {
		total += b.n
		if string(b.newest[:]) > string(newest[:]) {
			newest = b.newest
		}
	}
	cmds := make([]*redis.Cmd, len(batches))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		z := make([]redis.Z, len(batches))
		for i, b := range batches {
			z[i] = redis.Z{Score: float64(b.hour), Member: strconv.FormatInt(b.hour, 10)}
			if len(b.ids) > 0 {
				p.HSet(ctx, s.k.ids(), b.ids...)
			}
		}
		// Every write lists its hours (a no-op when they are listed), so
		// the list holds them again after another process's Clear.
		p.ZAdd(ctx, s.k.hours(), z...)
		for i, b := range batches {
			hk := s.k.hour(b.hour)
			var exp int64 // the hour's keys expire MaxAge after its end
			if s.opts.MaxAge > 0 {
				exp = time.Unix((b.hour+1)*3600, 0).Add(s.opts.MaxAge).UnixMilli()
			}
			var deltas []any
			var dsize int64
			for m, ru := range b.deltas {
				v := codec.AppendRollup(binary.AppendVarint(nil, m), ru)
				deltas = append(deltas, v)
				dsize += int64(len(v))
			}
			announce := "" // once, with the last script
			if i == len(batches)-1 {
				announce = strconv.Itoa(total) + " " + newest.String()
			}
			args := make([]any, 0, 6+len(b.recs)+len(b.members)+len(deltas))
			args = append(args, exp, b.size+dsize, b.n, len(deltas), announce)
			args = append(args, b.recs...)
			args = append(args, b.members...)
			args = append(args, deltas...)
			args = append(args, s.k.events())
			cmds[i] = p.Eval(ctx, writeScript, []string{hk.recs, hk.sums, hk.deltas, hk.bytes}, args...)
		}
		return nil
	})
	stored := 0
	for i, c := range cmds {
		if c == nil || c.Err() != nil {
			continue
		}
		stored += batches[i].n
		s.dmu.Lock()
		s.dirty[batches[i].hour] = true
		s.dmu.Unlock()
		if pending, _ := c.Int64(); pending >= foldAt {
			select {
			case s.foldNow <- struct{}{}:
			default:
			}
		}
	}
	return stored, err
}
