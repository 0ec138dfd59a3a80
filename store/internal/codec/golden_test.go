package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

var writeGolden = flag.Bool("codec.write-golden", false, "rewrite testdata/v4-golden.bin from the current encoders")

// goldenRecords are fixed records: one-byte and longer varints (negative
// ones too), strings shorter and longer than 127 bytes, shared and fresh
// stack frames, strings repeated between calls.
func goldenRecords() []*recording.Record {
	at := time.Unix(1700000000, 5)
	full := storetest.FullRecord(at, 1)
	full.Headers = map[string][]string{"Accept": {"text/html", "*/*"}} // one key: map order is random
	long := storetest.Record20(at.Add(time.Second), 2)
	long.Headers = nil
	long.Path = "/" + strings.Repeat("p", 300)
	long.Calls[3].Request = strings.Repeat("SELECT 1; ", 40)
	long.Calls[4].Start = -3 * time.Millisecond
	long.Calls[5].Duration = 1 << 40
	long.RequestBytes = -1
	// Call 6's stack alone (its slice is that of calls 0, 3, 9 and on).
	long.Calls[6].Stack = slices.Clone(long.Calls[6].Stack)
	long.Calls[6].Stack[0].Line = 1 << 20
	return []*recording.Record{full, long}
}

// goldenValues encodes the golden records with encode, their summaries
// and a rollup of them.
func goldenValues(encode func([]byte, *recording.Record) []byte) [][]byte {
	var out [][]byte
	ru := NewRollup()
	for i, r := range goldenRecords() {
		sum := r.Summary()
		durs := CallDurations(r, &sum)
		out = append(out, encode(nil, r), AppendSummary(nil, &sum, durs))
		if i == 1 { // the long one: one route, instance and RPC (map order is random)
			ru.Add(&sum, durs)
			ru.AddCounted(&sum, durs)
		}
	}
	return append(out, AppendRollup(nil, ru))
}

// readGolden reads the values of a golden file, each after its length.
func readGolden(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			t.Fatalf("%s is corrupt", name)
		}
		out, b = append(out, b[k:k+int(n)]), b[k+int(n):]
	}
	return out
}

// TestEncodingGolden checks that the encoders write, byte for byte, what
// the encoders of version 4 records, version 2 summaries and version 4
// rollups wrote when testdata/v4-golden.bin was made: an encoder made
// faster must not change what it writes without a new version. The long
// golden record's calls take their stacks from three slices in turn:
// most of them are written as an earlier call's.
func TestEncodingGolden(t *testing.T) {
	name := filepath.Join("testdata", "v4-golden.bin")
	got := goldenValues(AppendRecord)
	if *writeGolden {
		var b []byte // each value after its length, as a uvarint
		for _, v := range got {
			b = append(binary.AppendUvarint(b, uint64(len(v))), v...)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t, name)
	sameValues(t, name, got, want)
	for i, r := range goldenRecords() {
		if got[2*i][1] != codecV4 {
			t.Fatalf("record %d: version %d, want %d", i, got[2*i][1], codecV4)
		}
		checkDecoded(t, got[2*i], r)
	}
}

// TestDecodeV3Golden: version 3 records, written before stacks written as
// an earlier call's (testdata/v3-golden.bin, made by the version 3
// encoder, which appendRecordV with codecV3 still is), decode to the
// records they were.
func TestDecodeV3Golden(t *testing.T) {
	want := readGolden(t, filepath.Join("testdata", "v3-golden.bin"))
	got := goldenValues(func(b []byte, r *recording.Record) []byte { return appendRecordV(b, r, codecV3) })
	sameValues(t, "v3-golden.bin", got, want)
	for i, r := range goldenRecords() {
		if want[2*i][1] != codecV3 {
			t.Fatalf("record %d: version %d, want %d", i, want[2*i][1], codecV3)
		}
		checkDecoded(t, want[2*i], r)
	}
}

// TestDecodeV2Golden: version 2 records, written before string tables
// (testdata/v2-golden.bin, made by the version 2 encoder, which
// appendRecordV2 still is), decode to the records they were.
func TestDecodeV2Golden(t *testing.T) {
	want := readGolden(t, filepath.Join("testdata", "v2-golden.bin"))
	got := goldenValues(func(b []byte, r *recording.Record) []byte { return appendRecordV2(b, r, true) })
	sameValues(t, "v2-golden.bin", got, want)
	for i, r := range goldenRecords() {
		if want[2*i][1] != codecV2 {
			t.Fatalf("record %d: version %d, want %d", i, want[2*i][1], codecV2)
		}
		checkDecoded(t, want[2*i], r)
	}
}

// sameValues checks that the values encoded, got, are those stored in
// the golden file name, want.
func sameValues(t *testing.T, name string, got, want [][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s holds %d values, want %d", name, len(want), len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("value %d: encoded %d bytes differing from the %d stored in %s", i, len(got[i]), len(want[i]), name)
		}
	}
}

