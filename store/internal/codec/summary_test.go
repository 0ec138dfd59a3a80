package codec

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestSummaryInto: SummaryInto gives the summary r.SummaryInto gives and
// the durations AppendCallDurations appends (after those durs holds), for
// records of events, failed calls, RPCs alternating, equal strings apart,
// more calls or RPCs than its one pass takes, and every exported field of
// a record set at random (a field r.SummaryInto copies and SummaryInto
// does not fails it); a summary whose RPCs' memory it reuses holds
// nothing of the record before.
func TestSummaryInto(t *testing.T) {
	at := time.Unix(1700000000, 0)
	recs := storetest.Records(7, at, time.Millisecond, 300)
	recs = append(recs, storetest.FullRecord(at, 1), storetest.Record20(at, 2), &recording.Record{})
	alt := storetest.Record20(at, 3)
	for i := range alt.Calls {
		c := &alt.Calls[i]
		if i%2 == 1 {
			c.Method = "SELECT order_totals"
		}
		if i%3 == 0 {
			c.Service = strings.Clone(c.Service) // equal, apart
		}
		if i%5 == 0 {
			c.Error, c.Cost = "timeout", 0.25
		}
		if i%7 == 0 {
			c.Event = true
		}
	}
	recs = append(recs, alt)
	// RPCs in runs, in order, with events and equal strings apart in
	// them (durations in the calls' order), and runs that go back to an
	// RPC of an earlier run after them (not).
	for _, back := range []bool{false, true} {
		runs := storetest.Record20(at, 5)
		for i := range runs.Calls {
			c := &runs.Calls[i]
			c.Method = fmt.Sprint("SELECT t", i/6) // t0 ×6, t1 ×6, t2 ×6, t3 ×2
			if back && i >= 18 {
				c.Method = "SELECT t1"
			}
			if i%4 == 1 {
				c.Method = strings.Clone(c.Method) // equal, apart
			}
			if i%5 == 2 {
				c.Event = true
			}
			c.Duration = time.Duration(i+1) * time.Millisecond
		}
		recs = append(recs, runs)
	}
	for _, n := range []struct{ calls, rpcs int }{{16, 16}, {17, 17}, {300, 3}, {256, 5}, {257, 5}} {
		r := &recording.Record{Route: "GET /many"}
		for i := range n.calls {
			r.Calls = append(r.Calls, recording.Call{
				Service: "svc", Method: fmt.Sprintf("m%d", i%n.rpcs),
				Duration: time.Duration(i+1) * time.Microsecond,
			})
		}
		recs = append(recs, r)
	}
	// Every exported field of a record set (but its calls, Record20's):
	// a field r.SummaryInto copies that SummaryInto does not shows.
	rng := rand.New(rand.NewSource(1))
	for range 20 {
		r := new(recording.Record)
		setRandom(t, rng, reflect.ValueOf(r).Elem(), func(f reflect.StructField) bool {
			return f.Type.Kind() == reflect.Pointer || f.Name == "Calls" // the trace: nil; Record20's calls, below
		})
		r.Calls, r.ExecTrace = storetest.Record20(at, 4).Calls, nil
		recs = append(recs, r)
	}
	var sum recording.Summary
	durs := []time.Duration{-1, -2}
	for i, r := range recs {
		var want recording.Summary
		r.SummaryInto(&want)
		wantDurs := AppendCallDurations(slices.Clone(durs[:2]), r, &want)
		durs = SummaryInto(r, &sum, durs[:2])
		if len(want.RPCs) == 0 {
			want.RPCs = sum.RPCs[:0] // empty, in the memory reused
		}
		if !reflect.DeepEqual(sum, want) {
			t.Fatalf("record %d: summary\n%+v\nwant\n%+v", i, sum, want)
		}
		if !slices.Equal(durs, wantDurs) {
			t.Fatalf("record %d: durations %v, want %v", i, durs, wantDurs)
		}
	}
}

// setRandom sets every exported field of the struct v at random, but
// those skip names (nil: none): a time to one of any nanosecond since
// 1970, the others to testing/quick's values.
func setRandom(t *testing.T, rng *rand.Rand, v reflect.Value, skip func(reflect.StructField) bool) {
	t.Helper()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case !f.CanSet() || skip != nil && skip(sf):
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(0, rng.Int63())))
		default:
			r, ok := quick.Value(f.Type(), rng)
			if !ok {
				t.Fatalf("no random %s", sf.Name)
			}
			f.Set(r)
		}
	}
}
