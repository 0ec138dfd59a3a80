package redisstore_test

import (
	"context"
	"strconv"
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

// orderHook, on every node client of a cluster client, sees a write's
// pipeline: it holds the node's part that lists the hours (ZADD of the
// hours list) until the ids hash's node has answered its part (EXISTS of
// the ids hash), and counts the HSETNX of the ids hash sent before the
// ZADD was answered.
type orderHook struct {
	hours, ids string
	idsDone    chan struct{} // closed once the ids hash's node answered EXISTS
	once       sync.Once
	zadded     atomic.Bool  // the ZADD of the hours list was answered
	early      atomic.Int64 // HSETNX of the ids hash sent before that
	stuck      atomic.Bool  // the ZADD waited for the ids hash's node in vain
}

func (h *orderHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *orderHook) has(cmds []redis.Cmder, name, key string) bool {
	for _, c := range cmds {
		if args := c.Args(); len(args) > 1 && strings.EqualFold(c.Name(), name) && args[1] == key {
			return true
		}
	}
	return false
}

func (h *orderHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.has([]redis.Cmder{cmd}, "hsetnx", h.ids) && !h.zadded.Load() {
			h.early.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *orderHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.has(cmds, "hsetnx", h.ids) && !h.zadded.Load() {
			h.early.Add(1)
		}
		zadd := h.has(cmds, "zadd", h.hours)
		if zadd {
			select {
			case <-h.idsDone:
			case <-time.After(20 * time.Second): // a bound, not a timing: the ids node answers at once
				h.stuck.Store(true)
			}
		}
		err := next(ctx, cmds)
		if zadd {
			h.zadded.Store(true)
		}
		if h.has(cmds, "exists", h.ids) {
			h.once.Do(func() { close(h.idsDone) })
		}
		return err
	}
}

// In a Redis Cluster, a write of a new record stored outside its ID's
// hour names it in the ids hash only once the hour's listing (ZADD of the
// hours list, on another node) has been answered: retention's cleanIDs,
// which reads the ids hash before the hours list, counts on that order
// to keep the entry of a record whose hour it finds unlisted. (Before,
// the HSETNX went in the same pipeline as the ZADD, and go-redis sends
// each node's part of a pipeline concurrently: the ids hash named the
// record while its hour was not listed yet.)
func TestClusterNamesAfterListing(t *testing.T) {
	nodes := testservers.StartRedisCluster(t, 3)
	ctx := t.Context()
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
	defer admin.Close()
	// A prefix whose hours list and ids hash are on different nodes.
	prefix := ""
	for i := 0; prefix == "" && i < 100; i++ {
		p := "named-order-" + strconv.Itoa(i)
		a, err := admin.MasterForKey(ctx, p+":hours")
		if err != nil {
			t.Fatal(err)
		}
		b, err := admin.MasterForKey(ctx, p+":ids")
		if err != nil {
			t.Fatal(err)
		}
		if a.Options().Addr != b.Options().Addr {
			prefix = p
		}
	}
	if prefix == "" {
		t.Fatal("no prefix puts the hours list and the ids hash on different nodes")
	}
	hook := &orderHook{hours: prefix + ":hours", ids: prefix + ":ids", idsDone: make(chan struct{})}
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{nodes[0].Addr}, ContextTimeoutEnabled: true,
		NewClient: func(o *redis.Options) *redis.Client {
			c := redis.NewClient(o)
			c.AddHook(hook)
			return c
		},
	})
	defer cc.Close()
	s, err := redisstore.New(cc, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := storetest.Records(13, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	if err := s.Write(ctx, []*recording.Record{movedTo(rec, time.Hour, 201)}); err != nil {
		t.Fatal(err)
	}
	if hook.stuck.Load() {
		t.Error("the write's ZADD was sent without the ids hash's node asked EXISTS")
	}
	if !hook.zadded.Load() {
		t.Fatal("the write listed no hour")
	}
	if n := hook.early.Load(); n > 0 {
		t.Errorf("%d HSETNX of the ids hash sent before the hour's ZADD was answered", n)
	}
	got, err := s.Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 201 {
		t.Errorf("Get: status %d, want 201", got.Status)
	}
}
