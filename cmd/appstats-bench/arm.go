package main

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
)

// The bare arm: what the bare rounds run beside the app (-bare).
const (
	// bareClean: the bare rounds run with nothing of appstats. Before a
	// bare round that follows a recorded one, the recorded
	// configuration's recorder is closed, its stores closed (Badger's DB
	// and goroutines stopped, memstore's records dropped), every
	// reference to them dropped and the heap collected and handed back to
	// the OS (debug.FreeOSMemory); before a recorded round that follows a
	// bare one they are opened again (Badger on the same directory) and a
	// warm-up brings them back to their steady state (see env.prepare).
	bareClean = "clean"
	// bareShared: the old arm. The recorded configuration is built once
	// per scenario and stays alive through the bare rounds: memstore's
	// records in the heap, which the collector marks during bare rounds,
	// Badger's open DB with its flushes and compactions, the recorder's
	// goroutines.
	bareShared = "shared"
	// bareMatched: as bareClean, but each bare round runs beside a
	// ballast, a pointer-free array the size of the live heap the
	// recorded configuration held (what the collection before the bare
	// round freed), so that the collector paces both configurations by
	// the same heap. A bare process holding almost nothing collects after
	// every ~4 MiB allocated, far more often than the recorded one, whose
	// heap holds the store: the clean arm slows bare by that and flatters
	// the ratio. A service has a heap of its own; the ballast stands for
	// it, and costs the collector no marking.
	bareMatched = "matched"
)

// heapLive is the heap the last collection found live.
func heapLive() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// fillWait bounds how long a warm-up waits for the recorded
// configuration's stores to reach their steady state.
const fillWait = time.Minute

// badgerFill is how many records the recorded warm-up of the badger and
// ui scenarios writes, at least, after the store is opened: enough to
// wrap badgerstore's ring of records not persisted (a hello record takes
// about 260 bytes of its default 4 MiB: 16,128 held, measured), which
// Close empties. Everything else the store keeps is on disk and read back
// at Open.
const badgerFill = badgerstore.DefaultRingBytes / 256

// fill is how many records the badger and ui scenarios' warm-up writes
// after the store is opened, at least.
func (o options) fill() uint64 {
	if o.badgerFill != 0 {
		return o.badgerFill
	}
	return badgerFill
}

// prepare readies e for a round of the configuration recorded says: for a
// recorded round, the recorded configuration built if it is not (in the
// clean arm, after a bare round) and, if it was just built and o has a
// warm-up, warmed up: load on it for o.Warmup and then until its stores
// hold what they hold in a running service (memstore full, badgerstore's
// ring wrapped; at most fillWait more, and at most o.Requests requests);
// for a bare round in the clean arm, the recorded configuration released
// (see release). Nothing of this is measured.
func (e *env) prepare(ctx context.Context, recorded bool, o options) error {
	if e.build == nil { // a scenario whose configurations are built once
		return nil
	}
	if !recorded {
		if o.Bare != bareShared && e.built {
			return e.release(o.Bare == bareMatched)
		}
		return nil
	}
	if !e.built {
		if err := e.up(); err != nil {
			return err
		}
	}
	if e.warm || o.Warmup <= 0 {
		return nil
	}
	e.warm = true
	e.sw.set(e.recorded)
	runtime.GC()
	var full atomic.Bool
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // watches the stores fill, off the requests' path
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for !full.Load() {
			select {
			case <-stop:
				return
			case <-t.C:
				full.Store(e.filled == nil || e.filled())
			}
		}
	}()
	until := func() bool { return full.Load() }
	var stopDuring func()
	if e.during != nil {
		var err error
		if stopDuring, err = e.during(ctx); err != nil {
			close(stop)
			<-done
			return err
		}
	}
	_, _, _ = loadUntil(ctx, e.client, e.front.URL+e.path, o.Concurrency, o.Warmup, fillWait, until, o.Requests)
	close(stop)
	<-done
	e.wait()
	if stopDuring != nil {
		stopDuring()
	}
	return nil
}

// up builds the recorded configuration.
func (e *env) up() error {
	e.ballast = nil
	if err := e.build(); err != nil {
		return errors.Join(err, e.release(false))
	}
	e.built = true
	return nil
}

