package codec

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// plainRecord is r written with a table of its own.
func plainRecord(r *recording.Record) []byte {
	tab := new(strTable)
	tab.reset()
	return appendRecordT(nil, r, codecV4, tab)
}

// checkLikePlain writes r with e and compares it with r written with a
// table of its own, byte for byte and decoded.
func checkLikePlain(t *testing.T, e *Encoder, name string, r *recording.Record) {
	t.Helper()
	got := e.AppendRecord(nil, r)
	want := plainRecord(r)
	if !bytes.Equal(got, want) {
		k := 0
		for k < len(got) && k < len(want) && got[k] == want[k] {
			k++
		}
		t.Fatalf("%s: %d bytes unlike a table of its own's %d, from byte %d", name, len(got), len(want), k)
	}
	dg, err := DecodeRecord(got)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	dw, err := DecodeRecord(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dg, dw) {
		t.Fatalf("%s: decoded %+v, want %+v", name, dg, dw)
	}
}

// tmplRecord is a record of n calls from three places in turn, as
// storetest.Record20's, without headers (whose order is a map's).
func tmplRecord(n int) *recording.Record {
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	r.Headers = nil
	r.Calls = r.Calls[:n:n]
	return r
}

// TestTemplateMatch: a record whose calls are the last record's but for
// one thing is written as with a table of its own, and so is the record
// after it, for each thing a kept call is compared by: its service, its
// method, its error, its request, its response, its phases, its
// attributes, whether it has a stack, the earlier call whose stack it
// is, the stack's frames (rewritten in place) and whether it is an
// earlier call's stack; and a record that matches through a call but
// writes a later one: the state the calls matched leave (the strings
// they indexed and no later ones, their memos, the previous stack).
// Each case fails if its comparison or restoring is left out.
func TestTemplateMatch(t *testing.T) {
	cases := []struct {
		name string
		edit func(r *recording.Record)
		then func(r *recording.Record) // a second edit, if any
	}{
		{name: "service", edit: func(r *recording.Record) { r.Calls[4].Service = "pgsql" }},
		{name: "method", edit: func(r *recording.Record) { r.Calls[4].Method = "SELECT other_lines" }},
		{name: "error", edit: func(r *recording.Record) { r.Calls[4].Error = "timeout" }},
		{name: "request", edit: func(r *recording.Record) { r.Calls[4].Request = "SELECT 4" }},
		{name: "request, the same bytes elsewhere", edit: func(r *recording.Record) {
			r.Calls[4].Request = strings.Clone(r.Calls[4].Request)
			r.Calls[5].Request = r.Calls[4].Request
		}},
		{name: "response", edit: func(r *recording.Record) { r.Calls[4].Response = "13 rows" }},
		{name: "phases", edit: func(r *recording.Record) {
			r.Calls[4].Phases = []recording.Phase{{Name: "connect", Start: 1, Duration: 2}}
		}},
		{name: "attributes", edit: func(r *recording.Record) { r.Calls[4].Attrs = []recording.Attr{{Key: "db.system", Value: "pg"}} }},
		{name: "no attributes", edit: func(r *recording.Record) { r.Calls[4].Attrs = nil }},
		{name: "no stack", edit: func(r *recording.Record) { r.Calls[4].Stack = nil }},
		{name: "a stack where none was", edit: func(r *recording.Record) { r.Calls[4].Stack = r.Calls[0].Stack }},
		{name: "another earlier call's stack", edit: func(r *recording.Record) { r.Calls[4].Stack = r.Calls[3].Stack }},
		{name: "an earlier call's stack where frames were written", edit: func(r *recording.Record) { r.Calls[1].Stack = r.Calls[0].Stack }},
		{name: "the frames written, a line rewritten", edit: func(r *recording.Record) { r.Calls[1].Stack[1].Line++ }},
		{name: "the frames written, a function rewritten", edit: func(r *recording.Record) {
			r.Calls[0].Stack[0].Function = "database/sql.(*DB).ExecContext"
		}},
		{name: "fewer frames", edit: func(r *recording.Record) { r.Calls[2].Stack = r.Calls[2].Stack[1:] }},
		{name: "an earlier call's stack where its very frames were written", edit: func(r *recording.Record) {
			r.Calls[1].Stack = slices.Clone(r.Calls[0].Stack)
		}, then: func(r *recording.Record) { r.Calls[1].Stack = r.Calls[0].Stack }},
		{name: "a later call's service the template's later request", edit: func(r *recording.Record) {
			// Indexed by the template's later calls, not this record's.
			r.Calls[5].Service = r.Calls[7].Request
		}},
		{name: "the memos: after the calls matched, the same method elsewhere in memory", edit: func(r *recording.Record) {
			// Found by the memo of the calls matched, not in the table.
			r.Calls[6].Method = strings.Clone(r.Calls[5].Method)
		}},
		{name: "the previous stack: after the calls matched, its outer frames", edit: func(r *recording.Record) {
			r.Calls[6].Request = "SELECT 6"
			r.Calls[6].Stack = slices.Clone(r.Calls[5].Stack)
			r.Calls[6].Stack[0].Line = 7
		}},
		{name: "a string the calls matched indexed, after them", edit: func(r *recording.Record) {
			r.Calls[6].Request = "SELECT 6"
			r.Calls[7].Response = r.Calls[1].Request
		}},
		{name: "the memos of frames", edit: func(r *recording.Record) {
			// The second call's innermost frames, written after the
			// calls matched: the memos of the frames written last.
			r.Calls[3].Stack = append([]recording.Frame{r.Calls[2].Stack[0], r.Calls[2].Stack[1]}, r.Calls[2].Stack[3:]...)
		}},
		{name: "fewer calls", edit: func(r *recording.Record) { r.Calls = r.Calls[:7] }},
		{name: "more calls", edit: func(r *recording.Record) { r.Calls = append(r.Calls, r.Calls[3]) }},
		{name: "no calls", edit: func(r *recording.Record) { r.Calls = nil }},
		{name: "a warning's strings the calls'", edit: func(r *recording.Record) {
			r.Calls = r.Calls[:3]
			r.Warnings[0].Request = tmplRecord(20).Calls[9].Request
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := Encoder{t: new(strTable)}
			defer e.Release()
			base := tmplRecord(20)
			// Calls 10 to 19 repeat calls 0 to 9's requests, their
			// strings (indexes, not written again).
			for i := 10; i < 20; i++ {
				base.Calls[i].Request = base.Calls[i-10].Request
			}
			checkLikePlain(t, &e, "first", base)
			checkLikePlain(t, &e, "again", base)
			if !e.t.tmpl.live || len(e.t.tmpl.calls) != 20 {
				t.Fatalf("template: live %v, %d calls; want 20", e.t.tmpl.live, len(e.t.tmpl.calls))
			}
			r := *base
			r.Calls = slices.Clone(base.Calls)
			for i := range r.Calls {
				r.Calls[i].Stack = slices.Clone(r.Calls[i].Stack)
			}
			for i := range r.Calls {
				// The calls made from one place share one stack.
				if i >= 3 && len(r.Calls[i].Stack) > 0 {
					r.Calls[i].Stack = r.Calls[i%3].Stack
				}
			}
			r.Warnings = slices.Clone(base.Warnings)
			checkLikePlain(t, &e, "copied", &r)
			tc.edit(&r)
			// A miss keeps no calls after it for a record or more:
			// the third record keeps them.
			for i := range 3 {
				checkLikePlain(t, &e, fmt.Sprint("edited ", i), &r)
			}
			if want := tmplLen(&r); len(e.t.tmpl.calls) != want {
				t.Fatalf("%d calls kept of the edited record, want %d", len(e.t.tmpl.calls), want)
			}
			if tc.then != nil {
				tc.then(&r)
				checkLikePlain(t, &e, "edited twice", &r)
			}
			for i := range 3 {
				checkLikePlain(t, &e, fmt.Sprint("after it ", i), base)
			}
		})
	}
}