// checkDecoded checks that b decodes to r.
func checkDecoded(t *testing.T, b []byte, r *recording.Record) {
	t.Helper()
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Start = time.Unix(0, r.Start.UnixNano())
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("decoded:\n%+v\nwant\n%+v", got, &want)
	}
}

// TestEncodingSharedStacks: in version 3, calls whose stacks are one
// slice (as the recorder's stack cache gives calls made from one place)
// encode as calls with equal stacks of their own do. In version 4, a
// call whose stack is the previous call's slice is written as that
// call's, in fewer bytes; one equal but apart is not. Both decode to the
// stacks they were.
func TestEncodingSharedStacks(t *testing.T) {
	shared := storetest.Record20(time.Unix(1700000000, 0), 1)
	own := storetest.Record20(time.Unix(1700000000, 0), 1)
	shared.Headers, own.Headers = nil, nil // map order is random
	for i := range shared.Calls {
		shared.Calls[i].Stack = shared.Calls[0].Stack
		own.Calls[i].Stack = slices.Clone(shared.Calls[0].Stack)
	}
	own.Calls[3].Stack = own.Calls[3].Stack[1:] // a shorter stack between
	shared.Calls[3].Stack = shared.Calls[3].Stack[1:]
	a, b := appendRecordV(nil, shared, codecV3), appendRecordV(nil, own, codecV3)
	if !bytes.Equal(a, b) {
		t.Fatalf("version 3, shared stacks: %d bytes differing from the %d of stacks of their own", len(a), len(b))
	}
	a4, b4 := AppendRecord(nil, shared), AppendRecord(nil, own)
	if len(a4) >= len(b4) {
		t.Errorf("version 4, shared stacks: %d bytes, not fewer than the %d of stacks of their own", len(a4), len(b4))
	}
	for _, v := range [][]byte{a, a4, b4} {
		got, err := DecodeRecord(v)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got.Calls {
			if !slices.Equal(got.Calls[i].Stack, own.Calls[i].Stack) {
				t.Fatalf("version %d, call %d: stack %v, want %v", v[1], i, got.Calls[i].Stack, own.Calls[i].Stack)
			}
		}
	}
}

