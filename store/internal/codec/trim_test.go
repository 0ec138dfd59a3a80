package codec

import (
	"reflect"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRollupTrim counts records in a rollup reserved a span far wider
// than theirs, trims it, and checks that its request sketches then cover
// only the buckets counted in, and that its encoding is as long as it was
// untrimmed (groups are encoded in map order, so the bytes are compared by
// length) and decodes to the same Stats, that it answers the same Stats
// and latency, and merges into another rollup as it did.
func TestRollupTrim(t *testing.T) {
	recs := storetest.Records(9, time.Unix(1700000000, 0), time.Second, 60)
	for i, r := range recs {
		r.Route = []string{"GET /a", "GET /b"}[i%2]
		r.Instance = "host/1"
	}
	ru := NewRollup()
	ru.Reserve(0, maxReservedSpan-1)
	addThirdStored(ru, recs)
	before := AppendRollup(nil, ru)
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	stats, lat := ru.Stats(w), ru.Latency()
	untrimmed := NewRollup()
	untrimmed.Merge(ru)

	ru.Trim()
	groups := []*group{&ru.all}
	for _, g := range ru.routes {
		groups = append(groups, g)
	}
	for _, g := range ru.insts {
		groups = append(groups, g)
	}
	for _, g := range groups {
		lo, hi, ok := g.sk.Span()
		// The sketch's counts, unexported in its package, read by reflection.
		if n := reflect.ValueOf(g.sk).FieldByName("counts").Len(); !ok || n != hi-lo+1 {
			t.Errorf("a request group's sketch holds %d counts after Trim; want %d (its span %d..%d)", n, hi-lo+1, lo, hi)
		}
	}
	// Encoded (groups in map order), the same length; decoded, the same.
	if after := AppendRollup(nil, ru); len(after) != len(before) {
		t.Errorf("trimmed rollup encodes %d bytes, untrimmed %d", len(after), len(before))
	}
	var scratch sketch.Sketch
	decoded := func(b []byte) *store.Stats {
		d := NewRollup()
		if err := d.MergeEncoded(b, true, &scratch); err != nil {
			t.Fatal(err)
		}
		return d.Stats(w)
	}
	if g, want := decoded(AppendRollup(nil, ru)), decoded(before); !reflect.DeepEqual(g, want) {
		t.Errorf("trimmed rollup decoded:\n%+v\nwant\n%+v", g, want)
	}
	if g := ru.Stats(w); !reflect.DeepEqual(g, stats) {
		t.Errorf("trimmed rollup's stats:\n%+v\nwant\n%+v", g, stats)
	}
	if ru.Latency() != lat {
		t.Errorf("trimmed rollup's latency %v, want %v", ru.Latency(), lat)
	}
	trimmed := NewRollup()
	trimmed.Merge(ru)
	if g, want := trimmed.Stats(w), untrimmed.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("merged from the trimmed rollup:\n%+v\nwant\n%+v", g, want)
	}
}
