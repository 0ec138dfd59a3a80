package codec

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestCountedSummaryIntoCountsAsSummaryInto: a rollup that counts records
// from CountedSummaryInto's summaries, each written over a summary whose
// every exported field was set at random (a field the rollup reads that
// CountedSummaryInto leaves shows), holds what one that counts them from
// SummaryInto's holds, group by group; the fields CountedSummaryInto sets and the durations are
// SummaryInto's, for records without calls, with failed calls and events,
// and with as many calls or RPCs as SummaryInto's one pass takes (256
// calls, 16 RPCs) and one more.
func TestCountedSummaryIntoCountsAsSummaryInto(t *testing.T) {
	at := time.Unix(1700000000, 0)
	recs := storetest.Records(9, at, time.Millisecond, 200)
	recs = append(recs, storetest.FullRecord(at, 1), storetest.Record20(at, 2), &recording.Record{},
		&recording.Record{Route: "GET /hello", Instance: "vm/1", Duration: 40 * time.Microsecond, Status: 503},
		&recording.Record{Route: "GET /hello", Instance: "vm/1", Kind: recording.KindGRPC, Status: 14},
		&recording.Record{Route: "GET /hello", Panic: "boom"}, &recording.Record{Route: "GET /hello", Error: "eof"})
	for _, n := range []struct{ calls, rpcs int }{{16, 16}, {17, 17}, {256, 16}, {256, 17}, {257, 3}, {300, 3}} {
		r := &recording.Record{Route: "GET /many", Instance: "vm/2", Duration: time.Second}
		for i := range n.calls {
			r.Calls = append(r.Calls, recording.Call{
				Service: "svc", Method: fmt.Sprintf("m%d", i%n.rpcs), Error: []string{"", "x"}[i%2],
				Duration: time.Duration(i+1) * time.Microsecond, Cost: 0.5, Event: i%11 == 5,
			})
		}
		recs = append(recs, r)
	}
	rng := rand.New(rand.NewSource(1))
	full, counted := NewRollup(), NewRollup()
	var fs, cs recording.Summary
	var fd, cd []time.Duration
	for i, r := range recs {
		setRandom(t, rng, reflect.ValueOf(&cs).Elem(), nil)
		fd = SummaryInto(r, &fs, fd[:0])
		cd = CountedSummaryInto(r, &cs, cd[:0])
		if !slices.Equal(fd, cd) {
			t.Fatalf("record %d: durations %v, want %v", i, cd, fd)
		}
		got := [...]any{cs.Kind, cs.Duration, cs.Route, cs.Status, cs.Instance, cs.Error, cs.Panic, cs.CallCount, cs.ErrorCalls, cs.RPCs}
		want := [...]any{fs.Kind, fs.Duration, fs.Route, fs.Status, fs.Instance, fs.Error, fs.Panic, fs.CallCount, fs.ErrorCalls, fs.RPCs}
		if !reflect.DeepEqual(got, want) && !(len(cs.RPCs) == 0 && len(fs.RPCs) == 0 && reflect.DeepEqual(got[:9], want[:9])) {
			t.Fatalf("record %d: counted fields %v, want %v", i, got, want)
		}
		full.AddCounted(&fs, fd)
		counted.AddCounted(&cs, cd)
	}
	if !reflect.DeepEqual(counted, full) {
		t.Fatalf("rollup of counted summaries %+v, want %+v (SummaryInto's)", counted.all, full.all)
	}
}
