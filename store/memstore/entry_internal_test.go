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

// TestEntryHoldsNoPointer checks that the store's entry for a record
// holds no pointer, nor does the rest of a record's memory but its slab:
// a full store of the default capacity keeps a buffer of twice as many
// entries and the records' bytes, which the garbage collector then does
// not scan (it marked every kept record's calls, stacks, attributes and
// header maps, ~17,000 instructions a request of the hello load test).
func TestEntryHoldsNoPointer(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if p := pointerField(reflect.TypeFor[entry]()); p != "" {
		t.Errorf("an entry holds a pointer: %s", p)
	}
	if n := unsafe.Sizeof(entry{}); n > 48 {
		t.Errorf("an entry takes %d bytes, want at most 48: an ID, a start, where its bytes are and its table of stacks", n)
	}
	// A slab is bytes.
	if p := pointerField(reflect.TypeFor[[]byte]().Elem()); p != "" {
		t.Errorf("a slab holds a pointer: %s", p)
	}
}

// pointerField returns the path of a field of t that holds a pointer, or
// "".
func pointerField(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return ""
	case reflect.Array:
		if t.Len() == 0 {
			return ""
		}
		return pointerField(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if p := pointerField(t.Field(i).Type); p != "" {
				return t.Field(i).Name + ": " + p
			}
		}
		return ""
	}
	return t.String()
}

// TestSlabsCompacted checks that records kept long do not keep the slabs
// of the records gone around them: a store of 50 whose every 1,000th
// record has an ID newer than all the others (never evicted), each in a
// slab of its own by the time it is the only one left there, is copied
// into fresh slabs when they pass twice its records' bytes, and every
// record still reads back whole.
func TestSlabsCompacted(t *testing.T) {
	ctx := context.Background()
	const capacity = 50
	st := New(capacity)
	defer st.Close()
	t0 := time.Now().Add(-time.Hour)
	var late []recording.ID
	for i := range capacity * 1000 {
		r := &recording.Record{Start: t0.Add(time.Duration(i) * time.Microsecond), Route: "/r", Path: "/p"}
		binary.BigEndian.PutUint64(r.ID[:8], uint64(i+1))
		if i%1000 == 999 {
			r.ID[0] = 0xff // newer than every other
			r.Route = "/late"
			late = append(late, r.ID)
		}
		if err := st.Write(ctx, []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		if st.data.used > 2*st.data.liveBytes+4*slabSize+slabSize {
			t.Fatalf("record %d: slabs take %d bytes for %d of records", i, st.data.used, st.data.liveBytes)
		}
	}
	if st.Len() != capacity {
		t.Fatalf("Len %d, want %d", st.Len(), capacity)
	}
	for _, id := range late {
		r, err := st.Get(ctx, id)
		if err != nil || r.Route != "/late" {
			t.Fatalf("Get(%s): %v, %+v", id, err, r)
		}
	}
	var n int
	for _, b := range st.data.bufs {
		if b != nil {
			n++
		}
	}
	if n > 8 {
		t.Errorf("%d slabs held for %d bytes of records", n, st.data.liveBytes)
	}
}

// TestSummariesAsRecords checks that List gives each record's summary as
// Record.SummaryInto makes it (decoded from what Write encoded), RPCs included, for records with and
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
