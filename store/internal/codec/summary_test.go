package codec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestSummaryInto: SummaryInto gives the summary r.SummaryInto gives and
// the durations AppendCallDurations appends (after those durs holds), for
// records of events, failed calls, RPCs alternating, equal strings apart,
// and more calls or RPCs than its one pass takes; a summary whose RPCs'
// memory it reuses holds nothing of the record before.
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
