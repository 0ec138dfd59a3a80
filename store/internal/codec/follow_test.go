package codec

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

// oneRouteRecords returns n records of one route and one instance (the
// same strings, as the recorder's are), each with calls of one RPC, so
// that every map of a rollup counting them holds one key and its
// encoding does not depend on the maps' order.
func oneRouteRecords(seed uint64, n int) []*recording.Record {
	recs := storetest.Records(seed, time.Unix(1700000000, 0), time.Second, n)
	for _, r := range recs {
		r.Route, r.Instance = "GET /one", "host/1"
		for j := range r.Calls {
			r.Calls[j].Service, r.Calls[j].Method = "svc", "m"
		}
	}
	return recs
}

// TestRollupFollow: an unbounded rollup (a write's delta) whose records
// are all of one route and one instance counts them in its overall group
// alone, its route's and instance's groups following it (see
// Rollup.follow). It encodes the very bytes, and answers the same Stats,
// as a bounded rollup that counts each record in every group — with and
// without a reserved span, trimmed or not — and so it does once records
// of other routes and instances come (the groups settled), and again
// when they go back to the first route. Each way of reading or adding
// to a rollup other than add settles it first: its answers after it are
// the bounded rollup's.
func TestRollupFollow(t *testing.T) {
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	recs := oneRouteRecords(5, 200)
	ref := func(recs []*recording.Record) *Rollup {
		ru := NewBoundedRollup(1 << 20)
		addThirdStored(ru, recs)
		return ru
	}
	for _, reserve := range []bool{false, true} {
		ru := NewRollup()
		if reserve {
			ru.Reserve(0, 300)
		}
		addThirdStored(ru, recs)
		if !ru.follow {
			t.Fatalf("reserve %v: a rollup of one route and instance does not follow", reserve)
		}
		want := AppendRollup(nil, ref(recs))
		if got := AppendRollup(nil, ru); !bytes.Equal(got, want) {
			t.Errorf("reserve %v: encodes %d bytes %x,\nwant %d bytes %x", reserve, len(got), got, len(want), want)
		}
		ru.Trim()
		if got := AppendRollup(nil, ru); !bytes.Equal(got, want) {
			t.Errorf("reserve %v, trimmed: encodes %x,\nwant %x", reserve, got, want)
		}
	}

	// Then other routes and instances (some the same bytes in other
	// memory), then the first again.
	mixed := oneRouteRecords(6, 120)
	for i, r := range mixed[40:80] {
		r.Route = []string{"GET /two", strings.Clone("GET /one"), "GET /one"}[i%3]
		r.Instance = []string{"host/1", "host/2"}[i/7%2]
	}
	ru, want := NewRollup(), ref(mixed)
	addThirdStored(ru, mixed)
	if ru.follow {
		t.Error("a rollup of three routes still follows")
	}
	if g, want := ru.Stats(w), want.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("mixed routes:\n%+v\nwant\n%+v", g, want)
	}
	// Encoded (its sketches copied where they are the overall one's:
	// not here, but for the first route's) and decoded, the same.
	var scratch sketch.Sketch
	decoded := NewBoundedRollup(1 << 20)
	if err := decoded.MergeEncoded(AppendRollup(nil, ru), false, &scratch); err != nil {
		t.Fatal(err)
	}
	if g, want := decoded.Stats(w), want.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("mixed routes, encoded:\n%+v\nwant\n%+v", g, want)
	}
	// A record of another instance only.
	ru, two := NewRollup(), oneRouteRecords(7, 10)
	two[9].Instance = "host/2"
	addThirdStored(ru, two)
	if g, want := ru.Stats(w), ref(two).Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("another instance:\n%+v\nwant\n%+v", g, want)
	}

	// Each reader settles: a following rollup (a) and the bounded one
	// (b) of the same records, read or added to alike, then compared.
	other := ref(oneRouteRecords(8, 30))
	encoded := AppendRollup(nil, other)
	for name, op := range map[string]func(ru *Rollup){
		"Merge into":      func(ru *Rollup) { ru.Merge(other) },
		"MergeShare into": func(ru *Rollup) { ru.MergeShare(other, 1, 3) },
		"MergeOverall":    func(ru *Rollup) { ru.MergeOverall(other) },
		"AddOverall":      func(ru *Rollup) { ru.AddOverall(Overall{Duration: time.Millisecond, Calls: 2}) },
		"MergeEncoded": func(ru *Rollup) {
			var scratch sketch.Sketch
			if err := ru.MergeEncoded(encoded, false, &scratch); err != nil {
				t.Fatal(err)
			}
		},
		"Trim, then add": func(ru *Rollup) { ru.Trim(); addThirdStored(ru, recs[:5]) },
		"Stats, then add": func(ru *Rollup) {
			ru.Stats(w)
			addThirdStored(ru, recs[:5])
		},
		"AppendRollup, then add": func(ru *Rollup) { AppendRollup(nil, ru); addThirdStored(ru, recs[:5]) },
	} {
		a, b := NewRollup(), ref(recs[:50])
		addThirdStored(a, recs[:50])
		op(a)
		op(b)
		if g, want := a.Stats(w), b.Stats(w); !reflect.DeepEqual(g, want) {
			t.Errorf("%s:\n%+v\nwant\n%+v", name, g, want)
		}
	}
	for name, op := range map[string]func(dst, src *Rollup){
		"Merge of":      func(dst, src *Rollup) { dst.Merge(src) },
		"MergeShare of": func(dst, src *Rollup) { dst.MergeShare(src, 2, 3) },
	} {
		a, b := NewRollup(), ref(recs[:50])
		addThirdStored(a, recs[:50])
		da, db := ref(mixed), ref(mixed)
		op(da, a)
		op(db, b)
		if g, want := da.Stats(w), db.Stats(w); !reflect.DeepEqual(g, want) {
			t.Errorf("%s a following rollup:\n%+v\nwant\n%+v", name, g, want)
		}
	}
	// Reset forgets the following.
	a := NewRollup()
	addThirdStored(a, recs[:10])
	a.Reset()
	addThirdStored(a, mixed)
	if g, want := a.Stats(w), ref(mixed).Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("after Reset:\n%+v\nwant\n%+v", g, want)
	}
}
