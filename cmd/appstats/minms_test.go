package main

import (
	"strings"
	"testing"
)

// -min-ms takes milliseconds a duration can hold: NaN, infinity and values
// past 292 years are refused by name, where they were called "negative
// minimum duration" (their conversion to a duration overflowed).
func TestMinMSOutOfRange(t *testing.T) {
	empty := t.TempDir()
	for _, v := range []string{"NaN", "Inf", "1e300"} {
		code, _, stderr := appstats(t, "", "export", "-data", empty, "-min-ms", v)
		if code != 1 || !strings.Contains(stderr, "-min-ms "+map[string]string{"NaN": "NaN", "Inf": "+Inf", "1e300": "1e+300"}[v]+": want a number of milliseconds up to") {
			t.Errorf("export -min-ms %s = %d, %q", v, code, stderr)
		}
	}
}
