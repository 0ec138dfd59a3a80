package redisstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// scanHook counts the SCANs a client sends with a context marked by
// writeCtx (a Write's, not the fold loop's), and refuses every SCAN while
// fail is set (as a SCAN of a shared Redis with millions of keys that runs
// out of time would fail).
type scanHook struct {
	scans atomic.Int64
	fail  atomic.Bool
}

// writeCtx marks the context of the Writes whose SCANs scanHook counts.
type writeCtx struct{}

func (h *scanHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scanHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "scan" {
			if ctx.Value(writeCtx{}) != nil {
				h.scans.Add(1)
			}
			if h.fail.Load() {
				err := errors.New("scan cut short (test)")
				cmd.SetErr(err)
				return err
			}
		}
		return next(ctx, cmd)
	}
}
func (h *scanHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// The repair of a damaged hours list SCANs for the hours first and only
// then, in one script, deletes the foreign value and lists the hours found:
// a repair cut short (a SCAN that fails, as one of a shared Redis with
// millions of keys runs out of time) leaves the damage as it was, visible
// to reads, which keep finding every hour from the keys. And the repair is
// no Write's: a Write sends no SCAN. Before, Write repaired within its
// WriteTimeout, deleting the foreign value before the SCAN: a SCAN cut
// short left an empty list that the next write filled with its own hour
// alone, and the older hours were no longer listed (nor seen as damage).
func TestRepairHoursCutShort(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "repair-cut", FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	recent := now.Add(-time.Minute)
	if err := s.Write(ctx, storetest.Records(1, old, time.Second, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, storetest.Records(2, recent, time.Millisecond, 10)); err != nil {
		t.Fatal(err)
	}
	key := "repair-cut:hours"
	c.Set(ctx, key, "another program's", 0)
	hook := &scanHook{}
	hook.fail.Store(true)
	s.Client().AddHook(hook)

	// A write meets the damage (its ZADD is refused): it stores its
	// records, and sends no SCAN.
	// (The SCANs of the fold loop's repair, which the write wakes, are not
	// counted: the loop may send one before this Write returns.)
	before := hook.scans.Load()
	if err := s.Write(context.WithValue(ctx, writeCtx{}, true), storetest.Records(3, recent, time.Millisecond, 10)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n := hook.scans.Load() - before; n != 0 {
		t.Errorf("Write sent %d SCANs; want none (the repair is the fold loop's)", n)
	}
	// A repair cut short changes nothing.
	// (The fold loop may be trying at the same time: either fails.)
	s.RepairHours(ctx)
	if typ := c.Type(ctx, key).Val(); typ != "string" {
		t.Errorf("the hours key is a %s after a repair cut short, want the foreign string left as it was", typ)
	}
	if err := s.Write(ctx, storetest.Records(4, recent, time.Millisecond, 10)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	hook.fail.Store(false)
	p, err := s.List(ctx, store.Query{Limit: 100})
	if err != nil || len(p.Records) != 40 {
		t.Errorf("List after a repair cut short = %d records, %v; want 40", len(p.Records), err)
	}
	// A repair that runs lists every hour.
	if err := s.RepairHours(ctx); err != nil {
		t.Fatalf("RepairHours: %v", err)
	}
	if hs := c.ZRange(ctx, key, 0, -1).Val(); len(hs) != 2 {
		t.Errorf("hours listed after the repair: %v, want 2", hs)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 40 {
		t.Errorf("List after the repair = %d records, %v; want 40", len(p.Records), err)
	}
}
