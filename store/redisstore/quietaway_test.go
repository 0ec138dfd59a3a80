package redisstore_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
)

// infoHook counts the INFO commands a client is asked to send.
type infoHook struct{ n atomic.Int64 }

func (h *infoHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *infoHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "info") {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *infoHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestEvictionCheckQuietWhileSubscriptionFails: a store that only reads
// and subscribes (appstats serve's) learns that Redis is away from its
// subscription; its eviction check, every 5 s, then sends no INFO, as it
// sends none while writes fail: each would dial a Redis known to be away,
// and go-redis logs every failed dial (on the standard logger, unless the
// program says otherwise) — a line every 5 s for as long as Redis stays
// down, beside the subscription's own retries. Before, the check sent its
// INFO all the same.
func TestEvictionCheckQuietWhileSubscriptionFails(t *testing.T) {
	r := testservers.StartRedis(t)
	hook := &infoHook{}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	c.AddHook(hook)
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{Prefix: "quiet", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	subDone := make(chan error, 1)
	go func() { subDone <- s.Subscribe(ctx, func(int, recording.ID) {}) }()
	defer func() { cancel(); <-subDone }()
	r.WaitSubscribed(t, "quiet:events", 1)
	before := hook.n.Load()
	s.CheckEvictions(ctx)
	if hook.n.Load() == before {
		t.Fatal("the eviction check sent no INFO with Redis up")
	}
	r.Stop()
	waitFor(t, "Health to say Redis is unavailable (the subscription failing)", func() bool {
		return s.Health().State == store.StateUnavailable
	})
	before = hook.n.Load()
	s.CheckEvictions(ctx)
	if n := hook.n.Load() - before; n != 0 {
		t.Errorf("the eviction check sent %d INFO to a Redis its subscription finds away; want none", n)
	}
}
