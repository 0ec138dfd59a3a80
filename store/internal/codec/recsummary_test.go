package codec

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// recSummaryRecords returns records of every shape a summary counts:
// storetest's, one without anything, one of events, failed calls and
// costs, and records of more calls or RPCs than SummaryInto's one pass
// takes.
func recSummaryRecords() []*recording.Record {
	at := time.Unix(1700000000, 0)
	recs := storetest.Records(7, at, time.Millisecond, 300)
	recs = append(recs, storetest.FullRecord(at, 1), storetest.Record20(at, 2), &recording.Record{})
	alt := storetest.Record20(at, 3)
	alt.DroppedCalls, alt.Warnings = 3, []recording.Warning{{Kind: "n+1"}, {Kind: "slow"}}
	alt.Error, alt.Panic, alt.User, alt.Instance, alt.Query = "failed", "boom", "u", "i", "q=1"
	for i := range alt.Calls {
		c := &alt.Calls[i]
		if i%2 == 1 {
			c.Method = "SELECT order_totals"
		}
		if i%5 == 0 {
			c.Error, c.Cost = "timeout", 0.25
		}
		if i%7 == 0 {
			c.Event = true
		}
	}
	recs = append(recs, alt)
	for _, n := range []struct{ calls, rpcs int }{{17, 17}, {300, 3}} {
		r := &recording.Record{Route: "GET /many", DroppedCalls: 1}
		for i := range n.calls {
			r.Calls = append(r.Calls, recording.Call{
				Service: "svc", Method: fmt.Sprintf("m%d", i%n.rpcs),
				Duration: time.Duration(i+1) * time.Microsecond, Cost: float64(i) / 8,
			})
		}
		recs = append(recs, r)
	}
	return recs
}

// TestViewSummary: the summary read from a record's bytes (whole, or
// without its stacks) and what AppendSummaryRest wrote after it is the
// record's summary, with the durations AppendCallDurations gives, and the
// overall RecordOverall reads is what DecodeOverall reads from the
// summary's own encoding; the rest does not write the head's strings
// again; a summary reused for the next record keeps nothing of the last;
// OwnStrings gives the strings memory apart from the bytes.
func TestViewSummary(t *testing.T) {
	var sum, scratch recording.Summary
	var durs []time.Duration
	for i, r := range recSummaryRecords() {
		var want recording.Summary
		r.SummaryInto(&want)
		want.Start = time.Unix(0, want.Start.UnixNano())
		wantDurs := AppendCallDurations(nil, r, &want)
		wantOverall, err := DecodeOverall(AppendSummary(nil, &want, wantDurs))
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range [][]byte{AppendRecord(nil, r), AppendRecordWithoutStacks(nil, r)} {
			rest, ds := AppendSummaryRest(nil, r, &scratch, []time.Duration{-1})
			if !slices.Equal(ds[1:], wantDurs) {
				t.Fatalf("record %d: AppendSummaryRest's durations %v, want %v", i, ds[1:], wantDurs)
			}
			if r.Route != "" && strings.Contains(string(rest), r.Route) {
				t.Errorf("record %d: the rest writes the route again", i)
			}
			durs = append(durs[:0], -1)
			if err := ViewSummary(rec, rest, &sum, &durs); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if len(want.RPCs) == 0 {
				want.RPCs = sum.RPCs[:0] // empty, in the memory reused
			}
			if !reflect.DeepEqual(sum, want) {
				t.Fatalf("record %d: summary\n%+v\nwant\n%+v", i, sum, want)
			}
			if !slices.Equal(durs[1:], wantDurs) {
				t.Fatalf("record %d: durations %v, want %v", i, durs[1:], wantDurs)
			}
			o, err := RecordOverall(rec, rest)
			if err != nil || o != wantOverall {
				t.Fatalf("record %d: RecordOverall = %+v, %v; want %+v", i, o, err, wantOverall)
			}
			own := sum
			own.RPCs = slices.Clone(sum.RPCs)
			if len(own.RPCs) == 0 {
				own.RPCs, want.RPCs = nil, nil
			}
			OwnStrings(&own, rec, rest)
			clear(rec)
			clear(rest)
			if !reflect.DeepEqual(own, want) {
				t.Fatalf("record %d: owned summary changed with the bytes:\n%+v\nwant\n%+v", i, own, want)
			}
		}
	}
}

// TestViewSummaryCorrupt: every truncation of a record's bytes or of its
// rest, and bytes that are not a record, give an error wrapping
// store.ErrCorrupt, never a panic, from ViewSummary and RecordOverall.
func TestViewSummaryCorrupt(t *testing.T) {
	var scratch, sum recording.Summary
	for i, r := range recSummaryRecords()[:12] {
		rec := AppendRecordWithoutStacks(nil, r)
		rest, _ := AppendSummaryRest(nil, r, &scratch, nil)
		check := func(what string, rec, rest []byte) {
			var durs []time.Duration
			err := ViewSummary(rec, rest, &sum, &durs)
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d, %s: ViewSummary: %v, want store.ErrCorrupt", i, what, err)
			}
			if _, err := RecordOverall(rec, rest); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d, %s: RecordOverall: %v, want store.ErrCorrupt", i, what, err)
			}
		}
		for n := range len(rest) {
			check(fmt.Sprintf("rest cut at %d", n), rec, rest[:n])
		}
		check("a byte more", rec, append(slices.Clip(rest), 0))
		// Cut within its IDs or just after: in its head, which the
		// summary reads (its calls it does not).
		for n := range 66 + 4 {
			check(fmt.Sprintf("record cut at %d", n), rec[:n], rest)
		}
		check("a summary", AppendSummary(nil, &scratch, nil), rest)
		// Cut anywhere: in its head, an error; past it (in its calls,
		// which the summary does not read), the same summary.
		var whole recording.Summary
		if err := ViewSummary(rec, rest, &whole, nil); err != nil {
			t.Fatal(err)
		}
		whole.RPCs = slices.Clone(whole.RPCs)
		for n := range len(rec) {
			err := ViewSummary(rec[:n], rest, &sum, nil)
			if len(sum.RPCs) == 0 && len(whole.RPCs) == 0 {
				sum.RPCs = whole.RPCs // empty both, nil or not
			}
			if err == nil && !reflect.DeepEqual(sum, whole) {
				t.Fatalf("record %d cut at %d of %d: another summary\n%+v\nwant\n%+v", i, n, len(rec), sum, whole)
			}
			if err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d cut at %d: %v, want store.ErrCorrupt", i, n, err)
			}
			if _, err := RecordOverall(rec[:n], rest); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d cut at %d: RecordOverall: %v, want store.ErrCorrupt", i, n, err)
			}
		}
	}
}
