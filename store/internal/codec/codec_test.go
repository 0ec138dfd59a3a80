package codec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, r := range []*recording.Record{
		storetest.FullRecord(time.Unix(1700000000, 5), 1),
		storetest.Record20(time.Unix(1700000000, 5), 2),
		{},
	} {
		b := AppendRecord(nil, r)
		checkDecoded(t, b, r)
		sum := r.Summary()
		durs := CallDurations(r, &sum)
		var gotDurs []time.Duration
		gs, err := DecodeSummary(AppendSummary(nil, &sum, durs), &gotDurs)
		if err != nil {
			t.Fatal(err)
		}
		sum.Start = time.Unix(0, r.Start.UnixNano())
		if !reflect.DeepEqual(gs, sum) || !reflect.DeepEqual(gotDurs, durs) && len(durs) > 0 {
			t.Errorf("summary round trip:\n%+v\nwant\n%+v", gs, sum)
		}
		for i := range b {
			if _, err := DecodeRecord(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record truncated at %d: err = %v, want ErrCorrupt", i, err)
			}
		}
	}
	r := storetest.Record20(time.Now(), 3)
	sum := r.Summary()
	t.Logf("20-call record: full %d bytes, summary %d bytes", len(AppendRecord(nil, r)), len(AppendSummary(nil, &sum, CallDurations(r, &sum))))
}

func TestExecTraceRoundTrip(t *testing.T) {
	r := storetest.FullRecord(time.Unix(1700000000, 5), 1)
	data := storetest.TraceData(1, 1000)
	r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: time.Unix(1700000001, 7), Reason: "1.2s, over the threshold of 1s"}
	b := AppendRecord(nil, r)
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if et := got.ExecTrace; et == nil || et.Data != nil || et.Size != 1016 || !et.Taken.Equal(r.ExecTrace.Taken) || et.Reason != r.ExecTrace.Reason {
		t.Errorf("trace metadata = %+v", got.ExecTrace)
	}
	for i := range b {
		if _, err := DecodeRecord(b[:i]); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("record truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
	}
	tv := AppendExecTrace(nil, data)
	if d, err := DecodeExecTrace(tv); err != nil || !slices.Equal(d, data) {
		t.Errorf("DecodeExecTrace = %d bytes, %v", len(d), err)
	}
	for _, bad := range [][]byte{nil, {tagExecTrace}, {tagRecord, codecV1}, {tagExecTrace, 9}} {
		if _, err := DecodeExecTrace(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("DecodeExecTrace(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
	// Unknown optional parts are refused: a record without any ends with
	// its parts' flags, 0.
	r.ExecTrace = nil
	noCosts(r)
	b = AppendRecord(nil, r)
	if b[len(b)-1] != 0 {
		t.Fatalf("a record without optional parts ends with %#x", b[len(b)-1])
	}
	b[len(b)-1] = 1 << 5
	if _, err := DecodeRecord(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("unknown parts: err = %v, want ErrCorrupt", err)
	}
}

// noCosts clears the costs of r's calls, which the first version of the
// encoding did not have.
func noCosts(r *recording.Record) {
	for i := range r.Calls {
		r.Calls[i].Cost = 0
	}
}

// noParents clears the parents of r's calls, which the records in
// testdata, written before calls had parents, do not have.
func noParents(r *recording.Record) {
	for i := range r.Calls {
		r.Calls[i].ParentSpanID = recording.SpanID{}
	}
}

// TestDecodeV1 reads values written by the first version of the encoding,
// before records had optional parts and calls costs: directories written
// then still read.
func TestDecodeV1(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if b[1] != codecV1 {
			t.Fatalf("%s is version %d, not 1", name, b[1])
		}
		return b
	}
	want := storetest.FullRecord(time.Unix(1700000000, 5), 1)
	want.Start = time.Unix(0, want.Start.UnixNano())
	noCosts(want)
	withParents := *want
	withParents.Calls = slices.Clone(want.Calls)
	noParents(want)
	got, err := DecodeRecord(read("v1-record.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v1 record:\n%+v\nwant\n%+v", got, want)
	}
	// Version 1 records with call parents (their call flags say so) were
	// written too: the version 2 layout without its trailing set of parts.
	b := appendRecordV2(nil, &withParents, true)
	if b[len(b)-1] != 0 {
		t.Fatalf("record without costs or trace ends in parts %#x, want 0", b[len(b)-1])
	}
	b = b[:len(b)-1]
	b[1] = codecV1
	if got, err := DecodeRecord(b); err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, &withParents) {
		t.Errorf("v1 record with parents:\n%+v\nwant\n%+v", got, &withParents)
	}
	if id, ok := SummaryTraceID(read("v1-summary.bin")); !ok || id != want.TraceID {
		t.Errorf("SummaryTraceID(v1 summary) = %s, %v; want %s", id, ok, want.TraceID)
	}
	sum, err := DecodeSummary(read("v1-summary.bin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ws := want.Summary(); !reflect.DeepEqual(sum, ws) {
		t.Errorf("v1 summary:\n%+v\nwant\n%+v", sum, ws)
	}
	ru := NewRollup()
	var scratch sketch.Sketch
	if err := ru.MergeEncoded(read("v1-rollup.bin"), false, &scratch); err != nil {
		t.Fatal(err)
	}
	wr := NewRollup()
	for _, r := range storetest.Records(1, time.Unix(1700000000, 0), time.Second, 50) {
		noCosts(r)
		s := r.Summary()
		wr.Add(&s, CallDurations(r, &s))
	}
	clear(wr.insts) // version 1 had no instances
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if g, want := ru.Stats(w), wr.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("v1 rollup:\n%+v\nwant\n%+v", g, want)
	}
}

// TestRollupVersion3 reads a version 3 rollup, written before rollups
// counted stored records: every record it counts was persisted, so each
// route's Stored equals its Requests.
func TestRollupVersion3(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "v3-rollup.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != rollupV3 {
		t.Fatalf("v3-rollup.bin is version %d, not 3", b[1])
	}
	ru := NewRollup()
	var scratch sketch.Sketch
	if err := ru.MergeEncoded(b, false, &scratch); err != nil {
		t.Fatal(err)
	}
	wr := NewRollup()
	for _, r := range storetest.Records(3, time.Unix(1700000000, 0), time.Second, 50) {
		s := r.Summary()
		wr.Add(&s, CallDurations(r, &s))
	}
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	got, want := ru.Stats(w), wr.Stats(w)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v3 rollup:\n%+v\nwant\n%+v", got, want)
	}
	if ru.Stored() != 50 || len(got.Routes) == 0 {
		t.Fatalf("v3 rollup: %d stored, %d routes; want 50 stored", ru.Stored(), len(got.Routes))
	}
	for _, r := range got.Routes {
		if r.Stored != r.Requests {
			t.Errorf("route %s: %d stored of %d requests", r.Route, r.Stored, r.Requests)
		}
	}
	// Its call groups count as stored every request that made the call.
	for _, g := range ru.rpcs {
		if g.stored != g.requests {
			t.Errorf("rpc group: %d stored of %d requests", g.stored, g.requests)
		}
	}
}

