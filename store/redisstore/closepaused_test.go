package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
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
	writeUntilStored(t, s, storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10))
	r.Pause()
	defer r.Resume()
	closeWithin(t, s, r.Resume, "a paused Redis")
}

// closeWithin closes s, whose Redis (what) is paused or pauses in Close,
// and checks that Close fails, not waiting the client's read timeout (an
// hour): a watchdog a minute on, far above WriteTimeout, fails the test
// and calls resume, so that Close's goroutine ends with the test.
func closeWithin(t *testing.T, s *redisstore.Store, resume func(), what string) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close folded into a paused Redis without an error")
		}
	case <-time.After(time.Minute):
		resume()
		<-closed
		t.Fatalf("Close still waits for %s a minute on (WriteTimeout 200ms)", what)
	}
}

// pauseAfterLease is a go-redis hook that, once armed, pauses the Redis
// (pause) as soon as a SET … NX (a lease taken) has been answered.
type pauseAfterLease struct {
	armed atomic.Bool
	once  sync.Once
	pause func()
}

func (h *pauseAfterLease) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pauseAfterLease) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && h.armed.Load() && cmd.Name() == "set" {
			for _, a := range cmd.Args() {
				if s, ok := a.(string); ok && strings.EqualFold(s, "nx") {
					h.once.Do(h.pause)
				}
			}
		}
		return err
	}
}

func (h *pauseAfterLease) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestCloseWithinWriteTimeoutPausedMidFold: a Redis that stops answering
// once Close's fold has taken the hour's lease costs Close no more than
// about WriteTimeout, through a client with ContextTimeoutEnabled and a
// read timeout of an hour: the lease's release, made on a context
// without Close's (so that a cancelled fold still releases it), has a
// deadline of its own. Before, it had none, and waited the client's read
// timeout.
func TestCloseWithinWriteTimeoutPausedMidFold(t *testing.T) {
	r := testservers.StartRedis(t)
	hook := &pauseAfterLease{pause: r.Pause}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ReadTimeout: time.Hour, WriteTimeout: time.Hour, MaxRetries: -1, ContextTimeoutEnabled: true})
	c.AddHook(hook)
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{
		Prefix: "midfold", FoldInterval: -1, RetentionInterval: -1,
		WriteTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeUntilStored(t, s, storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10))
	hook.armed.Store(true)
	defer r.Resume()
	closeWithin(t, s, r.Resume, "a Redis paused mid-fold")
	paused := false
	hook.once.Do(func() { paused = true })
	if paused {
		t.Fatal("Close's fold took no lease: the Redis was never paused")
	}
}

// writeUntilStored writes recs until a Write succeeds, closing s and
// failing the test if none has in a minute (a guard against a hang). A
// store with a short WriteTimeout (200 ms) may see its first Writes run
// out of it on a loaded machine (dialling, loading its scripts): a loaded
// run failed so, "10 of 10 records dropped: ... context deadline
// exceeded". A failed Write starts a backoff, during which the next are
// dropped at once: it is waited out before trying again.
func writeUntilStored(t *testing.T, s *redisstore.Store, recs []*recording.Record) {
	t.Helper()
	for watchdog := time.Now().Add(time.Minute); ; {
		err := s.Write(t.Context(), recs)
		if err == nil {
			return
		}
		if time.Now().After(watchdog) {
			s.Close()
			t.Fatalf("Write, a minute on: %v", err)
		}
		for s.WriteStats().Down {
			time.Sleep(time.Millisecond)
		}
	}
}