// TestStackRefs: a version 4 record writes a call's stack as the stack
// of an earlier call with the same slice (its first frame and length),
// among the last stackRefs distinct ones, and as frames otherwise: a
// slice of the same array shorter, equal frames apart, or a stack further
// back. Each
// decodes to its stack; a reference before the first call is corrupt.
func TestStackRefs(t *testing.T) {
	base := storetest.Record20(time.Unix(1700000000, 0), 1).Calls[0].Stack
	place := func(i int) []recording.Frame { // a stack of its own per place
		st := slices.Clone(base)
		st[0].Line = 1000 + i
		return st
	}
	// refs counts the calls after the first written as an earlier
	// call's: their stack field's first byte is odd. Every call here
	// has the same fields before its stack, so they are found by its
	// request, written in full, and its response, "ok", which is too
	// short to be indexed.
	refs := func(b []byte, r *recording.Record) int {
		n := 0
		for i := range r.Calls {
			at := bytes.Index(b, []byte(r.Calls[i].Request))
			if at < 0 {
				t.Fatalf("call %d's request is not written in full", i)
			}
			if b[at+len(r.Calls[i].Request)+3]&1 != 0 { // after the response, "ok" in full
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name   string
		stacks func(i int, st [][]recording.Frame) []recording.Frame
		want   int
	}{
		{"one place", func(i int, st [][]recording.Frame) []recording.Frame { return st[0] }, 19},
		{"three in turn", func(i int, st [][]recording.Frame) []recording.Frame { return st[i%3] }, 17},
		{"stackRefs in turn", func(i int, st [][]recording.Frame) []recording.Frame { return st[i%stackRefs] }, 20 - stackRefs},
		{"stackRefs+1 in turn", func(i int, st [][]recording.Frame) []recording.Frame { return st[i%(stackRefs+1)] }, 0},
		// Two slices of one array, one a frame shorter: each is
		// the other's from the third call on, never the other one's.
		{"shorter", func(i int, st [][]recording.Frame) []recording.Frame { return st[0][:len(st[0])-i%2] }, 18},
		{"apart", func(i int, st [][]recording.Frame) []recording.Frame { return slices.Clone(st[0]) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := make([][]recording.Frame, stackRefs+1)
			for i := range st {
				st[i] = place(i)
			}
			r := &recording.Record{}
			for i := range 20 {
				r.Calls = append(r.Calls, recording.Call{
					Service: "sql", Method: "SELECT", Response: "ok",
					Request: fmt.Sprintf("request number %d", i),
					Stack:   tc.stacks(i, st),
				})
			}
			b := AppendRecord(nil, r)
			if got := refs(b, r); got != tc.want {
				t.Errorf("%d stacks written as an earlier call's, want %d", got, tc.want)
			}
			checkDecoded(t, b, r)
			for i := 0; i < len(b); i += 7 {
				if _, err := DecodeRecord(b[:i]); !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("record truncated at %d: err = %v, want ErrCorrupt", i, err)
				}
			}
		})
	}

	// A reference before the first call, or back past it, is corrupt.
	r := &recording.Record{Calls: []recording.Call{
		{Service: "sql", Request: "first request", Response: "ok", Stack: base},
		{Service: "sql", Request: "other request", Response: "ok", Stack: base},
	}}
	b := AppendRecord(nil, r)
	second := bytes.Index(b, []byte("other request")) + len("other request") + 3
	if b[second] != 0<<1|1 {
		t.Fatalf("the second call's stack field is %#x, want the previous call's (1)", b[second])
	}
	for _, bad := range []byte{1<<1 | 1, 9<<1 | 1} {
		b[second] = bad
		if _, err := DecodeRecord(b); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("a stack %d calls back from the second call: err = %v, want ErrCorrupt", bad>>1+1, err)
		}
	}
	first := bytes.Index(b, []byte("first request")) + len("first request") + 3
	b[first] = 0<<1 | 1
	if _, err := DecodeRecord(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("the first call's stack as an earlier call's: err = %v, want ErrCorrupt", err)
	}
}

