package recording

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKnownHeaders checks knownHeaders, SetHeaders' look-up of a request's
// headers by the names of the record's last request, against flatHeaders'
// walk of the map: over random header maps of up to 10 names (one value or
// several, none, a name or value over its cap, a total over the cap), each
// looked up by the names of the map before it, knownHeaders either keeps
// exactly the pairs the walk keeps, with the same size, or declines; and
// it declines only when the names differ or the walk had a cut to make or
// a value to leave out.
func TestKnownHeaders(t *testing.T) {
	cfg := newConfig([]Option{WithMaxName(12), WithMaxHeaders(16, 240)})
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Accept", "User-Agent", "X-A", "X-B", "Cookie", "X-Request-Id-Long", "Traceparent", "Host-Ish", "X-C", "X-D"}
	var last []string // the names of the map before
	random := func() map[string][]string {
		h := map[string][]string{}
		pick := rng.Perm(len(names))[:rng.IntN(len(names)+1)]
		if rng.IntN(2) == 0 && len(last) > 0 {
			// Mostly, a request sends the names of the one before.
			pick = pick[:0]
			for _, k := range last {
				pick = append(pick, slices.Index(names, k))
			}
			if rng.IntN(4) == 0 { // one of them swapped for another
				pick[rng.IntN(len(pick))] = rng.IntN(len(names))
			}
		}
		last = last[:0]
		for _, i := range pick {
			last = append(last, names[i])
			var vs []string
			switch rng.IntN(24) {
			case 0: // no value
			case 1:
				vs = []string{"a", "b"}
			case 2:
				vs = []string{"a value over sixteen bytes"}
			default:
				vs = []string{fmt.Sprintf("%0*d", 1+rng.IntN(16), rng.IntN(1000))}
			}
			h[names[i]] = vs
		}
		return h
	}
	var order []headerEntry
	taken := 0
	for i := range 20000 {
		h := random()
		want, wantSize := cfg.flatHeaders(nil, h)
		var got []string
		var size int64
		ok := false
		if len(order) == len(h) { // SetHeaders' condition
			got, size, _, ok = cfg.knownHeaders(make([]string, 0, 2*len(order)), h, order)
		}
		// The walk kept every name with its one value, within the caps.
		whole := len(want) == 2*len(h)
		for j := 0; j < len(want) && whole; j += 2 {
			whole = len(h[want[j]]) == 1 && h[want[j]][0] == want[j+1]
		}
		sameNames := len(order) == len(h)
		for _, e := range order {
			_, in := h[e.name]
			sameNames = sameNames && in
		}
		if ok != (whole && sameNames) {
			t.Fatalf("%d: headers %q after names %v: ok %v, want %v", i, h, order, ok, whole && sameNames)
		}
		if ok {
			taken++
			if !slices.Equal(pairs(got), pairs(want)) || size != wantSize {
				t.Fatalf("%d: headers %q: kept %q (size %d), the walk keeps %q (size %d)", i, h, got, size, want, wantSize)
			}
		}
		// The next look-up is by these names, as headerMap keeps them.
		order = order[:0]
		for j := 0; j < len(want); j += 2 {
			if j == 0 || want[j] != want[j-2] {
				order = append(order, headerEntry{name: want[j]})
			}
		}
	}
	if taken < 1000 {
		t.Errorf("knownHeaders kept the headers %d times of 20000; the test does not exercise it", taken)
	}
}

// pairs returns flat's name/value pairs, sorted.
func pairs(flat []string) []string {
	var ps []string
	for i := 0; i+1 < len(flat); i += 2 {
		ps = append(ps, flat[i]+"\x00"+flat[i+1])
	}
	slices.Sort(ps)
	return ps
}
