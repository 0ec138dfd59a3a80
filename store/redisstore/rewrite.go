package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
)

// Records written again.
//
// A record stored again with its ID replaces the version stored before,
// wherever that starts. The version before is where Get looks: in the
// hour of the record's ID's time, or in the hour the ids hash names (a
// record whose start is in another hour than its ID's time). A Write's
// transaction reads, with HMGET, what the hour's records hash holds under
// its IDs just before its HSET replaces it (nil for a new ID: a normal
// Write's IDs are all new), and its pipeline reads the ids hash the same
// way while it exists (EXISTS, asked by every write, says so), and, for a
// record stored outside its ID's hour, that hour's hash.
// When HSET says that it replaced records, or those reads found a version
// in another hour, a second round trip, which such Writes alone pay for,
// unlists the versions replaced (their summaries, found from the old
// record's start), deletes one left in another hour, and takes what they
// counted off the hours' size counters, so that MaxBytes counts each ID
// once. Every replaced version is seen by exactly one transaction (the one
// whose HSET replaced it), whose Write cleans it up, so racing writers of
// an ID leave it listed once, with the summary of the record Get returns.

// memberOf returns the summary member of a stored record's encoding, as
// batch makes it, and the record's start.
func memberOf(full []byte) ([]byte, int64, error) {
	r, err := codec.DecodeRecord(full)
	if err != nil {
		return nil, 0, err
	}
	sum := r.Summary()
	durs := codec.CallDurations(r, &sum)
	start := r.Start.UnixNano()
	return codec.AppendSummary(sumKey(start, r.ID), &sum, durs), start, nil
}

// sha1Hex is what Redis's redis.sha1hex says of b.
func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// replacedScript unlists the versions a write of an hour's records
// replaced in the same hour. KEYS: the records hash, the summaries set,
// the size counter. ARGV: the per-record overhead, the bytes of the full
// records replaced (taken off the size counter with what the script
// frees), then for each version replaced: the record's ID, its new
// summary member, the SHA-1 of its new full record, the old version's
// member key (start | ID: 24 bytes), the old member, the old full record's
// length and SHA-1. For a record still stored as the write left it, every
// other member of the old version's key goes; while the record stored is
// the old version again (another write put it back), nothing does; else
// (another write replaced the record since, and unlists this write's
// member) the old member goes. A member the new one equals, or one left
// for the record stored, is taken off the size counter without being
// removed (its write counted it again). Returns the members removed.
const replacedScript = sizeLua + `
local ov = tonumber(ARGV[1])
local freed = tonumber(ARGV[2])
local n = 0
for i = 3, #ARGV, 7 do
  local id, own, ownSha, key, old, oldLen, oldSha = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], tonumber(ARGV[i+5]), ARGV[i+6]
  local cur = redis.call('HGET', KEYS[1], id)
  local curSha = cur and redis.sha1hex(cur)
  if old == own then
    freed = freed + alloc(#old) + ov
  elseif cur and #cur == oldLen and curSha == oldSha then
    freed = freed + alloc(#old) + ov
  elseif cur and curSha == ownSha then
    local hi = '+'
    local b = {string.byte(key, 1, -1)}
    for j = #b, 1, -1 do
      if b[j] < 255 then
        b[j] = b[j] + 1
        hi = '(' .. string.char(unpack(b, 1, j))
        break
      end
    end
    for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[2], '[' .. key, hi)) do
      if m ~= own and redis.call('ZREM', KEYS[2], m) == 1 then
        n = n + 1
        freed = freed + alloc(#m) + ov
      end
    end
  elseif redis.call('ZREM', KEYS[2], old) == 1 then
    n = n + 1
    freed = freed + alloc(#old) + ov
  end
end
if counterOK(KEYS[3]) and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DECRBY', KEYS[3], freed)
end
return n
`

// movedScript deletes the versions of records written again in another
// hour from their old hour: KEYS: that hour's records hash, summaries set
// and size counter; ARGV: the per-record overhead, then for each: the ID,
// the old full record and its summary member. A version that is no
// longer the one the hour holds under its ID (another write replaced it
// since) is left. Returns the versions deleted.
const movedScript = sizeLua + `
local ov = tonumber(ARGV[1])
local freed, n = 0, 0
for i = 2, #ARGV, 3 do
  local id, full, m = ARGV[i], ARGV[i+1], ARGV[i+2]
  if redis.call('HGET', KEYS[1], id) == full then
    redis.call('HDEL', KEYS[1], id)
    freed = freed + alloc(#full) + ov
    if redis.call('ZREM', KEYS[2], m) == 1 then freed = freed + alloc(#m) end
    n = n + 1
  end
end
if counterOK(KEYS[3]) and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DECRBY', KEYS[3], freed)
end
return n
`