// TestStringTable: a version 3 record writes a string repeated by its
// calls once, whether its copies share their memory or not, and decodes
// every string where it was; past maxShared strings, strings are written
// in full and still decode.
func TestStringTable(t *testing.T) {
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	r.Headers = nil
	b := AppendRecord(nil, r)
	for i := range r.Calls {
		// Equal strings, each in memory of its own.
		c := &r.Calls[i]
		c.Service, c.Method = strings.Clone(c.Service), strings.Clone(c.Method)
		c.Response = strings.Clone(c.Response)
	}
	apart := AppendRecord(nil, r)
	// Methods alternating between calls: the previous call's is not the
	// one repeated.
	alt := storetest.Record20(time.Unix(1700000000, 0), 1)
	alt.Headers = nil
	for i := range alt.Calls {
		if i%2 == 1 {
			alt.Calls[i].Method = "SELECT order_totals"
		}
	}
	ab := AppendRecord(nil, alt)
	if n := strings.Count(string(ab), "SELECT order_"); n != 2 {
		t.Errorf("alternating methods are written %d times, want twice", n)
	}
	checkDecoded(t, ab, alt)
	if n := strings.Count(string(b), "SELECT order_lines"); n != 1 {
		t.Errorf("the calls' method is written %d times, want once", n)
	}
	checkDecoded(t, b, r)
	checkDecoded(t, apart, r)
	if again := AppendRecord(nil, r); !bytes.Equal(again, apart) {
		t.Error("the same record encodes differently the second time")
	}

	// More strings than the table takes, then strings seen before.
	// Each call's response is an earlier call's method: indexed or,
	// past the table's end, written in full.
	many := &recording.Record{}
	for i := range maxShared + 40 {
		c := recording.Call{Service: "svc", Method: fmt.Sprintf("method %d", i)}
		if i > 0 {
			c.Response = many.Calls[i/2].Method
		}
		many.Calls = append(many.Calls, c)
	}
	mb := AppendRecord(nil, many)
	checkDecoded(t, mb, many)
	for i := 0; i < len(mb); i += 13 {
		if _, err := DecodeRecord(mb[:i]); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("record truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
	}

	// An index past the strings written is corrupt.
	bad := &recording.Record{Calls: []recording.Call{{Service: "abcd"}}}
	bb := AppendRecord(nil, bad)
	at := bytes.Index(bb, []byte("\x08abcd")) // "abcd" in full: its length doubled
	if at < 0 {
		t.Fatal("the service is not written in full")
	}
	bb[at] = 1<<1 | 1 // index 1: one string was written before
	if _, err := DecodeRecord(bb); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("index out of range: err = %v, want ErrCorrupt", err)
	}
	bb[at] = 0<<1 | 1 // index 0: no string was written before
	if _, err := DecodeRecord(bb); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("index out of range: err = %v, want ErrCorrupt", err)
	}
}

