package codec

import (
	"errors"
	"reflect"
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
		DecodeSummary(b, &durs)
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