// dropIDScript deletes an ids hash entry if it still names the given
// hour: KEYS: the ids hash; ARGV: the ID, the hour.
const dropIDScript = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`

// rewriteScripts are the scripts of records written again, sent by
// EVALSHA (EVAL after NOSCRIPT).
type rewriteScripts struct{ replaced, moved, dropID *redis.Script }

func newRewriteScripts() rewriteScripts {
	return rewriteScripts{redis.NewScript(replacedScript), redis.NewScript(movedScript), redis.NewScript(dropIDScript)}
}

// unlistReplaced cleans up after a write of batch b whose HSET added
// fewer fields than b has records: old holds what the hour's records hash
// held under b's IDs before (HMGET in the same transaction). A record
// twice in b replaced its earlier copy too.
func (s *Store) unlistReplaced(ctx context.Context, b *hourBatch, old []any) error {
	hk := s.k.hour(b.hour)
	args := []any{RecordOverhead, int64(0)}
	var fullFreed int64
	last := make(map[string]int, b.n)
	var errs []error
	for j := range b.n {
		id := b.recs[2*j].(string)
		own := b.members[j].([]byte)
		ownFull := b.recs[2*j+1].([]byte)
		var oldFull, oldMember []byte
		if k, ok := last[id]; ok {
			oldFull, oldMember = b.recs[2*k+1].([]byte), b.members[k].([]byte)
		} else if j < len(old) {
			v, ok := old[j].(string)
			if !ok {
				last[id] = j
				continue
			}
			oldFull = []byte(v)
			m, _, err := memberOf(oldFull)
			if err != nil {
				// The size is taken off; the old summary, if any, stays.
				errs = append(errs, err)
				m = nil
			}
			oldMember = m
		}
		last[id] = j
		fullFreed += allocSize(int64(len(oldFull)))
		if oldMember == nil {
			continue
		}
		args = append(args, id, own, sha1Hex(ownFull), oldMember[:sumKeyLen], oldMember, len(oldFull), sha1Hex(oldFull))
	}
	args[1] = fullFreed
	err := s.rewrite.replaced.Run(ctx, s.rdb, []string{hk.recs, hk.sums, hk.bytes}, args...).Err()
	return errors.Join(append(errs, err)...)
}

// A movedVersion is a version of a record written again that is stored in
// another hour than the new one.
type movedVersion struct {
	hour   int64
	id     string
	full   []byte // nil: to be read
	dropID bool   // the ids hash entry naming hour goes (the new version is in its ID's hour)
}

// unlistMoved deletes the versions of records written again that are
// stored in other hours (vs), and the ids hash entries of those now stored
// in their ID's hour.
func (s *Store) unlistMoved(ctx context.Context, vs []movedVersion) error {
	// Read the versions the ids hash pointed to.
	var gets []*redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		gets = make([]*redis.StringCmd, len(vs))
		for i, v := range vs {
			if v.full == nil {
				gets[i] = p.HGet(ctx, s.k.hour(v.hour).recs, v.id)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	byHour := make(map[int64][]any)
	var errs []error
	for i, v := range vs {
		if gets[i] != nil {
			val, err := gets[i].Bytes()
			if err != nil {
				continue // gone since (or another program's key: left to retention)
			}
			v.full = val
		}
		m, _, err := memberOf(v.full)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		byHour[v.hour] = append(byHour[v.hour], v.id, v.full, m)
	}
	// Both scripts do nothing when run again (the NOSCRIPT fallback).
	err = s.pipelinedScripts(ctx, func(p redis.Pipeliner, eval bool) {
		for h, args := range byHour {
			hk := s.k.hour(h)
			runScript(ctx, p, s.rewrite.moved, eval, []string{hk.recs, hk.sums, hk.bytes}, append([]any{RecordOverhead}, args...)...)
		}
		for _, v := range vs {
			if v.dropID {
				runScript(ctx, p, s.rewrite.dropID, eval, []string{s.k.ids()}, v.id, strconv.FormatInt(v.hour, 10))
			}
		}
	})
	return errors.Join(append(errs, err)...)
}

// idHour is the hour of an ID's time: where Get looks first.
func idHour(id string) int64 {
	var rid recording.ID
	copy(rid[:], id)
	return hourOf(rid.Time().UnixNano())
}
