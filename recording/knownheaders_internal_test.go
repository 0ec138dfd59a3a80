package recording

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/goappstats/appstats/internal/headermap"
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
	taken, bySlotsTaken := 0, 0
	for i := range 20000 {
		h := random()
		want, wantSize := cfg.flatHeaders(nil, h)
		var got []string
		var size int64
		ok := false
		if len(order) == len(h) { // SetHeaders' condition
			// The look-up in the entries' slots alone, when it
			// finds them all, gives what knownHeaders gives.
			var bySlots []string
			var slotsSize int64
			var slotsSame, slotsOK bool
			if g := headermap.Small(h); g != nil {
				bySlots, slotsSize, slotsSame, slotsOK = cfg.knownBySlots(make([]string, 0, 2*len(order)), g, slices.Clone(order))
			}
			var same bool
			got, size, same, ok = cfg.knownHeaders(make([]string, 0, 2*len(order)), h, order)
			if slotsOK {
				bySlotsTaken++
				if !ok || !slices.Equal(bySlots, got) || slotsSize != size || slotsSame != same {
					t.Fatalf("%d: headers %q after %v: by slots %q %d %v, knownHeaders %q %d %v %v",
						i, h, order, bySlots, slotsSize, slotsSame, got, size, same, ok)
				}
			}
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
		// The next look-up is by these names, as headerMap keeps them,
		// each with the slot knownHeaders found it in (a map of one
		// group), kept as reset and refillHeaderMap keep the entries;
		// one in four a random one, right or wrong.
		prev := slices.Clone(order)
		order = order[:0]
		for j := 0; j < len(want); j += 2 {
			if j == 0 || want[j] != want[j-2] {
				e := headerEntry{name: want[j]}
				if k := slices.IndexFunc(prev, func(p headerEntry) bool { return p.name == e.name }); k >= 0 {
					e.slot = prev[k].slot
				}
				if rng.IntN(4) == 0 {
					e.slot = uint8(rng.IntN(noSlot + 2))
				}
				order = append(order, e)
			}
		}
	}
	if taken < 1000 {
		t.Errorf("knownHeaders kept the headers %d times of 20000; the test does not exercise it", taken)
	}
	if headermap.Known && bySlotsTaken < 300 {
		t.Errorf("the look-up in the entries' slots found the headers %d times of 20000; the test does not exercise it", bySlotsTaken)
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
