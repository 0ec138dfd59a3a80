package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// hourKey names a key of the hour of t under prefix.
func hourKey(prefix string, t time.Time, suffix string) string {
	return "{" + prefix + ":" + strconv.FormatInt(t.Unix()/3600, 10) + "}:" + suffix
}

// Another program's value at the global hours key (a string, a hash, a
// list, or a sorted set of members that are not hours) is damage the
// store reads around: List, Stats and Series answer from the hours' own
// keys, the key is counted once in Skipped, the next Write succeeds, and
// the repair (the fold loop's, in the background; called here to wait for
// it) puts the list of hours back. Before, every read failed with
// WRONGTYPE (a 500 on the dashboard) and every write failed, dropping its
// records and backing off, until someone deleted the key by hand.
func TestForeignHoursKey(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recent := now.Add(-time.Minute)
	for _, kind := range []string{"string", "hash", "list", "zset"} {
		t.Run(kind, func(t *testing.T) {
			prefix := "hours-" + kind
			s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
			if err := s.Write(ctx, storetest.Records(1, old, time.Second, 10)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, storetest.Records(2, recent, time.Millisecond, 20)); err != nil {
				t.Fatal(err)
			}
			key := prefix + ":hours"
			c.Del(ctx, key)
			var err error
			switch kind {
			case "string":
				err = c.Set(ctx, key, "another program's", 0).Err()
			case "hash":
				err = c.HSet(ctx, key, "a", "b").Err()
			case "list":
				err = c.RPush(ctx, key, "a", "b").Err()
			case "zset": // members cut short, or of another program
				err = c.ZAdd(ctx, key, redis.Z{Score: float64(old.Unix() / 3600), Member: "49"}, redis.Z{Score: 1, Member: "x"}).Err()
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.List(ctx, store.Query{Limit: 100})
			if err != nil || len(p.Records) != 30 {
				t.Errorf("List = %d records, %v; want 30", len(p.Records), err)
			}
			w := store.Window{Since: now.Add(-4 * time.Hour), Until: now}
			if st, err := s.Stats(ctx, w); err != nil || st.Requests != 30 {
				t.Errorf("Stats = %d requests, %v; want 30", requests(st), err)
			}
			if b, err := s.Series(ctx, w, time.Hour); err != nil || len(b) == 0 {
				t.Errorf("Series = %d buckets, %v", len(b), err)
			}
			if h := s.Health(); h.Skipped == 0 {
				t.Errorf("Health = %+v, want the damaged hours key counted in Skipped", h)
			}
			if err := s.Write(ctx, storetest.Records(3, recent, time.Millisecond, 5)); err != nil {
				t.Errorf("Write with a foreign hours key: %v", err)
			}
			if ws := s.WriteStats(); ws.Dropped != 0 || ws.Written != 35 {
				t.Errorf("WriteStats = %+v; want 35 written, none dropped", ws)
			}
			if err := s.RepairHours(ctx); err != nil {
				t.Errorf("RepairHours: %v", err)
			}
			if typ, _ := c.Type(ctx, key).Result(); typ != "zset" {
				t.Errorf("the hours key is a %s after the repair, want the store's sorted set back", typ)
			}
			if n, _ := c.ZCard(ctx, key).Result(); n != 2 {
				t.Errorf("the hours key holds %d hours after the repair, want 2", n)
			}
			if _, err := s.Retain(ctx); err != nil {
				t.Errorf("Retain: %v", err)
			}
			if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 35 {
				t.Errorf("List after the write = %d records, %v; want 35", len(p.Records), err)
			}
		})
	}
}

// A key of the hour that another program set, met by a write's
// transaction, loses only what the transaction could not store: a foreign
// deltas list or size counter costs the records' rollup contribution (the
// key counted in Skipped), not the records, which Write stores and counts
// as written; a foreign records hash or summaries set drops the hour's
// records, counted as dropped, with an error that does not say Redis is
// unavailable and starts no backoff: the next write to another hour is
// stored, and no part of the dropped records stays (List, Stats and the
// size counter leave them out). Before, every such write said
// "unavailable", counted all its records dropped (those it stored too) and
// backed off; and later the dropped records' summaries, deltas and size
// were kept (listed, counted) though their full records were not.
func TestForeignKeyInWrite(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	now := time.Now()
	damaged := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recent := now.Add(-time.Minute)
	for _, suffix := range []string{"d", "b", "r", "s"} {
		t.Run(suffix, func(t *testing.T) {
			prefix := "wforeign-" + suffix
			s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
			if err := c.Set(ctx, hourKey(prefix, damaged, suffix), "another program's", 0).Err(); err != nil {
				t.Fatal(err)
			}
			recs := append(storetest.Records(1, damaged, time.Second, 10), storetest.Records(2, recent, time.Millisecond, 10)...)
			err := s.Write(ctx, recs)
			ws := s.WriteStats()
			lost := suffix == "r" || suffix == "s"
			if !lost {
				if err != nil || ws.Written != 20 || ws.Dropped != 0 {
					t.Errorf("Write = %v, %+v; want 20 written, none dropped", err, ws)
				}
				if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 20 {
					t.Errorf("List = %d records, %v; want 20", len(p.Records), err)
				}
			} else {
				if err == nil || errors.Is(err, redisstore.ErrUnavailable) || ws.Written != 10 || ws.Dropped != 10 {
					t.Errorf("Write = %v, %+v; want an error not ErrUnavailable, 10 written, 10 dropped", err, ws)
				}
				// No part of a dropped record stays: not listed, not
				// counted in Stats, nor in the hour's size.
				if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 10 {
					t.Errorf("List = %d records, %v; want the 10 stored", len(p.Records), err)
				}
				if st, err := s.Stats(ctx, store.Window{Since: now.Add(-4 * time.Hour), Until: now}); err != nil || st.Requests != 10 {
					t.Errorf("Stats = %d requests, %v; want the 10 stored", requests(st), err)
				}
				if b := c.Get(ctx, hourKey(prefix, damaged, "b")).Val(); b != "" && b != "0" {
					t.Errorf("the damaged hour's size counter = %q; want nothing counted", b)
				}
			}
			if h := s.Health(); h.Skipped != 1 || h.State != store.StateOK {
				t.Errorf("Health = %+v; want ok, the foreign key counted once in Skipped", h)
			}
			if err := s.Write(ctx, storetest.Records(3, recent, time.Millisecond, 5)); err != nil {
				t.Errorf("the next write: %v", err)
			}
		})
	}
}
