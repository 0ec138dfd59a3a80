// Package headermaptest makes random header maps, for the tests of the
// code that reads maps by their layout (package headermap, recording's
// header look-ups, the codec's header encoding): maps of every size a
// request's headers have, small and grown into tables, with names
// deleted and set again.
package headermaptest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
)

// Common are names requests send, among which a random map picks most of
// its own.
var Common = []string{"Accept", "User-Agent", "Traceparent", "Tracestate", "Accept-Encoding", "Cookie", "Authorization",
	"Content-Type", "Content-Length", "X-Forwarded-For", "X-Request-Id", "Baggage"}

// A Map is a random header map and how it was made.
type Map struct {
	H http.Header
	// Names are the names written, in order, some more than once: those
	// deleted since among them.
	Names []string
	// Hint is the size the map was made for.
	Hint int
	// Most is the most names the map held as a name was written: a write
	// to a map of eight names makes it a table, even of a name it holds.
	Most int
}

// Random returns a random header map of round: made for a size of 0 to 19
// one time in five; 0 to 12 names written (a table from 9), each one of
// [Common] or, one time in three, of its own ("X-round-i"), so that a name
// may get several values; then up to two of them deleted, and one time in
// four the first set again.
func Random(rng *rand.Rand, round int) Map {
	var m Map
	if rng.IntN(5) == 0 {
		m.Hint = rng.IntN(20)
	}
	m.H = make(http.Header, m.Hint)
	for i := range rng.IntN(13) {
		k := Common[rng.IntN(len(Common))]
		if rng.IntN(3) == 0 {
			k = fmt.Sprintf("X-%d-%d", round, i)
		}
		m.Most = max(m.Most, len(m.H)+1)
		m.H[k] = append(m.H[k], fmt.Sprint(round, i))
		m.Names = append(m.Names, k)
	}
	for range rng.IntN(3) {
		if len(m.Names) > 0 {
			delete(m.H, m.Names[rng.IntN(len(m.Names))])
		}
	}
	if rng.IntN(4) == 0 && len(m.Names) > 0 {
		m.Most = max(m.Most, len(m.H)+1)
		m.H[m.Names[0]] = []string{"again"}
	}
	return m
}
