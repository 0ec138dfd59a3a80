package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
)

// An ACL user refused the store's channel (no &prefix:* pattern, as Redis
// 7 gives a new user by default, or refused PUBLISH or SUBSCRIBE) cannot
// have live updates: Open says so, naming the channel. Before, Open
// succeeded; every write then failed (EXECABORT, the records dropped, and
// Health said Redis was unavailable) and Subscribe retried its refused
// subscription silently until its context ended. A store made by New (no
// check) returns the refusal from Subscribe.
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
		t.Run(user[0], func(t *testing.T) {
			args := []any{"ACL", "SETUSER", user[0], "on", ">pw", "~{nochan:*", "~nochan:*", "+@all", "-@dangerous"}
			for _, a := range user[1:] {
				args = append(args, a)
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatal(err)
			}
			url := "redis://" + user[0] + ":pw@" + r.Addr
			s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: "nochan", FoldInterval: -1, RetentionInterval: -1})
			if err == nil {
				s.Close()
				t.Fatalf("Open as a user refused the channel succeeded")
			}
			if !strings.Contains(err.Error(), "nochan:events") || !strings.Contains(err.Error(), "NOPERM") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("Open = %v; want the refusal, naming the channel, without the password", err)
			}
			if user[0] == "nopublish" {
				return
			}
			rdb := redis.NewClient(&redis.Options{Addr: r.Addr, Username: user[0], Password: "pw"})
			defer rdb.Close()
			s, err = redisstore.New(rdb, redisstore.Options{Prefix: "nochan", FoldInterval: -1, RetentionInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A minute is a hang guard: Subscribe is to return at once.
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			err = s.Subscribe(sctx, func(int, recording.ID) {})
			if err == nil || !strings.Contains(err.Error(), "NOPERM") {
				t.Errorf("Subscribe = %v; want the refusal", err)
			}
		})
	}
}
