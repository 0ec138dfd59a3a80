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
// store.ErrCorrupt, never a panic, from ViewSummary and RecordOverall
// (which reads the head up to the record's duration and the rest up to
// its calls' count: cut after those, or a byte more, it gives the whole's
// overall).
func TestViewSummaryCorrupt(t *testing.T) {
	var scratch, sum recording.Summary
	for i, r := range recSummaryRecords()[:12] {
		rec := AppendRecordWithoutStacks(nil, r)
		rest, _ := AppendSummaryRest(nil, r, &scratch, nil)
		wholeOverall, err := RecordOverall(rec, rest)
		if err != nil {
			t.Fatal(err)
		}
		read := enc{b: rest[:1]} // what RecordOverall reads of the rest
		read.f(wholeOverall.Cost)
		read.i(int64(wholeOverall.Calls))
		check := func(what string, rec, rest []byte, overallReads bool) {
			var durs []time.Duration
			err := ViewSummary(rec, rest, &sum, &durs)
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d, %s: ViewSummary: %v, want store.ErrCorrupt", i, what, err)
			}
			o, err := RecordOverall(rec, rest)
			if overallReads && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d, %s: RecordOverall: %v, want store.ErrCorrupt", i, what, err)
			}
			if !overallReads && (err != nil || o != wholeOverall) {
				t.Fatalf("record %d, %s: RecordOverall = %+v, %v; want %+v", i, what, o, err, wholeOverall)
			}
		}
		for n := range len(rest) {
			check(fmt.Sprintf("rest cut at %d", n), rec, rest[:n], n < len(read.b))
		}
		check("a byte more", rec, append(slices.Clip(rest), 0), false)
		bad := slices.Clone(rest)
		bad[0] |= 2
		check("an unknown flag", rec, bad, true)
		// Cut within its IDs or just after: in its head, which the
		// summary reads (its calls it does not); RecordOverall reads it
		// up to the record's duration.
		hd := dec{b: rec}
		hd.p = 2 + 48
		hd.u()
		hd.i()
		hd.d()
		for n := range 66 + 4 {
			check(fmt.Sprintf("record cut at %d", n), rec[:n], rest, n < hd.p)
		}
		check("a summary", AppendSummary(nil, &scratch, nil), rest, true)
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

// TestRecordOverallSkipsHead: RecordOverall reads a record's head up to
// its duration, and what it needs after (whether the record failed, its
// calls' cost and count) from the rest: a record whose head is changed
// after its duration (its headers, status, error) gives the same overall,
// and the rest's flag says whether it failed, for each way a record fails.
func TestRecordOverallSkipsHead(t *testing.T) {
	var scratch recording.Summary
	at := time.Unix(1700000000, 0)
	r := storetest.Record20(at, 1)
	r.Headers = map[string][]string{"Accept": {"*/*"}, "User-Agent": {strings.Repeat("u", 300)}}
	rec := AppendRecordWithoutStacks(nil, r)
	rest, _ := AppendSummaryRest(nil, r, &scratch, nil)
	want, err := RecordOverall(rec, rest)
	if err != nil {
		t.Fatal(err)
	}
	// The head's bytes after the duration, the headers' among them,
	// every one 0xff: not a head any more.
	d := dec{b: rec}
	d.p = 2 + 48 // tag, version, IDs
	d.u()
	d.i()
	d.d()
	bad := slices.Clone(rec)
	for k := d.p; k < len(bad); k++ {
		bad[k] = 0xff
	}
	var sum recording.Summary
	if err := ViewSummary(bad, rest, &sum, nil); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("ViewSummary of the changed head: %v, want store.ErrCorrupt", err)
	}
	if got, err := RecordOverall(bad, rest); err != nil || got != want {
		t.Fatalf("RecordOverall of the changed head = %+v, %v; want %+v", got, err, want)
	}
	for _, c := range []struct {
		name   string
		change func(*recording.Record)
		failed bool
	}{
		{"ok", func(*recording.Record) {}, false},
		{"500", func(r *recording.Record) { r.Status = 500 }, true},
		{"error", func(r *recording.Record) { r.Error = "e" }, true},
		{"panic", func(r *recording.Record) { r.Panic = "p" }, true},
		{"grpc 0", func(r *recording.Record) { r.Kind, r.Status = recording.KindGRPC, 0 }, false},
		{"grpc 5", func(r *recording.Record) { r.Kind, r.Status = recording.KindGRPC, 5 }, true},
		{"no calls, 503", func(r *recording.Record) { r.Calls, r.Status = nil, 503 }, true},
		{"no calls", func(r *recording.Record) { r.Calls = nil }, false},
	} {
		r := storetest.Record20(at, 2)
		r.Kind, r.Status, r.Error, r.Panic = recording.KindHTTP, 200, "", ""
		for k := range r.Calls {
			r.Calls[k].Cost = float64(k) / 3
		}
		c.change(r)
		rest, _ := AppendSummaryRest(nil, r, &scratch, nil)
		o, err := RecordOverall(AppendRecordWithoutStacks(nil, r), rest)
		if err != nil || o.Failed != c.failed || o.Calls != len(r.Calls) || o.Cost != r.Cost() {
			t.Errorf("%s: RecordOverall = %+v, %v; want failed %v, %d calls, cost %v", c.name, o, err, c.failed, len(r.Calls), r.Cost())
		}
	}
}
