package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Health stays "unavailable" from a failed write until a write succeeds,
// not only while the backoff runs: an app that records in bursts (or a
// quiet hour) writes nothing once the backoff ends, and the dashboard's
// health panel showed "ok", with no detail, though Redis was still down
// and the last write's records were dropped. Once a write succeeds, it is
// "ok" again.
func TestHealthUnavailableUntilWriteSucceeds(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 500 * time.Millisecond, FoldInterval: -1, RetentionInterval: -1})
	r.Stop()
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 3)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Write to a stopped Redis = %v", err)
	}
	waitFor(t, "the backoff to end", func() bool { return !s.WriteStats().Down })
	h := s.Health()
	if h.State != store.StateUnavailable || !strings.Contains(h.Detail, "writing to Redis failed") || h.Dropped != 3 {
		t.Errorf("Health after the backoff, no write since the failed one = %+v; want unavailable, saying why, 3 dropped", h)
	}
	if ws := s.WriteStats(); !ws.Failing {
		t.Errorf("WriteStats = %+v; want Failing", ws)
	}
	r.Start()
	waitFor(t, "a write to succeed", func() bool {
		return s.Write(ctx, storetest.Records(2, time.Now(), time.Millisecond, 3)) == nil
	})
	if h := s.Health(); h.State != store.StateOK || h.Detail != "" {
		t.Errorf("Health after a write succeeded = %+v; want ok", h)
	}
	if ws := s.WriteStats(); ws.Failing {
		t.Errorf("WriteStats after a write succeeded = %+v; want not Failing", ws)
	}
}

// A store that only reads (appstats serve's, a dashboard's of the fleet)
// writes nothing that could fail: while its subscription to the
// announcements finds Redis away, Health says "unavailable" (and why),
// not "ok" beside the dashboard's "store error"; once the subscription
// is back, "ok" again.
func TestHealthUnavailableWhileSubscriptionFails(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "subfails", FoldInterval: -1, RetentionInterval: -1})
	done := make(chan error, 1)
	subCtx, cancel := context.WithCancel(ctx)
	go func() { done <- s.Subscribe(subCtx, func(int, recording.ID) {}) }()
	defer func() {
		cancel()
		<-done
	}()
	r.WaitSubscribed(t, "subfails:events", 1)
	r.Stop()
	waitFor(t, "the subscription to fail", func() bool { return strings.Contains(s.Health().Detail, "no live updates") })
	if h := s.Health(); h.State != store.StateUnavailable || !strings.Contains(h.Detail, "subscribing to the channel") {
		t.Errorf("Health of a reading store with Redis away = %+v; want unavailable, saying why", h)
	}
	r.Start()
	waitFor(t, "the subscription to come back", func() bool { return s.Health().Detail == "" })
	if h := s.Health(); h.State != store.StateOK {
		t.Errorf("Health once subscribed again = %+v; want ok", h)
	}
}
