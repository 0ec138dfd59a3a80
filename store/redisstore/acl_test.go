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
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
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

	_, err = redisstore.Open(ctx, "redis://app:not-it@"+r.Addr, redisstore.Options{})
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "WRONGPASS") || strings.Contains(err.Error(), "not-it") {
		t.Errorf("Open with a wrong password = %v; want refused, WRONGPASS, no password", err)
	}
}
