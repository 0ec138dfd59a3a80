package redisstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// Get returns the full record with the given ID: one HGET in the hour of
// the ID's time (which the recorder sets to the record's start), and in
// the hour the ids hash names for a record whose start is in another hour.
func (s *Store) Get(ctx context.Context, id recording.ID) (*recording.Record, error) {
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	field := string(id[:])
	h := hourOf(id.Time().UnixNano())
	var rec, other *redis.Cmd
	err := s.pipelinedScripts(ctx, func(p redis.Pipeliner, eval bool) {
		rec = runScript(ctx, p, s.lua.get, eval, []string{s.k.hour(h).recs}, field, s.maxValue)
		other = runScript(ctx, p, s.lua.get, eval, []string{s.k.ids()}, field, 20)
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		// Another program's value at the ids hash costs the records it
		// would find alone.
		if oerr := other.Err(); isWrongType(oerr) {
			s.damaged("key", noHour, []byte(s.k.ids()), oerr)
		} else if oerr != nil && !errors.Is(oerr, redis.Nil) {
			return nil, wrap("get", oerr)
		}
		if rerr := rec.Err(); rerr != nil && !errors.Is(rerr, redis.Nil) {
			return nil, wrap("get", rerr)
		}
	}
	v, err := rec.Result()
	if errors.Is(err, redis.Nil) {
		hs, ok := other.Val().(string)
		oh, herr := strconv.ParseInt(hs, 10, 64)
		if !ok || herr != nil {
			return nil, fmt.Errorf("redisstore: get %s: %w", id, store.ErrNotFound)
		}
		h = oh
		v, err = s.lua.get.Run(ctx, s.rdb, []string{s.k.hour(h).recs}, field, s.maxValue).Result()
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisstore: get %s: %w", id, store.ErrNotFound)
		}
	}
	if err != nil {
		return nil, wrap("get", err)
	}
	b, ok := v.(string)
	if !ok {
		// Longer than any record (getScript said how long).
		s.damaged("record", h, id[:], errTooLong)
		return nil, fmt.Errorf("redisstore: get %s: %w: a value of %v bytes, %w", id, store.ErrCorrupt, v, errTooLong)
	}
	r, err := codec.DecodeRecord([]byte(b))
	if err != nil {
		s.damaged("record", h, id[:], err)
		return nil, fmt.Errorf("redisstore: get %s: %w", id, err)
	}
	return r, nil
}

// getScript reads a hash field no longer than a limit: KEYS: the hash;
// ARGV: the field, the limit. It answers the value, nil, or the length of
// a value over the limit (left in Redis).
const getScript = `
local n = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then return n end
return redis.call('HGET', KEYS[1], ARGV[1])
`

// The reads' scripts go by EVALSHA (40 bytes, and no hashing of the script
// in Redis) rather than whole by EVAL; a Redis that does not know one (just
// started, SCRIPT FLUSH, a new cluster node) answers NOSCRIPT, and the read
// is sent again by EVAL, which loads the script.
type readScripts struct{ get, list, read *redis.Script }

func newReadScripts() readScripts {
	return readScripts{get: redis.NewScript(getScript), list: redis.NewScript(listScript), read: redis.NewScript(readScript)}
}

// runScript queues sc on p by EVALSHA, or by EVAL when eval is set.
func runScript(ctx context.Context, p redis.Pipeliner, sc *redis.Script, eval bool, keys []string, args ...any) *redis.Cmd {
	if eval {
		return sc.Eval(ctx, p, keys, args...)
	}
	return sc.EvalSha(ctx, p, keys, args...)
}

// pipelinedScripts sends the commands fn queues in one pipeline, fn's
// scripts by EVALSHA (eval false); if Redis answers NOSCRIPT to any, the
// pipeline (reads alone) is sent again with them by EVAL (eval true). It
// returns the pipeline's error, as Pipelined does.
func (s *Store) pipelinedScripts(ctx context.Context, fn func(p redis.Pipeliner, eval bool)) error {
	for _, eval := range []bool{false, true} {
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			fn(p, eval)
			return nil
		})
		again := false
		for _, c := range cmds {
			if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				again = true
				break
			}
		}
		if !again || eval {
			return err
		}
	}
	return nil
}

