package codec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestPhaseNamesRandom: random records whose calls' phases repeat the
// previous call's names at the same index or not (the very slice, the same
// strings with other times, equal names elsewhere in memory, one name
// changed, fewer or more, empty names, none, after a call of none or an
// event) decode, and their summaries read, to what they were, each call
// with its own phases' names; every truncation gives an error wrapping
// store.ErrCorrupt, and every byte flipped an error wrapping it or a
// record, never a panic. It asserts for memPhaseNames what
// TestCallAttrsRandom asserts for the attributes (TestPhaseNamesByPlace
// tries a few cases by hand).
func TestPhaseNamesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{"dns", "connect", "tls", "send", "wait", "receive", "", strings.Repeat("p", 130)}
	pick := func() string {
		switch rng.IntN(5) {
		case 0:
			return fmt.Sprint("fresh ", rng.IntN(10))
		case 1:
			return strings.Clone(names[rng.IntN(len(names))])
		}
		return names[rng.IntN(len(names))]
	}
	random := func(n int) []recording.Phase {
		var ps []recording.Phase
		for range n {
			ps = append(ps, recording.Phase{Name: pick(), Start: time.Duration(rng.IntN(1000)), Duration: time.Duration(rng.IntN(1000))})
		}
		return ps
	}
	at := time.Unix(1700000000, 0)
	for n := range 1000 {
		r := fanoutRecord(at, rng.IntN(12))
		var prev []recording.Phase
		for i := range r.Calls {
			c := &r.Calls[i]
			switch rng.IntN(7) {
			case 0: // the previous call's slice
				c.Phases = prev
			case 1: // none
				c.Phases = nil
			case 2: // the previous call's names, other times
				c.Phases = slices.Clone(prev)
				for j := range c.Phases {
					c.Phases[j].Start, c.Phases[j].Duration = time.Duration(rng.IntN(99)), time.Duration(rng.IntN(99))
				}
			case 3: // one name changed, or equal elsewhere in memory
				c.Phases = slices.Clone(prev)
				if len(prev) > 0 {
					p := &c.Phases[rng.IntN(len(prev))]
					if rng.IntN(2) == 0 {
						p.Name = pick()
					} else {
						p.Name = strings.Clone(p.Name)
					}
				}
			case 4: // fewer or more
				c.Phases = slices.Clone(prev)
				if k := rng.IntN(len(prev) + 1); rng.IntN(2) == 0 {
					c.Phases = c.Phases[:k]
				} else {
					c.Phases = append(c.Phases, random(1+rng.IntN(3))...)
				}
			case 5:
				c.Phases = random(rng.IntN(6))
			}
			if rng.IntN(10) == 0 {
				c.Event = true
			}
			prev = c.Phases
		}
		checkRandomRecord(t, n, r, 250)
	}
}
