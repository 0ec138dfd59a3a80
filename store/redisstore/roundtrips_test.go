package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// tripHook counts the round trips a client makes (a command, or a
// pipeline or transaction), and the commands in them.
type tripHook struct {
	mu    sync.Mutex
	trips int
	cmds  []string
}

// setup names the commands go-redis sends on a new connection, which
// tripHook does not count (the pool dials when it has no idle connection).
var setup = map[string]bool{"hello": true, "client": true, "auth": true, "select": true}

func (h *tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if setup[cmd.Name()] {
			return next(ctx, cmd)
		}
		h.mu.Lock()
		h.trips++
		h.cmds = append(h.cmds, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		n := 0
		for i, c := range cmds {
			names[i] = c.Name()
			if !setup[c.Name()] {
				n++
			}
		}
		if n == 0 {
			return next(ctx, cmds) // a new connection's set-up
		}
		h.mu.Lock()
		h.trips++
		h.cmds = append(h.cmds, "["+strings.Join(names, " ")+"]")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *tripHook) take() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, c := h.trips, h.cmds
	h.trips, h.cmds = 0, nil
	return n, c
}

// A Write of new records, each stored outside its ID's hour (records not
// made by a recorder), takes one round trip, as any write's records take
// (its transaction and its pipeline, sent at once): on a single server its
// transaction reads the ID's own hour and names the record in the ids
// hash, so that nothing is left to settle. A record written again in
// another hour is settled in three round trips more. (Before, the first
// took five one after another, the second six: the lock, two reads, the
// deletes, the unlock.)
func TestMovedWriteRoundTrips(t *testing.T) {
	s, _, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	hook := &tripHook{}
	s.Client().AddHook(hook)
	recs := storetest.Records(9, time.Now().Add(-6*time.Hour), time.Second, 20)
	moved := func(rs []*recording.Record, d time.Duration, status int) []*recording.Record {
		out := make([]*recording.Record, len(rs))
		for i, r := range rs {
			out[i] = movedTo(r, d, status)
		}
		return out
	}
	// The scripts loaded, the ids hash there (so that writes read it).
	if err := s.Write(ctx, moved(recs[:10], time.Hour, 201)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, moved(recs[:10], 2*time.Hour, 202)); err != nil {
		t.Fatal(err)
	}
	hook.take()
	if err := s.Write(ctx, moved(recs[10:], time.Hour, 201)); err != nil {
		t.Fatal(err)
	}
	if n, cmds := hook.take(); n != 2 {
		t.Errorf("a Write of new records outside their IDs' hour: %d round trips, want 2 sent at once (the transaction, the pipeline): %v", n, cmds)
	}
	// Written again two hours on: settled (the versions an hour on go).
	if err := s.Write(ctx, moved(recs[10:], 3*time.Hour, 203)); err != nil {
		t.Fatal(err)
	}
	if n, cmds := hook.take(); n != 5 {
		t.Errorf("a Write of records moved to another hour: %d round trips, want 5 (the transaction and pipeline at once, then the locks with the first reads, the ids hash pointed with the second, the deletes with the unlocks): %v", n, cmds)
	}
	for i, r := range recs {
		want := 203
		if i < 10 {
			want = 202
		}
		foundOnce(t, ctx, s, r.ID, want)
	}
}