// errShortMember is what damaged counts for a summaries member too short
// to hold a summary.
var errShortMember = errors.New("too short for a summary")

// listScript reads a chunk of an hour's summaries, newest first: KEYS:
// the summaries; ARGV: the lex bounds (max, min), the count, the longest
// member to return. A longer member (another program's) is cut to its key
// part, which orders it, so that List skips it and goes on after it.
const listScript = `
local ms = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
local cap = tonumber(ARGV[4])
for i, m in ipairs(ms) do
  if #m > cap then ms[i] = string.sub(m, 1, 24) end
end
return ms
`

// List returns summaries newest first: for each listed hour, newest first,
// a reverse range of its summaries' sorted set, in chunks that grow while
// filters reject what they bring. Page.Next is an opaque cursor.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	limit, err := storekit.Limit(&q)
	if err != nil {
		return store.Page{}, err
	}
	var cursor []byte
	if q.Cursor != "" {
		c, err := hex.DecodeString(q.Cursor)
		if err != nil || len(c) != sumKeyLen {
			return store.Page{}, storekit.InvalidCursor(q.Cursor, 2*sumKeyLen)
		}
		cursor = c
	}
	if err := s.rlock(); err != nil {
		return store.Page{}, err
	}
	defer s.mu.RUnlock()
	// Members below upper, at or above lower, in byte order (nil: no
	// bound).
	var upper, lower []byte
	if !q.Until.IsZero() {
		upper = timeKey(nil, q.Until.UnixNano())
	}
	if cursor != nil && (upper == nil || bytes.Compare(cursor, upper) < 0) {
		upper = cursor
	}
	hmin, hmax := int64(-1<<62), int64(1<<62)
	if !q.Since.IsZero() {
		lower = timeKey(nil, q.Since.UnixNano())
		hmin = hourOf(q.Since.UnixNano())
	}
	if upper != nil {
		hmax = hourOf(keyTime(upper))
	}
	hours, err := s.listHours(ctx, hmin, hmax, true)
	if err != nil {
		return store.Page{}, wrap("list", err)
	}
	var p store.Page
	var lastKey string // the key part of the last member listed
	for _, h := range hours {
		hk := s.k.hour(h)
		hi := "+"
		if upper != nil {
			hi = "(" + string(upper)
		}
		lo := "-"
		if lower != nil {
			lo = "[" + string(lower)
		}
		chunk := int64(limit + 1)
		for {
			members, err := s.lua.list.Run(ctx, s.rdb, []string{hk.sums}, hi, lo, chunk, s.maxValue).StringSlice()
			if isWrongType(err) {
				// Another program's value under the hour's key: the
				// hour's damage alone.
				s.damagedKey(h, hk.sums)
				break
			}
			if err != nil {
				return store.Page{}, wrap("list", err)
			}
			for _, m := range members {
				if len(m) <= sumKeyLen {
					// Cut by listScript, or too short to be the store's.
					why := errTooLong
					if len(m) < sumKeyLen {
						why = errShortMember
					}
					s.damaged("summary", h, []byte(m), why)
					continue
				}
				sum, err := codec.DecodeSummary([]byte(m[sumKeyLen:]), nil)
				if err != nil {
					s.damaged("summary", h, []byte(m[sumKeyLen:]), err)
					continue
				}
				if !storekit.Matches(&q, &sum) {
					continue
				}
				if len(p.Records) == limit {
					// The cursor is the last listed member's place in
					// the order, as its key says: a summary that
					// disagrees with its key (another record's, written
					// by hand) would send paging back.
					p.Next = hex.EncodeToString([]byte(lastKey))
					return p, nil
				}
				p.Records = append(p.Records, sum)
				lastKey = m[:sumKeyLen]
			}
			if int64(len(members)) < chunk {
				break
			}
			hi = "(" + members[len(members)-1]
			chunk = min(4*chunk, 4096)
			if err := ctx.Err(); err != nil {
				return store.Page{}, wrap("list", err)
			}
		}
	}
	return p, nil
}

