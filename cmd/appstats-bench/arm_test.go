package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/badgerstore"
)

// TestBareClean: with -bare clean, the measured bare rounds run with
// nothing of appstats alive — the heap live at their start (after the
// round's collection) is that of the first bare warm-up, before anything
// was recorded, and not memstore's records; Badger's directory is free (its
// DB closed) — while the measured recorded rounds start with their stores
// at their steady state (memstore full, badgerstore's ring wrapped). With
// -bare shared, the old arm, the bare rounds run beside the full store and
// the open DB: what the clean arm removes.
func TestBareClean(t *testing.T) {
	if testing.Short() {
		t.Skip("fills memstore and badgerstore's ring")
	}
	for _, arm := range []string{bareClean, bareShared} {
		t.Run(arm, func(t *testing.T) {
			for _, scenario := range []string{"hello", "badger"} {
				o := defaultOptions()
				o.Scenarios = []string{scenario}
				o.Duration = 100 * time.Millisecond
				o.Warmup = 100 * time.Millisecond
				o.Rounds = 2 // bare, recorded, recorded, bare: the last bare round follows a recorded one
				o.Concurrency = 2
				o.Bare = arm
				o.badgerFill = 2000 // the ring holds more, but is not emptied while the DB is open
				var (
					base                uint64 // the heap at the first bare warm-up
					bareHeap, recHeap   []uint64
					bareFree, recFilled []bool
				)
				o.onRound = func(e *env, recorded, warmup bool) {
					heap := heapLive()
					switch {
					case warmup && !recorded:
						base = heap
					case warmup:
					case recorded:
						recHeap = append(recHeap, heap)
						recFilled = append(recFilled, e.filled != nil && e.filled())
					default:
						bareHeap = append(bareHeap, heap)
						if e.dir != "" {
							st, err := badgerstore.Open(e.dir, badgerstore.Options{})
							if err == nil {
								err = st.Close()
							}
							bareFree = append(bareFree, err == nil)
						}
					}
				}
				if _, err := run(context.Background(), o, io.Discard); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: heap at the first bare warm-up %d B; at the bare rounds %v; at the recorded rounds %v", scenario, base, bareHeap, recHeap)
				if len(bareHeap) != 2 || len(recHeap) != 2 {
					t.Fatalf("%s: %d bare and %d recorded rounds seen, want 2 each", scenario, len(bareHeap), len(recHeap))
				}
				for i, filled := range recFilled {
					if !filled {
						t.Errorf("%s: recorded round %d started before its store was filled", scenario, i+1)
					}
				}
				// The records the recorded configuration keeps: memstore's
				// 5,000 (MBs), badgerstore's ring (4 MiB) and tables.
				const slack = 1 << 20
				for i, h := range bareHeap {
					if clean := h < base+slack; clean != (arm == bareClean) {
						t.Errorf("%s, -bare %s: bare round %d starts with %d B live, %d B more than before anything was recorded", scenario, arm, i+1, h, int64(h)-int64(base))
					}
					if h+slack > recHeap[i] && arm == bareClean {
						t.Errorf("%s: bare round %d starts with %d B live, the recorded round beside it with %d B: want the recorded configuration's store between them", scenario, i+1, h, recHeap[i])
					}
				}
				if scenario == "badger" {
					for i, free := range bareFree {
						if free != (arm == bareClean) {
							t.Errorf("badger, -bare %s: bare round %d: Badger's directory could be opened: %v", arm, i+1, free)
						}
					}
				}
			}
		})
	}
}

// TestBareMatched: with -bare matched, the measured bare rounds run with
// the recorded configuration closed and dropped, as with -bare clean, but
// their heap live at the start is the recorded round's, within a slack —
// the ballast — so that the collector paces both alike; with -bare clean
// it is not.
func TestBareMatched(t *testing.T) {
	if testing.Short() {
		t.Skip("fills memstore")
	}
	for _, arm := range []string{bareMatched, bareClean} {
		o := defaultOptions()
		o.Scenarios = []string{"hello"}
		o.Duration = 100 * time.Millisecond
		o.Warmup = 100 * time.Millisecond
		o.Rounds = 2 // bare, recorded, recorded, bare
		o.Concurrency = 2
		o.Bare = arm
		var bareHeap, recHeap []uint64
		var bareClosed []bool
		o.onRound = func(e *env, recorded, warmup bool) {
			switch {
			case warmup:
			case recorded:
				recHeap = append(recHeap, heapLive())
			default:
				bareHeap = append(bareHeap, heapLive())
				bareClosed = append(bareClosed, e.rec == nil && !e.built)
			}
		}
		if _, err := run(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
		if len(bareHeap) != 2 || len(recHeap) != 2 {
			t.Fatalf("-bare %s: %d bare and %d recorded rounds seen, want 2 each", arm, len(bareHeap), len(recHeap))
		}
		// The last bare round follows a recorded one: the ballast is the
		// heap that round's configuration held.
		const slack = 1 << 20
		h, r := bareHeap[1], recHeap[1]
		matched := h+slack >= r && h <= r+slack
		if matched != (arm == bareMatched) {
			t.Errorf("-bare %s: the bare round after a recorded one starts with %d B live, the recorded round before it with %d B", arm, h, r)
		}
		if !bareClosed[1] {
			t.Errorf("-bare %s: the bare round after a recorded one runs beside its recorder", arm)
		}
	}
}

// TestBallastOnlyBare: with -only bare and -ballast N, the bare rounds
// start with about N bytes more live than without it (within 1 MiB: the
// rest of the heap moves a little from run to run) (a run of bare
// alone never builds the recorded configuration whose heap -bare matched
// measures); -ballast with both configurations, or negative, is refused.
func TestBallastOnlyBare(t *testing.T) {
	const n = 8 << 20
	live := map[int64]uint64{}
	for _, ballast := range []int64{0, n} {
		o := defaultOptions()
		o.Scenarios = []string{"hello"}
		o.Duration = 50 * time.Millisecond
		o.Warmup = 0
		o.Rounds = 1
		o.Concurrency = 2
		o.Only = "bare"
		o.Ballast = ballast
		o.onRound = func(e *env, recorded, warmup bool) {
			if !recorded && !warmup {
				live[ballast] = heapLive()
			}
		}
		if err := o.validate(); err != nil {
			t.Fatalf("-only bare -ballast %d: %v", ballast, err)
		}
		if _, err := run(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if live[n]+1<<20 < live[0]+n {
		t.Errorf("-only bare: a bare round starts with %d B live with -ballast %d, %d B without", live[n], n, live[0])
	}
	for _, o := range []options{
		{Only: "", Ballast: n},
		{Only: "recorded", Ballast: n},
		{Only: "bare", Ballast: -1},
	} {
		full := defaultOptions()
		full.Only, full.Ballast = o.Only, o.Ballast
		if err := full.validate(); err == nil {
			t.Errorf("-only %q -ballast %d: no error", o.Only, o.Ballast)
		}
	}
}
