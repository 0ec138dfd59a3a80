package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// An ACL user limited to the store's keys and channel, and refused the
// @dangerous commands (INFO among them), as a least-privilege setup has
// it, opens the store and uses all of it. Before, Open failed: it asked
// INFO whether the server is a cluster node, and called the refusal
// "unreachable". A wrong password is said to be refused, without the
// password.
func TestACLUser(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	if err := c.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pw",
		"~{acl:*", "~acl:*", "&acl:*", "+@all", "-@dangerous").Err(); err != nil {
		t.Fatal(err)
	}
	url := "redis://app:app-pw@" + r.Addr
	s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: "acl", FoldInterval: -1, RetentionInterval: -1, MaxRecords: 5})
	if err != nil {
		t.Fatalf("Open as a user without @dangerous: %v", err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.Write(ctx, storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10)); err != nil {
		t.Fatal(err)
	}
	if p, err := s.List(ctx, store.Query{}); err != nil || len(p.Records) != 10 {
		t.Errorf("List = %d records, %v", len(p.Records), err)
	}
	if st, err := s.Stats(ctx, store.Window{Since: now.Add(-time.Hour), Until: now}); err != nil || st.Requests != 10 {
		t.Errorf("Stats = %v", err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Errorf("fold: %v", err)
	}
	if res, err := s.Retain(ctx); err != nil || res.Deleted != 5 {
		t.Errorf("Retain = %+v, %v; want 5 deleted", res, err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Errorf("Clear: %v", err)
	}

	// A user refused CLUSTER INFO too is taken for a single server.
	if err := c.Do(ctx, "ACL", "SETUSER", "app2", "on", ">app-pw",
		"~{acl:*", "~acl:*", "&acl:*", "+@all", "-@dangerous", "-cluster").Err(); err != nil {
		t.Fatal(err)
	}
	s2, err := redisstore.Open(ctx, "redis://app2:app-pw@"+r.Addr, redisstore.Options{Prefix: "acl", FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatalf("Open as a user refused INFO and CLUSTER: %v", err)
	}
	if err := s2.Write(ctx, storetest.Records(2, now, time.Millisecond, 3)); err != nil {
		t.Errorf("Write as a user refused INFO and CLUSTER: %v", err)
	}
	s2.Close()

	_, err = redisstore.Open(ctx, "redis://app:not-it@"+r.Addr, redisstore.Options{})
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "WRONGPASS") || strings.Contains(err.Error(), "not-it") {
		t.Errorf("Open with a wrong password = %v; want refused, WRONGPASS, no password", err)
	}
}

// A read that Redis refuses inside the read script (an ACL user refused
// HMGET, LRANGE or ZRANGEBYLEX) fails Stats and Series with the refusal.
// Before, the script handed the error on as a value and went on: Stats
// said 0 requests, err nil, and Health ok with nothing skipped. List fails
// as well for a user refused ZREVRANGEBYLEX.
func TestACLUserRefusedReads(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	// Three hours of records, a minute apart, deltas unfolded; the window
	// has a whole hour (HMGET), whole minutes (HMGET, LRANGE) and partial
	// minutes at its edges (ZRANGEBYLEX).
	base := time.Now().Add(-4 * time.Hour).Truncate(time.Hour)
	w := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: "refused", FoldInterval: -1, RetentionInterval: -1})
	if err := w.Write(ctx, storetest.Records(1, base, time.Minute, 180)); err != nil {
		t.Fatal(err)
	}
	win := store.Window{Since: base.Add(30 * time.Second), Until: base.Add(2*time.Hour + 30*time.Second)}
	if st, err := w.Stats(ctx, win); err != nil || st.Requests != 120 {
		t.Fatalf("Stats as the default user = %d requests, %v; want 120", requests(st), err)
	}
	for _, cmd := range []string{"hmget", "lrange", "zrangebylex", "zrevrangebylex"} {
		t.Run(cmd, func(t *testing.T) {
			user := "no-" + cmd
			if err := c.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "~{refused:*", "~refused:*", "&refused:*",
				"+@all", "-@dangerous", "-"+cmd).Err(); err != nil {
				t.Fatal(err)
			}
			s := openAt(t, "redis://"+user+":pw@"+r.Addr, redisstore.Options{Prefix: "refused", FoldInterval: -1, RetentionInterval: -1})
			if cmd == "zrevrangebylex" {
				if p, err := s.List(ctx, store.Query{}); err == nil {
					t.Errorf("List = %d records, err nil; want the refusal", len(p.Records))
				}
				return
			}
			if st, err := s.Stats(ctx, win); err == nil {
				t.Errorf("Stats = %d requests, err nil; want the refusal", requests(st))
			}
			if b, err := s.Series(ctx, win, time.Hour); err == nil {
				t.Errorf("Series = %d buckets, err nil; want the refusal", len(b))
			}
			if h := s.Health(); h.Skipped != 0 {
				t.Errorf("Health = %+v; a refusal is not damage", h)
			}
		})
	}
}

// An ACL user without @dangerous (so refused INFO) on a Redis Cluster
// opens a cluster client: Open asks CLUSTER INFO, which is not in
// @dangerous. Before, the refused INFO made it a single-server client:
// writes failed (EXECABORT, MOVED), List said MOVED and Health said ok.
// A user refused CLUSTER INFO as well is still taken for a single server
// (TestACLUser's server is one).
func TestACLUserCluster(t *testing.T) {
	nodes := testservers.StartRedisCluster(t, 3)
	ctx := context.Background()
	for _, n := range nodes { // ACL users are each node's own
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		err := c.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pw", "~{aclc:*", "~aclc:*", "&aclc:*", "+@all", "-@dangerous").Err()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openAt(t, "redis://app:app-pw@"+nodes[0].Addr, redisstore.Options{Prefix: "aclc", FoldInterval: -1, RetentionInterval: -1})
	if _, ok := s.Client().(*redis.ClusterClient); !ok {
		t.Errorf("Open on a cluster node as a user refused INFO made a %T", s.Client())
	}
	// Twelve hours of records: their hours' keys fall on every node.
	now := time.Now()
	if err := s.Write(ctx, storetest.Records(1, now.Add(-12*time.Hour), 10*time.Minute, 72)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 72 {
		t.Errorf("List = %d records, %v; want 72", len(p.Records), err)
	}
	if st, err := s.Stats(ctx, store.Window{Since: now.Add(-13 * time.Hour), Until: now}); err != nil || st.Requests != 72 {
		t.Errorf("Stats = %d requests, %v; want 72", requests(st), err)
	}
	if h := s.Health(); h.State != store.StateOK {
		t.Errorf("Health = %+v", h)
	}
}
