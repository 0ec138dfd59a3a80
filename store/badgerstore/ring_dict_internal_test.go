package badgerstore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/storetest"
)

// dictRecords returns n records whose head and attributes mix strings
// that repeat record after record (the same strings: constants, as a
// route or a header's name is), strings that repeat only some of the
// time or in turns, strings made afresh for each record (equal bytes
// or not), empty strings, long ones, a header of several values and
// more attributes than the dictionary has memos for; some have calls,
// with stacks of one shared slice.
func dictRecords(n int) []*recording.Record {
	base := storetest.Record20(time.Unix(1700000000, 0), 1)
	routes := []string{"GET /hello", "GET /shop/{id}", "POST /cart"}
	long := strings.Repeat("long value ", 20)
	hdrKeys := []string{"Accept-Encoding", "User-Agent", "X-Many", "Accept"}
	attrKeys := make([]string, 11)
	for i := range attrKeys {
		attrKeys[i] = fmt.Sprintf("attr.key%d", i)
	}
	recs := make([]*recording.Record, n)
	for i := range recs {
		r := &recording.Record{
			ID:       recording.ID{byte(i), byte(i >> 8), byte(i >> 16), 7},
			TraceID:  recording.TraceID{byte(i), 1},
			SpanID:   recording.SpanID{byte(i), 2},
			Kind:     recording.KindHTTP,
			Start:    base.Start.Add(time.Duration(i) * time.Millisecond),
			Duration: time.Duration(i%97) * time.Microsecond,
			Method:   "GET",
			Path:     fmt.Sprintf("/hello/%d", i%5), // afresh each record, equal bytes in turns
			Route:    routes[(i/7)%len(routes)],     // runs of seven
			Status:   200 + i%3,
			Remote:   fmt.Sprintf("127.0.0.1:%d", 40000+i),
			Instance: "vm/32050",
			Overhead: 3 * time.Microsecond,
		}
		if i%11 == 0 {
			r.Route = routes[i%len(routes)] // a break in the run
			r.Error, r.Query, r.User = "boom", "q=1", "alice"
		}
		if i%13 == 0 {
			r.Panic = long
		}
		r.Headers = map[string][]string{}
		for k := range 1 + i%len(hdrKeys) {
			vs := []string{"gzip"}
			if k == 2 {
				vs = append(vs, fmt.Sprint(i), "gzip", long) // several values, the later written in full
			}
			if i%3 == 0 {
				vs[0] = strings.Clone(vs[0]) // equal bytes, another string
			}
			r.Headers[hdrKeys[k]] = vs
		}
		nattrs := i % (len(attrKeys) + 1)
		for k := range nattrs {
			v := "http"
			switch {
			case k%3 == 1:
				v = fmt.Sprint(i % 4)
			case k%3 == 2:
				v = long
			}
			r.Attrs = append(r.Attrs, recording.Attr{Key: attrKeys[k], Value: v})
		}
		if i%4 == 1 {
			r.Calls = slices.Clone(base.Calls[:3+i%5])
		}
		recs[i] = r
	}
	return recs
}

