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

// Health says "unavailable" while a write tries a stalled Redis again
// after a failure, not only during the backoff between: with a Redis that
// stopped answering, the write that tries again waits WriteTimeout, longer
// than the first backoffs, and the store was shown "ok" meanwhile, while
// every record was dropped. Its Detail says that a write is trying again,
// not that records are dropped (this write's are not, if Redis answers).
// Once a write succeeds, it is "ok".
//
// The test waits on the store's state, never on the clock: Redis is full
// (maxmemory under noeviction) for the first failure, then its writes are
// paused (CLIENT PAUSE WRITE, which lets CONFIG SET and CLIENT UNPAUSE
// through) before it has room again, until the test has seen the retrying
// write, which then succeeds within its minute's WriteTimeout. Redis
// refuses writes throughout, so the background probe (tried as the
// backoff ends) cannot find it taking them again before the retrying
// write: it was stopped for the first failure, and a probe that reached
// it restarted before the pause, on a loaded machine, ended the failure,
// and the test waited a minute for a write that would never retry.
func TestHealthUnavailableWhileRetrying(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: time.Minute, FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	for _, kv := range [][2]string{{"maxmemory-policy", "noeviction"}, {"maxmemory", "1"}} {
		if err := c.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write to a full Redis = %v", err)
	}
	if err := c.Do(ctx, "CLIENT", "PAUSE", time.Hour.Milliseconds(), "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	defer c.Do(ctx, "CLIENT", "UNPAUSE")
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if !s.WriteStats().Failing {
		t.Fatalf("writing stopped failing while Redis refused writes: %+v", s.WriteStats())
	}
	waitFor(t, "the backoff to end", func() bool { return !s.WriteStats().Down })
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, storetest.Records(2, time.Now(), time.Millisecond, 3)) }()
	waitFor(t, "the write to try Redis again", func() bool { return s.WriteStats().Retrying })
	h := s.Health()
	if h.State != store.StateUnavailable {
		t.Errorf("Health while a write tries the paused Redis again = %+v; want unavailable", h)
	}
	if !strings.Contains(h.Detail, "a write is trying it again") || strings.Contains(h.Detail, "dropped until") {
		t.Errorf("Health.Detail while a write tries Redis again = %q", h.Detail)
	}
	if err := c.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the retrying Write, once Redis answered: %v", err)
	}
	if h := s.Health(); h.State != store.StateOK || s.WriteStats().Retrying {
		t.Errorf("Health after a write succeeded = %+v; want ok", h)
	}
	if n, err := s.Len(ctx); err != nil || n != 3 {
		t.Errorf("Len = %d, %v; want the retrying write's 3 records", n, err)
	}
}

// waitFor polls cond until it holds, failing t after a minute (a hang
// guard, not a timed assert).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}
