package recording_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestRPCStats checks RPCStats against its definition (calls aggregated
// per service and method in order of first appearance, events left out)
// for few RPCs and for more than it searches without a map, their calls
// interleaved.
func TestRPCStats(t *testing.T) {
	for _, rpcs := range []int{1, 3, 16, 17, 40} {
		var r recording.Record
		for i := range 3 * rpcs {
			k := (i * 7) % rpcs
			if i%4 == 1 {
				k = (i - 1) * 7 % rpcs // twice in a row
			}
			if i >= 3*rpcs-rpcs {
				k = i % rpcs // each at least once, last
			}
			c := recording.Call{
				Service:  fmt.Sprint("svc", k%3),
				Method:   fmt.Sprint("m", k),
				Duration: time.Duration(i+1) * time.Millisecond,
				Cost:     float64(i),
				Event:    i%11 == 10 && i < 2*rpcs,
			}
			if i%5 == 0 {
				c.Error = "failed"
			}
			r.Calls = append(r.Calls, c)
		}
		var want []recording.RPCStat
		at := map[[2]string]int{}
		for _, c := range r.Calls {
			if c.Event {
				continue
			}
			j, ok := at[[2]string{c.Service, c.Method}]
			if !ok {
				j = len(want)
				at[[2]string{c.Service, c.Method}] = j
				want = append(want, recording.RPCStat{Service: c.Service, Method: c.Method})
			}
			want[j].Count++
			want[j].Total += c.Duration
			want[j].Cost += c.Cost
			if c.Error != "" {
				want[j].Errors++
			}
		}
		if got := r.RPCStats(); !reflect.DeepEqual(got, want) {
			t.Errorf("%d RPCs: %+v\nwant %+v", rpcs, got, want)
		}
		if len(want) != rpcs {
			t.Fatalf("the test made %d RPCs, not %d", len(want), rpcs)
		}
	}
}

// TestSummaryInto: a summary set into one that held another record's is
// the record's Summary, and reusing it allocates nothing.
func TestSummaryInto(t *testing.T) {
	a, b := recording.Record{Route: "GET /a"}, recording.Record{Route: "GET /b", Status: 500}
	for i := range 6 {
		a.Calls = append(a.Calls, recording.Call{Service: "sql", Method: fmt.Sprint("q", i%4), Duration: time.Duration(i)})
		b.Calls = append(b.Calls, recording.Call{Service: "http", Method: "GET", Duration: time.Duration(i), Error: "x"})
	}
	var s recording.Summary
	b.SummaryInto(&s)
	a.SummaryInto(&s)
	if want := a.Summary(); !reflect.DeepEqual(s, want) {
		t.Fatalf("SummaryInto: %+v\nSummary: %+v", s, want)
	}
	b.SummaryInto(&s)
	if want := b.Summary(); !reflect.DeepEqual(s, want) {
		t.Fatalf("SummaryInto: %+v\nSummary: %+v", s, want)
	}
	if n := testing.AllocsPerRun(100, func() { a.SummaryInto(&s) }); n != 0 {
		t.Errorf("SummaryInto allocated %v times", n)
	}
}
