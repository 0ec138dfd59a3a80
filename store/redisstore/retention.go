package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store"
)

// RetentionResult says what one [Store.Retain] pass did.
type RetentionResult struct {
	Ran          bool  // false when another process held the retention lease
	Deleted      int64 // records deleted
	DeletedBytes int64 // their size, as MaxBytes counts it
	Hours        int64 // hours deleted whole
	Folded       int64 // hours whose pending deltas were folded
}

// Usage is how much a store holds.
type Usage struct {
	Records int64 // records
	Bytes   int64 // their size, as [Options.MaxBytes] counts it (rollups included)
	Hours   int   // hours that hold records or rollups
}

// hourUsage is one hour's share of a Usage.
type hourUsage struct {
	hour           int64
	records, bytes int64
	pending        int64 // deltas not folded
	exists         bool  // any of its keys exists
}

// usage reads the listed hours' sizes, oldest first.
func (s *Store) usage(ctx context.Context) ([]hourUsage, error) {
	hours, err := s.listHours(ctx, -1<<62, 1<<62, false)
	if err != nil {
		return nil, err
	}
	type cmds struct {
		card, pending, exists *redis.IntCmd
		bytes                 *redis.StringCmd
	}
	cs := make([]cmds, len(hours))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hours {
			hk := s.k.hour(h)
			cs[i] = cmds{
				card:    p.ZCard(ctx, hk.sums),
				pending: p.LLen(ctx, hk.deltas),
				bytes:   p.GetRange(ctx, hk.bytes, 0, 31), // an integer; no more of another program's string
				exists:  p.Exists(ctx, hk.rollups),        // one key per command: a cluster's EXISTS takes one slot
			}
		}
		return nil
	})
	if err != nil {
		// The commands on keys of another type (another program's) fail
		// alone: such a key is its hour's damage, counted as empty, and
		// the hour is deleted whole when the limits say.
		for i, c := range cs {
			for _, cmd := range []redis.Cmder{c.card, c.pending, c.bytes, c.exists} {
				switch err := cmd.Err(); {
				case err == nil, errors.Is(err, redis.Nil):
				case isWrongType(err):
					s.damagedKey(hours[i], fmt.Sprint(cmd.Args()[1]))
				default:
					return nil, err
				}
			}
		}
	}
	out := make([]hourUsage, len(hours))
	for i, h := range hours {
		b, err := strconv.ParseInt(cs[i].bytes.Val(), 10, 64)
		if (err != nil && cs[i].bytes.Val() != "") || isWrongType(cs[i].bytes.Err()) {
			// Another program's value at the size counter: it is set
			// again from a recount, so that the limits see the hour's
			// size (not 0) and retention trims it as usual.
			if err != nil && cs[i].bytes.Err() == nil {
				s.damaged("size", h, []byte(s.k.hour(h).bytes), err)
			}
			hk := s.k.hour(h)
			n, rerr := s.rdb.Eval(ctx, recountScript, []string{hk.sums, hk.recs, hk.bytes, hk.deltas, hk.rollups}, RecordOverhead).Int64()
			var re redis.Error
			switch {
			case rerr == nil:
				b = n
			case !errors.As(rerr, &re):
				return nil, rerr // an outage
			default:
				// Redis refused the recount (a user refused EVAL, or
				// another program's key of the hour): the hour counts
				// as empty, as before.
				b = 0
			}
		}
		out[i] = hourUsage{
			hour: h, records: cs[i].card.Val(), bytes: b, pending: cs[i].pending.Val(),
			exists: cs[i].card.Val() > 0 || cs[i].pending.Val() > 0 || cs[i].exists.Val() > 0 || b != 0,
		}
	}
	return out, nil
}

// Usage returns how many records the store holds and their size, summed
// over its hours (a few commands per hour, in one pipeline).
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	if err := s.rlock(); err != nil {
		return Usage{}, err
	}
	defer s.mu.RUnlock()
	hs, err := s.usage(ctx)
	if err != nil {
		return Usage{}, wrap("usage", err)
	}
	var u Usage
	for _, h := range hs {
		u.Records += h.records
		u.Bytes += h.bytes
		if h.exists {
			u.Hours++
		}
	}
	return u, nil
}

// Len returns the number of records stored. Unlike the other stores' Len,
// it asks the server, so it takes a context and may fail.
func (s *Store) Len(ctx context.Context) (int, error) {
	u, err := s.Usage(ctx)
	return int(u.Records), err
}

