package codec

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// callDurationsByRPC is the definition of CallDurations: for each RPC of
// s in order, the durations of r's calls of it (events left out).
func callDurationsByRPC(r *recording.Record, s *recording.Summary) []time.Duration {
	var out []time.Duration
	for _, rpc := range s.RPCs {
		for _, c := range r.Calls {
			if !c.Event && c.Service == rpc.Service && c.Method == rpc.Method {
				out = append(out, c.Duration)
			}
		}
	}
	return out
}

// TestCallDurations checks AppendCallDurations against its definition:
// records with calls of a few RPCs interleaved, of more RPCs than its
// one-pass way takes, and a summary of another record.
func TestCallDurations(t *testing.T) {
	recs := storetest.Records(7, time.Unix(1700000000, 0), time.Millisecond, 50)
	recs = append(recs, storetest.FullRecord(time.Unix(1700000000, 0), 1), storetest.Record20(time.Unix(1700000000, 0), 2))
	many := storetest.Record20(time.Unix(1700000000, 0), 3)
	for i := range many.Calls {
		many.Calls[i].Method = fmt.Sprint("q", i%18) // 18 RPCs
		many.Calls[i].Duration = time.Duration(i) * time.Microsecond
	}
	recs = append(recs, many)
	prefix := []time.Duration{-1, -2}
	for i, r := range recs {
		sum := r.Summary()
		want := callDurationsByRPC(r, &sum)
		if got := AppendCallDurations(slices.Clone(prefix), r, &sum); !slices.Equal(got[:2], prefix) || !slices.Equal(got[2:], want) {
			t.Errorf("record %d: %v, want %v after %v", i, got, want, prefix)
		}
		other := recs[(i+1)%len(recs)].Summary()
		if got, want := CallDurations(r, &other), callDurationsByRPC(r, &other); !slices.Equal(got, want) {
			t.Errorf("record %d with another's summary: %v, want %v", i, got, want)
		}
	}
}