// ringWant returns what the ring read r back as before it wrote records
// against a dictionary: its record (codec.AppendRecordWithoutStacks and
// back, its stacks put back) and its summary.
func ringWant(t *testing.T, r *recording.Record) (*recording.Record, recording.Summary) {
	t.Helper()
	b := codec.AppendRecordWithoutStacks(nil, r)
	rec, err := codec.DecodeRecordWithoutStacks(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec.Calls {
		rec.Calls[i].Stack = slices.Clone(r.Calls[i].Stack)
	}
	rec.ExecTrace = nil
	sum, err := codec.SummaryWithoutStacks(b)
	if err != nil {
		t.Fatal(err)
	}
	return rec, sum
}

// A ringWantRec is a record as the ring reads it back, and its summary.
type ringWantRec struct {
	rec *recording.Record
	sum recording.Summary
}

// ringWants returns each of recs as the ring reads it back (ringWant), by
// ID.
func ringWants(t *testing.T, recs []*recording.Record) map[recording.ID]ringWantRec {
	t.Helper()
	wants := make(map[recording.ID]ringWantRec, len(recs))
	for _, r := range recs {
		rec, sum := ringWant(t, r)
		wants[r.ID] = ringWantRec{rec, sum}
	}
	return wants
}

// TestRingDictReadsAsRecordsWritten writes records of repeated and
// distinct strings into small rings, in batches, so that their buffers
// wrap round many times and their dictionaries fill and are replaced:
// every record held reads back (get) and lists (summaries) exactly as the
// ring read it when it copied every string, and the dictionaries of
// tables no record held refers to are gone.
func TestRingDictReadsAsRecordsWritten(t *testing.T) {
	recs := dictRecords(3000)
	wants := ringWants(t, recs)
	for _, tc := range []struct {
		size    int64
		strings int // the dictionary's bound
	}{{16 << 10, 4}, {64 << 10, 16}, {64 << 10, 0}} {
		t.Run(fmt.Sprintf("%d-%d", tc.size, tc.strings), func(t *testing.T) {
			g := newRing(tc.size)
			g.dictStrings = tc.strings
			check := func(step string) {
				t.Helper()
				if g.n == 0 {
					t.Fatalf("%s: the ring holds nothing", step)
				}
				dicts := 0
				for j := range g.newestFirst() {
					e := &g.ents[j]
					var id recording.ID
					copy(id[:], e.key[8:])
					got, ok, err := g.get(id)
					if err != nil || !ok {
						t.Fatalf("%s: get %v: %v, %v", step, id, ok, err)
					}
					if !reflect.DeepEqual(got, wants[id].rec) {
						t.Fatalf("%s: record %v read back\n%+v\nwant\n%+v", step, id, got, wants[id].rec)
					}
					if e.table != 0 && int(e.recEnd) < len(codec.AppendRecordWithoutStacksDict(nil, got, new(codec.MemDict))) {
						dicts++
					}
				}
				// (A record shorter than written against an empty
				// dictionary refers to its own.)
				if dicts == 0 {
					t.Fatalf("%s: no record held refers to its dictionary", step)
				}
				sums := g.summaries(nil, nil, g.n)
				if len(sums) != g.n {
					t.Fatalf("%s: %d summaries of %d records", step, len(sums), g.n)
				}
				for _, s := range sums {
					var id recording.ID
					copy(id[:], s.key[8:])
					if s.err != nil || !reflect.DeepEqual(s.sum, wants[id].sum) {
						t.Fatalf("%s: summary of %v: %v\n%+v\nwant\n%+v", step, id, s.err, s.sum, wants[id].sum)
					}
				}
				if len(g.tables) > 0 && g.tables[0].refs == 0 && g.tables[0] != g.stacks {
					t.Fatalf("%s: table %d, which no entry refers to, is kept", step, g.tables[0].id)
				}
			}
			for i := 0; i < len(recs); {
				g.newWrite()
				for k := range 1 + i%37 {
					if i+k < len(recs) {
						g.add(recs[i+k])
					}
				}
				i += 1 + i%37
				g.flush()
				if i%10 == 0 {
					check(fmt.Sprintf("after %d records", i))
				}
			}
			check("at the end")
			if g.n >= len(recs) || g.head >= int(tc.size) {
				t.Fatalf("the ring holds %d of %d records (head %d): it never wrapped round", g.n, len(recs), g.head)
			}
			if tc.strings > 0 && g.lastTable < 3 {
				t.Fatalf("%d tables made: the dictionaries never filled", g.lastTable)
			}
		})
	}
}

// TestRingDictReadDuringWrites reads the ring's records and summaries
// while another goroutine writes records against its dictionaries (under
// -race): each record found reads back as written.
func TestRingDictReadDuringWrites(t *testing.T) {
	recs := dictRecords(2000)
	wants := ringWants(t, recs)
	g := newRing(32 << 10)
	g.dictStrings = 8
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				for _, s := range g.summaries(nil, nil, 50) {
					var id recording.ID
					copy(id[:], s.key[8:])
					if s.err != nil || !reflect.DeepEqual(s.sum, wants[id].sum) {
						errs <- fmt.Errorf("reader %d: summary of %v: %v", w, id, s.err)
						return
					}
					got, ok, err := g.get(id)
					if err != nil || ok && !reflect.DeepEqual(got, wants[id].rec) {
						errs <- fmt.Errorf("reader %d: record %v: %v", w, id, err)
						return
					}
				}
			}
		}()
	}
	for i := 0; i < len(recs); i += 16 {
		g.newWrite()
		for _, r := range recs[i:min(i+16, len(recs))] {
			g.add(r)
		}
		g.flush()
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
