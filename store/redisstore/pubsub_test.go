package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// An ACL user refused the store's channel (no &prefix:* pattern, as Redis
// 7 gives a new user by default, or refused PUBLISH or SUBSCRIBE) keeps
// its records but has no live updates, and is told: Health's Detail names
// the channel and what is refused, writes are stored (without their
// announcement), and Subscribe returns the refusal at once. Before, Open
// said nothing; every write of a user refused PUBLISH failed (EXECABORT:
// records dropped, Health "unavailable"), and Subscribe retried its
// refused subscription silently until its context ended. A store made by
// New (which asks nothing) finds the refusal at its first write and writes
// again without the announcement.
func TestACLUserWithoutChannel(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	for _, user := range [][]string{
		{"nochannel", "resetchannels"},
		{"nopublish", "&nochan:*", "-publish"},
		{"nosubscribe", "&nochan:*", "-subscribe"},
	} {
		name := user[0]
		t.Run(name, func(t *testing.T) {
			args := []any{"ACL", "SETUSER", name, "on", ">pw", "~{nochan:*", "~nochan:*", "+@all", "-@dangerous"}
			for _, a := range user[1:] {
				args = append(args, a)
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatal(err)
			}
			c.FlushAll(ctx) // the previous user's records
			now := time.Now()
			rdb := redis.NewClient(&redis.Options{Addr: r.Addr, Username: name, Password: "pw"})
			defer rdb.Close()
			opened, err := redisstore.Open(ctx, "redis://"+name+":pw@"+r.Addr, redisstore.Options{Prefix: "nochan", FoldInterval: -1, RetentionInterval: -1})
			if err != nil {
				t.Fatalf("Open as a user refused the channel: %v", err)
			}
			defer opened.Close()
			made, err := redisstore.New(rdb, redisstore.Options{Prefix: "nochan", FoldInterval: -1, RetentionInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer made.Close()
			for _, s := range []*redisstore.Store{opened, made} {
				if err := s.Write(ctx, storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 3)); err != nil {
					t.Errorf("Write: %v", err)
				}
				if ws := s.WriteStats(); ws.Written != 3 || ws.Dropped != 0 {
					t.Errorf("WriteStats = %+v; want 3 written", ws)
				}
			}
			if err := made.Write(ctx, storetest.Records(2, now.Add(-time.Minute), time.Millisecond, 3)); err != nil {
				t.Errorf("New's second Write: %v", err)
			}
			if p, err := opened.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 9 {
				t.Errorf("List = %d records, %v; want 9, every write's", len(p.Records), err)
			}
			if name != "nopublish" {
				// A minute is a hang guard: Subscribe is to return at once.
				sctx, cancel := context.WithTimeout(ctx, time.Minute)
				defer cancel()
				for _, s := range []*redisstore.Store{opened, made} {
					if err := s.Subscribe(sctx, func(int, recording.ID) {}); err == nil || !strings.Contains(err.Error(), "NOPERM") {
						t.Errorf("Subscribe = %v; want the refusal", err)
					}
				}
			}
			for _, s := range []*redisstore.Store{opened, made} {
				h := s.Health()
				if h.State != store.StateOK || !strings.Contains(h.Detail, "no live updates") || !strings.Contains(h.Detail, "nochan:events") {
					t.Errorf("Health = %+v; want ok, no live updates, naming the channel", h)
				}
			}
		})
	}
}