// release closes what the recorded configuration runs (its recorder
// first, which hands its queue to the stores, then the stores), drops it,
// and collects the heap and returns it to the OS, so that a bare round
// after it finds the process as a service without appstats would be:
// no recorder, no store, no record in the heap. It keeps what the
// recorder and the Badger store counted for the report. With ballast, it
// then allocates e.ballast, as many bytes as the collection freed (see
// bareMatched).
func (e *env) release(ballast bool) error {
	var before uint64
	if ballast {
		runtime.GC()
		before = heapLive()
	}
	var errs []error
	for _, c := range slices.Backward(e.downs) {
		errs = append(errs, c())
	}
	// Read once closed: the recorder has handed on its queue, and counts
	// what Close dropped.
	if e.rec != nil {
		e.closedStats = addStats(e.closedStats, e.rec.Stats())
	}
	if e.store != nil {
		e.overBudget += e.store.Health().OverBudget
	}
	e.downs, e.rec, e.recorded, e.store, e.filled, e.built, e.warm = nil, nil, nil, nil, nil, false, false
	debug.FreeOSMemory() // collects first
	if after := heapLive(); ballast && before > after {
		e.ballast = make([]byte, before-after)
		runtime.GC() // the pacer's goal from the heap with the ballast
	}
	return errors.Join(errs...)
}

// recorderStats is what the recorded configuration's recorders counted:
// those closed and the one running.
func (e *env) recorderStats() recording.Stats {
	if e.rec == nil {
		return e.closedStats
	}
	return addStats(e.closedStats, e.rec.Stats())
}

// addStats sums the counters of a and b (b's recorder running or not, its
// queue's depths are not added).
func addStats(a, b recording.Stats) recording.Stats {
	a.Recorded += b.Recorded
	a.SampledOut += b.SampledOut
	a.PausedOut += b.PausedOut
	a.Filtered += b.Filtered
	a.Dropped += b.Dropped
	a.Written += b.Written
	a.SinkErrors += b.SinkErrors
	a.DroppedCalls += b.DroppedCalls
	a.LateCalls += b.LateCalls
	a.ExecTraces += b.ExecTraces
	a.ExecTracesLimited += b.ExecTracesLimited
	a.FlightRecorder = a.FlightRecorder || b.FlightRecorder
	for i, k := range b.Sinks {
		if i == len(a.Sinks) {
			a.Sinks = append(a.Sinks, recording.SinkStats{Name: k.Name})
		}
		a.Sinks[i].Written += k.Written
		a.Sinks[i].Dropped += k.Dropped
		a.Sinks[i].Errors += k.Errors
	}
	return a
}

// countStores reads what the scenario's Badger store counted, reopening
// it if the clean arm has closed it.
func (e *env) countStores(ctx context.Context) (*storeCounts, error) {
	if e.store == nil && e.build != nil && e.hasStore {
		if err := e.up(); err != nil {
			return nil, err
		}
	}
	if e.store == nil {
		return nil, nil
	}
	c, err := countStore(ctx, e.store, e.opened)
	if err != nil {
		return nil, err
	}
	c.OverBudget += e.overBudget
	return c, nil
}

// loadUntil is load for at least d and then until until reports true, at
// most longer more, and at most max requests.
func loadUntil(ctx context.Context, client *http.Client, url string, conc int, d, longer time.Duration, until func() bool, max int) ([]time.Duration, int, time.Duration) {
	return loadWhile(ctx, client, url, conc, max, func(since time.Duration) bool {
		return since < d || since < d+longer && !until()
	})
}

// errNotBuilt is returned for a recorded round of a configuration not
// built: a bug of the caller.
var errNotBuilt = errors.New("the recorded configuration is not built")

// cleanNote says what the clean arm does, in a scenario's note.
const matchedNote = "Bare rounds (-bare matched) run with nothing of appstats, as with -bare clean, but beside a pointer-free ballast the size of the live heap the recorded configuration held, so that the collector paces both configurations by the same heap."

const cleanNote = "Bare rounds (-bare clean) run with nothing of appstats: before a bare round that follows a recorded one the recorder and the stores are closed and dropped, the heap collected and returned to the OS; before a recorded round that follows a bare one they are opened again (Badger on the same directory) and warmed up, unmeasured, for the warm-up's length and then until memstore is full or badgerstore's ring has wrapped."
