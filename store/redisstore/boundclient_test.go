package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// within runs fn in a goroutine and reports whether it returned within a
// minute, a watchdog far above the WriteTimeout (200 ms) the tests give:
// without a bound the calls wait for the client's read timeout, an hour.
// unstick ends a call still waiting (closing the client), so that no
// goroutine outlives the test.
func within(t *testing.T, what string, unstick func(), fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		unstick()
		<-done
		t.Errorf("%s still waits for a paused server a minute on (WriteTimeout 200ms, the client's read timeout an hour)", what)
	}
}

// TestPausedServerNoContextTimeout: given a *redis.Client without
// ContextTimeoutEnabled and with read and write timeouts of an hour, the
// store bounds every round trip it sends by WriteTimeout all the same: a
// Write, a read, a Clear and Close (which folds what the store wrote)
// return soon against a server that stopped answering (a real
// redis-server, paused). Before, each waited for the client's hour.
func TestPausedServerNoContextTimeout(t *testing.T) {
	r := testservers.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ReadTimeout: time.Hour, WriteTimeout: time.Hour, MaxRetries: -1})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{Prefix: "paused", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	recs := storetest.Records(1, time.Now().Add(-2*time.Hour), time.Second, 3)
	if err := s.Write(ctx, recs[:2]); err != nil {
		t.Fatal(err) // the hour is dirty: Close folds it
	}
	r.Pause()
	defer r.Resume()
	unstick := func() { c.Close() }
	within(t, "Write", unstick, func() {
		if err := s.Write(ctx, []*recording.Record{recs[2]}); err == nil {
			t.Error("Write to a paused server succeeded")
		}
	})
	within(t, "List", unstick, func() {
		if _, err := s.List(ctx, store.Query{Limit: 10}); err == nil {
			t.Error("List from a paused server succeeded")
		}
	})
	within(t, "Clear", unstick, func() {
		if err := s.Clear(ctx); err == nil {
			t.Error("Clear of a paused server succeeded")
		}
	})
	within(t, "Close", unstick, func() { s.Close() })
}

// TestNewRefusesUnboundedClusterClient: a *redis.ClusterClient or a
// *redis.Ring without ContextTimeoutEnabled would let a node that stops
// answering hold every command, and Close, for the client's read timeout
// (go-redis offers no bounded clone of them, as it does of a
// *redis.Client): New refuses one, naming the option. Before, New took it.
func TestNewRefusesUnboundedClusterClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		rdb  redis.UniversalClient
	}{
		{"cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ReadTimeout: time.Hour})},
		{"ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ReadTimeout: time.Hour})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.rdb.Close()
			s, err := redisstore.New(tc.rdb, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
			if err == nil {
				s.Close()
				t.Fatal("New took a client without ContextTimeoutEnabled")
			}
			if !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
				t.Errorf("New: %v; want the error to name ContextTimeoutEnabled", err)
			}
		})
	}
}