// addThirdStored counts recs in ru, every third one (from the first) as
// persisted and the others as only counted.
func addThirdStored(ru *Rollup, recs []*recording.Record) {
	for i, r := range recs {
		sum := r.Summary()
		if i%3 == 0 {
			ru.Add(&sum, CallDurations(r, &sum))
		} else {
			ru.AddCounted(&sum, CallDurations(r, &sum))
		}
	}
}

// TestRollupStored counts records persisted and records only counted:
// both count in every figure, only the first in the stored ones, and the
// counts survive encoding.
func TestRollupStored(t *testing.T) {
	ru := NewRollup()
	recs := storetest.Records(4, time.Unix(1700000000, 0), time.Second, 60)
	for _, r := range recs {
		r.Route = "GET /a"
	}
	addThirdStored(ru, recs)
	got := NewRollup()
	var scratch sketch.Sketch
	if err := got.MergeEncoded(AppendRollup(nil, ru), false, &scratch); err != nil {
		t.Fatal(err)
	}
	st := got.Stats(store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)})
	if st.Requests != 60 || got.Stored() != 20 || len(st.Routes) != 1 || st.Routes[0].Requests != 60 || st.Routes[0].Stored != 20 {
		t.Fatalf("requests %d, stored %d, routes %+v; want 60 requests, 20 stored", st.Requests, got.Stored(), st.Routes)
	}
	o := NewRollup()
	o.MergeOverall(got)
	if o.Stored() != 20 {
		t.Errorf("overall merge: %d stored, want 20", o.Stored())
	}
}

