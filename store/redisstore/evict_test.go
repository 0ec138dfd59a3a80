package redisstore_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Under a maxmemory policy that evicts (allkeys-*, or volatile-*: the
// store's keys expire), a full Redis deletes keys itself: records,
// summaries, rollups lost without an error, and Health said "ok" with
// nothing in its Detail. The store now reads Redis's INFO in the
// background (every few seconds, off the request path) and Health's Detail
// says how many keys Redis evicted since the store opened, and under which
// policy.
func TestHealthSaysRedisEvicts(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1}, "--maxmemory-policy", "allkeys-lru")
	c := clientOf(t, r.Addr)
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 20)); err != nil {
		t.Fatal(err)
	}
	if h := s.Health(); strings.Contains(h.Detail, "evict") {
		t.Errorf("Health before any eviction = %+v; want nothing said of evictions", h)
	}
	// Fill Redis past a maxmemory just above what it holds.
	if err := c.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
	junk := strings.Repeat("x", 64<<10)
	for i := 0; i < 200; i++ {
		c.Set(ctx, "junk:"+string(rune('a'+i%26))+time.Now().Format("150405.000000000"), junk, 0)
	}
	if n := evictedKeys(t, c.Info(ctx, "stats").Val()); n == 0 {
		t.Fatal("Redis evicted nothing: the test did not fill it")
	}
	waitFor(t, "Health to say Redis evicts keys", func() bool { return strings.Contains(s.Health().Detail, "evicted") })
	h := s.Health()
	if h.State != store.StateOK || !strings.Contains(h.Detail, "allkeys-lru") || !strings.Contains(h.Detail, "noeviction") {
		t.Errorf("Health after evictions = %+v; want ok, saying Redis evicted keys under allkeys-lru, and that noeviction avoids it", h)
	}
}

func evictedKeys(t *testing.T, info string) int {
	t.Helper()
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "evicted_keys:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("evicted_keys:%s: %v", v, err)
			}
			return n
		}
	}
	return 0
}
