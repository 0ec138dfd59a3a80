package redisstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A Redis that answers but refuses the store's writes (its password changed
// under the store: WRONGPASS or NOAUTH on every command) is not a Redis that
// is away: Health's Detail must not say records are dropped until it
// answers again, since it answers all along, and it names the refusal.
func TestHealthRedisRefusing(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 2 * time.Second, FoldInterval: -1, RetentionInterval: -1})
	now := time.Now()
	if err := s.Write(ctx, storetest.Records(1, now.Add(-time.Minute), 100*time.Millisecond, 5)); err != nil {
		t.Fatal(err)
	}
	admin := clientOf(t, r.Addr)
	if err := admin.ConfigSet(ctx, "requirepass", "changed-under-the-store").Err(); err != nil {
		t.Fatal(err)
	}
	// The store's connections were authenticated before: end them, so that
	// its next write dials again and is refused.
	if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	err := s.Write(ctx, storetest.Records(2, now.Add(-time.Minute), 100*time.Millisecond, 5))
	if !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write with the password changed = %v, want ErrUnavailable", err)
	}
	h := s.Health()
	if h.State != store.StateUnavailable || h.Dropped != 5 {
		t.Errorf("Health with the password changed = %+v, want unavailable, 5 dropped", h)
	}
	if strings.Contains(h.Detail, "until it answers again") {
		t.Errorf("Health.Detail = %q: Redis answers, it refuses", h.Detail)
	}
	if !strings.Contains(h.Detail, "refusing") || !strings.Contains(h.Detail, "AUTH") {
		t.Errorf("Health.Detail = %q, want it to say Redis may be refusing, with Redis's refusal", h.Detail)
	}
}