// sizeLua is the Lua that trimScript and recountScript share: alloc is
// allocSize; counterOK reports whether an hour's size counter is one the
// store keeps (absent, or an integer); recount sets it again from what the
// hour holds (as Write and fold count it), and returns it.
const sizeLua = `
local function alloc(n)
  n = n + 6
  if n <= 128 then return math.ceil(n / 16) * 16 end
  local step, limit = 32, 256
  while n > limit do step, limit = 2 * step, 2 * limit end
  return math.ceil(n / step) * step
end
local function counterOK(bytes)
  local t = redis.call('TYPE', bytes).ok
  if t == 'none' then return true end
  if t ~= 'string' then return false end
  local v = redis.call('GETRANGE', bytes, 0, 31)
  return #v <= 18 and string.match(v, '^%-?%d+$') ~= nil
end
local function recount(sums, recs, bytes, deltas, rollups, overhead)
  local total = 0
  if redis.call('TYPE', sums).ok == 'zset' then
    local hash = redis.call('TYPE', recs).ok == 'hash'
    for _, m in ipairs(redis.call('ZRANGE', sums, 0, -1)) do
      local full = 0
      if hash then full = redis.call('HSTRLEN', recs, string.sub(m, 9, 24)) end
      total = total + alloc(#m) + alloc(full) + overhead
    end
  end
  if redis.call('TYPE', deltas).ok == 'list' then
    for _, d in ipairs(redis.call('LRANGE', deltas, 0, -1)) do total = total + alloc(#d) end
  end
  if redis.call('TYPE', rollups).ok == 'hash' then
    for _, v in ipairs(redis.call('HVALS', rollups)) do total = total + alloc(#v) end
  end
  local ttl = redis.call('PTTL', sums)
  redis.call('DEL', bytes)
  if ttl > 0 then
    redis.call('SET', bytes, string.format('%d', total), 'PX', ttl)
  else
    redis.call('SET', bytes, string.format('%d', total))
  end
  return total
end
`

// recountScript sets an hour's size counter again from what the hour
// holds, when it is not one the store keeps (another program's value),
// and returns it (or the counter, when it is the store's). KEYS: sums,
// recs, bytes, deltas, rollups. ARGV: the per-record overhead.
const recountScript = sizeLua + `
if counterOK(KEYS[3]) then return tonumber(redis.call('GET', KEYS[3]) or '0') end
return recount(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], tonumber(ARGV[1]))
`

// trimScript deletes the given summary members of an hour, oldest first,
// and their full records, until it has deleted at least a number of them
// and freed at least a number of bytes (as MaxBytes counts them: alloc is
// allocSize, the overhead RecordOverhead). It
// returns how many it deleted and the bytes freed. It checks the keys
// before it changes any: a records hash or summaries set of another type
// (another program's) fails it whole (WRONGTYPE), and a size counter that
// is not the store's is set again from a recount first.
//
// KEYS: sums, recs, bytes, deltas, rollups. ARGV: the per-record overhead,
// the number and the bytes to delete at least, then members (or, for a
// member longer than the store reads, its key part, as oldestScript cut
// it).
const trimScript = sizeLua + `
local ts, tr = redis.call('TYPE', KEYS[1]).ok, redis.call('TYPE', KEYS[2]).ok
if (ts ~= 'zset' and ts ~= 'none') or (tr ~= 'hash' and tr ~= 'none') then
  return redis.error_reply('WRONGTYPE the hour\'s records or summaries hold another program\'s value')
end
if not counterOK(KEYS[3]) then
  recount(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], tonumber(ARGV[1]))
end
local n, freed = 0, 0
local atLeast, bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 4, #ARGV do
  if n >= atLeast and freed >= bytes then break end
  local m = ARGV[i]
  if #m == 24 then
    -- cut by oldestScript: the member whose key it is
    local full = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. m, '+', 'LIMIT', 0, 1)[1]
    if full and string.sub(full, 1, 24) == m then m = full end
  end
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local id = string.sub(m, 9, 24)
    freed = freed + alloc(#m) + alloc(redis.call('HSTRLEN', KEYS[2], id)) + tonumber(ARGV[1])
    redis.call('HDEL', KEYS[2], id)
  end
  n = n + 1
end
redis.call('DECRBY', KEYS[3], freed)
return {n, freed}
`