// tmplLen is how many calls of r a template keeps: those before its
// first call with phases.
func tmplLen(r *recording.Record) int {
	for i := range r.Calls {
		if len(r.Calls[i].Phases) > 0 {
			return i
		}
	}
	return len(r.Calls)
}

// TestTemplateRandom: sequences of records whose calls repeat, vary
// and rewrite earlier ones (shapes repeated, interleaved, a call more or
// fewer, strings changed anywhere, stacks changed in place, strings
// shared across fields, times and sizes of the longest varints, and
// records whose strings pass the table's 1,024 indexes) are written with one Encoder as each with a table of
// its own, byte for byte, and decoded the same.
func TestTemplateRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "x", "sql", "http", "SELECT a", "SELECT b", "GET /x", "12 rows", "1 row", "timeout", "db.system", "sqlite", "connect", "main.f", "main.go"}
	pick := func() string {
		switch rng.IntN(8) {
		case 0:
			return fmt.Sprint("fresh ", rng.IntN(50)) // new memory each time
		case 1:
			return strings.Clone(words[rng.IntN(len(words))]) // equal bytes, other memory
		}
		return words[rng.IntN(len(words))]
	}
	var stacks [6][]recording.Frame
	newStack := func(k int) {
		n := 1 + rng.IntN(8)
		s := make([]recording.Frame, n)
		for j := range s {
			s[j] = recording.Frame{Function: words[rng.IntN(len(words))], File: words[rng.IntN(len(words))], Line: rng.IntN(4)}
		}
		stacks[k] = s
	}
	for k := range stacks {
		newStack(k)
	}
	shape := func(n int) *recording.Record {
		r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
		r.Headers = nil
		r.Calls = nil
		for i := range n {
			c := recording.Call{
				Service: pick(), Method: pick(), Error: pick(), Request: pick(), Response: pick(),
				Start: time.Duration(i), Duration: time.Duration(rng.IntN(1 << 30)),
				RequestSize: int64(rng.IntN(300)), SpanID: recording.SpanID{byte(i), 1},
			}
			if rng.IntN(4) > 0 {
				c.Stack = stacks[rng.IntN(len(stacks))]
			}
			for range rng.IntN(3) {
				c.Attrs = append(c.Attrs, recording.Attr{Key: pick(), Value: pick()})
			}
			if rng.IntN(10) == 0 {
				c.Phases = []recording.Phase{{Name: pick(), Start: 1, Duration: 2}}
			}
			r.Calls = append(r.Calls, c)
		}
		return r
	}
	big := func() *recording.Record {
		r := shape(3)
		for i := range maxShared + 20 {
			r.Calls = append(r.Calls, recording.Call{Service: "svc", Method: fmt.Sprint("method-", i), Request: r.Calls[i%3].Request})
		}
		return r
	}
	shapes := []*recording.Record{shape(20), shape(20), shape(5), shape(1), big()}
	e := Encoder{t: new(strTable)}
	defer e.Release()
	for n := range 4000 {
		base := shapes[rng.IntN(len(shapes))]
		if rng.IntN(3) == 0 {
			base = shapes[0]
		}
		r := *base
		r.ID[0] = byte(n)
		r.Calls = slices.Clone(base.Calls)
		switch rng.IntN(10) {
		case 0: // a call more
			r.Calls = append(r.Calls, base.Calls[rng.IntN(len(base.Calls))])
		case 1: // a call fewer
			r.Calls = r.Calls[:len(r.Calls)-1]
		case 2, 3: // a string changed in one call
			c := &r.Calls[rng.IntN(len(r.Calls))]
			*[]*string{&c.Service, &c.Method, &c.Error, &c.Request, &c.Response}[rng.IntN(5)] = pick()
		case 4: // another stack, or none
			c := &r.Calls[rng.IntN(len(r.Calls))]
			c.Stack = [][]recording.Frame{nil, stacks[rng.IntN(len(stacks))]}[rng.IntN(2)]
		case 5: // a stack changed in place
			s := stacks[rng.IntN(len(stacks))]
			f := &s[rng.IntN(len(s))]
			if rng.IntN(2) == 0 {
				f.Line++
			} else {
				f.Function = words[rng.IntN(len(words))]
			}
		case 6: // a stack replaced
			newStack(rng.IntN(len(stacks)))
		case 7: // the shape kept from now on
			shapes[rng.IntN(len(shapes)-1)] = shape(1 + rng.IntN(30))
		}
		for i := range r.Calls {
			c := &r.Calls[i]
			c.Start = time.Duration(rng.IntN(1 << 28))
			if rng.IntN(20) == 0 {
				// The longest varints.
				c.Start, c.Duration = math.MinInt64, math.MaxInt64
				c.RequestSize, c.ResponseSize = math.MinInt64, -1
			}
		}
		checkLikePlain(t, &e, fmt.Sprint("record ", n), &r)
	}
}

