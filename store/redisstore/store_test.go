package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// clientOf returns a go-redis client of the Redis at addr, for a test to
// look at or change what the store keeps; it is closed when the test ends.
func clientOf(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// startStore is the opening most tests share: a Redis of the test's own
// (started with extra redis-server arguments), a store opened in it with
// opts (openAt), and the test's context.
func startStore(t testing.TB, opts redisstore.Options, extra ...string) (*redisstore.Store, *testservers.Redis, context.Context) {
	t.Helper()
	r := testservers.StartRedis(t, extra...)
	return openAt(t, "redis://"+r.Addr, opts), r, t.Context()
}

// openAt opens a store under a fresh prefix of the Redis at url, so that
// the suite's tests share one server without seeing each other's keys.
// Unless opts sets a WriteTimeout (as the tests of it do), a Write has
// testWriteTimeout: a batch of a thousand records can take longer than
// DefaultWriteTimeout on a loaded machine under -race, and its records
// would be dropped.
func openAt(t testing.TB, url string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("t%d", prefixes.Add(1))
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = testWriteTimeout
	}
	s, err := redisstore.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testWriteTimeout is openAt's WriteTimeout, as the writer processes of
// main_test.go have.
const testWriteTimeout = 30 * time.Second

func TestConformance(t *testing.T) {
	r := testservers.StartRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, "redis://"+r.Addr, redisstore.Options{})
	})
}

func TestConformanceCluster(t *testing.T) {
	nodes := testservers.StartRedisCluster(t, 3)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, "redis://"+nodes[1].Addr, redisstore.Options{})
	})
}