// oldestScript reads the oldest summaries of an hour: KEYS: the
// summaries; ARGV: the count, the longest member to return. A longer
// member (another program's) is cut to its key part (24 bytes), which
// orders it, and which trimScript finds it by.
const oldestScript = `
local ms = redis.call('ZRANGEBYLEX', KEYS[1], '-', '+', 'LIMIT', 0, ARGV[1])
local cap = tonumber(ARGV[2])
for i, m in ipairs(ms) do
  if #m > cap then ms[i] = string.sub(m, 1, 24) end
end
return ms
`

// trimChunk is the number of records one trim script deletes at most, to
// keep Redis responsive.
const trimChunk = 1000

// EnforceRetention applies MaxAge, MaxRecords and MaxBytes now; see
// [Store.Retain].
func (s *Store) EnforceRetention(ctx context.Context) error {
	_, err := s.Retain(ctx)
	return err
}

// Retain applies MaxAge, MaxRecords and MaxBytes now, unless another
// process holds the retention lease (then it reports Ran false): it folds
// the deltas of hours no process folded (a writer that died), deletes the
// oldest hours whole while the limits allow, and then the oldest records
// of the oldest hour left, one by one, rebuilding that hour's rollups
// without the minutes deleted (a minute partly deleted keeps counting its
// deleted records until it is deleted whole). Expiry deletes an hour's keys
// MaxAge after the hour ends even if no process is running.
func (s *Store) Retain(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	if err := s.rlock(); err != nil {
		return res, err
	}
	defer s.mu.RUnlock()
	lease := max(2*s.opts.RetentionInterval, time.Minute)
	ok, err := s.rdb.SetNX(ctx, s.k.retain(), s.token, lease).Result()
	if isOOM(err) {
		// Redis is full (maxmemory with noeviction refuses SET): retention
		// is what frees memory, so the lease is taken by a script that may
		// write when Redis is out of memory.
		ok, err = s.leaseWhenFull(ctx, s.k.retain(), lease)
	}
	if err == nil && !ok {
		ok, err = s.reclaimLease(ctx, noHour, s.k.retain(), lease)
	}
	if err != nil {
		return res, wrap("retention", err)
	}
	if !ok {
		return res, nil
	}
	defer s.release(ctx, s.k.retain())
	res.Ran = true
	if err := s.retain(ctx, &res); err != nil {
		return res, wrap("retention", err)
	}
	return res, nil
}

func (s *Store) retain(ctx context.Context, res *RetentionResult) error {
	hs, err := s.usage(ctx)
	if err != nil {
		return err
	}
	// A damaged hours list (usage found the hours from their keys) is
	// repaired before retention removes hours from it.
	if err := s.repairIfDamaged(ctx); err != nil {
		return err
	}
	now := time.Now()
	var count, size int64
	live := hs[:0]
	var gone []any
	for _, h := range hs {
		if h.pending > 0 {
			switch err := s.fold(ctx, h.hour); {
			case isOOM(err):
				// Redis is full: the deltas stay pending (reads add
				// them), and deleting goes on, to free memory.
			case isForeign(err):
				// A key of the hour holds another program's value (of
				// another type): the deltas stay pending, and the hour
				// goes whole in its turn if it is the records hash or
				// summaries set.
			case err != nil:
				return err
			default:
				res.Folded++
			}
		}
		// An hour whose keys expired leaves the list. Only an expired one:
		// an empty hour may be one a writer has listed and is about to
		// fill, which would then be missed.
		if !h.exists && s.opts.MaxAge > 0 && time.Unix((h.hour+1)*3600, 0).Add(s.opts.MaxAge).Before(now) {
			gone = append(gone, strconv.FormatInt(h.hour, 10))
			continue
		}
		count += h.records
		size += h.bytes
		live = append(live, h)
	}
	if len(gone) > 0 {
		if err := s.rdb.ZRem(ctx, s.k.hours(), gone...).Err(); err != nil {
			return err
		}
	}
	ageCutoff := int64(-1 << 63)
	if s.opts.MaxAge > 0 {
		ageCutoff = now.Add(-s.opts.MaxAge).UnixNano()
	}
	over := func(h hourUsage) (recs, bytes int64, old bool) {
		if s.opts.MaxRecords > 0 {
			recs = count - s.opts.MaxRecords
		}
		if s.opts.MaxBytes > 0 {
			bytes = size - s.opts.MaxBytes
		}
		return recs, bytes, h.hour*int64(time.Hour) < ageCutoff
	}
	for _, h := range live {
		recs, bytes, old := over(h)
		if recs <= 0 && bytes <= 0 && !old {
			break
		}
		var n, freed int64
		whole := (h.hour+1)*int64(time.Hour) <= ageCutoff || recs >= h.records || bytes >= h.bytes
		if !whole {
			n, freed, err = s.trimHour(ctx, h.hour, max(recs, 0), max(bytes, 0), ageCutoff)
			count -= n
			size -= freed
			res.Deleted += n
			res.DeletedBytes += freed
			if err == nil {
				break // the limits hold, or this hour still has records that must stay
			}
			if !isForeign(err) {
				return err
			}
			// A key of the hour holds another program's value: the hour
			// goes whole, as a damaged hour does in its turn.
			whole = true
		}
		if whole {
			// Unlisted first: a write to the hour meanwhile lists it again,
			// so no record is left stored but unlisted.
			if err := s.rdb.ZRem(ctx, s.k.hours(), strconv.FormatInt(h.hour, 10)).Err(); err != nil {
				return err
			}
			if err := s.rdb.Unlink(ctx, s.k.hour(h.hour).all()...).Err(); err != nil {
				return err
			}
			count -= h.records - n
			size -= h.bytes - freed
			res.Deleted += h.records - n
			res.DeletedBytes += max(h.bytes-freed, 0)
			res.Hours++
		}
	}
	return s.cleanIDs(ctx)
}

