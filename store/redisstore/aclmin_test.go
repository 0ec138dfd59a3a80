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

// minimalACL is the ACL the package documentation gives a least-privilege
// user of the store under the prefix "min": its keys, its channel, and
// the commands the store sends (and its scripts call).
var minimalACL = []string{
	"resetkeys", "resetchannels", "~{min:*", "~min:*", "&min:events", "-@all",
	"+hello", "+ping", "+cluster|info", "+time", "+publish", "+subscribe",
	"+multi", "+exec", "+watch", "+unwatch", "+eval", "+evalsha", "+scan",
	"+get", "+set", "+getrange", "+incrby", "+decrby", "+exists", "+del", "+unlink", "+type", "+pexpireat", "+pttl",
	"+hset", "+hsetnx", "+hget", "+hmget", "+hdel", "+hlen", "+hscan", "+hstrlen", "+hvals", "+hgetall",
	"+zadd", "+zrem", "+zcard", "+zrange", "+zrangebyscore", "+zrevrangebyscore", "+zrangebylex", "+zrevrangebylex",
	"+rpush", "+lrange", "+ltrim", "+llen", "+lrem",
}

// exerciseStore uses every part of store s (prefix "min"): writes (and
// records written again, in their hour and another), reads, a
// subscription, folds, retention that trims an hour and deletes one
// whole, a repair of the hours list (deleted with admin), Clear and Close.
func exerciseStore(t *testing.T, s *redisstore.Store, admin redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	got := make(chan int, 16)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(sctx, func(n int, _ recording.ID) { got <- n }) }()
	base := time.Now().Add(-5 * time.Hour).Truncate(time.Hour)
	recs := storetest.Records(1, base.Add(time.Minute), 20*time.Second, 60)
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	// Until the subscription is there, writes may go unannounced.
	for tries := 0; ; tries++ {
		if err := s.Write(ctx, recs[:1]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		select {
		case <-got:
		case <-time.After(50 * time.Millisecond):
			if tries < 1000 {
				continue
			}
			t.Fatal("no write announced")
		}
		break
	}
	check("Write", s.Write(ctx, recs))
	check("Write", s.Write(ctx, storetest.Records(2, base.Add(2*time.Hour), time.Minute, 30)))
	again := *recs[3]
	again.Status = 599
	moved := *recs[4]
	moved.Start = base.Add(3 * time.Hour)
	check("Write again", s.Write(ctx, []*recording.Record{&again, &moved}))
	back := *recs[4]
	back.Status = 418
	check("Write back", s.Write(ctx, []*recording.Record{&back}))
	_, err := s.Get(ctx, recs[5].ID)
	check("Get", err)
	_, err = s.Get(ctx, moved.ID)
	check("Get", err)
	if p, err := s.List(ctx, store.Query{Limit: 200}); err != nil || len(p.Records) != 90 {
		t.Errorf("List = %d records, %v; want 90", len(p.Records), err)
	}
	w := store.Window{Since: base, Until: base.Add(4 * time.Hour)}
	_, err = s.Stats(ctx, w)
	check("Stats", err)
	_, err = s.Series(ctx, w, time.Hour)
	check("Series", err)
	check("fold", s.FoldAll(ctx))
	// The hours list lost (evicted): the next write has it repaired.
	check("DEL hours", admin.Del(ctx, "min:hours").Err())
	check("Write", s.Write(ctx, storetest.Records(3, base.Add(2*time.Hour+30*time.Minute), time.Second, 5)))
	check("repair", s.RepairHours(ctx))
	_, err = s.Usage(ctx)
	check("Usage", err)
	check("Retain", s.EnforceRetention(ctx))
	check("Clear", s.Clear(ctx))
	cancel()
	<-done
	check("Close", s.Close())
}

// An ACL user with exactly the commands, keys and channel the package
// documentation lists uses every part of the store, and Redis refuses it
// nothing (ACL LOG stays empty).
func TestACLMinimalUser(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	admin := clientOf(t, r.Addr)
	if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "min", "reset", "on", ">min-pw"}, anys(minimalACL)...)...).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.Open(ctx, "redis://min:min-pw@"+r.Addr, redisstore.Options{
		Prefix: "min", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	exerciseStore(t, s, admin)
	if h := s.Health(); strings.Contains(h.Detail, "may not") {
		t.Errorf("Health = %+v", h)
	}
	log, err := admin.Do(ctx, "ACL", "LOG").Slice()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		// INFO (@dangerous) is asked once, by Open, which then asks
		// CLUSTER INFO whether the server is a cluster node.
		if m, ok := e.(map[any]any); ok && m["object"] == "info" {
			continue
		}
		t.Errorf("Redis refused the minimal user: %v", e)
	}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// The same user on a Redis Cluster, with what go-redis's cluster client
// reads besides (the slot map, the commands' key positions).
func TestACLMinimalUserCluster(t *testing.T) {
	nodes := testservers.StartRedisCluster(t, 3)
	ctx := context.Background()
	for _, n := range nodes { // ACL users are each node's own
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		err := c.Do(ctx, append([]any{"ACL", "SETUSER", "min", "reset", "on", ">min-pw"}, anys(append(minimalACL, "+cluster|slots", "+command"))...)...).Err()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
	defer admin.Close()
	s, err := redisstore.Open(ctx, "redis://min:min-pw@"+nodes[1].Addr, redisstore.Options{
		Prefix: "min", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Client().(*redis.ClusterClient); !ok {
		t.Fatalf("Open made a %T", s.Client())
	}
	exerciseStore(t, s, admin)
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		log, err := c.Do(ctx, "ACL", "LOG").Slice()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range log {
			if m, ok := e.(map[any]any); ok && m["object"] == "info" {
				continue
			}
			t.Errorf("node %s refused the minimal user: %v", n.Addr, e)
		}
	}
}