func TestRollupRoundTrip(t *testing.T) {
	ru := NewRollup()
	for _, r := range storetest.Records(1, time.Unix(1700000000, 0), time.Second, 200) {
		sum := r.Summary()
		ru.Add(&sum, CallDurations(r, &sum))
	}
	b := AppendRollup(nil, ru)
	var scratch sketch.Sketch
	got := NewRollup()
	if err := got.MergeEncoded(b, false, &scratch); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if g, want := got.Stats(w), ru.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("rollup round trip:\n%+v\nwant\n%+v", g, want)
	}
	for i := range b {
		if err := NewRollup().MergeEncoded(b[:i], false, &scratch); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("rollup truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
	}
}

// TestRollupMemo: an unbounded rollup (a write's delta), which finds the
// groups of the last records' routes, instances and RPCs without its
// maps, counts what a bounded one that finds them all in its maps
// counts, over records from routes, instances and RPCs in runs and in
// turn (more RPCs than it remembers, and fewer), their strings shared or
// equal in other memory, added and counted; and a Reset forgets the
// groups it remembered.
func TestRollupMemo(t *testing.T) {
	recs := storetest.Records(4, time.Unix(1700000000, 0), time.Second, 300)
	// Strings shared by the records, as the recorder's are, and some
	// equal ones in other memory.
	routes := []string{"GET /r0", "GET /r1", "GET /r2"}
	var methods []string
	for k := range 10 {
		methods = append(methods, fmt.Sprint("m", k))
	}
	for i, r := range recs {
		// Runs of one route and instance, and calls of ten RPCs in turn
		// (more than the memo holds) or of three.
		r.Route = routes[i/7%3]
		if i%11 == 0 {
			r.Route = strings.Clone(r.Route)
		}
		r.Instance = []string{"a/1", "b/2"}[i/5%2]
		if i%4 == 0 {
			r.Instance = strings.Clone(r.Instance)
		}
		for j := range r.Calls {
			r.Calls[j].Service = "svc"
			r.Calls[j].Method = methods[(i+j)%[]int{10, 3}[i/20%2]]
		}
	}
	memo, maps := NewRollup(), NewBoundedRollup(1<<20)
	addThirdStored(memo, recs)
	addThirdStored(maps, recs)
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if g, want := memo.Stats(w), maps.Stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("rollup with memo:\n%+v\nwant\n%+v", g, want)
	}
	memo.Reset()
	maps.Reset()
	addThirdStored(memo, recs[1:2]) // the route the last record counted in, the same string
	addThirdStored(maps, recs[1:2])
	if g, want := memo.Stats(w), maps.Stats(w); !reflect.DeepEqual(g, want) || g.Requests != 1 || len(g.Routes) != 1 {
		t.Errorf("after Reset:\n%+v\nwant\n%+v", g, want)
	}
}

// AppendOverall keeps what Series reads, in a fraction of the bytes.
func TestAppendOverall(t *testing.T) {
	ru := NewRollup()
	for _, r := range storetest.Records(3, time.Unix(1700000000, 0), time.Second, 300) {
		sum := r.Summary()
		ru.Add(&sum, CallDurations(r, &sum))
	}
	full, head := AppendRollup(nil, ru), AppendOverall(nil, ru)
	var scratch sketch.Sketch
	a, b := NewRollup(), NewRollup()
	if err := a.MergeEncoded(full, true, &scratch); err != nil {
		t.Fatal(err)
	}
	if err := b.MergeEncoded(head, false, &scratch); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if sa, sb := a.Stats(w), b.Stats(w); !reflect.DeepEqual(sa, sb) || sb.Requests != 300 || len(sb.Routes) != 0 {
		t.Errorf("overall only:\n%+v\nwant\n%+v", sb, sa)
	}
	if a.Latency() != b.Latency() {
		t.Errorf("latency %v, want %v", b.Latency(), a.Latency())
	}
	t.Logf("rollup of 300 records: %d bytes, overall part %d", len(full), len(head))
}