// readScript reads what an aggregation needs from one hour, atomically (so
// that a fold, which moves deltas into rollups, is seen whole or not at
// all): rollup fields, the pending deltas, and summaries in a range.
//
// KEYS: rollups, deltas, sums. ARGV: the longest value to return, the
// number of fields f, f fields, "1" to read the deltas, then pairs of lex
// bounds of summary ranges. A key that holds a value of another type
// (another program's) is read as empty, and its index (1 to 3) returned in
// the fourth part of the answer; a value longer than the limit is left out
// (a field read as absent), and its key's index returned in the fifth; any
// other error (a command the ACL user may not run) is the script's answer.
const readScript = `
local cap = tonumber(ARGV[1])
local f = tonumber(ARGV[2])
local out = {{}, {}, {}, {}, {}}
local function call(k, ...)
  local r = redis.pcall(...)
  if type(r) == 'table' and r.err then
    if string.sub(r.err, 1, 9) ~= 'WRONGTYPE' then error(r) end
    out[4][#out[4] + 1] = k
    return nil
  end
  return r
end
local function fit(k, vs)
  local kept = {}
  for _, v in ipairs(vs) do
    if #v > cap then out[5][#out[5] + 1] = k else kept[#kept + 1] = v end
  end
  return kept
end
if f > 0 then
  local long = false
  for i = 1, f do
    local n = call(1, 'HSTRLEN', KEYS[1], ARGV[2 + i])
    if n == nil then f = 0 break end
    if n > cap then long = true end
  end
  if f > 0 and not long then
    out[1] = redis.call('HMGET', KEYS[1], unpack(ARGV, 3, 2 + f))
  elseif long then
    for i = 1, f do
      if redis.call('HSTRLEN', KEYS[1], ARGV[2 + i]) > cap then
        out[1][i] = false
        out[5][#out[5] + 1] = 1
      else
        out[1][i] = redis.call('HGET', KEYS[1], ARGV[2 + i])
      end
    end
  end
end
local n = tonumber(ARGV[2])
if ARGV[n + 3] == '1' then
  local r = call(2, 'LRANGE', KEYS[2], 0, -1)
  if r then out[2] = fit(2, r) end
end
for i = n + 4, #ARGV, 2 do
  local r = call(3, 'ZRANGEBYLEX', KEYS[3], ARGV[i], ARGV[i + 1])
  if r == nil then break end
  for _, m in ipairs(fit(3, r)) do
    out[3][#out[3] + 1] = m
  end
end
return out
`

// An hourRead is what an aggregation needs from one hour, then what it
// read.
type hourRead struct {
	fields map[string]bool // rollup fields to read
	deltas bool
	ranges [][2]int64 // summaries that started in these ranges, sorted, apart

	rollups map[string][]byte
	pending []delta
	sums    []sumEntry // by start
}

// A sumEntry is a summary member read from Redis.
type sumEntry struct {
	start int64
	b     []byte // the encoded summary
}

// An aggregation plans what it reads from each hour, reads it all in one
// pipeline, then adds it up: SplitRange cuts each range into whole hours
// (hour rollups and the hour's deltas), whole minutes (minute rollups and
// deltas) and edge minutes (summaries).
type aggregation struct {
	s           *Store
	overallOnly bool // Series: read rollups' overall parts only
	hours       map[int64]*hourRead
	listed      map[int64]bool
	scratch     sketch.Sketch
	durs        []time.Duration
}

func (s *Store) newAggregation(ctx context.Context, a, b int64, overallOnly bool) (*aggregation, error) {
	hs, err := s.listHours(ctx, hourOf(a), hourOf(b), false)
	if err != nil {
		return nil, err
	}
	ag := &aggregation{s: s, overallOnly: overallOnly, hours: make(map[int64]*hourRead), listed: make(map[int64]bool, len(hs))}
	for _, h := range hs {
		ag.listed[h] = true
	}
	return ag, nil
}

// need returns hour h's plan, or nil if h holds no data.
func (ag *aggregation) need(h int64) *hourRead {
	if !ag.listed[h] {
		return nil
	}
	hr := ag.hours[h]
	if hr == nil {
		hr = &hourRead{fields: make(map[string]bool)}
		ag.hours[h] = hr
	}
	return hr
}

