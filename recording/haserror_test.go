package recording_test

import (
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestHasError: a record failed when it has a panic or an error message,
// a gRPC record when its status is not OK (0), any other when its status
// is 5xx (or more); Record.HasError and its summary's HasError agree, for
// every kind, a range of statuses, with and without an error and a panic.
func TestHasError(t *testing.T) {
	for kind := recording.Kind(0); kind < 8; kind++ {
		for status := -1; status < 600; status++ {
			for _, ep := range [][2]string{{"", ""}, {"e", ""}, {"", "p"}, {"e", "p"}} {
				r := &recording.Record{Kind: kind, Status: status, Error: ep[0], Panic: ep[1]}
				want := ep != [2]string{} || kind == recording.KindGRPC && status != 0 || kind != recording.KindGRPC && status >= 500
				s := r.Summary()
				if got, sum := r.HasError(), s.HasError(); got != want || sum != want {
					t.Fatalf("kind %d, status %d, error %q, panic %q: Record.HasError = %v, Summary.HasError %v; want %v", kind, status, ep[0], ep[1], got, sum, want)
				}
			}
		}
	}
}