// trimHour deletes hour h's oldest records until recs records and bytes
// bytes are deleted and the oldest left started at or after ageCutoff,
// then rebuilds the hour's rollups without the minutes deleted whole.
func (s *Store) trimHour(ctx context.Context, h, recs, bytes, ageCutoff int64) (n, freed int64, err error) {
	hk := s.k.hour(h)
	const none = int64(-1 << 63)
	keep := none // start of the oldest record kept
	for keep == none {
		members, err := s.rdb.Eval(ctx, oldestScript, []string{hk.sums}, trimChunk, s.maxValue).StringSlice()
		if err != nil || len(members) == 0 {
			return n, freed, err
		}
		old := 0 // members that started before ageCutoff
		for old < len(members) && (len(members[old]) < 8 || keyTime([]byte(members[old][:8])) < ageCutoff) {
			old++
		}
		args := make([]any, 0, 3+len(members))
		args = append(args, RecordOverhead, max(recs-n, int64(old)), max(bytes-freed, 0))
		for _, m := range members {
			args = append(args, m)
		}
		res, err := s.rdb.Eval(ctx, trimScript, []string{hk.sums, hk.recs, hk.bytes, hk.deltas, hk.rollups}, args...).Int64Slice()
		if err != nil {
			return n, freed, err
		}
		if len(res) != 2 {
			return n, freed, fmt.Errorf("trim script: unexpected reply %v", res)
		}
		n += res[0]
		freed += res[1]
		switch {
		case res[0] < int64(len(members)):
			keep = ageCutoff // a corrupt member: no start
			if m := members[res[0]]; len(m) >= 8 {
				keep = keyTime([]byte(m[:8]))
			}
		case len(members) < trimChunk:
			return n, freed, s.refold(ctx, h, 60*h+60) // the whole hour went
		}
		if err := ctx.Err(); err != nil {
			return n, freed, err
		}
	}
	return n, freed, s.refold(ctx, h, minuteOf(keep))
}

