package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
)

// Records written again.
//
// A record stored again with its ID replaces the version stored before,
// wherever that starts. The version before is where Get looks: in the
// hour of the record's ID's time, or in the hour the ids hash names (a
// record whose start is in another hour than its ID's time).
//
// In one hour: a Write's transaction reads, with HMGET, what the hour's
// records hash holds under its IDs just before its HSET replaces it (nil
// for a new ID: a normal Write's IDs are all new). When HSET says that it
// replaced records, a second round trip, which such Writes alone pay for,
// unlists the versions replaced (their summaries, found from the old
// record's start) and takes what they counted off the hour's size
// counter, so that MaxBytes counts each ID once. Every replaced version
// is seen by exactly one transaction (the one whose HSET replaced it),
// whose Write cleans it up, so racing writers of an ID in one hour leave
// it listed once, with the summary of the record Get returns.
//
// Across hours: a version in another hour cannot be found, nor deleted,
// in the hour's transaction in a Redis Cluster (the hours and the ids
// hash are in other slots). On a single server each hour's transaction
// reads the ids hash for its IDs while it exists (EXISTS, asked by every
// write, says so), names a record stored outside its ID's hour there if
// it names none yet (HSETNX), and asks the ID's own hour for a version
// of such a record (HSTRLEN), all atomically with its HSET; in a Redis
// Cluster the write's pipeline does the reading, beside the transactions,
// and a pipeline after it the naming, once the hours' listing has been
// answered (see cleanIDs). (Here and below, "a Redis Cluster" stands for
// every client but a *redis.Client of a single server: a Ring too, see
// the package doc.) A record the write stored outside its ID's hour, or that
// the ids hash named in another hour, is then settled (settleMoved) — but
// for a record the transaction itself named, with no version in its ID's
// hour (a new record stored outside that hour: nothing else to settle,
// and one round trip in all) — under a lock of its ID's that writers take
// one at a time: if the write's version is still where it put it, the
// ids hash is pointed there, and the versions in the ID's hour and in
// the hour the ids hash named are deleted, each only if it is still the
// version read (movedScript).
//
// The lock is no fence (it can expire after its holder stalled past its
// TTL, a volatile-* eviction policy can evict it, a failover can lose
// the SET NX), and on a single server nothing counts on it: a script
// points the ids hash only while the write's version is still there
// (pointScript), and movedScript deletes an old version only while the
// write's version is still there and the ids hash still names it (no
// other settling has moved the ID since), or while the old version is
// not the one Get finds; each checked atomically with the delete; and,
// last, the write's own version goes too if Get finds another (another
// settling of the ID won meanwhile). Two settlings of one ID that
// overlap thus leave one version found by Get, never none
// (TestMoveLockLostMidMove); the loser's version stays listed beside it
// only if the winner read the ids hash before the loser pointed it, and
// pointed it after the loser's deletes. In a Redis Cluster the lock is read again
// before the deletes and an ID whose lock has gone is left, which narrows
// but does not close the race: there, two settlings overlapping past
// that read can delete each other's versions.
//
// A write at the ID's own hour that lands after a settling writer read
// that hour sees, on a single server, the entry settling put in the ids
// hash (its transaction reads it), and settles in turn
// (TestRewriteLandsAfterSettling). In a Redis Cluster, one whose
// pipeline read the ids hash before that entry was put there is settled
// by no one, and stays listed beside the version settled (Get returns
// the one in the ID's hour). A Write waits for other writers' locks a
// tenth of WriteTimeout in all, then leaves those IDs unsettled (their
// old versions listed too), as does a settling that fails (the log says
// so).

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
// and size counter, then (on a single server) the ids hash and the
// records hashes of the other hours it reads; ARGV: the per-record
// overhead, the hour's number, then for each version: the ID, the old
// full record, its summary member, the index in KEYS of the records hash
// the settling write stored the ID in (0 for none: a Redis Cluster), the
// SHA-1 of what it stored there, what the ids hash names while that
// version is the ID's (that hour, or "" for no entry: the ID's own hour),
// and the index in KEYS of the records hash of the ID's own hour.
//
// A version that is no longer the one the hour holds under its ID
// (another write replaced it since) is left. On a single server, the
// version goes only while the settling write's own version is still
// where it put it and the ids hash names it there (no other settling has
// moved the ID since: the lock is no fence, this is), or while it is not
// the version Get finds (in the ID's own hour if one is there, else in
// the hour the ids hash names): a settling that lost to another does not
// leave the version before both listed. An index of -1 for the settling
// write's records hash asks for the second test alone: the settling
// write's own version, which goes if another settling of the ID has won
// since (Get finds another), rather than stay listed beside it. Returns
// the versions deleted.
const movedScript = sizeLua + `
local ov = tonumber(ARGV[1])
local here = ARGV[2]
local freed, n = 0, 0
for i = 3, #ARGV, 7 do
  local id, full, m, k, ownSha, want, kh = ARGV[i], ARGV[i+1], ARGV[i+2], tonumber(ARGV[i+3]), ARGV[i+4], ARGV[i+5], tonumber(ARGV[i+6])
  local ok = true
  if k ~= 0 then
    local named = redis.pcall('HGET', KEYS[4], id)
    if type(named) == 'table' then named = nil end
    ok = false
    if k > 0 then
      local cur = redis.pcall('HGET', KEYS[k], id)
      ok = type(cur) == 'string' and redis.sha1hex(cur) == ownSha
      if ok then
        if want == '' then ok = not named else ok = named == want end
      end
    end
    if not ok then
      -- Not this settling's to delete: unless Get would not find it.
      local l = redis.pcall('HSTRLEN', KEYS[kh], id)
      if type(l) == 'number' and l > 0 then
        ok = kh ~= 1
      else
        ok = named ~= here
      end
    end
  end
  if ok and redis.call('HGET', KEYS[1], id) == full then
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

// pointScript points the ids hash (KEYS[1]) at the versions settling
// writes stored, each only while that version is still there. ARGV: for
// each: the ID, the index in KEYS of the records hash the write stored it
// in, the SHA-1 of what it stored, and what the ids hash is to name (""
// for no entry: the ID's own hour). Returns, for each, 1 if it pointed
// the entry, 0 if the version is gone.
const pointScript = `
local out = {}
for i = 1, #ARGV, 4 do
  local id, k, sha, want = ARGV[i], tonumber(ARGV[i+1]), ARGV[i+2], ARGV[i+3]
  local cur = redis.pcall('HGET', KEYS[k], id)
  if type(cur) == 'string' and redis.sha1hex(cur) == sha then
    if want == '' then redis.call('HDEL', KEYS[1], id) else redis.call('HSET', KEYS[1], id, want) end
    out[#out+1] = 1
  else
    out[#out+1] = 0
  end
end
return out
`

// unlockScript releases a lock (KEYS[1]) if it still holds this store's
// settling's token (ARGV[1]).
const unlockScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

// cleanIDsScript deletes entries of the ids hash (KEYS[1]) whose hour is
// gone (see cleanIDs). ARGV: for each, the ID, the hour it named when
// found gone, and the index in KEYS of that hour's records hash (0 for
// none: a Redis Cluster, where the hour is in another slot). An entry
// goes only if it still names that hour, and that hour's records hash
// holds no record of the ID. Returns the entries deleted.
const cleanIDsScript = `
local n = 0
for i = 1, #ARGV, 3 do
  local id, h, k = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2])
  if redis.call('HGET', KEYS[1], id) == h then
    local held = 0
    if k > 0 then
      local l = redis.pcall('HSTRLEN', KEYS[k], id)
      if type(l) == 'number' then held = l end
    end
    if held == 0 then
      redis.call('HDEL', KEYS[1], id)
      n = n + 1
    end
  end
