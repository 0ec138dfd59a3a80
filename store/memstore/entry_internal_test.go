package memstore

import (
	"context"
	"encoding/binary"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestEntryKeepsNoSummary checks that the store's entry for a record
// holds the record and its RPCs, not a copy of its summary: a full store
// of the default capacity keeps a buffer of twice as many entries, which
// the garbage collector scans in every cycle (a summary took ~290 bytes
// an entry, ten pointer words of them).
func TestEntryKeepsNoSummary(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(entry{}); n > 32 {
		t.Errorf("an entry takes %d bytes, want at most 32: a record and its RPCs", n)
	}
}

// TestSummariesAsRecords checks that List gives each record's summary as
// Record.SummaryInto makes it, RPCs included, for records with and
// without calls, every field of the summary set by some record; that a
// List by a call's RPC finds the records that made it; and that Series
// counts the records' requests, errors and calls.
func TestSummariesAsRecords(t *testing.T) {
	st := New(10)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	var recs []*recording.Record
	for i := range 4 {
		r := &recording.Record{
			TraceID: recording.NewTraceID(), Kind: recording.KindGRPC, Start: t0.Add(time.Duration(i) * time.Second),
			Duration: time.Duration(i+1) * time.Millisecond, Method: "GET", Path: "/p", Route: "/r", Query: "q=1",
			Status: 1 + i, RequestBytes: 1, ResponseBytes: 2, User: "u", Instance: "i", Overhead: 3,
			Error: "e", Panic: "p", DroppedCalls: 4, Warnings: []recording.Warning{{Kind: "n+1"}},
		}
		binary.BigEndian.PutUint64(r.ID[:8], uint64(i+1))
		for j := range i {
			r.Calls = append(r.Calls, recording.Call{Service: "svc", Method: "M" + string(rune('a'+j%2)), Error: "x"[:j%2]},
				recording.Call{Service: "event", Method: "e", Event: true})
		}
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	want := func(r *recording.Record) recording.Summary {
		var s recording.Summary
		r.SummaryInto(&s)
		return s
	}
	page, err := st.List(context.Background(), store.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != len(recs) {
		t.Fatalf("List gave %d summaries, want %d", len(page.Records), len(recs))
	}
	set := make([]bool, reflect.TypeFor[recording.Summary]().NumField())
	for i, got := range page.Records {
		w := want(recs[len(recs)-1-i])
		if !reflect.DeepEqual(got, w) {
			t.Errorf("List's summary %d:\n%+v\nwant\n%+v", i, got, w)
		}
		v := reflect.ValueOf(got)
		for f := range set {
			set[f] = set[f] || !v.Field(f).IsZero()
		}
	}
	for f, ok := range set {
		if !ok {
			t.Errorf("no record sets Summary.%s: the test does not check it", reflect.TypeFor[recording.Summary]().Field(f).Name)
		}
	}
	buckets, err := st.Series(context.Background(), store.Window{Since: t0, Until: t0.Add(time.Minute)}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var requests, errs, calls int64
	for _, b := range buckets {
		requests, errs, calls = requests+b.Requests, errs+b.Errors, calls+b.Calls
	}
	if requests != 4 || errs != 4 || calls != 0+1+2+3 {
		t.Errorf("Series counts %d requests, %d errors, %d calls; want 4, 4, 6", requests, errs, calls)
	}
	page, err = st.List(context.Background(), store.Query{Limit: 10, CallService: "svc", CallMethod: "Mb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[0].ID != recs[3].ID || page.Records[1].ID != recs[2].ID {
		t.Errorf("List of records with a call of svc.Mb: %d summaries, want the last two records'", len(page.Records))
	}
}
