package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Health says "unavailable" while a write tries a stalled Redis again
// after a failure, not only during the backoff between: with a Redis that
// stopped answering, the write that tries again waits WriteTimeout, longer
// than the first backoffs, and the store was shown "ok" meanwhile, while
// every record was dropped. Once a write succeeds, it is "ok".
func TestHealthUnavailableWhileRetrying(t *testing.T) {
	r := testservers.StartRedis(t)
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{WriteTimeout: 500 * time.Millisecond})
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	// Paused for long enough for two writes and a backoff, however
	// loaded the machine (UNPAUSE would wait for the pause itself).
	if err := c.Do(ctx, "CLIENT", "PAUSE", 5000, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write to a paused Redis = %v", err)
	}
	// The first backoff is 250 ms: past it, the next write tries Redis.
	time.Sleep(300 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, storetest.Records(2, time.Now(), time.Millisecond, 3)) }()
	for deadline := time.Now().Add(time.Minute); !s.WriteStats().Retrying; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no write is retrying")
		}
	}
	if h := s.Health(); h.State != store.StateUnavailable {
		t.Errorf("Health while a write tries the paused Redis again = %+v; want unavailable", h)
	}
	if err := <-done; !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("second Write to a paused Redis = %v", err)
	}
	// Writes fail until the pause ends, or find the backoff running: the
	// first that succeeds is what counts.
	deadline := time.Now().Add(time.Minute)
	for seed := uint64(3); ; seed++ {
		err := s.Write(ctx, storetest.Records(seed, time.Now(), time.Millisecond, 3))
		if err == nil {
			break
		}
		if !errors.Is(err, redisstore.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("writing after Redis answered again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := s.Health(); h.State != store.StateOK || s.WriteStats().Retrying {
		t.Errorf("Health after a write succeeded = %+v; want ok", h)
	}
}
