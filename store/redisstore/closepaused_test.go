package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// TestCloseWithinWriteTimeoutPausedServer: Close's fold of the hours this
// store wrote is bounded by WriteTimeout whatever the client's options,
// as the eviction check is. Before, with a client's read timeout of an
// hour, Close waited the hour for a Redis that stopped answering
// (SIGSTOP, as a host that froze or a network that drops its packets):
// without ContextTimeoutEnabled, the fold's commands ignored Close's
// WriteTimeout context; with it, the fold's lease was released on a
// context without a deadline.
func TestCloseWithinWriteTimeoutPausedServer(t *testing.T) {
	for _, cte := range []bool{false, true} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", cte), func(t *testing.T) { closePaused(t, cte) })
	}
}

func closePaused(t *testing.T, cte bool) {
	r := testservers.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ReadTimeout: time.Hour, WriteTimeout: time.Hour, MaxRetries: -1, ContextTimeoutEnabled: cte})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{
		Prefix: "paused", FoldInterval: -1, RetentionInterval: -1,
		WriteTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Deltas to fold at Close (too few to wake the fold loop).
	if err := s.Write(t.Context(), storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10)); err != nil {
		s.Close()
		t.Fatal(err)
	}
	r.Pause()
	defer r.Resume()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close folded into a paused Redis without an error")
		}
	case <-time.After(time.Minute):
		// A watchdog, far above WriteTimeout: without the bound Close
		// waits for the client's read timeout (an hour).
		r.Resume() // ends the wait, so the goroutine ends with the test
		<-closed
		t.Fatal("Close still waits for a paused Redis a minute on (WriteTimeout 200ms)")
	}
}
