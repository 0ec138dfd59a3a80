package redisstore_test

import (
	"context"
	"errors"
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
// announcement), and Subscribe meets the refusal (and asks again every
// few minutes: see TestChannelGrantedLater). Before, Open
// said nothing; every write of a user refused PUBLISH failed (EXECABORT:
// records dropped, Health "unavailable"), and Subscribe retried its
// refused subscription silently until its context ended. A store made by
// New (which asks nothing) finds the refusal at its first write and writes
// again without the announcement.
func TestACLUserWithoutChannel(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
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
			// Open asked (a PUBLISH and a SUBSCRIBE): Health says what is
			// refused before any write.
			if want := map[string]string{"nochannel": "publish or subscribe", "nopublish": "may not publish", "nosubscribe": "may not subscribe"}[name]; !strings.Contains(opened.Health().Detail, want) {
				t.Errorf("Health after Open = %+v; want a Detail saying %q", opened.Health(), want)
			}
			made, err := redisstore.New(rdb, redisstore.Options{Prefix: "nochan", FoldInterval: -1, RetentionInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer made.Close()
			for k, s := range []*redisstore.Store{opened, made} {
				// Records of their own (seeds 1 and 3): the same records
				// written by both would list once.
				if err := s.Write(ctx, storetest.Records(uint64(1+2*k), now.Add(-time.Minute), time.Millisecond, 3)); err != nil {
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
				// Subscribe meets the refusal (Health says it), and keeps
				// asking until its context ends.
				for _, s := range []*redisstore.Store{opened, made} {
					sctx, cancel := context.WithCancel(ctx)
					done := make(chan error, 1)
					go func() { done <- s.Subscribe(sctx, func(int, recording.ID) {}) }()
					waitFor(t, "Health to say subscribing is refused", func() bool {
						return strings.Contains(s.Health().Detail, "subscribe")
					})
					cancel()
					if err := <-done; !errors.Is(err, context.Canceled) {
						t.Errorf("Subscribe = %v; want context.Canceled once its context ends", err)
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

// A user refused the channel gets live updates back once it is granted:
// writes announce themselves again (they try every few minutes), and
// Subscribe, which met the refusal, subscribes again and delivers them;
// Health no longer says live updates are off. Before, the refusal was
// kept for good: writes never announced again and Subscribe had returned.
func TestChannelGrantedLater(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	if err := c.Do(ctx, "ACL", "SETUSER", "later", "on", ">pw", "~{later:*", "~later:*", "+@all", "-@dangerous", "resetchannels").Err(); err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.Open(ctx, "redis://later:pw@"+r.Addr, redisstore.Options{Prefix: "later", FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetReprobe(10 * time.Millisecond)
	if h := s.Health(); !strings.Contains(h.Detail, "no live updates") {
		t.Fatalf("Health = %+v; want no live updates", h)
	}
	got := make(chan int, 100)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(sctx, func(n int, _ recording.ID) { got <- n }) }()
	now := time.Now()
	if err := s.Write(ctx, storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 3)); err != nil {
		t.Fatalf("Write while refused: %v", err)
	}
	if err := c.Do(ctx, "ACL", "SETUSER", "later", "&later:*").Err(); err != nil {
		t.Fatal(err)
	}
	seed := uint64(2)
	waitFor(t, "a write announced to Subscribe after the grant", func() bool {
		if err := s.Write(ctx, storetest.Records(seed, now.Add(-time.Minute), time.Millisecond, 1)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		seed++
		select {
		case n := <-got:
			return n > 0
		default:
			return false
		}
	})
	if h := s.Health(); h.State != store.StateOK || strings.Contains(h.Detail, "no live updates") {
		t.Errorf("Health = %+v; want ok, live updates back", h)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe = %v; want context.Canceled", err)
	}
}
