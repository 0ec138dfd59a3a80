package redisstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// errBadHour is what damaged counts for a member of the hours list that
// names no hour (not an integer, or another score than its hour).
var errBadHour = errors.New("not an hour of the store")

// listHours returns the listed hours in [from, to], newest first when
// reverse is set. If the hours list is damaged — another program's value
// at its key, or members that name no hour — the damage is counted, the
// next Write or retention pass repairs the list (see repairHours), and the
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
		s.hoursBad.Store(true)
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
		s.hoursBad.Store(true)
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

// repairScript makes the hours list a sorted set of hours again: another
// program's value at its key is deleted, and members that name no hour
// are removed (without sending them to the store: a foreign set may be
// large). KEYS: the hours list.
const repairScript = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return 0 end
if t ~= 'zset' then redis.call('DEL', KEYS[1]) return 1 end
local n = 0
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local m, h = all[i], tonumber(all[i])
  if h == nil or h ~= math.floor(h) or string.format('%d', h) ~= m or tonumber(all[i + 1]) ~= h then
    redis.call('ZREM', KEYS[1], m)
    n = n + 1
  end
end
return n
`

// repairHours repairs the hours list that a read or write found damaged:
// it removes what is not the store's (repairScript), then lists again
// every hour that has keys.
func (s *Store) repairHours(ctx context.Context) error {
	if err := s.rdb.Eval(ctx, repairScript, []string{s.k.hours()}).Err(); err != nil {
		return err
	}
	hs, err := s.scanHours(ctx, -1<<62, 1<<62, false)
	if err != nil || len(hs) == 0 {
		return err
	}
	z := make([]redis.Z, len(hs))
	for i, h := range hs {
		z[i] = redis.Z{Score: float64(h), Member: strconv.FormatInt(h, 10)}
	}
	return s.rdb.ZAdd(ctx, s.k.hours(), z...).Err()
}

// repairIfDamaged repairs the hours list if a read or write found it
// damaged since the last repair.
func (s *Store) repairIfDamaged(ctx context.Context) error {
	if !s.hoursBad.Swap(false) {
		return nil
	}
	if err := s.repairHours(ctx); err != nil {
		s.hoursBad.Store(true)
		return err
	}
	s.log.Warn("redisstore: repaired the list of hours, which held another program's value", "key", s.k.hours())
	return nil
}
