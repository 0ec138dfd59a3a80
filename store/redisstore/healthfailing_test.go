package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Health says "unavailable" from a failed write until a write succeeds,
// not only during the backoff after it: a Redis that stays away was shown
// "ok" between backoffs (most of the time, with a stalled Redis: the write
// that tries again waits WriteTimeout), while every record was dropped.
func TestHealthUnavailableUntilAWriteSucceeds(t *testing.T) {
	r := testservers.StartRedis(t)
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{})
	ctx := context.Background()
	r.Stop()
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write with Redis down = %v", err)
	}
	// The first backoff is 250 ms: past it, no write has tried since.
	time.Sleep(300 * time.Millisecond)
	if ws := s.WriteStats(); ws.Down || !ws.Failing {
		t.Fatalf("WriteStats = %+v; want the backoff over, failing", ws)
	}
	if h := s.Health(); h.State != store.StateUnavailable {
		t.Errorf("Health after the backoff, Redis still down = %+v; want unavailable", h)
	}
	r.Start()
	// A write as Redis comes back may still fail (and back off): the
	// first that succeeds is what counts.
	deadline := time.Now().Add(20 * time.Second)
	for seed := uint64(2); ; seed++ {
		err := s.Write(ctx, storetest.Records(seed, time.Now(), time.Millisecond, 3))
		if err == nil {
			break
		}
		if !errors.Is(err, redisstore.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("writing after Redis returned: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := s.Health(); h.State != store.StateOK {
		t.Errorf("Health after a write succeeded = %+v; want ok", h)
	}
}
