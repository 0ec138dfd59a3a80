package recording

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/internal/headermap"
	"github.com/goappstats/appstats/internal/headermap/headermaptest"
)

// TestHeaderGet compares headerGet with the map's own look-up, for header
// maps of 0 to 12 names (a table from 9), some deleted, some set again,
// some made with a size hint ([headermaptest.Random]), with every name
// they hold, names of the same lengths they do not hold, and the names of
// requests (Traceparent among them). On Go 1.26 it also checks that the
// small maps' layout was found as expected (headermap.Known), so that the
// look-up by the group is the one compared.
func TestHeaderGet(t *testing.T) {
	if strings.HasPrefix(runtime.Version(), "go1.26") && !headermap.Known {
		t.Fatal("headermap.Known is false on go1.26: headerGet takes the map's own look-up")
	}
	if headerGet(nil, "Accept") != nil {
		t.Fatal("headerGet(nil) is not nil")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		m := headermaptest.Random(rng, round)
		h, names := m.H, m.Names
		probe := append(append([]string{}, headermaptest.Common...), names...)
		for _, k := range names {
			probe = append(probe, strings.ToLower(k), k[:len(k)-1]+"_", strings.Clone(k))
		}
		for _, k := range probe {
			got, want := headerGet(h, k), h[k]
			if len(got) != len(want) || len(want) > 0 && unsafe.SliceData(got) != unsafe.SliceData(want) {
				t.Fatalf("round %d: headerGet(%v, %q) = %q, want %q", round, h, k, got, want)
			}
		}
	}
}