// plan notes what [a, b) needs.
func (ag *aggregation) plan(a, b int64) {
	storekit.SplitRange(a, b, storekit.Parts{
		Records: func(a, b int64) error {
			if hr := ag.need(hourOf(a)); hr != nil {
				hr.ranges = addRange(hr.ranges, a, b)
			}
			return nil
		},
		Minutes: func(a, b int64) error {
			for m := a; m < b; m++ {
				if hr := ag.need(storekit.FloorDiv(m, 60)); hr != nil {
					hr.fields[ag.field(minuteField(m))] = true
					hr.deltas = true
				}
			}
			return nil
		},
		Hours: func(a, b int64) error {
			for h := a; h < b; h++ {
				if hr := ag.need(h); hr != nil {
					hr.fields[ag.field(hourRollup)] = true
					hr.deltas = true
				}
			}
			return nil
		},
	})
}

// field names the rollup field to read: the whole rollup, or only its
// overall part.
func (ag *aggregation) field(f string) string {
	if ag.overallOnly {
		return overall(f)
	}
	return f
}

// read reads what the plan needs.
func (ag *aggregation) read(ctx context.Context) error {
	type call struct {
		h      int64
		hr     *hourRead
		fields []string
		cmd    *redis.Cmd
	}
	var calls []call
	err := ag.s.pipelinedScripts(ctx, func(p redis.Pipeliner, eval bool) {
		calls = make([]call, 0, len(ag.hours))
		for h, hr := range ag.hours {
			hk := ag.s.k.hour(h)
			c := call{h: h, hr: hr}
			args := []any{ag.s.maxValue, len(hr.fields)}
			for f := range hr.fields {
				c.fields = append(c.fields, f)
				args = append(args, f)
			}
			args = append(args, map[bool]string{true: "1", false: "0"}[hr.deltas])
			for _, r := range hr.ranges {
				args = append(args, "["+string(timeKey(nil, r[0])), "("+string(timeKey(nil, r[1])))
			}
			c.cmd = runScript(ctx, p, ag.s.lua.read, eval, []string{hk.rollups, hk.deltas, hk.sums}, args...)
			calls = append(calls, c)
		}
	})
	if err != nil {
		return err
	}
	for _, c := range calls {
		out, _ := c.cmd.Val().([]any)
		if len(out) != 5 {
			return fmt.Errorf("read script: unexpected reply %T", c.cmd.Val())
		}
		hk := ag.s.k.hour(c.h)
		keys := []string{hk.rollups, hk.deltas, hk.sums}
		wrong, _ := out[3].([]any)
		for _, k := range wrong {
			if i, ok := k.(int64); ok && i >= 1 && i <= 3 {
				ag.s.damagedKey(c.h, keys[i-1])
			}
		}
		long, _ := out[4].([]any)
		for _, k := range long {
			if i, ok := k.(int64); ok && i >= 1 && i <= 3 {
				ag.s.damaged("value", c.h, []byte(keys[i-1]), errTooLong)
			}
		}
		vals, _ := out[0].([]any)
		c.hr.rollups = make(map[string][]byte, len(vals))
		for i, v := range vals {
			if s, ok := v.(string); ok && i < len(c.fields) {
				c.hr.rollups[c.fields[i]] = []byte(s)
			}
		}
		ds, _ := out[1].([]any)
		for _, v := range ds {
			if s, ok := v.(string); ok {
				c.hr.pending = append(c.hr.pending, parseDelta(s))
			}
		}
		ms, _ := out[2].([]any)
		for _, v := range ms {
			if s, ok := v.(string); ok && len(s) > sumKeyLen {
				c.hr.sums = append(c.hr.sums, sumEntry{start: keyTime([]byte(s[:8])), b: []byte(s[sumKeyLen:])})
			}
		}
	}
	return nil
}

// mergeEncoded adds an encoded rollup to into, counting a damaged one.
func (ag *aggregation) mergeEncoded(into *codec.Rollup, b []byte, overallOnly bool, h int64) {
	if err := into.MergeEncoded(b, overallOnly, &ag.scratch); err != nil {
		ag.s.damaged("rollup", h, b, err)
	}
}