// TestTemplateKeepsNoRecordMemory: the template copies what it keeps
// of a record's calls (their attributes, their stacks' frames) and
// holds their strings only, so that a record's calls, attributes and
// stacks are collected once it is gone, matched or not (see
// badgerstore's BorrowsRecords).
func TestTemplateKeepsNoRecordMemory(t *testing.T) {
	e := Encoder{t: new(strTable)}
	defer e.Release()
	write := func(times int) (weak.Pointer[[2]recording.Call], weak.Pointer[[3]recording.Frame], weak.Pointer[[1]recording.Attr]) {
		calls, frames, attrs := new([2]recording.Call), new([3]recording.Frame), new([1]recording.Attr)
		for i := range frames {
			frames[i] = recording.Frame{Function: "main.f" + fmt.Sprint(i), File: "/src/main/main.go", Line: i + 1}
		}
		attrs[0] = recording.Attr{Key: "db.system", Value: "sqlite"}
		for i := range calls {
			calls[i] = recording.Call{Service: "sql", Method: "SELECT x", Stack: frames[:], Attrs: attrs[:], Duration: time.Millisecond}
		}
		r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
		r.Headers, r.Calls = nil, calls[:]
		for range times {
			e.AppendRecord(nil, r)
		}
		if times > 1 && !e.t.tmpl.live {
			t.Fatal("no template kept")
		}
		return weak.Make(calls), weak.Make(frames), weak.Make(attrs)
	}
	for _, times := range []int{1, 3} { // kept; matched
		wc, wf, wa := write(times)
		runtime.GC()
		runtime.GC()
		if wc.Value() != nil || wf.Value() != nil || wa.Value() != nil {
			t.Errorf("written %d times: the record's calls %v, stack %v, attributes %v still reachable from the table",
				times, wc.Value() != nil, wf.Value() != nil, wa.Value() != nil)
		}
	}
}

