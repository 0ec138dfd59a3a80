package convention_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextNestedURLsLinear checks that a text of URLs written in one
// another's path ("p://a@p://a@…", a redirect's target after a "/") is
// scrubbed in time linear in its length, counted in the bytes allocated
// (not the clock): each URL's path was scrubbed as a text again, its URLs'
// paths again, so that n nested URLs cost n scans of the text (round 44:
// "p://" repeated to 16 KiB took 0.4 s; the bytes allocated for 256 KiB
// were 16 times those for 64 KiB). 4 times the text may allocate 6 times
// the bytes at most. The URLs in a path are still read: their passwords
// are hidden as any "user:password@host".
func TestTextNestedURLsLinear(t *testing.T) {
	r := defaultRules()
	allocated := func(s string) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r.Error(s)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	for _, p := range []string{"p://a@", "http://u:p@h/", "p://a:b@/"} {
		small := allocated(strings.Repeat(p, (16<<10)/len(p)))
		large := allocated(strings.Repeat(p, (64<<10)/len(p)))
		if large > 6*small {
			t.Errorf("%q repeated: %d bytes allocated for 16 KiB, %d for 64 KiB (%.1f times)", p, small, large, float64(large)/float64(small))
		}
	}
	const R = convention.Redacted
	checkTexts(t, r, []textCase{
		{"GET https://h/r/https://u:pw@h2/x", "GET https://h/r/https://u:" + R + "@h2/x"},
		{"GET https://h/r/https://u:pw@h2/x?token=abc", "GET https://h/r/https://u:" + R + "@h2/x?token=" + R},
	})
}
