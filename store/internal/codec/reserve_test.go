package codec

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRollupReserve counts one write's records in a rollup, then the
// next write's in a rollup that reserved the first one's Span and in one
// that did not: both encode the same bytes and answer the same Stats
// (routes, instances and calls included), and the reserved one allocates
// less (its request sketches do not grow). A bounded rollup, one that
// counts requests already, and a span too wide reserve nothing.
func TestRollupReserve(t *testing.T) {
	recs := storetest.Records(4, time.Unix(1700000000, 0), time.Second, 200)
	for i, r := range recs {
		r.Route = []string{"GET /a", "GET /b"}[i%2]
		r.Instance = "host/1"
	}
	prev := NewRollup()
	addThirdStored(prev, recs)
	lo, hi, ok := prev.Span()
	if !ok || lo > hi {
		t.Fatalf("Span of a rollup of %d records: %d, %d, %v", len(recs), lo, hi, ok)
	}
	reserved, plain := NewRollup(), NewRollup()
	reserved.Reserve(lo, hi)
	// The same durations, in other records of the same routes.
	next := storetest.Records(4, time.Unix(1700000000, 0), time.Second, 200)
	for i, r := range next {
		r.Route = []string{"GET /a", "GET /b"}[i%2]
		r.Instance = strings.Clone("host/1")
	}
	mallocs := func(ru *Rollup) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		addThirdStored(ru, next)
		runtime.ReadMemStats(&b)
		return b.Mallocs - a.Mallocs
	}
	mr, mp := mallocs(reserved), mallocs(plain)
	if mr >= mp {
		t.Errorf("reserved rollup: %d allocations for %d records, unreserved %d: want fewer", mr, len(next), mp)
	}
	t.Logf("allocations: reserved %d, unreserved %d", mr, mp)
	// Encoded (groups in map order) and decoded, the same.
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	var scratch sketch.Sketch
	decoded := func(ru *Rollup) *Rollup {
		b := AppendRollup(nil, ru)
		d := NewRollup()
		if err := d.MergeEncoded(b, true, &scratch); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := len(AppendRollup(nil, reserved)), len(AppendRollup(nil, plain)); a != b {
		t.Errorf("reserved rollup encodes %d bytes, unreserved %d", a, b)
	}
	if g, want := decoded(reserved).Stats(w), decoded(plain).Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("reserved rollup decoded:\n%+v\nwant\n%+v", g, want)
	}
	if g, want := reserved.Stats(w), plain.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("reserved rollup's stats:\n%+v\nwant\n%+v", g, want)
	}
	if reserved.Latency() != plain.Latency() {
		t.Errorf("latency %v, want %v", reserved.Latency(), plain.Latency())
	}

	bounded := NewBoundedRollup(10)
	bounded.Reserve(lo, hi)
	counting := NewRollup()
	addThirdStored(counting, next[:1])
	counting.Reserve(lo, hi)
	wide := NewRollup()
	wide.Reserve(0, maxReservedSpan)
	for name, ru := range map[string]*Rollup{"bounded": bounded, "counting": counting, "too wide": wide} {
		if ru.hasSpan {
			t.Errorf("%s rollup reserved a span", name)
		}
	}
}
