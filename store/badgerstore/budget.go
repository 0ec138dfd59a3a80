package badgerstore

import (
	"sync"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/store"
)

// DefaultRecordBudget is the default of [Options.RecordBudget]: full
// records persisted per route and second. Twenty a second is 1,200 a
// minute of each route, more than anyone reads, and 72,000 an hour, so
// that a busy route alone does not push the rest out of MaxRecords' million
// within a day; and it bounds what persisting costs (30–70 µs of CPU a
// 20-call record) to well under a millisecond of CPU a second per route,
// where a route serving 20,000 requests a second would otherwise spend
// most of a core on it.
const DefaultRecordBudget = 20

// A budget decides which records are persisted in full: within
// RecordBudget per route and second (of the record's start), and beyond
// it those that failed or are slower than every record of their route
// persisted so far in that second. Its state is one slot per route, at
// most MaxKeys of them (the others share the store.Other slot; with no
// cap, routes idle for a minute are forgotten all the same); it
// allocates only when a route gets its slot.
type budget struct {
	mu    sync.Mutex
	n     int // records per route and second; negative: every record
	max   int // routes with a slot of their own; 0: no cap
	slots map[string]*budgetSlot
	other budgetSlot
	swept int64 // the second of the last sweep of idle slots
	// sweepAt is, with no cap, the number of slots at which idle ones
	// are swept: it doubles when a sweep leaves that many busy.
	sweepAt int
	// last is the route of the slot found last, lastSlot that slot
	// (nil: none): a route is mostly a constant of the code that set it
	// (a mux's pattern), the same string record after record, so it is
	// found by its address first, without hashing it. Sweeps and reset
	// forget it.
	last     string
	lastSlot *budgetSlot
}

// budgetSweepAt is the first sweepAt of a budget with no cap on routes.
const budgetSweepAt = 1024

// A budgetSlot is one route's budget in one second.
type budgetSlot struct {
	sec     int64         // Unix second the counts are of
	kept    int           // records persisted in sec
	slowest time.Duration // the slowest of them
}

func newBudget(n, maxKeys int) *budget {
	return &budget{n: n, max: maxKeys, slots: make(map[string]*budgetSlot), sweepAt: budgetSweepAt}
}

// keep reports whether a record of route that started at start (Unix
// nanoseconds), lasted d and failed or not is persisted in full, and
// counts it if so. The caller holds b.mu.
func (b *budget) keep(route string, start int64, d time.Duration, failed bool) bool {
	if b.n < 0 {
		return true
	}
	sec := floorDiv(start, int64(time.Second))
	sl := b.slot(route, sec)
	if sl.sec != sec {
		*sl = budgetSlot{sec: sec}
	}
	if sl.kept < b.n || failed || d > sl.slowest {
		sl.kept++
		sl.slowest = max(sl.slowest, d)
		return true
	}
	return false
}

// slot returns route's slot, the Other slot when there are max routes
// already; once a second at most, it frees the slots idle for a minute
// when that would make room.
func (b *budget) slot(route string, sec int64) *budgetSlot {
	if route == store.Other {
		return &b.other
	}
	if b.lastSlot != nil && len(route) == len(b.last) && unsafe.StringData(route) == unsafe.StringData(b.last) {
		return b.lastSlot
	}
	if sl := b.slots[route]; sl != nil {
		b.last, b.lastSlot = route, sl
		return sl
	}
	if b.max > 0 && len(b.slots) >= b.max {
		if sec == b.swept {
			return &b.other
		}
		b.sweep(sec)
		if len(b.slots) >= b.max {
			return &b.other
		}
	}
	if b.max <= 0 && len(b.slots) >= b.sweepAt && sec != b.swept {
		// No cap: idle routes are forgotten all the same, so that routes
		// without end do not grow the map without end.
		b.sweep(sec)
		if len(b.slots) >= b.sweepAt/2 {
			b.sweepAt *= 2
		}
	}
	sl := &budgetSlot{sec: sec}
	b.slots[route] = sl
	b.last, b.lastSlot = route, sl
	return sl
}

// sweep forgets the routes idle for a minute before sec.
func (b *budget) sweep(sec int64) {
	b.swept = sec
	b.last, b.lastSlot = "", nil
	for k, sl := range b.slots {
		if sl.sec < sec-60 {
			delete(b.slots, k)
		}
	}
}

// reset forgets every route's counts (Clear).
func (b *budget) reset() {
	b.mu.Lock()
	clear(b.slots)
	b.last, b.lastSlot = "", nil
	b.other = budgetSlot{}
	b.mu.Unlock()
}