// cleanIDs deletes the entries of the ids hash whose hour is gone: not
// listed, and without a record of the entry's ID. The hash is scanned
// before the hours are read, and each entry goes only if it still names
// the hour found gone (cleanIDsScript), so that an entry a writer has
// just pointed at another hour, or at an hour it is filling, stays. On a
// single server the script asks the hour for the ID's record too,
// atomically with the delete: a write names a new record stored outside
// its ID's hour in the hour's transaction, with the record, in no order
// with its listing of the hour, and that check alone keeps the entry. In
// a Redis Cluster or a Ring (the hour in another slot) the hour is asked
// just before the script, and a write names such a record only once its
// listing of the hour has been answered, so that an entry the scan finds
// has its hour listed; a record written again in a dead hour between the
// ask and the delete loses its entry (Get no longer finds it).
func (s *Store) cleanIDs(ctx context.Context) error {
	n, err := s.rdb.HLen(ctx, s.k.ids()).Result()
	if isWrongType(err) {
		// Another program's value: the records it would find are its
		// damage alone.
		s.damaged("key", noHour, []byte(s.k.ids()), err)
		return nil
	}
	if err != nil || n == 0 {
		return err
	}
	type entry struct{ id, hour string }
	var seen []entry
	it := s.rdb.HScan(ctx, s.k.ids(), 0, "", 1000).Iterator()
	for it.Next(ctx) {
		id := it.Val()
		if !it.Next(ctx) {
			break
		}
		seen = append(seen, entry{id, it.Val()})
	}
	if err := it.Err(); err != nil {
		return err
	}
	hours, err := s.listHours(ctx, -1<<62, 1<<62, false)
	if err != nil {
		return err
	}
	var dead []entry
	for _, e := range seen {
		h, err := strconv.ParseInt(e.hour, 10, 64)
		if _, found := slices.BinarySearch(hours, h); err != nil || !found {
			dead = append(dead, e)
		}
	}
	cluster := !s.single
	for len(dead) > 0 {
		chunk := dead[:min(len(dead), 500)]
		dead = dead[len(chunk):]
		// Does the hour hold the ID's record (a write filling an hour
		// not listed yet)? In a Redis Cluster or a Ring the hours' keys
		// are in other slots than the ids hash: asked here. On a single server
		// the script asks again, atomically with the delete.
		held := make([]*redis.IntCmd, len(chunk))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, e := range chunk {
				if h, ok := parseHour(e.hour); ok {
					held[i] = p.HStrLen(ctx, s.k.hour(h).recs, e.id)
				}
			}
			return nil
		})
		if err != nil && !isWrongType(err) {
			return err
		}
		keys := []string{s.k.ids()}
		args := make([]any, 0, 3*len(chunk))
		for i, e := range chunk {
			k := 0
			if held[i] != nil {
				if held[i].Val() > 0 {
					continue
				}
				if !cluster {
					h, _ := parseHour(e.hour)
					keys = append(keys, s.k.hour(h).recs)
					k = len(keys)
				}
			}
			args = append(args, e.id, e.hour, k)
		}
		if len(args) == 0 {
			continue
		}
		if s.cleanIDsHook != nil {
			s.cleanIDsHook()
		}
		if err := s.rewrite.clean.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
			return err
		}
	}
	return nil
}

// leaseScript takes a lease (KEYS[1], value ARGV[1], for ARGV[2] ms) even
// when Redis is out of memory: the flag lets it write then (Redis 7 and
// later).
const leaseScript = "#!lua flags=allow-oom\nreturn redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])"

// foreignLeaseScript deletes a lease key that holds no lease of the
// store's: every lease the store takes expires (SET NX with an expiry), so
// a key without one is another program's. KEYS: the lease. It returns 1
// if it deleted the key.
const foreignLeaseScript = `
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

// errForeignLease is what damaged counts for a lease key without expiry.
var errForeignLease = errors.New("a lease key without expiry (another program's?)")

// reclaimLease is called when the lease key (of hour h, or noHour) was
// found taken: if another program's value without expiry holds it (which
// would keep the fold of the hour, or retention, from ever running), it
// is deleted, counted in Skipped, and the lease taken for d. It reports
// whether the lease is this store's.
func (s *Store) reclaimLease(ctx context.Context, h int64, key string, d time.Duration) (bool, error) {
	n, err := s.rdb.Eval(ctx, foreignLeaseScript, []string{key}).Int()
	if err != nil || n == 0 {
		return false, nil // another process holds it (or Redis refused the check: as before)
	}
	s.damaged("key", h, []byte(key), errForeignLease)
	ok, err := s.rdb.SetNX(ctx, key, s.token, d).Result()
	if isOOM(err) {
		ok, err = s.leaseWhenFull(ctx, key, d)
	}
	return ok, err
}

// leaseWhenFull takes the lease key for d with leaseScript, and reports
// whether it did.
func (s *Store) leaseWhenFull(ctx context.Context, key string, d time.Duration) (bool, error) {
	err := s.rdb.Eval(ctx, leaseScript, []string{key}, s.token, d.Milliseconds()).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil // another process holds it
	case err != nil:
		return false, err
	}
	return true, nil
}

// isOOM reports whether err is Redis refusing a command because it is out
// of memory (maxmemory reached under the noeviction policy).
func isOOM(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "OOM ")
}

// retentionLoop calls Retain every RetentionInterval until Close.
func (s *Store) retentionLoop() {
	defer s.wg.Done()
	if s.opts.RetentionInterval < 0 {
		return
	}
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if _, err := s.Retain(s.bg); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, store.ErrClosed) {
			s.log.Warn("redisstore: retention", "err", fmt.Sprint(err))
		}
	}
}