// add aggregates the records that started in [a, b) into into.
func (ag *aggregation) add(into *codec.Rollup, a, b int64) {
	overallOnly := ag.overallOnly
	deltas := func(hr *hourRead, h, from, to int64) {
		for _, d := range hr.pending {
			if d.b != nil && d.minute >= from && d.minute < to {
				ag.mergeEncoded(into, d.b, overallOnly, h)
			}
		}
	}
	storekit.SplitRange(a, b, storekit.Parts{
		Records: func(a, b int64) error {
			hr := ag.hours[hourOf(a)]
			if hr == nil {
				return nil
			}
			i, _ := slices.BinarySearchFunc(hr.sums, a, func(e sumEntry, t int64) int { return cmp.Compare(e.start, t) })
			for ; i < len(hr.sums) && hr.sums[i].start < b; i++ {
				if overallOnly {
					o, err := codec.DecodeOverall(hr.sums[i].b)
					if err != nil {
						ag.s.damaged("summary", hourOf(a), hr.sums[i].b, err)
						continue
					}
					into.AddOverall(o)
					continue
				}
				ag.durs = ag.durs[:0]
				sum, err := codec.DecodeSummary(hr.sums[i].b, &ag.durs)
				if err != nil {
					ag.s.damaged("summary", hourOf(a), hr.sums[i].b, err)
					continue
				}
				into.Add(&sum, ag.durs)
			}
			return nil
		},
		Minutes: func(a, b int64) error {
			for m := a; m < b; m++ {
				h := storekit.FloorDiv(m, 60)
				if hr := ag.hours[h]; hr != nil {
					if v := hr.rollups[ag.field(minuteField(m))]; v != nil {
						ag.mergeEncoded(into, v, overallOnly, h)
					}
					deltas(hr, h, m, m+1)
				}
			}
			return nil
		},
		Hours: func(a, b int64) error {
			for h := a; h < b; h++ {
				if hr := ag.hours[h]; hr != nil {
					if v := hr.rollups[ag.field(hourRollup)]; v != nil {
						ag.mergeEncoded(into, v, overallOnly, h)
					}
					deltas(hr, h, 60*h, 60*h+60)
				}
			}
			return nil
		},
	})
}

// addRange adds [a, b) to sorted, disjoint ranges, merging those it
// overlaps or touches.
func addRange(rs [][2]int64, a, b int64) [][2]int64 {
	i, _ := slices.BinarySearchFunc(rs, a, func(r [2]int64, t int64) int { return cmp.Compare(r[1], t) })
	j := i
	for j < len(rs) && rs[j][0] <= b {
		a, b = min(a, rs[j][0]), max(b, rs[j][1])
		j++
	}
	return slices.Replace(rs, i, j, [2]int64{a, b})
}

// Stats aggregates the records that started within w from rollups: whole
// hours from hour rollups, whole minutes from minute rollups, pending
// deltas with both, and the partial minutes at the window's edges from
// summaries, all read in one pipeline of one script per hour. Its cost
// grows with the window's hours, not with the records stored.
func (s *Store) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	w, err := storekit.ResolveWindow(w, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	a, b := w.Since.UnixNano(), w.Until.UnixNano()
	ag, err := s.newAggregation(ctx, a, b, false)
	if err != nil {
		return nil, wrap("stats", err)
	}
	ag.plan(a, b)
	if err := ag.read(ctx); err != nil {
		return nil, wrap("stats", err)
	}
	ru := codec.NewBoundedRollup(s.opts.MaxKeys)
	ag.add(ru, a, b)
	return ru.Stats(w), nil
}

// Series returns one bucket per step across w, computed as Stats is, from
// one read of every hour the window touches.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	since, until := w.Since.UnixNano(), w.Until.UnixNano()
	ag, err := s.newAggregation(ctx, since, until, true)
	if err != nil {
		return nil, wrap("series", err)
	}
	for a, b := range storekit.Buckets(since, until, step) {
		ag.plan(a, b)
	}
	if err := ag.read(ctx); err != nil {
		return nil, wrap("series", err)
	}
	var out []store.Bucket
	for a, b := range storekit.Buckets(since, until, step) {
		ru := codec.NewRollup()
		ag.add(ru, a, b)
		out = append(out, store.Bucket{
			Start: time.Unix(0, a), Requests: ru.Requests(), Errors: ru.Errors(), Calls: ru.Calls(), Latency: ru.Latency(),
		})
	}
	return out, nil
}
