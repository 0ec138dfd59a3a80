package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Redis restarted with persistence (appendonly, fsync always) while a
// writer writes on, records at their ID's hour and records moved to
// another hour and written again: every record a Write accepted (it
// returned nil) is there after the restart, found by Get and listed
// once; writes resume by themselves; and each hour's size counter
// matches what it holds.
func TestOperatorRestartPersistedMidWrite(t *testing.T) {
	const prefix = "restart-aof"
	r := testservers.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 2 * time.Second})
	ctx := t.Context()
	recs := storetest.Records(11, time.Now().Add(-5*time.Hour), time.Second, 400)
	accepted := map[recording.ID]int{} // the status of the last version accepted
	var mu sync.Mutex
	stop := make(chan struct{})
	ok := make(chan struct{}, 1) // a Write accepted
	var failed int
	var wg sync.WaitGroup
	wg.Go(func() {
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			i := round % 40
			batch := make([]*recording.Record, 0, 10)
			for _, rec := range recs[10*i : 10*i+10] {
				// Every third record an hour or two after its ID's.
				d := time.Duration(0)
				if rec.ID[15]%3 == 0 {
					d = time.Duration(1+round%2) * time.Hour
				}
				batch = append(batch, movedTo(rec, d, 200+round))
			}
			if err := s.Write(ctx, batch); err == nil {
				mu.Lock()
				for _, rec := range batch {
					accepted[rec.ID] = rec.Status
				}
				mu.Unlock()
				select {
				case ok <- struct{}{}:
				default:
				}
			} else if !errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("Write: %v", err)
			} else {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}
	})
	// Writes accepted before the restart, then (the backoff over) after
	// it: each round writes a tenth of the records, moved again.
	accepts := func(n int) {
		for range n {
			<-ok
		}
	}
	accepts(20)
	r.Stop()
	r.Start()
	mu.Lock()
	before := len(accepted)
	mu.Unlock()
	accepts(1) // may be the one in flight through the restart
	accepts(30)
	close(stop)
	wg.Wait()
	t.Logf("%d IDs accepted before the restart, %d writes failed", before, failed)
	if ws := s.WriteStats(); ws.Written == 0 {
		t.Fatalf("WriteStats = %+v", ws)
	}
	listed := map[recording.ID]int{}
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		listed[sum.ID]++
	}
	for id, status := range accepted {
		rec, err := s.Get(ctx, id)
		if err != nil {
			t.Errorf("Get(%s), accepted before or after the restart: %v", id, err)
			continue
		}
		if rec.Status < status {
			t.Errorf("Get(%s): status %d, older than the last version accepted (%d)", id, rec.Status, status)
		}
		if listed[id] != 1 {
			t.Errorf("%s listed %d times", id, listed[id])
		}
	}
	c := clientOf(t, r.Addr)
	for {
		if err := s.FoldAll(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Pending(ctx); err != nil || n == 0 {
			break
		}
	}
	h0 := hourOf(recs[0].Start)
	for h := h0; h <= hourOf(recs[len(recs)-1].Start)+2; h++ {
		if hc, hh, _ := heldSize(t, c, prefix, h); hc != hh {
			t.Errorf("hour %+d: size counter %d, what it holds %d", h-h0, hc, hh)
		}
	}
}

// A Redis full under noeviction, written to by many goroutines at once (a
// busy host): every Write returns (its records dropped, ErrUnavailable),
// Health says unavailable with Redis's OOM, and once they have returned
// no goroutine of theirs is left running.
func TestOperatorFullNoPileUp(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1}, "--maxmemory-policy", "noeviction")
	c := clientOf(t, r.Addr)
	if err := s.Write(ctx, storetest.Records(1, time.Now().Add(-time.Hour), time.Second, 20)); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted, refused int
	for k := range 64 {
		wg.Go(func() {
			recs := storetest.Records(uint64(100+k), time.Now().Add(-time.Minute), time.Millisecond, 20)
			// Some records in another hour than their ID's: the
			// settling's round trips too.
			for _, rec := range recs[:5] {
				rec.Start = rec.Start.Add(-2 * time.Hour)
			}
			err := s.Write(ctx, recs)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case errors.Is(err, redisstore.ErrUnavailable):
				refused++
			default:
				t.Errorf("Write to a full Redis: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted != 0 || refused != 64 {
		t.Errorf("%d writes accepted, %d refused; want all 64 refused", accepted, refused)
	}
	if h := s.Health(); h.State != store.StateUnavailable || !strings.Contains(h.Detail, "OOM") {
		t.Errorf("Health = %+v; want unavailable, OOM", h)
	}
	goleak.VerifyNone(t, before)
}

// Close while Redis is away, killed or paused past WriteTimeout (a
// network partition), with hours left to fold and a subscription open:
// Close returns (the final fold fails, bounded by WriteTimeout) and no
// goroutine of the store's is left running.
func TestOperatorCloseWhileDown(t *testing.T) {
	for _, how := range []string{"killed", "paused"} {
		t.Run(how, func(t *testing.T) {
			r := testservers.StartRedis(t)
			before := goleak.IgnoreCurrent()
			s, err := redisstore.Open(context.Background(), "redis://"+r.Addr, redisstore.Options{FoldInterval: time.Hour, RetentionInterval: time.Hour, WriteTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			done := make(chan error, 1)
			go func() { done <- s.Subscribe(ctx, func(int, recording.ID) {}) }()
			r.WaitSubscribed(t, "appstats:events", 1)
			// Hours left to fold. A loaded machine (under -race) may take
			// longer than the WriteTimeout this test needs for Close
			// for the first write, dialing: write until one is taken.
			recs := storetest.Records(1, time.Now().Add(-3*time.Hour), time.Minute, 200)
			waitFor(t, "a write to be taken", func() bool { return s.Write(ctx, recs) == nil })
			if how == "killed" {
				r.Stop()
			} else {
				c := clientOf(t, r.Addr)
				if err := c.Do(ctx, "CLIENT", "PAUSE", time.Hour.Milliseconds(), "ALL").Err(); err != nil {
					t.Fatal(err)
				}
			}
			err = guarded(t, "Close while Redis is "+how, s.Close)
			if err == nil {
				t.Errorf("Close while Redis is %s = nil; want the final fold's error", how)
			}
			if err := <-done; !errors.Is(err, store.ErrClosed) {
				t.Errorf("Subscribe after Close = %v", err)
			}
			goleak.VerifyNone(t, before, goleak.IgnoreTopFunction("github.com/goappstats/appstats/internal/testservers.(*Redis).Start.func1"))
		})
	}
}
