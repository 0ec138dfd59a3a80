package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestEncoderBytes: an Encoder, one table for many records, writes each
// record as AppendRecord does (the same length, and the same record
// decoded: the order of a record's headers is its map's), records
// that share their strings and stacks (as a service's do), records of
// other strings in between, a record whose strings fill the table's
// indexes, and the Encoder used again after Release.
func TestEncoderBytes(t *testing.T) {
	now := time.Now()
	a, b := storetest.Record20(now, 1), storetest.Record20(now.Add(time.Second), 2)
	// b's calls' strings are a's, and its stacks the same slices.
	b.Calls = append([]recording.Call(nil), a.Calls...)
	b.Calls[3].Request = "SELECT 1"
	many := storetest.FullRecord(now, 3)
	many.Calls = nil
	for i := range maxShared + 10 {
		many.Calls = append(many.Calls, recording.Call{
			Service: "svc", Method: fmt.Sprintf("method-%d", i),
			Request: fmt.Sprintf("request %d", i), Duration: time.Duration(i) * time.Microsecond,
		})
	}
	recs := []*recording.Record{a, b, a, many, b, a}
	recs = append(recs, storetest.Records(7, now, time.Millisecond, 30)...)
	recs = append(recs, a, b)
	var e Encoder
	for round := range 2 {
		var got []byte
		for i, r := range recs {
			off := len(got)
			got = e.AppendRecord(got, r)
			want := AppendRecord(nil, r)
			if len(got)-off != len(want) || len(r.Headers) < 2 && !bytes.Equal(got[off:], want) {
				t.Fatalf("round %d, record %d: Encoder wrote %d bytes unlike AppendRecord's %d", round, i, len(got)-off, len(want))
			}
			dec, err := DecodeRecord(got[off:])
			if err != nil {
				t.Fatalf("round %d, record %d: %v", round, i, err)
			}
			wdec, err := DecodeRecord(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dec, wdec) {
				t.Fatalf("round %d, record %d: decoded %+v, want %+v", round, i, dec, wdec)
			}
		}
		e.Release()
	}
}

// BenchmarkEncoder is BenchmarkEncodeRecord with one Encoder for every
// record, as badgerstore's Write encodes them.
func BenchmarkEncoder(b *testing.B) {
	r := storetest.Record20(time.Now(), 1)
	b.ReportAllocs()
	var e Encoder
	defer e.Release()
	var buf []byte
	for b.Loop() {
		buf = e.AppendRecord(buf[:0], r)
	}
	b.ReportMetric(float64(len(buf)), "bytes/record")
}

