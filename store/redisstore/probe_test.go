package redisstore_test

import (
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// After a failed write, Health said "unavailable" until a write succeeded:
// an app that records nothing more (a quiet hour, a batch job done) showed
// "unavailable" forever once Redis was back. The store now asks Redis
// itself, off the request path, once each backoff ends: a script that may
// write, which Redis refuses while it refuses writes (out of memory,
// read-only), so "ok" comes back only when a write would succeed.
func TestHealthRecoversWithoutWrites(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 500 * time.Millisecond, FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)

	// Redis away, then back, and no write since.
	r.Stop()
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write to a stopped Redis = %v", err)
	}
	if h := s.Health(); h.State != store.StateUnavailable {
		t.Errorf("Health after a failed write = %+v; want unavailable", h)
	}
	r.Start()
	waitFor(t, "Health to be ok again with no write", func() bool { return s.Health().State == store.StateOK })
	// Redis refusing writes (maxmemory reached, noeviction): the probe is
	// refused too, and Health stays unavailable.
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, time.Now(), time.Millisecond, 3)); err == nil {
		t.Fatal("Write to a Redis out of memory succeeded")
	}
	rejected := regexp.MustCompile(`cmdstat_eval:.*rejected_calls=(\d+)`)
	refused := func() int {
		m := rejected.FindStringSubmatch(c.Info(ctx, "commandstats").Val())
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := refused()
	waitFor(t, "a probe to be refused", func() bool { return refused() > before })
	if h := s.Health(); h.State != store.StateUnavailable {
		t.Errorf("Health while Redis refuses writes = %+v; want unavailable", h)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Health to be ok again with no write", func() bool { return s.Health().State == store.StateOK })

	if ws := s.WriteStats(); ws.Failing || ws.Written != 0 {
		t.Errorf("WriteStats = %+v; want not failing, nothing written", ws)
	}
}