// TestTemplateVersion3: a table whose template is live writes a record
// of version 3 (which writes no stack as a reference) as a table of its
// own does, and the next record of version 4 as well.
func TestTemplateVersion3(t *testing.T) {
	tab := new(strTable)
	r := tmplRecord(20)
	// Another record's strings in the version 3 one: indexed where the
	// template's calls have theirs, and the warnings' among them.
	other := storetest.FullRecord(time.Unix(1700000000, 0), 2)
	other.Headers = nil
	for i, v := range []byte{codecV4, codecV4, codecV3, codecV4, codecV4, codecV3, codecV3, codecV4} {
		rec := r
		if v == codecV3 {
			rec = other
		}
		tab.reset()
		got := appendRecordT(nil, rec, v, tab)
		fresh := new(strTable)
		fresh.reset()
		if want := appendRecordT(nil, rec, v, fresh); !bytes.Equal(got, want) {
			t.Fatalf("record %d, version %d: %d bytes unlike a table of its own's %d", i, v, len(got), len(want))
		}
	}
}

// BenchmarkEncoderShapes is BenchmarkEncoder with records that vary
// from one to the next as a service's do, or more: the same record
// again (repeated); requests written anew for each record, in other
// memory (fresh-requests); another route's shape every other record
// (interleaved); a call more every other record (call-more); the middle
// call's request new in each record (changed-middle).
func BenchmarkEncoderShapes(b *testing.B) {
	const n = 64
	base := storetest.Record20(time.Unix(1700000000, 0), 1)
	other := storetest.FullRecord(time.Unix(1700000000, 0), 2)
	with := func(edit func(i int, r *recording.Record)) []*recording.Record {
		recs := make([]*recording.Record, n)
		for i := range recs {
			r := *base
			r.Calls = slices.Clone(base.Calls)
			edit(i, &r)
			recs[i] = &r
		}
		return recs
	}
	for _, bc := range []struct {
		name string
		recs []*recording.Record
	}{
		{"repeated", with(func(int, *recording.Record) {})},
		{"fresh-requests", with(func(i int, r *recording.Record) {
			for j := range r.Calls {
				r.Calls[j].Request = fmt.Sprintf("SELECT id, sku, qty, price FROM order_lines WHERE order_id = %d", 1000+j)
			}
		})},
		{"interleaved", with(func(i int, r *recording.Record) {
			if i%2 == 1 {
				*r = *other
			}
		})},
		{"call-more", with(func(i int, r *recording.Record) {
			if i%2 == 1 {
				r.Calls = append(r.Calls, r.Calls[3])
			}
		})},
		{"changed-middle", with(func(i int, r *recording.Record) {
			r.Calls[10].Request = fmt.Sprint("SELECT ", i)
		})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var e Encoder
			defer e.Release()
			var buf []byte
			i := 0
			for b.Loop() {
				buf = e.AppendRecord(buf[:0], bc.recs[i%n])
				i++
			}
		})
	}
}