// TestFirstStackKept: a record whose first call's stack is the last
// record's (kept once two records in a row had it) is written from the
// kept bytes, and every record is written as with a table of its own:
// the same stack again; its frames rewritten in place (a line, a string);
// a string of the stack given an index before it (the first call's
// request, its method); more or fewer strings indexed before it; stacks
// alternating; a later call's innermost frames the first's (the memos);
// a stack of short and repeated strings; and none.
func TestFirstStackKept(t *testing.T) {
	plain := func(r *recording.Record) []byte {
		tab := new(strTable)
		tab.reset()
		return appendRecordT(nil, r, codecV4, tab)
	}
	stack := func(tag string) []recording.Frame {
		return []recording.Frame{
			{Function: "main.query" + tag, File: "/src/main/db.go", Line: 10},
			{Function: "main.load" + tag, File: "/src/main/db.go", Line: 20},
			{Function: "f", File: "x.go", Line: 1}, // under minShared
			{Function: "main.serve", File: "/src/main/main.go", Line: 30},
			{Function: "main.serve", File: "/src/main/main.go", Line: 31},
		}
	}
	a, b := stack("A"), stack("B")
	rec := func(calls ...[]recording.Frame) *recording.Record {
		r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
		r.Headers, r.Calls = nil, nil
		for i, s := range calls {
			r.Calls = append(r.Calls, recording.Call{
				Service: "sql", Method: "SELECT x", Request: fmt.Sprint("SELECT ", i),
				Response: "1 row", Stack: s, Duration: time.Millisecond,
			})
		}
		return r
	}
	e := Encoder{t: new(strTable)} // none kept
	// check writes r and compares it with r written with a table of its
	// own; if wantKept, a stack must be kept after it.
	check := func(name string, r *recording.Record, wantKept bool) {
		t.Helper()
		got := e.AppendRecord(nil, r)
		if want := plain(r); !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes unlike a table of its own's %d", name, len(got), len(want))
		}
		if _, err := DecodeRecord(got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if kept := e.t.first.frames != nil; wantKept && !kept {
			t.Fatalf("%s: no stack kept", name)
		}
	}
	check("first", rec(a, b, a), false)
	if e.t.first.frames != nil {
		t.Fatal("a stack kept after one record")
	}
	check("again: kept", rec(a, b, a), true)
	// The kept bytes are what the next record writes.
	kept := e.t.first.enc
	e.t.first.enc = []byte("kept")
	if got := e.AppendRecord(nil, rec(a, b)); !bytes.Contains(got, []byte("kept")) {
		t.Fatal("the kept stack's bytes not written")
	}
	e.t.first.enc = kept
	check("from the kept bytes", rec(a, a, b), true)
	// The later call's innermost frames are the first's: its memos.
	inner := append([]recording.Frame{a[0], a[1]}, b[2:]...)
	check("memos", rec(a, inner), true)
	// Rewritten in place: the same slice, other frames.
	saved := slices.Clone(a)
	a[1].Line++
	check("a line changed", rec(a, b), true)
	a[0].Function = "main.other"
	check("a string changed", rec(a, b), true)
	copy(a, saved)
	check("restored", rec(a, b), false)
	check("a kept again", rec(a, b), true)
	// A string of the stack indexed before it: as many strings before
	// it as the kept stack had, one of them the stack's.
	r := rec(a, b)
	r.Calls[0].Request = a[3].Function
	check("request is a frame's function", r, false)
	check("after it", rec(a, b), false)
	// The same, two records in a row: not kept.
	check("request is a frame's function, again", r, false)
	check("request is a frame's function, a third time", r, false)
	check("after them", rec(a, b), false)
	r = rec(a, b)
	r.Calls[0].Method = a[1].File
	check("method is a frame's file", r, false)
	// Fewer strings indexed before the stack, then more.
	r = rec(a, b)
	r.Calls[0].Response = "1"
	check("fewer before", r, false)
	r = rec(a, b)
	r.Calls[0].Error = "timeout"
	check("more before", r, false)
	// Stacks alternating: each record's first stack is not the last's.
	for i := range 4 {
		first := [2][]recording.Frame{b, a}[i%2]
		check(fmt.Sprint("alternating ", i), rec(first, a), false)
	}
	check("b twice: kept", rec(b, a), false)
	check("b from the kept bytes", rec(b, a, b), false)
	check("no stack", rec(nil, a), false)
	check("no calls", rec(), false)
	check("a, after", rec(a), false)
	check("a again", rec(a, b), false)
}

// TestFirstStackKeepsNoRecordMemory: a table keeps the first stack's
// frames copied, and notes the stack it may keep next by its address
// alone, so that the memory of the records it wrote (their stacks'
// frames) is collected once they are gone, kept or not: a pooled table
// or an Encoder outlives the records of a Write (see badgerstore's
// BorrowsRecords).
func TestFirstStackKeepsNoRecordMemory(t *testing.T) {
	e := Encoder{t: new(strTable)}
	// write encodes a record whose first call's stack is a fresh array,
	// and returns a weak pointer to it.
	write := func(times int) weak.Pointer[[3]recording.Frame] {
		frames := new([3]recording.Frame)
		for i := range frames {
			frames[i] = recording.Frame{Function: fmt.Sprint("main.f", i), File: "/src/main/main.go", Line: i + 1}
		}
		r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
		r.Headers = nil
		r.Calls = []recording.Call{{Service: "sql", Method: "SELECT x", Stack: frames[:], Duration: time.Millisecond}}
		for range times {
			e.AppendRecord(nil, r)
		}
		return weak.Make(frames)
	}
	for _, times := range []int{1, 2} { // noted; kept
		w := write(times)
		runtime.GC()
		runtime.GC()
		if w.Value() != nil {
			t.Errorf("written %d times: the record's stack is still reachable from the table", times)
		}
	}
	e.Release()
}
