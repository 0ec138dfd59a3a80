package redisstore_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
)

// dialHook counts the dials a client makes.
type dialHook struct{ dials atomic.Int64 }

func (h *dialHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.dials.Add(1)
		return next(ctx, network, addr)
	}
}
func (h *dialHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *dialHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A subscription that fails for another reason than the ACL (Redis away)
// says so once, not once a retry: one log line for the cause, and Health's
// Detail while it lasts, which clears once the subscription is back.
// Before, Subscribe retried in silence: nothing told an operator why the
// dashboard stopped refreshing.
func TestSubscribeFailureSaidOnce(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs testlog.Buffer
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{
		Prefix: "subfail", FoldInterval: -1, RetentionInterval: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(ctx, func(int, recording.ID) {}) }()
	r.WaitSubscribed(t, "subfail:events", 1)
	hook := &dialHook{}
	s.Client().AddHook(hook)
	r.Stop()
	// Wait for several retries (each dials again), then look.
	for hook.dials.Load() < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	const line = "subscribing to the channel fails"
	if n := strings.Count(logs.String(), line); n != 1 {
		t.Errorf("%d log lines for the failing subscription after %d retries, want 1:\n%s", n, hook.dials.Load(), logs.String())
	}
	const detail = "subscribing to the channel subfail:events fails"
	if d := s.Health().Detail; !strings.Contains(d, detail) || !strings.Contains(d, "connection refused") {
		t.Errorf("Health's Detail = %q; want the failing subscription and Redis's error", d)
	}
	r.Start()
	r.WaitSubscribed(t, "subfail:events", 1)
	// The subscription confirms itself once back; Health clears then.
	for strings.Contains(s.Health().Detail, detail) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// Two Subscribe calls (two dashboards of one process) fail together while
// Redis is away; one of them ends: the other's failure is still said in
// Health. Before, the failure was one field of the store, which the
// ending subscription cleared for both.
func TestSubscribeFailureOwnEach(t *testing.T) {
	r := testservers.StartRedis(t)
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: "subown", FoldInterval: -1, RetentionInterval: -1})
	ctxA, cancelA := context.WithCancel(t.Context())
	defer cancelA()
	ctxB, cancelB := context.WithCancel(t.Context())
	defer cancelB()
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { doneA <- s.Subscribe(ctxA, func(int, recording.ID) {}) }()
	go func() { doneB <- s.Subscribe(ctxB, func(int, recording.ID) {}) }()
	r.WaitSubscribed(t, "subown:events", 2)
	hook := &dialHook{}
	s.Client().AddHook(hook)
	r.Stop()
	const detail = "subscribing to the channel subown:events fails"
	for !strings.Contains(s.Health().Detail, detail) || hook.dials.Load() < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	cancelA()
	<-doneA
	if d := s.Health().Detail; !strings.Contains(d, detail) {
		t.Errorf("Health's Detail after one of two failing subscriptions ended = %q; want the other's failure", d)
	}
	cancelB()
	<-doneB
	if d := s.Health().Detail; strings.Contains(d, detail) {
		t.Errorf("Health's Detail after both subscriptions ended = %q; want no failure", d)
	}
}
