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

// While Redis is down, writes drop their records at once and count them;
// when it returns, writing and announcements resume by themselves.
func TestRedisDown(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 500 * time.Millisecond})
	events := make(chan int, 100)
	subCtx, stopSub := context.WithCancel(ctx)
	subDone := make(chan error, 1)
	go func() {
		subDone <- s.Subscribe(subCtx, func(n int, _ recording.ID) { events <- n })
	}()
	defer func() {
		stopSub()
		if err := <-subDone; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe after its context ended: %v", err)
		}
	}()
	now := time.Now()
	batch := func(seed uint64, n int) []*recording.Record {
		return storetest.Records(seed, now.Add(-time.Minute), 100*time.Millisecond, n)
	}
	// The subscription is live once a write is announced (a minute is a
	// guard against a hang: a loaded machine may take seconds to
	// subscribe).
	for watchdog := time.Now().Add(time.Minute); ; {
		if err := s.Write(ctx, batch(1, 10)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-events:
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(watchdog) {
				continue
			}
			t.Fatal("writes are not announced")
		}
		break
	}

	r.Stop()
	// go-redis, left to itself, retries its dials for seconds with Redis
	// down (3.3 s on an idle machine, more on a loaded one): WriteTimeout
	// ends the Write first, and its error says so (the Write's own
	// context has no deadline).
	err := guarded(t, "Write with Redis down", func() error { return s.Write(ctx, batch(2, 10)) })
	if !errors.Is(err, redisstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write with Redis down = %v, want ErrUnavailable at WriteTimeout's deadline", err)
	}
	// The failure started a 250 ms backoff; a loaded machine can take
	// longer than that to reach the next Write (which would then try
	// Redis again, and count a second failure). Hold the backoff while
	// the test checks it; it ends before Redis returns.
	s.SetDownUntil(time.Now().Add(time.Hour))
	if err := s.Write(ctx, batch(3, 10)); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("second Write with Redis down = %v, want ErrUnavailable", err)
	}
	h := s.WriteStats()
	if h.Dropped != 20 || !h.Down || h.LastError == "" || h.Failures != 1 {
		t.Errorf("WriteStats with Redis down = %+v, want 20 dropped, down, an error, 1 failure (the second was dropped at once)", h)
	}
	if h := s.Health(); h.State != store.StateUnavailable || h.Dropped != 20 || !strings.Contains(h.Detail, "records are dropped") {
		t.Errorf("Health with Redis down = %+v, want unavailable, 20 dropped", h)
	}
	if _, err := s.List(ctx, store.Query{}); err == nil {
		t.Error("List with Redis down succeeded")
	}

	s.SetDownUntil(time.Now()) // the backoff ends, as it would have
	r.Start()                  // empty: the server keeps no data
	var last []*recording.Record
	// A write that fails while Redis comes back (one that finds the
	// backoff still running, or times out on a loaded machine) drops its
	// records too, and counts them.
	dropped := uint64(20)
	deadline := time.Now().Add(time.Minute) // a guard against a hang
	for seed := uint64(10); ; seed++ {
		last = batch(seed, 5)
		if err := s.Write(ctx, last); err == nil {
			break
		} else if !errors.Is(err, redisstore.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("writing after Redis returned: %v", err)
		}
		dropped += uint64(len(last))
		time.Sleep(50 * time.Millisecond)
	}
	if h := s.WriteStats(); h.Down || h.Written < 15 {
		t.Errorf("WriteStats after Redis returned = %+v", h)
	}
	if h := s.Health(); h.State != store.StateOK || h.Dropped != dropped {
		t.Errorf("Health after Redis returned = %+v, want ok, %d dropped (20 while Redis was down)", h, dropped)
	}
	p, err := s.List(ctx, store.Query{})
	if err != nil || len(p.Records) != 5 || p.Records[0].ID != last[4].ID {
		t.Fatalf("List after Redis returned = %d records, %v; want the 5 written since", len(p.Records), err)
	}
	// The subscription came back too.
	for seed := uint64(100); ; seed++ {
		if err := s.Write(ctx, batch(seed, 7)); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-events:
			if n != 7 {
				continue
			}
		case <-time.After(200 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("announcements did not resume after Redis returned")
		}
		break
	}
}

// A Redis that stops answering costs a Write at most WriteTimeout.
func TestRedisSlow(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{WriteTimeout: 200 * time.Millisecond})
	c := clientOf(t, r.Addr)
	// Paused for an hour (until the server stops at the test's end): only
	// WriteTimeout can end the Write, whose own context has no deadline;
	// the error says which ended it.
	if err := c.Do(ctx, "CLIENT", "PAUSE", time.Hour.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	err := guarded(t, "Write to a paused Redis", func() error {
		return s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 10))
	})
	if !errors.Is(err, redisstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write to a paused Redis = %v, want ErrUnavailable at WriteTimeout's deadline", err)
	}
	if h := s.WriteStats(); h.Dropped != 10 {
		t.Errorf("WriteStats = %+v, want 10 dropped", h)
	}
}

// guarded returns f's error, failing the test if f has not returned in a
// minute: a guard against a hang, not a timing.
func guarded(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s still waiting a minute on", what)
		return nil
	}
}

// A write that fails in several round trips at once (one per hour, and
// the hours list) says why once: the same error is not repeated, line
// after line, in its error and in Health's Detail. Before, a write of
// three hours while Redis was down said "connection refused" four times.
func TestWriteErrorSaidOnce(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	r.Stop()
	err := s.Write(ctx, storetest.Records(1, time.Now().Add(-3*time.Hour), time.Minute, 180))
	if err == nil {
		t.Fatal("Write with Redis down succeeded")
	}
	for what, text := range map[string]string{"error": err.Error(), "Health's Detail": s.Health().Detail} {
		seen := map[string]bool{}
		for _, line := range strings.Split(text, "\n") {
			if seen[line] {
				t.Errorf("%s repeats %q:\n%s", what, line, text)
			}
			seen[line] = true
		}
	}
}