// A version 1 rollup, written before rollups had instances, still decodes:
// stores keep rollups for their whole retention.
func TestRollupVersion1(t *testing.T) {
	ru := NewRollup()
	for _, r := range storetest.Records(2, time.Unix(1700000000, 0), time.Second, 50) {
		noCosts(r) // versions 1 and 2 had no costs
		sum := r.Summary()
		ru.Add(&sum, CallDurations(r, &sum))
	}
	if len(ru.insts) == 0 {
		t.Fatal("no instance groups")
	}
	v2 := AppendRollup(nil, ru)
	ru.insts = map[string]*group{}
	v1 := appendRollupVersion(nil, ru, codecV1)
	var scratch sketch.Sketch
	got := NewRollup()
	if err := got.MergeEncoded(v1, false, &scratch); err != nil {
		t.Fatalf("version 1: %v", err)
	}
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if g, want := got.Stats(w), ru.Stats(w); !reflect.DeepEqual(g, want) || len(g.Instances) != 0 {
		t.Errorf("version 1 rollup:\n%+v\nwant\n%+v", g, want)
	}
	// A version 1 rollup merged with a version 2 one keeps the instances
	// of the second.
	if err := got.MergeEncoded(v2, false, &scratch); err != nil {
		t.Fatal(err)
	}
	if st := got.Stats(w); len(st.Instances) == 0 || st.Requests != 100 {
		t.Errorf("after merging version 2: %d requests, %d instances", st.Requests, len(st.Instances))
	}
	for _, v := range []byte{0, rollupV4 + 1} {
		b := append([]byte(nil), v2...)
		b[1] = v
		if err := NewRollup().MergeEncoded(b, false, &scratch); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("version %d: err = %v, want ErrCorrupt", v, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: they must return an
// error or a value, never panic or allocate without bound.
func FuzzDecode(f *testing.F) {
	r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
	f.Add(AppendRecord(nil, r))
	f.Add(AppendRecord(nil, storetest.Record20(time.Unix(1700000000, 0), 2)))
	sum := r.Summary()
	f.Add(AppendSummary(nil, &sum, CallDurations(r, &sum)))
	ru := NewRollup()
	ru.Add(&sum, CallDurations(r, &sum))
	f.Add(AppendRollup(nil, ru))
	f.Add([]byte{tagRecord, codecV1})
	traced := storetest.FullRecord(time.Unix(1700000000, 0), 3)
	traced.ExecTrace = &recording.ExecTrace{Size: 12345, Taken: time.Unix(1700000001, 0), Reason: "slow"}
	f.Add(AppendRecord(nil, traced))
	f.Add(AppendExecTrace(nil, []byte("go 1.26 trace")))
	f.Add(AppendRecordWithoutStacks(nil, fanoutRecord(time.Unix(1700000000, 0), 4)))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The memory version: a record read re-encodes to one that reads
		// (its calls' phases' names and attributes shared with the
		// previous call's where they were written so), and its summary,
		// read without decoding the rest, is the record's.
		if r, err := DecodeRecordWithoutStacks(b); err == nil {
			if _, err := DecodeRecordWithoutStacks(AppendRecordWithoutStacks(nil, r)); err != nil {
				t.Fatalf("re-encoded record (memory version) does not decode: %v", err)
			}
			sum, err := SummaryWithoutStacks(b)
			if err != nil {
				t.Fatalf("record (memory version) decodes, its summary does not: %v", err)
			}
			if want := r.Summary(); !reflect.DeepEqual(sum, want) {
				t.Fatalf("summary (memory version)\n%+v\nwant the record's\n%+v", sum, want)
			}
		} else {
			SummaryWithoutStacks(b)
		}
		if d, err := DecodeExecTrace(b); err == nil && len(d) != len(b)-2 {
			t.Fatalf("DecodeExecTrace: %d bytes of %d", len(d), len(b))
		}
		if r, err := DecodeRecord(b); err == nil {
			if _, err := DecodeRecord(AppendRecord(nil, r)); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
		}
		var durs []time.Duration
		sum, serr := DecodeSummary(b, &durs)
		o, oerr := DecodeOverall(b)
		if (serr == nil) != (oerr == nil) {
			t.Fatalf("DecodeSummary: %v; DecodeOverall: %v", serr, oerr)
		}
		if serr == nil && (o.Duration != sum.Duration || o.Failed != sum.HasError() || o.Calls != sum.CallCount) {
			t.Fatalf("DecodeOverall = %+v, summary %+v", o, sum)
		}
		var scratch sketch.Sketch
		ru := NewRollup()
		if ru.MergeEncoded(b, false, &scratch) == nil {
			ru.Stats(store.Window{})
		}
		NewRollup().MergeEncoded(b, true, &scratch)
	})
}

func BenchmarkEncodeRecord(b *testing.B) {
	r := storetest.Record20(time.Now(), 1)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = AppendRecord(buf[:0], r)
	}
	b.ReportMetric(float64(len(buf)), "bytes/record")
}

