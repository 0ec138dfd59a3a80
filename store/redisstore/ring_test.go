package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRingRepairAndClear: on a Ring of two servers, the hours list's
// repair (a SCAN of every shard) and Clear (every shard's keys) reach
// both shards, as on a Redis Cluster, rather than refusing the client.
func TestRingRepairAndClear(t *testing.T) {
	a, b := testservers.StartRedis(t), testservers.StartRedis(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr, "b": b.Addr}, ContextTimeoutEnabled: true})
	defer ring.Close()
	ctx := t.Context()
	s, err := redisstore.New(ring, redisstore.Options{Prefix: "ring", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-20 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	const hours = 16
	for h := range hours {
		if err := s.Write(ctx, storetest.Records(uint64(h+1), start.Add(time.Duration(h)*time.Hour), time.Second, 2)); err != nil {
			t.Fatal(err)
		}
	}
	ca, cb := clientOf(t, a.Addr), clientOf(t, b.Addr)
	if ca.DBSize(ctx).Val() == 0 || cb.DBSize(ctx).Val() == 0 {
		t.Fatalf("the hours are not on both shards (%d and %d keys)", ca.DBSize(ctx).Val(), cb.DBSize(ctx).Val())
	}

	// Another program's value at the hours list: a write meets it, and
	// the repair lists every hour found on either shard.
	if err := ring.Set(ctx, "ring:hours", "another program's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(hours+1, start, time.Second, 2)); err != nil {
		t.Fatalf("Write meeting the damage: %v", err)
	}
	if err := s.RepairHours(ctx); err != nil {
		t.Fatalf("repair on a Ring: %v", err)
	}
	if n, err := ring.ZCard(ctx, "ring:hours").Result(); err != nil || n != hours {
		t.Errorf("hours listed after the repair: %d, %v; want %d", n, err, hours)
	}
	p, err := s.List(ctx, store.Query{Limit: 100})
	if err != nil || len(p.Records) != 2*(hours+1) {
		t.Errorf("List after the repair: %d records, %v; want %d", len(p.Records), err, 2*(hours+1))
	}

	if err := s.Clear(ctx); err != nil {
		t.Fatalf("Clear on a Ring: %v", err)
	}
	for name, c := range map[string]*redis.Client{"a": ca, "b": cb} {
		if keys := c.Keys(ctx, "*").Val(); len(keys) != 0 {
			t.Errorf("shard %s holds %d keys after Clear: %q", name, len(keys), keys)
		}
	}
}