end
return n
`

// rewriteScripts are the scripts of records written again, sent by
// EVALSHA (EVAL after NOSCRIPT).
type rewriteScripts struct{ replaced, moved, unlock, clean, point *redis.Script }

func newRewriteScripts() rewriteScripts {
	return rewriteScripts{redis.NewScript(replacedScript), redis.NewScript(movedScript), redis.NewScript(unlockScript), redis.NewScript(cleanIDsScript), redis.NewScript(pointScript)}
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

// A movedVersion is a record a write stored that may have a version in
// another hour: stored outside its ID's hour, or named by the ids hash in
// another hour than the write's.
type movedVersion struct {
	hour int64  // where the write stored it
	id   string // the ID
	full []byte // what the write stored
}

// moveLockTTL bounds how long a process that stops while settling an ID
// (see settleMoved) keeps other writers of the ID from settling it: at
// least twice WriteTimeout, which bounds the settling.
const moveLockTTL = 30 * time.Second

// settleMoved makes each ID of vs found where the write stored it, and
// deletes its versions in other hours. Each ID is settled under a lock
// of its own (a key of the store's, SET NX, with a TTL), so that writers
// of one ID settle it one at a time; the deletes do not count on it
// (see settleLocked). A write whose version has been replaced since
// settles nothing: the one that replaced it does. An ID whose lock stays
// taken past what *lockWait has left (or until ctx ends) is left as it
// is (its old versions stay listed, Get finds one of them or the new
// one); the time waited is taken off *lockWait.
func (s *Store) settleMoved(ctx context.Context, vs []movedVersion, lockWait *time.Duration) error {
	var errs []error
	var tok [12]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:]) // this settling's, not the store's: two Writes of a store settle apart
	ttl := max(moveLockTTL, 2*s.opts.WriteTimeout)
	cluster := !s.single
	var waiting time.Time // since a lock of vs was first found taken
	defer func() {
		if !waiting.IsZero() {
			*lockWait -= min(*lockWait, time.Since(waiting))
		}
	}()
	for len(vs) > 0 {
		// Take the locks that are free; settle those IDs; try the
		// others again.
		// On a single server the reads settling starts with go in the
		// same round trip, each after its lock's SET NX (a connection's
		// commands run in order): what they read of an ID whose lock was
		// taken, they read under it.
		var takes []*redis.BoolCmd
		var reads *settleReads
		if !cluster {
			reads = &settleReads{}
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			takes = make([]*redis.BoolCmd, len(vs))
			for i, v := range vs {
				takes[i] = p.SetNX(ctx, s.k.moveLock(v.id), token, ttl)
				if reads != nil {
					reads.queue(ctx, p, s, v)
				}
			}
			return nil
		})
		if errors.Is(err, redis.Nil) {
			err = nil // an HGET that found nothing
			for _, c := range takes {
				if c.Err() != nil {
					err = c.Err()
					break
				}
			}
		}
		if err != nil {
			// Some SET NX may have been applied before the error:
			// release every lock of vs that holds this token.
			s.unlockMoved(ctx, vs, token)
			return errors.Join(append(errs, err)...)
		}
		var mine, wait []movedVersion
		var mineReads *settleReads
		if reads != nil {
			mineReads = &settleReads{}
		}
		for i, v := range vs {
			if takes[i].Val() {
				mine = append(mine, v)
				if reads != nil {
					mineReads.own = append(mineReads.own, reads.own[i])
					mineReads.named = append(mineReads.named, reads.named[i])
				}
			} else {
				wait = append(wait, v)
			}
		}
		if len(mine) > 0 {
			unlocked, err := s.settleLocked(ctx, mine, token, mineReads)
			if err != nil {
				errs = append(errs, err)
			}
			if !unlocked {
				if err := s.unlockMoved(ctx, mine, token); err != nil {
					errs = append(errs, err)
				}
			}
		}
		vs = wait
		if len(vs) > 0 {
			if waiting.IsZero() {
				waiting = time.Now()
			}
			if time.Since(waiting) >= *lockWait {
				return errors.Join(append(errs, fmt.Errorf("%d records written again left unsettled: their locks are held by another writer", len(vs)))...)
			}
			t := time.NewTimer(2 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(append(errs, fmt.Errorf("%d records written again left unsettled: %w", len(vs), ctx.Err()))...)
			case <-t.C:
			}
		}
	}
	return errors.Join(errs...)
}

// unlockMoved releases the locks of vs that hold token, with the context
// of the write: once that has ended (its WriteTimeout, a Redis out of
// reach, the caller gone) nothing more is sent, and the locks are left
// to expire (moveLockTTL), so that the host never waits on Redis past a
// Write's deadline. Until then, other writers of those IDs wait a tenth
// of their WriteTimeout and leave them unsettled (listed twice, not
// lost).
func (s *Store) unlockMoved(ctx context.Context, vs []movedVersion, token string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%d move locks left to expire: %w", len(vs), err)
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, v := range vs {
			s.rewrite.unlock.Eval(ctx, p, []string{s.k.moveLock(v.id)}, token)
		}
		return nil
	})
	return err
}

// settleReads are what settling reads first, for each ID: is the write's
// version still there, and where does the ids hash point?
type settleReads struct{ own, named []*redis.StringCmd }

func (r *settleReads) queue(ctx context.Context, p redis.Pipeliner, s *Store, v movedVersion) {
	r.own = append(r.own, p.HGet(ctx, s.k.hour(v.hour).recs, v.id))
	r.named = append(r.named, p.HGet(ctx, s.k.ids(), v.id))
}

// settleLocked settles vs, whose locks this store holds with token
// (see settleMoved), from reads, taken with the locks (nil: read here).
// On a single server it releases the locks with its deletes, in one
// round trip, and says so (unlocked); else settleMoved releases them.
func (s *Store) settleLocked(ctx context.Context, vs []movedVersion, token string, reads *settleReads) (unlocked bool, err error) {
	if s.settleHook != nil {
		s.settleHook("read")
	}
	if reads == nil {
		reads = &settleReads{}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, v := range vs {
				reads.queue(ctx, p, s, v)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
	}
	own, named := reads.own, reads.named
	cluster := !s.single
	want := func(v movedVersion) string {
		if v.hour == idHour(v.id) {
			return ""
		}
		return strconv.FormatInt(v.hour, 10)
	}
	var live []int // the index in vs of each ID whose write's version is still there
	for i, v := range vs {
		if cur, err := own[i].Bytes(); err == nil && bytes.Equal(cur, v.full) {
			live = append(live, i)
		} // else replaced since: its writer settles it
	}
	if len(live) == 0 {
		return false, nil
	}
	type old struct {
		v    int // index in vs
		hour int64
		get  *redis.StringCmd
	}
	var olds []old
	var held []*redis.StringCmd // in a Redis Cluster: the locks, read again
	var pointed *redis.Cmd      // on a single server: pointScript's reply
	// Point the ids hash at the write's hour first (none for the ID's
	// own hour, where Get looks first), then read the other versions. On
	// a single server a script points it only while the write's version
	// is still there; a Redis Cluster keeps the hours and the ids hash in
	// other slots, so there the entry is set after the read above, and
	// the lock read again.
	err = s.pipelinedScripts(ctx, func(p redis.Pipeliner, eval bool) {
		olds = olds[:0]
		if cluster {
			held = make([]*redis.StringCmd, len(vs))
			for _, i := range live {
				if w := want(vs[i]); w == "" {
					p.HDel(ctx, s.k.ids(), vs[i].id)
				} else {
					p.HSet(ctx, s.k.ids(), vs[i].id, w)
				}
				held[i] = p.Get(ctx, s.k.moveLock(vs[i].id))
			}
		} else {
			keys := []string{s.k.ids()}
			at := map[int64]int{}
			args := make([]any, 0, 4*len(live))
			for _, i := range live {
				v := vs[i]
				k := at[v.hour]
				if k == 0 {
					keys = append(keys, s.k.hour(v.hour).recs)
					k = len(keys)
					at[v.hour] = k
				}
				args = append(args, v.id, k, sha1Hex(v.full), want(v))
			}
			pointed = runScript(ctx, p, s.rewrite.point, eval, keys, args...)
		}
		for _, i := range live {
			v := vs[i]
			home := idHour(v.id)
			hours := []int64{home}
			if hs, err := named[i].Result(); err == nil {
				if h, ok := parseHour(hs); ok && h != home {
					hours = append(hours, h)
				}
			}
			for _, h := range hours {
				if h != v.hour {
					olds = append(olds, old{i, h, p.HGet(ctx, s.k.hour(h).recs, v.id)})
				}
			}
		}
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, err
	}
	settled := make(map[int]bool, len(live)) // the IDs this settling may delete the old versions of
	if pointed != nil {
		flags, err := pointed.Int64Slice()
		if err != nil {
			return false, err
		}
		for j, i := range live {
			if j < len(flags) && flags[j] == 1 {
				settled[i] = true
			}
		}
	} else {
		for _, i := range live {
			settled[i] = held[i].Val() == token
		}
	}
	if s.settleHook != nil {
		s.settleHook("delete")
	}
	// The deletes (movedScript) check again, on a single server, that
	// the write's version is still where it put it and that the ids hash
	// still names it there, atomically with the delete, so that a
	// settling that overlaps another of the ID's (its lock lost to an
	// eviction, a failover, or its TTL) deletes nothing the other stored;
	// in a Redis Cluster, an ID whose lock has gone is left as it is.
	byHour := make(map[int64]*movedCall)
	var errs []error
	for _, o := range olds {
		v := vs[o.v]
		if !settled[o.v] {
			continue // the lock went, or the version: left as it is
		}
		full, err := o.get.Bytes()
		if err != nil {
			continue // none there (or another program's key: left to retention)
		}
		m, _, err := memberOf(full)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c := byHour[o.hour]
		if c == nil {
			hk := s.k.hour(o.hour)
			c = &movedCall{keys: []string{hk.recs, hk.sums, hk.bytes}, args: []any{RecordOverhead, strconv.FormatInt(o.hour, 10)}, at: map[int64]int{o.hour: 1}}
			if !cluster {
				c.keys = append(c.keys, s.k.ids())
			}
			byHour[o.hour] = c
		}
		k, kh := 0, 0
		if !cluster {
			k, kh = c.key(s, v.hour), c.key(s, idHour(v.id))
		}
		c.args = append(c.args, v.id, full, m, k, sha1Hex(v.full), want(v), kh)
	}
	selfs := make(map[int64]*movedCall)
	if !cluster {
		// Each write's own version too, should another settling of the
		// ID have won meanwhile (its lock lost): it goes if Get finds
		// another, rather than stay listed beside it. Asked after the
		// deletes above (a pipeline's commands run in order), so that
		// the old version this settling deletes is gone by then.
		for _, i := range live {
			v := vs[i]
			if !settled[i] {
				continue
			}
			m, _, err := memberOf(v.full)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c := selfs[v.hour]
			if c == nil {
				hk := s.k.hour(v.hour)
				c = &movedCall{keys: []string{hk.recs, hk.sums, hk.bytes, s.k.ids()}, args: []any{RecordOverhead, strconv.FormatInt(v.hour, 10)}, at: map[int64]int{v.hour: 1}}
				selfs[v.hour] = c
			}
			c.args = append(c.args, v.id, v.full, m, -1, "", "", c.key(s, idHour(v.id)))
		}
	}
	// movedScript does nothing when run again (the NOSCRIPT fallback),
	// nor does the unlock. On a single server, where the deletes do not
	// count on the locks, the locks go in the same round trip.
	err = s.pipelinedScripts(ctx, func(p redis.Pipeliner, eval bool) {
		for _, c := range byHour {
			runScript(ctx, p, s.rewrite.moved, eval, c.keys, c.args...)
		}
		for _, c := range selfs {
			runScript(ctx, p, s.rewrite.moved, eval, c.keys, c.args...)
		}
		for _, v := range vs {
			if !cluster {
				runScript(ctx, p, s.rewrite.unlock, eval, []string{s.k.moveLock(v.id)}, token)
			}
		}
	})
	return !cluster && err == nil, errors.Join(append(errs, err)...)
}

// A movedCall is one movedScript call's keys and arguments.
type movedCall struct {
	keys []string
	args []any
	at   map[int64]int // the index in keys (from 1) of each hour's records hash
}

// key returns the index in c.keys (from 1) of hour h's records hash,
// adding it.
func (c *movedCall) key(s *Store, h int64) int {
	k := c.at[h]
	if k == 0 {
		c.keys = append(c.keys, s.k.hour(h).recs)
		k = len(c.keys)
		c.at[h] = k
	}
	return k
}

// idHour is the hour of an ID's time: where Get looks first.
func idHour(id string) int64 {
	var rid recording.ID
	copy(rid[:], id)
	return hourOf(rid.Time().UnixNano())
}