// TestRecordWithoutStacks: a record without its stacks is written in the
// memory version, which DecodeRecordWithoutStacks reads back to the
// record without its calls' stacks, and which DecodeRecord refuses (as
// DecodeRecordWithoutStacks refuses what AppendRecord writes). Calls
// whose strings and attributes are the previous call's, equal elsewhere
// in memory, empty or not, phases, parents, costs, warnings and an
// execution trace's description all come back as they were; and
// SummaryWithoutStacks reads the record's summary from the bytes.
func TestRecordWithoutStacks(t *testing.T) {
	base := time.Unix(1700000000, 0)
	recs := []*recording.Record{storetest.Record20(base, 1), storetest.FullRecord(base, 2), {}}
	recs = append(recs, storetest.Records(3, base, time.Millisecond, 50)...)
	// Equal strings and attributes in other memory, calls with none,
	// attributes that differ in one value or in number, the first call's
	// empty fields.
	odd := storetest.Record20(base, 4)
	for i := range odd.Calls {
		c := &odd.Calls[i]
		switch i % 5 {
		case 0:
			c.Service, c.Method = strings.Clone(c.Service), strings.Clone(c.Method)
			c.Attrs = []recording.Attr{{Key: strings.Clone("db.system"), Value: "sqlite"}}
		case 1:
			c.Attrs = nil
			c.Error, c.Response = "timeout", ""
		case 2:
			c.Attrs = []recording.Attr{{Key: "db.system", Value: "postgres"}}
			c.Phases = []recording.Phase{{Name: "wait", Start: 5, Duration: -7}}
		case 3:
			c.Attrs = append(c.Attrs, recording.Attr{Key: "k", Value: "v"})
			c.Running, c.ParentSpanID = true, recording.SpanID{1}
			c.Start, c.Duration, c.RequestSize, c.ResponseSize = -1<<62, 1<<62, -1, 1<<40
		}
	}
	odd.Calls[0].Service, odd.Calls[0].Request = "", ""
	odd.Calls[19].Event, odd.Calls[19].Cost = true, 2.5
	// More RPCs than AppendRPCStats finds without a map, in turn, with
	// events between, errors and costs.
	many := storetest.FullRecord(base, 5)
	many.Calls = nil
	for i := range 60 {
		many.Calls = append(many.Calls, recording.Call{
			Service: "svc", Method: fmt.Sprint("m", i%20), Duration: time.Duration(i) * time.Millisecond,
			Event: i%7 == 3, Cost: float64(i) / 3, Error: strings.Repeat("e", i%2),
		})
	}
	recs = append(recs, odd, many)
	for n, r := range recs {
		b := AppendRecordWithoutStacks(nil, r)
		if b[1] != codecMem {
			t.Fatalf("record %d: version %d, want %d", n, b[1], codecMem)
		}
		got, err := DecodeRecordWithoutStacks(b)
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		// What DecodeRecord gives for the record, without stacks.
		want, err := DecodeRecord(AppendRecord(nil, r))
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Calls {
			want.Calls[i].Stack = nil
		}
		if !reflect.DeepEqual(got, want) {
			for i := range want.Calls {
				if !reflect.DeepEqual(got.Calls[i], want.Calls[i]) {
					t.Fatalf("record %d, call %d decoded:\n%+v\nwant\n%+v", n, i, got.Calls[i], want.Calls[i])
				}
			}
			t.Fatalf("record %d decoded:\n%+v\nwant\n%+v", n, got, want)
		}
		// Its summary, read without decoding the record, is the record's.
		sum, err := SummaryWithoutStacks(b)
		if err != nil {
			t.Fatalf("record %d: summary: %v", n, err)
		}
		wantSum := r.Summary()
		wantSum.Start = time.Unix(0, r.Start.UnixNano())
		if !reflect.DeepEqual(sum, wantSum) {
			t.Fatalf("record %d: summary\n%+v\nwant\n%+v", n, sum, wantSum)
		}
		if _, err := DecodeRecord(b); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("record %d: DecodeRecord of a record without stacks: err = %v, want ErrCorrupt", n, err)
		}
		if _, err := SummaryWithoutStacks(AppendRecord(nil, r)); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("record %d: SummaryWithoutStacks of a stored record: err = %v, want ErrCorrupt", n, err)
		}
		if _, err := DecodeRecordWithoutStacks(AppendRecord(nil, r)); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("record %d: DecodeRecordWithoutStacks of a stored record: err = %v, want ErrCorrupt", n, err)
		}
		for i := range len(b) {
			if _, err := DecodeRecordWithoutStacks(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d truncated at %d: err = %v, want ErrCorrupt", n, i, err)
			}
			if _, err := SummaryWithoutStacks(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record %d truncated at %d: summary: err = %v, want ErrCorrupt", n, i, err)
			}
		}
	}
	// Record20's calls write their requests alone: fewer bytes than
	// version 2 without stacks.
	r := storetest.Record20(base, 1)
	nostack := *r
	nostack.Calls = slices.Clone(r.Calls)
	for i := range nostack.Calls {
		nostack.Calls[i].Stack = nil
	}
	if b, v2 := AppendRecordWithoutStacks(nil, r), appendRecordV2(nil, &nostack, true); len(b) >= len(v2) {
		t.Errorf("Record20 without stacks takes %d bytes, version 2 %d", len(b), len(v2))
	} else {
		t.Logf("Record20 without stacks: %d bytes, version 2 %d", len(b), len(v2))
	}
	// A mask with an unknown bit is corrupt.
	b := AppendRecordWithoutStacks(nil, &recording.Record{Calls: make([]recording.Call, 1)})
	at := len(appendRecordHead(nil, codecMem, &recording.Record{Calls: make([]recording.Call, 1)}))
	b[at] |= 1 << 7
	if _, err := DecodeRecordWithoutStacks(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("unknown mask bit: err = %v, want ErrCorrupt", err)
	}
	if _, err := SummaryWithoutStacks(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("unknown mask bit: summary: err = %v, want ErrCorrupt", err)
	}
}

// TestStringTableConcurrent: records encoded at once on several
// goroutines, whose string tables come from one pool, each decode to
// themselves.
func TestStringTableConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := storetest.Record20(time.Unix(1700000000, 0), uint32(g))
			r.Headers = nil
			for i := range r.Calls {
				r.Calls[i].Method = fmt.Sprintf("method of %d", g)
			}
			var b []byte
			for range 200 {
				b = AppendRecord(b[:0], r)
				got, err := DecodeRecord(b)
				if err != nil {
					t.Error(err)
					return
				}
				if got.Calls[19].Method != r.Calls[19].Method || got.Calls[19].Stack[11] != r.Calls[19].Stack[11] {
					t.Errorf("goroutine %d: decoded %q, %v", g, got.Calls[19].Method, got.Calls[19].Stack[11])
					return
				}
			}
		})
	}
	wg.Wait()
}
