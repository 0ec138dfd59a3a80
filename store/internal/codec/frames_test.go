package codec

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestSharedFrames: sharedFrames counts the outer frames two stacks have
// equal, whether their strings share their memory or not, and stops at
// the first frame that differs in any one field.
func TestSharedFrames(t *testing.T) {
	frame := func(i int) recording.Frame {
		return recording.Frame{Function: "pkg.f" + strings.Repeat("x", i), File: "/src/pkg/f.go", Line: 10 + i}
	}
	base := make([]recording.Frame, 12)
	for i := range base {
		base[i] = frame(i)
	}
	// copies returns base's frames, their strings in memory of their own.
	copies := func() []recording.Frame {
		c := make([]recording.Frame, len(base))
		for i, f := range base {
			c[i] = recording.Frame{Function: strings.Clone(f.Function), File: strings.Clone(f.File), Line: f.Line}
		}
		return c
	}
	for _, own := range []bool{false, true} {
		for at := range base {
			for field := range 5 {
				s := append([]recording.Frame(nil), base...)
				if own {
					s = copies()
				}
				f := &s[at]
				switch field {
				case 0:
					f.Line++
				case 1: // the same length, another function
					f.Function = f.Function[:len(f.Function)-1] + "y"
				case 2: // the same file, a byte shorter
					f.File = f.File[:len(f.File)-1]
				case 3:
					f.File = "/src/pkg/g.go"
				case 4: // equal strings elsewhere in memory
					f.Function = strings.Clone(f.Function)
				}
				want := len(base) - 1 - at
				if field == 4 {
					want = len(base)
				}
				if got := sharedFrames(s, base); got != want {
					t.Errorf("own strings %v, frame %d, change %d: %d frames shared, want %d", own, at, field, got, want)
				}
				// A longer and a shorter stack share the outer frames.
				if got := sharedFrames(append([]recording.Frame{frame(20)}, s...), base); got != want {
					t.Errorf("own strings %v, frame %d, change %d, longer: %d frames shared, want %d", own, at, field, got, want)
				}
				if got := sharedFrames(s[1:], base); got != min(want, len(base)-1) {
					t.Errorf("own strings %v, frame %d, change %d, shorter: %d frames shared, want %d", own, at, field, got, min(want, len(base)-1))
				}
			}
		}
	}
	if got := sharedFrames(base, base); got != len(base) {
		t.Errorf("one stack: %d frames shared, want %d", got, len(base))
	}
	if got := sharedFrames(nil, base); got != 0 {
		t.Errorf("no stack: %d frames shared", got)
	}
}
