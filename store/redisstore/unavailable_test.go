package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// The error of a Write that Redis made drop its records — Redis stopped,
// paused (SIGSTOP: it answers nothing within WriteTimeout) or full
// (maxmemory under noeviction: it refuses the write) — is
// store.ErrUnavailable, as a read's error is when Redis is away, so that
// a caller that knows only the store.Store interface can tell an outage;
// and it is still redisstore.ErrUnavailable. So is the error of the Write
// after it, dropped at once while writes back off (or, on a machine slow
// enough for the backoff to have ended, tried and failed again: either
// way the same). On main, the write side's ErrUnavailable did not wrap
// store.ErrUnavailable.
func TestWriteErrorIsStoreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		down, up func(t *testing.T, r *testservers.Redis, c *redis.Client)
	}{
		{"stopped", func(t *testing.T, r *testservers.Redis, c *redis.Client) { r.Stop() }, nil},
		{"paused", func(t *testing.T, r *testservers.Redis, c *redis.Client) { r.Pause() },
			func(t *testing.T, r *testservers.Redis, c *redis.Client) { r.Resume() }},
		{"full", func(t *testing.T, r *testservers.Redis, c *redis.Client) {
			if err := c.ConfigSet(t.Context(), "maxmemory-policy", "noeviction").Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.ConfigSet(t.Context(), "maxmemory", "1").Err(); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, r *testservers.Redis, c *redis.Client) {
			if err := c.ConfigSet(t.Context(), "maxmemory", "0").Err(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A short WriteTimeout ends the paused case's Write: a
			// paused Redis answers within no timeout, however fast the
			// machine. (No Write comes before Redis is down: one could
			// fail with so short a timeout on a slow machine.)
			s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 300 * time.Millisecond, FoldInterval: -1, RetentionInterval: -1})
			c := clientOf(t, r.Addr)
			tc.down(t, r, c)
			if tc.up != nil {
				defer tc.up(t, r, c)
			}
			for i, what := range []string{"Write", "the Write after it"} {
				err := s.Write(ctx, storetest.Records(uint64(2+i), time.Now(), time.Millisecond, 3))
				if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, redisstore.ErrUnavailable) {
					t.Errorf("%s to a %s Redis = %v; want an error that is both store.ErrUnavailable and redisstore.ErrUnavailable", what, tc.name, err)
				}
			}
		})
	}
	// The sentinel reads as before: its message alone.
	if got, want := redisstore.ErrUnavailable.Error(), "redisstore: redis unavailable, records dropped"; got != want {
		t.Errorf("ErrUnavailable.Error() = %q; want %q", got, want)
	}
}
