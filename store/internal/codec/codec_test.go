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
		got, err := DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		want := *r
		want.Start = time.Unix(0, r.Start.UnixNano())
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("record round trip:\n%+v\nwant\n%+v", got, &want)
		}
		sum := r.Summary()
		durs := CallDurations(r, &sum)
		var gotDurs []time.Duration
		gs, err := DecodeSummary(AppendSummary(nil, &sum, durs), &gotDurs)
		if err != nil {
			t.Fatal(err)
		}
		sum.Start = want.Start
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
		sum := r.Summary()
		ru.Add(&sum, CallDurations(r, &sum))
	}
	if len(ru.insts) == 0 {
		t.Fatal("no instance groups")
	}
	v2 := AppendRollup(nil, ru)
	ru.insts = map[string]*group{}
	v1 := AppendRollup(nil, ru)
	v1 = v1[:len(v1)-1] // the empty instance section
	v1[1] = codecV1
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
	for _, v := range []byte{0, rollupV2 + 1} {
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
	f.Fuzz(func(t *testing.T, b []byte) {
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
		want := Overall{Duration: sum.Duration, Failed: sum.HasError(), Calls: sum.CallCount}
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