func BenchmarkDecodeRecord(b *testing.B) {
	enc := AppendRecord(nil, storetest.Record20(time.Now(), 1))
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeRecord(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSummary(b *testing.B) {
	r := storetest.Record20(time.Now(), 1)
	sum := r.Summary()
	enc := AppendSummary(nil, &sum, CallDurations(r, &sum))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeSummary(enc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSummaryTraceID(t *testing.T) {
	r := storetest.FullRecord(time.Unix(1700000000, 5), 1)
	sum := r.Summary()
	b := AppendSummary(nil, &sum, CallDurations(r, &sum))
	if id, ok := SummaryTraceID(b); !ok || id != r.TraceID {
		t.Errorf("SummaryTraceID = %s, %v; want %s", id, ok, r.TraceID)
	}
	for _, bad := range [][]byte{nil, b[:20], AppendRecord(nil, r)} {
		if _, ok := SummaryTraceID(bad); ok {
			t.Errorf("SummaryTraceID(%.20x…) ok", bad)
		}
	}
}

// BenchmarkDecodeOverall decodes what Series needs of a summary, against
// BenchmarkDecodeSummary's full decode; "long" is a 404 of a 2,000-byte
// path, as a scan of random paths records.
func BenchmarkDecodeOverall(b *testing.B) {
	r := storetest.Record20(time.Now(), 1)
	long := &recording.Record{Kind: recording.KindHTTP, Start: time.Now(), Method: "GET", Path: "/nf/" + strings.Repeat("x", 2000),
		Route: "GET (unmatched 4xx)", Status: 404}
	for _, c := range []struct {
		name string
		r    *recording.Record
	}{{"Record20", r}, {"long", long}} {
		sum := c.r.Summary()
		enc := AppendSummary(nil, &sum, CallDurations(c.r, &sum))
		b.Run(c.name+"/overall", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeOverall(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/summary", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeSummary(enc, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBoundedRollup checks that a bounded rollup keeps at most twice its
// maximum of keys while adding, exactly its maximum plus one Other group
// in what it encodes and answers, and the totals of what it folded.
func TestBoundedRollup(t *testing.T) {
	const maxKeys = 10
	ru := NewBoundedRollup(maxKeys)
	all := NewRollup()
	start := time.Unix(1700000000, 0)
	for i := range 300 {
		r := &recording.Record{
			Start: start.Add(time.Duration(i) * time.Millisecond), Duration: time.Duration(i%5+1) * time.Millisecond,
			Route: fmt.Sprintf("GET /r/%d", i), Status: 200,
			Calls: []recording.Call{{Service: "svc", Method: fmt.Sprintf("M%d", i), Duration: time.Millisecond}},
		}
		if i%3 == 0 { // a busy route and RPC
			r.Route, r.Calls[0].Method = "GET /busy", "busy"
		}
		sum := r.Summary()
		durs := CallDurations(r, &sum)
		ru.Add(&sum, durs)
		all.Add(&sum, durs)
		for what, n := range map[string]int{"routes": len(ru.routes), "rpcs": len(ru.rpcs), "route×rpcs": len(ru.rr)} {
			if n > 2*maxKeys+1 {
				t.Fatalf("after %d records: %d %s, want at most %d", i+1, n, what, 2*maxKeys+1)
			}
		}
	}
	var scratch sketch.Sketch
	decoded := NewRollup() // unbounded: sees exactly what was encoded
	if err := decoded.MergeEncoded(AppendRollup(nil, ru), false, &scratch); err != nil {
		t.Fatal(err)
	}
	// A rollup of every key, read into a bounded one, is bounded too.
	read := NewBoundedRollup(maxKeys)
	if err := read.MergeEncoded(AppendRollup(nil, all), false, &scratch); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: start, Until: start.Add(time.Hour)}
	want := all.Stats(w)
	for name, st := range map[string]*store.Stats{"encoded": decoded.Stats(w), "answered": ru.Stats(w), "read": read.Stats(w)} {
		if len(st.Routes) != maxKeys+1 || len(st.RPCs) != maxKeys+1 || len(st.RouteRPCs) != maxKeys+1 {
			t.Errorf("%s: %d routes, %d rpcs, %d route×rpcs; want %d each", name, len(st.Routes), len(st.RPCs), len(st.RouteRPCs), maxKeys+1)
		}
		if i := slices.IndexFunc(st.Routes, func(r store.RouteStats) bool { return r.Route == "GET /busy" }); i < 0 || st.Routes[i].Requests != 100 {
			t.Errorf("%s: GET /busy folded or miscounted: %+v", name, st.Routes)
		}
		var reqs, calls, rrCalls int64
		var total time.Duration
		for _, r := range st.Routes {
			reqs += r.Requests
			total += r.Total
		}
		for _, r := range st.RPCs {
			calls += r.Count
		}
		for _, r := range st.RouteRPCs {
			rrCalls += r.Count
		}
		if reqs != 300 || calls != 300 || rrCalls != 300 || total != all.all.total || st.Requests != want.Requests {
			t.Errorf("%s: lists add up to %d requests (%v), %d calls, %d route×rpc calls; want 300 (%v) each", name, reqs, total, calls, rrCalls, all.all.total)
		}
		if !slices.ContainsFunc(st.Routes, func(r store.RouteStats) bool { return r.Route == store.Other }) {
			t.Errorf("%s: no Other route", name)
		}
	}
}

// TestDecodeOverall checks DecodeOverall against DecodeSummary, and that it
// reports corrupt input.
func TestDecodeOverall(t *testing.T) {
	recs := storetest.Records(3, time.Unix(1700000000, 0), time.Second, 300)
	recs = append(recs, storetest.FullRecord(time.Unix(1700000000, 0), 1), &recording.Record{Kind: recording.KindGRPC, Status: 14})
	failed := 0
	for _, r := range recs {
		sum := r.Summary()
		b := AppendSummary(nil, &sum, CallDurations(r, &sum))
		o, err := DecodeOverall(b)
		want := Overall{Duration: sum.Duration, Failed: sum.HasError(), Calls: sum.CallCount, Cost: sum.Cost()}
		if err != nil || o != want {
			t.Fatalf("DecodeOverall = %+v, %v; want %+v", o, err, want)
		}
		if o.Failed {
			failed++
		}
		for i := range b {
			if _, err := DecodeOverall(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("summary truncated at %d: err = %v, want ErrCorrupt", i, err)
			}
		}
	}
	if failed == 0 || failed == len(recs) {
		t.Errorf("%d of %d records failed: the test does not tell failures apart", failed, len(recs))
	}
}

// TestExecTraceSnapshotRoundTrip: a trace's snapshot ID, which the records
// sharing one snapshot carry, survives both encodings, and the summary
// read from a record without stacks passes over it.
func TestExecTraceSnapshotRoundTrip(t *testing.T) {
	r := storetest.FullRecord(time.Unix(1700000000, 5), 2)
	first := storetest.FullRecord(time.Unix(1700000000, 1), 1)
	r.ExecTrace = &recording.ExecTrace{Size: 5000, Taken: time.Unix(1700000001, 7), Reason: "slow", Snapshot: first.ID}
	for _, tc := range []struct {
		name   string
		enc    func([]byte, *recording.Record) []byte
		decode func([]byte) (*recording.Record, error)
	}{
		{"full", AppendRecord, DecodeRecord},
		{"without stacks", AppendRecordWithoutStacks, DecodeRecordWithoutStacks},
	} {
		b := tc.enc(nil, r)
		got, err := tc.decode(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if et := got.ExecTrace; et == nil || et.Snapshot != first.ID || et.Size != 5000 || et.Reason != "slow" {
			t.Errorf("%s: trace metadata = %+v, want snapshot %s", tc.name, got.ExecTrace, first.ID)
		}
		for i := range b {
			if _, err := tc.decode(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("%s: truncated at %d: err = %v, want ErrCorrupt", tc.name, i, err)
			}
		}
	}
	if _, err := SummaryWithoutStacks(AppendRecordWithoutStacks(nil, r)); err != nil {
		t.Errorf("SummaryWithoutStacks: %v", err)
	}
	// A record whose trace has no snapshot ID is encoded as before.
	r.ExecTrace.Snapshot = recording.ID{}
	b := AppendRecord(nil, r)
	got, err := DecodeRecord(b)
	if err != nil || got.ExecTrace == nil || !got.ExecTrace.Snapshot.IsZero() {
		t.Errorf("without a snapshot ID: %v, %+v", err, got.ExecTrace)
	}
}
