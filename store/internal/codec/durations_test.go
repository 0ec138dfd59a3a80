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
	// Calls of 1,000 RPCs, and a summary that lists an RPC twice.
	distinct := storetest.Record20(time.Unix(1700000000, 0), 4)
	distinct.Calls = nil
	for i := range 3000 {
		distinct.Calls = append(distinct.Calls, recording.Call{Service: "sql", Method: fmt.Sprint("SELECT ", i%1000), Duration: time.Duration(i), Event: i%7 == 0})
	}
	recs = append(recs, distinct)
	twice := distinct.Summary()
	twice.RPCs = append(twice.RPCs, twice.RPCs[3], twice.RPCs[0])
	if got, want := CallDurations(distinct, &twice), callDurationsByRPC(distinct, &twice); !slices.Equal(got, want) {
		t.Errorf("a summary listing two RPCs twice: %d durations, want %d", len(got), len(want))
	}
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

// BenchmarkCallDurationsDistinct: a record of 10,000 calls each of an RPC
// of its own (ui's TestDetailsRPCStatsBounded writes one).
func BenchmarkCallDurationsDistinct(b *testing.B) {
	r := storetest.Record20(time.Unix(1700000000, 0), 5)
	r.Calls = nil
	for i := range 10000 {
		r.Calls = append(r.Calls, recording.Call{Service: "sql", Method: fmt.Sprint("SELECT ", i, " FROM users"), Duration: time.Duration(i)})
	}
	sum := r.Summary()
	var out []time.Duration
	b.ResetTimer()
	for range b.N {
		out = AppendCallDurations(out[:0], r, &sum)
	}
}
