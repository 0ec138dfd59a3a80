package badgerstore

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// stressRecords makes n records a microsecond apart from start; every
// third does not start at its ID's time (looked up by Write).
func stressRecords(seed uint64, start time.Time, n int) []*recording.Record {
	recs := storetest.Records(seed, start, time.Millisecond, n)
	for i, r := range recs {
		r.Start = start.Add(time.Duration(i) * time.Microsecond)
		binary.BigEndian.PutUint64(r.ID[:8], uint64(r.Start.UnixNano()))
		if i%3 == 0 {
			r.Start = r.Start.Add(time.Millisecond)
		}
	}
	return recs
}

// A progress hears of each step a stress test's work makes (step), so
// that its watchdog can tell a deadlock, where no step comes, from a slow
// machine, where steps come slowly.
type progress chan struct{}

func newProgress() progress { return make(progress, 1) }

// step tells the watchdog that the work moved on; it never blocks.
func (p progress) step() {
	select {
	case p <- struct{}{}:
	default:
	}
}

// watchdog fails the test with every goroutine's stack if done is not
// closed and no step of p came for d. A limit on the whole run instead
// fired at load averages of 20 to 30, where the work, slowed down, still
// moved on.
func watchdog(t *testing.T, d time.Duration, done <-chan struct{}, p progress) {
	t.Helper()
	stall := time.NewTimer(d)
	defer stall.Stop()
	for {
		select {
		case <-done:
			return
		case <-p:
			stall.Reset(d)
		case <-stall.C:
			buf := make([]byte, 1<<22)
			n := runtime.Stack(buf, true)
			t.Fatalf("deadlock: no step for %v\n%s", d, buf[:n])
		}
	}
}

func stressOpts() Options {
	o := blockOpts()
	o.MemTableSize = 1 << 20 // small batches: Writes of several transactions
	return o
}

// TestFlightsStress has four Writes at once give overlapping sets of the
// same records, in different orders (forward, backward, shuffled), some
// Writes with short deadlines, while reads list and retention passes
// recount (a damaged index block noted) under the store's exclusive lock.
// Nothing deadlocks (the watchdog: no Write returns for 3 minutes), and
// each record is stored and counted once.
func TestFlightsStress(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, stressOpts())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := time.Now().Add(-time.Hour)
	const rounds, per = 12, 600
	var all []*recording.Record
	done, steps := make(chan struct{}), newProgress()
	go func() {
		defer close(done)
		stop := make(chan struct{})
		var bg sync.WaitGroup
		bg.Go(func() { // recounts, as after a damaged index block
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.miscounted.Store(true)
				if _, err := s.Retain(ctx); err != nil {
					t.Error(err)
				}
				time.Sleep(time.Millisecond)
			}
		})
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.List(ctx, store.Query{Limit: 50}); err != nil {
					t.Error(err)
				}
			}
		})
		for round := range rounds {
			recs := stressRecords(uint64(round+1), base.Add(time.Duration(round)*time.Second), per)
			all = append(all, recs...)
			var wg sync.WaitGroup
			for g := range 4 {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				mine := slices.Clone(recs)
				switch g {
				case 1:
					slices.Reverse(mine)
				case 2:
					rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
				case 3:
					mine = append(mine[per/2:], mine[:per/2]...)
				}
				wg.Go(func() {
					// Each record in small Writes too: more batches.
					for len(mine) > 0 {
						n := min(len(mine), 50+rng.IntN(300))
						if err := s.Write(ctx, mine[:n]); err != nil {
							t.Error(err)
						}
						steps.step()
						mine = mine[n:]
					}
				})
			}
			// A Write with a deadline that ends while it waits.
			wg.Go(func() {
				c, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
				defer cancel()
				if err := s.Write(c, recs); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Error(err)
				}
				steps.step()
			})
			wg.Wait()
		}
		close(stop)
		bg.Wait()
	}()
	watchdog(t, 3*time.Minute, done, steps)
	if t.Failed() {
		s.Close()
		return
	}
	s = listedAndCounted(t, s, dir, all)
	defer s.Close()
	checkGet(t, s, all)
}

// TestFlightsCloseRacing has Writes of overlapping records run while the
// store closes: every Write returns (nil or ErrClosed), and Close returns.
func TestFlightsCloseRacing(t *testing.T) {
	for iter := range 8 {
		s, err := Open(t.TempDir(), stressOpts())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		base := time.Now().Add(-time.Hour)
		done, steps := make(chan struct{}), newProgress()
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for round := 0; ; round++ {
						recs := stressRecords(uint64(round), base.Add(time.Duration(round)*time.Second), 300)
						if g%2 == 1 {
							slices.Reverse(recs)
						}
						err := s.Write(ctx, recs)
						steps.step()
						if err != nil {
							if !errors.Is(err, store.ErrClosed) {
								t.Error(err)
							}
							return
						}
					}
				})
			}
			wg.Go(func() {
				for {
					s.miscounted.Store(true)
					if _, err := s.Retain(ctx); err != nil {
						if !errors.Is(err, store.ErrClosed) {
							t.Error(err)
						}
						return
					}
				}
			})
			time.Sleep(time.Duration(50+iter*40) * time.Millisecond)
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			wg.Wait()
		}()
		watchdog(t, 2*time.Minute, done, steps)
	}
}

// TestFlightsWaitCancelled: a wait for a batch still running ends with its
// context; once the batch ends, waits return at once, and the ended
// batches every batch running sees are forgotten.
func TestFlightsWaitCancelled(t *testing.T) {
	var fl flights
	id := recording.ID{1}
	g := fl.begin()
	g.ids = append(g.ids, id)
	f := fl.begin()
	if fl.storing(f, id) != g {
		t.Fatal("storing: the running batch not found")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := fl.wait(ctx, g); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait = %v, want DeadlineExceeded", err)
	}
	fl.end(g)
	if err := fl.wait(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if fl.storing(f, id) != g {
		t.Fatal("storing: an ended batch f does not see not found")
	}
	fl.end(f)
	if len(fl.list) != 0 {
		t.Fatalf("%d batches kept with none running", len(fl.list))
	}
	if h := fl.begin(); fl.storing(h, id) != nil {
		t.Fatal("a batch begun after g ended does not see it")
	}
}
