package redisstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store"
)

// errBadHour is what damaged counts for a member of the hours list that
// names no hour (not an integer, or another score than its hour).
var errBadHour = errors.New("not an hour of the store")

// listHours returns the listed hours in [from, to], newest first when
// reverse is set. If the hours list is damaged — another program's value
// at its key, or members that name no hour — the damage is counted, the
// fold loop or retention pass repairs the list (see repairHours), and the
// hours are found meanwhile from the keys of the hours themselves (a SCAN
// of every node: slower, but the dashboard keeps answering).
func (s *Store) listHours(ctx context.Context, from, to int64, reverse bool) ([]int64, error) {
	by := &redis.ZRangeBy{Min: strconv.FormatInt(from, 10), Max: strconv.FormatInt(to, 10)}
	var zs []redis.Z
	var err error
	if reverse {
		zs, err = s.rdb.ZRevRangeByScoreWithScores(ctx, s.k.hours(), by).Result()
	} else {
		zs, err = s.rdb.ZRangeByScoreWithScores(ctx, s.k.hours(), by).Result()
	}
	if isWrongType(err) {
		s.damaged("key", noHour, []byte(s.k.hours()), errWrongType)
		s.hoursDamaged()
		return s.scanHours(ctx, from, to, reverse)
	}
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(zs))
	bad := false
	for _, z := range zs {
		m, _ := z.Member.(string)
		h, ok := parseHour(m)
		if !ok || float64(h) != z.Score {
			s.damaged("hours list member", noHour, []byte(s.k.hours()+" "+m), errBadHour)
			bad = true
			continue
		}
		out = append(out, h)
	}
	if bad {
		s.hoursDamaged()
		return s.scanHours(ctx, from, to, reverse)
	}
	return out, nil
}

// parseHour parses an hours list member: an hour in canonical decimal.
func parseHour(m string) (int64, bool) {
	h, err := strconv.ParseInt(m, 10, 64)
	return h, err == nil && strconv.FormatInt(h, 10) == m
}

// scanHours returns the hours in [from, to] that have keys, newest first
// when reverse is set, from a SCAN of every node for the hours' keys.
func (s *Store) scanHours(ctx context.Context, from, to int64, reverse bool) ([]int64, error) {
	tag := "{" + s.k.prefix + ":"
	seen := make(map[int64]bool)
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, tag+"*}:*", 1000).Iterator()
		for it.Next(ctx) {
			k, ok := strings.CutPrefix(it.Val(), tag)
			if !ok {
				continue
			}
			hs, _, ok := strings.Cut(k, "}:")
			if h, good := parseHour(hs); ok && good && h >= from && h <= to {
				seen[h] = true
			}
		}
		return it.Err()
	})
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	slices.Sort(out)
	if reverse {
		slices.Reverse(out)
	}
	return out, nil
}

// repairScript makes the hours list a sorted set of the given hours
// again, in one step: another program's value at its key is deleted, and
// members that name no hour are removed (without sending them to the
// store: a foreign set may be large), and the hours (ARGV, found by a SCAN
// made before) are added. KEYS: the hours list. It returns the number of
// entries that were not the store's (1 for a foreign value).
const repairScript = `
local n = 0
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'zset' then
  redis.call('DEL', KEYS[1])
  n = 1
elseif t == 'zset' then
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local m, h = all[i], tonumber(all[i])
    if h == nil or h ~= math.floor(h) or string.format('%d', h) ~= m or tonumber(all[i + 1]) ~= h then
      redis.call('ZREM', KEYS[1], m)
      n = n + 1
    end
  end
end
for i = 1, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i])
end
return n
`

// repairHours repairs the hours list that a read or write found damaged:
// it lists every hour that has keys (a SCAN of every node, which may be
// long in a shared Redis), and only then replaces what is not the store's
// with those hours, in one script (repairScript). A repair that fails or
// runs out of time changes nothing: the list stays visibly damaged, and
// reads keep finding the hours from their keys.
func (s *Store) repairHours(ctx context.Context) error {
	hs, err := s.scanHours(ctx, -1<<62, 1<<62, false)
	if err != nil {
		return err
	}
	args := make([]any, len(hs))
	for i, h := range hs {
		args[i] = strconv.FormatInt(h, 10)
	}
	return s.rdb.Eval(ctx, repairScript, []string{s.k.hours()}, args...).Err()
}

// repairIfDamaged repairs the hours list if a read or write found it
// damaged since the last repair. One repair runs at a time: a call made
// while another repairs waits for it to end, so that it returns with the
// list repaired (or the damage marked again), never while the other
// repair is still writing it.
func (s *Store) repairIfDamaged(ctx context.Context) error {
	s.repairMu.Lock()
	defer s.repairMu.Unlock()
	if !s.hoursBad.Swap(false) {
		return nil
	}
	if err := s.repairHours(ctx); err != nil {
		s.hoursBad.Store(true)
		return err
	}
	s.log.Warn("redisstore: repaired the list of hours, which held another program's value or missed hours (evicted?)", "key", s.k.hours())
	return nil
}

// Bounds of the background repair of the hours list: its deadline, and
// the wait after a failed attempt (doubled on each failure).
const (
	repairTimeout    = time.Minute
	minRepairBackoff = time.Second
	maxRepairBackoff = 5 * time.Minute
)

// repairInBackground repairs the hours list, if it is damaged, with a
// deadline of its own (off the Write path: the SCAN of a shared Redis may
// take long). After a failed attempt it returns how long to wait before
// the next (doubled on each failure), else 0. The fold loop calls it.
func (s *Store) repairInBackground(wait time.Duration) time.Duration {
	if !s.hoursBad.Load() {
		return 0
	}
	ctx, cancel := context.WithTimeout(s.bg, repairTimeout)
	defer cancel()
	err := s.repairIfDamaged(ctx)
	if err == nil {
		return 0
	}
	wait = min(max(2*wait, minRepairBackoff), maxRepairBackoff)
	if !errors.Is(err, context.Canceled) && !errors.Is(err, store.ErrClosed) {
		s.log.Warn("redisstore: repairing the list of hours", "err", err, "retry_in", wait)
	}
	return wait
}

// hoursDamaged marks the hours list for repair, and wakes the fold loop,
// which repairs it.
func (s *Store) hoursDamaged() {
	if s.hoursBad.Swap(true) {
		return
	}
	select {
	case s.repairNow <- struct{}{}:
	default:
	}
}
