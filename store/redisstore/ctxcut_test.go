package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

type cutHook struct {
	refuseInfo atomic.Bool
	txDone     chan struct{}
	cancel     context.CancelFunc
	hours      string
}

func (h *cutHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *cutHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.refuseInfo.Load() && (cmd.Name() == "info" || cmd.Name() == "cluster") {
			cmd.SetErr(errors.New("i/o timeout (simulated)"))
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}
func (h *cutHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		zadd, hset := false, false
		for _, c := range cmds {
			a := c.Args()
			if strings.EqualFold(c.Name(), "zadd") && len(a) > 1 && a[1] == h.hours {
				zadd = true
			}
			if strings.EqualFold(c.Name(), "hset") {
				hset = true
			}
		}
		if zadd && h.cancel != nil {
			<-h.txDone
		}
		err := next(ctx, cmds)
		if hset && h.cancel != nil {
			close(h.txDone)
		}
		if zadd && h.cancel != nil {
			h.cancel() // the Write's context ends just after the hours were listed
		}
		return err
	}
}

// TestCtxEndsBetweenPipelines: on a store not single (a plain client whose
// New got no answer), a Write whose context ends once its hours are listed
// (its transactions have stored the record) still names the record in the
// ids hash, so that Get finds it; or else says the Write failed.
func TestCtxEndsBetweenPipelines(t *testing.T) {
	srv := testservers.StartRedis(t)
	hook := &cutHook{hours: "cut:hours", txDone: make(chan struct{})}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	c.AddHook(hook)
	defer c.Close()
	hook.refuseInfo.Store(true) // the server does not answer New's question
	s, err := redisstore.New(c, redisstore.Options{Prefix: "cut", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hook.refuseInfo.Store(false)
	if s.SingleServer() {
		t.Fatal("single")
	}
	rec := storetest.Records(13, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	ctx, cancel := context.WithCancel(context.Background())
	hook.cancel = cancel
	werr := s.Write(ctx, []*recording.Record{movedTo(rec, time.Hour, 201)})
	hook.cancel = nil
	_, gerr := s.Get(context.Background(), rec.ID)
	if werr == nil && gerr != nil {
		t.Errorf("the Write said nothing, and Get does not find the record it stored: %v", gerr)
	}
	// The transactions had stored the record: the naming is sent all
	// the same, within the Write's WriteTimeout.
	if gerr != nil {
		t.Errorf("Get of the record the transactions stored: %v (Write: %v)", gerr, werr)
	}
	if n, err := c.HLen(context.Background(), "cut:ids").Result(); err != nil || n != 1 {
		t.Errorf("ids hash: %d entries, %v; want 1", n, err)
	}
}
