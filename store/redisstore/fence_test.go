package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// hourOf is the hour number (Unix hours) of t.
func hourOf(t time.Time) int64 { return t.Unix() / 3600 }

// movedTo returns a copy of rec starting d later, with status.
func movedTo(rec *recording.Record, d time.Duration, status int) *recording.Record {
	c := *rec
	c.Start = rec.Start.Add(d)
	c.Status = status
	return &c
}

// foundOnce checks that Get finds id with status and that List lists it
// exactly once.
func foundOnce(t *testing.T, ctx context.Context, s *redisstore.Store, id recording.ID, status int) {
	t.Helper()
	rec, err := s.Get(ctx, id)
	if err != nil {
		t.Errorf("Get(%s): %v", id, err)
	} else if rec.Status != status {
		t.Errorf("Get(%s): status %d, want %d", id, rec.Status, status)
	}
	n := 0
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		if sum.ID == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("List lists %s %d times, want once", id, n)
	}
}

// Retention's cleaning of the ids hash races a writer: an entry that
// named an hour retention deleted is pointed, between the scan that found
// it dead and the delete, at another hour (a write moves the record
// there) or at the dead hour again (a write fills it anew). The entry
// stays, and Get finds the record. (Before the fix, cleanIDs deleted it
// with a plain HDEL: Get(ID) said not found in both cases.)
func TestCleanIDsRacingMoves(t *testing.T) {
	for _, again := range []bool{false, true} {
		t.Run("again="+strconv.FormatBool(again), func(t *testing.T) {
			prefix := "clean-race-" + strconv.FormatBool(again)
			opts := redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1}
			s, r, ctx := startStore(t, opts)
			s2 := openAt(t, "redis://"+r.Addr, opts)
			c := clientOf(t, r.Addr)
			rec := storetest.Records(5, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
			// Stored an hour after its ID's; then that hour is deleted
			// whole, as retention does: its entry names a dead hour.
			if err := s.Write(ctx, []*recording.Record{movedTo(rec, time.Hour, 201)}); err != nil {
				t.Fatal(err)
			}
			dead := hourOf(rec.Start.Add(time.Hour))
			tag := "{" + prefix + ":" + strconv.FormatInt(dead, 10) + "}:"
			if err := c.ZRem(ctx, prefix+":hours", strconv.FormatInt(dead, 10)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Unlink(ctx, tag+"r", tag+"s", tag+"d", tag+"u", tag+"b").Err(); err != nil {
				t.Fatal(err)
			}
			d := 3 * time.Hour // moved to another hour
			if again {
				d = time.Hour // written to the dead hour again
			}
			hooked := false
			s.SetCleanIDsHook(func() {
				hooked = true
				if err := s2.Write(ctx, []*recording.Record{movedTo(rec, d, 202)}); err != nil {
					t.Error(err)
				}
			})
			if _, err := s.Retain(ctx); err != nil {
				t.Fatal(err)
			}
			if !hooked {
				t.Fatal("retention found no ids entry gone")
			}
			foundOnce(t, ctx, s, rec.ID, 202)
		})
	}
}

// Two writers settle one ID at once, the first's lock deleted (as an
// eviction or a failover loses it) while it settles: the first moves the
// record two hours on, the second writes it back at its ID's hour, and
// each reads the other's version before either deletes. One version
// stays, listed once, and Get finds it. (Before the fix, each deleted
// the other's version: Get said not found and List listed nothing.)
func TestMoveLockLostMidMove(t *testing.T) {
	const prefix = "lock-lost"
	opts := redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1}
	s1, r, ctx := startStore(t, opts)
	s2 := openAt(t, "redis://"+r.Addr, opts)
	c := clientOf(t, r.Addr)
	rec := storetest.Records(6, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	if err := s1.Write(ctx, []*recording.Record{movedTo(rec, time.Hour, 201)}); err != nil {
		t.Fatal(err)
	}
	reached := make(chan struct{}) // s2 holds the lock, about to read
	proceed := make(chan struct{}) // s2 may go on
	done := make(chan struct{})    // s2's Write returned
	s2.SetSettleHook(func(stage string) {
		if stage == "read" {
			close(reached)
			<-proceed
		}
	})
	s1.SetSettleHook(func(stage string) {
		switch stage {
		case "read":
			// The lock goes; the second writer writes the record back
			// at its ID's hour and takes the lock.
			if err := c.Del(ctx, prefix+":mv:"+string(rec.ID[:])).Err(); err != nil {
				t.Error(err)
			}
			go func() {
				defer close(done)
				if err := s2.Write(ctx, []*recording.Record{movedTo(rec, 0, 203)}); err != nil {
					t.Error(err)
				}
			}()
			select {
			case <-reached:
			case <-done:
				t.Error("the second writer settled nothing")
			}
		case "delete":
			// Both have read; the second deletes first.
			close(proceed)
			<-done
		}
	})
	if err := s1.Write(ctx, []*recording.Record{movedTo(rec, 2*time.Hour, 202)}); err != nil {
		t.Fatal(err)
	}
	<-done
	rec2, err := s1.Get(ctx, rec.ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", rec.ID, err)
	}
	foundOnce(t, ctx, s1, rec.ID, rec2.Status)
}

// A write at a record's ID's own hour whose transaction lands after
// another writer has moved the record to another hour and settled it
// (read the ID's hour, deleted the version there, pointed the ids hash at
// its own hour), while the first write's look at the ids hash came
// before: the record is listed once, as the later write stored it. (Before
// the fix, the first write read the ids hash in its pipeline, beside its
// transaction, found no entry, and settled nothing: both versions stayed
// listed.)
func TestRewriteLandsAfterSettling(t *testing.T) {
	const prefix = "lands-after"
	opts := redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1}
	s1, r, ctx := startStore(t, opts)
	s2 := openAt(t, "redis://"+r.Addr, opts)
	rec := storetest.Records(7, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	// The ids hash exists (another record's entry), so writes read it.
	other := storetest.Records(8, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	if err := s1.Write(ctx, []*recording.Record{movedTo(rec, 0, 201), movedTo(other, time.Hour, 201)}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Write(ctx, []*recording.Record{movedTo(other, time.Hour, 201)}); err != nil {
		t.Fatal(err)
	}
	listed := make(chan struct{})
	s2.SetWriteHook(func(stage string) {
		switch stage {
		case "listed":
			close(listed)
		case "tx":
			<-listed
			// The other writer moves the record and settles it first.
			if err := s1.Write(ctx, []*recording.Record{movedTo(rec, 2*time.Hour, 202)}); err != nil {
				t.Error(err)
			}
		}
	})
	if err := s2.Write(ctx, []*recording.Record{movedTo(rec, 0, 203)}); err != nil {
		t.Fatal(err)
	}
	foundOnce(t, ctx, s1, rec.ID, 203)
}

// afterHook records whether a command was sent with a context still live
// once ended reports true.
type afterHook struct {
	tripHook
	ended func() bool
	late  atomic.Int64
}

func (h *afterHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.ended() && ctx.Err() == nil {
			h.late.Add(1)
		}
		return next(ctx, cmds)
	}
}

// A Write whose context ends while it settles an ID (Redis partitioned
// from the host, or the caller gone) sends nothing more: the host never
// waits on Redis past the Write's deadline (WriteTimeout bounds all its
// round trips). The lock is left to its TTL. (Before, the unlock was sent
// with a second of its own after the Write's context had ended: against
// an unreachable Redis, the Write took WriteTimeout and a second more.)
func TestSettleStopsAtDeadline(t *testing.T) {
	const prefix = "settle-deadline"
	s, _, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1})
	rec := storetest.Records(12, time.Now().Add(-6*time.Hour), time.Second, 1)[0]
	if err := s.Write(ctx, []*recording.Record{movedTo(rec, time.Hour, 201)}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hook := &afterHook{ended: func() bool { return wctx.Err() != nil }}
	s.Client().AddHook(hook)
	s.SetSettleHook(func(stage string) {
		if stage == "delete" {
			cancel()
		}
	})
	s.Write(wctx, []*recording.Record{movedTo(rec, 2*time.Hour, 202)})
	if n := hook.late.Load(); n > 0 {
		t.Errorf("%d round trips sent after the Write's context ended", n)
	}
}
