package badgerstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// record20 returns a realistic record of 20 calls, each with a 12-frame
// stack whose outer frames are shared, as benchmarks and size figures use.
func record20(start time.Time, n uint32) *recording.Record {
	r := storetest.FullRecord(start, n)
	r.Calls = r.Calls[:0]
	outer := []recording.Frame{
		{Function: "main.(*server).handleOrders", File: "/home/dev/shop/orders.go", Line: 88},
		{Function: "net/http.HandlerFunc.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2294},
		{Function: "github.com/goappstats/appstats/middleware.(*handler).ServeHTTP", File: "/home/dev/go/pkg/mod/github.com/goappstats/appstats/middleware/middleware.go", Line: 141},
		{Function: "net/http.(*ServeMux).ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2822},
		{Function: "net/http.serverHandler.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 3301},
		{Function: "net/http.(*conn).serve", File: "/usr/local/go/src/net/http/server.go", Line: 2102},
	}
	for i := range 20 {
		stack := []recording.Frame{
			{Function: "database/sql.(*DB).QueryContext", File: "/usr/local/go/src/database/sql/sql.go", Line: 1790},
			{Function: "main.(*repo).orderLines", File: "/home/dev/shop/repo.go", Line: 120 + i%3},
			{Function: "main.(*repo).loadOrder", File: "/home/dev/shop/repo.go", Line: 64},
			{Function: "main.(*service).order", File: "/home/dev/shop/service.go", Line: 31},
			{Function: "main.(*service).orders", File: "/home/dev/shop/service.go", Line: 22},
			{Function: "main.(*server).loadOrders", File: "/home/dev/shop/orders.go", Line: 101},
		}
		r.Calls = append(r.Calls, recording.Call{
			Service: "sql", Method: "SELECT order_lines",
			Start: time.Duration(i) * 900 * time.Microsecond, Duration: 850 * time.Microsecond,
			RequestSize: 96, ResponseSize: 1240,
			Request:  fmt.Sprintf("SELECT id, sku, qty, price FROM order_lines WHERE order_id = %d", 1000+i),
			Response: "12 rows",
			Stack:    append(stack, outer...),
			Attrs:    []recording.Attr{{Key: "db.system", Value: "sqlite"}},
			SpanID:   recording.SpanID{1, 2, 3, 4, 5, 6, 7, byte(i)},
		})
	}
	return r
}

func TestCodecRoundTrip(t *testing.T) {
	for _, r := range []*recording.Record{
		storetest.FullRecord(time.Unix(1700000000, 5), 1),
		record20(time.Unix(1700000000, 5), 2),
		{},
	} {
		b := appendRecord(nil, r)
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		want := *r
		want.Start = time.Unix(0, r.Start.UnixNano())
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("record round trip:\n%+v\nwant\n%+v", got, &want)
		}
		sum := r.Summary()
		durs := callDurations(r, &sum)
		var gotDurs []time.Duration
		gs, err := decodeSummary(appendSummary(nil, &sum, durs), &gotDurs)
		if err != nil {
			t.Fatal(err)
		}
		sum.Start = want.Start
		if !reflect.DeepEqual(gs, sum) || !reflect.DeepEqual(gotDurs, durs) && len(durs) > 0 {
			t.Errorf("summary round trip:\n%+v\nwant\n%+v", gs, sum)
		}
		for i := range b {
			if _, err := decodeRecord(b[:i]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("record truncated at %d: err = %v, want ErrCorrupt", i, err)
			}
		}
	}
	r := record20(time.Now(), 3)
	sum := r.Summary()
	t.Logf("20-call record: full %d bytes, summary %d bytes", len(appendRecord(nil, r)), len(appendSummary(nil, &sum, callDurations(r, &sum))))
}

func TestRollupRoundTrip(t *testing.T) {
	ru := newRollup()
	for _, r := range storetest.Records(1, time.Unix(1700000000, 0), time.Second, 200) {
		sum := r.Summary()
		ru.add(&sum, callDurations(r, &sum))
	}
	b := appendRollup(nil, ru)
	var scratch store.Sketch
	got := newRollup()
	if err := got.mergeEncoded(b, false, &scratch); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: time.Unix(0, 0), Until: time.Unix(1800000000, 0)}
	if g, want := got.stats(w), ru.stats(w); !reflect.DeepEqual(g, want) {
		t.Errorf("rollup round trip:\n%+v\nwant\n%+v", g, want)
	}
	for i := range b {
		if err := newRollup().mergeEncoded(b[:i], false, &scratch); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("rollup truncated at %d: err = %v, want ErrCorrupt", i, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: they must return an
// error or a value, never panic or allocate without bound.
func FuzzDecode(f *testing.F) {
	r := storetest.FullRecord(time.Unix(1700000000, 0), 1)
	f.Add(appendRecord(nil, r))
	f.Add(appendRecord(nil, record20(time.Unix(1700000000, 0), 2)))
	sum := r.Summary()
	f.Add(appendSummary(nil, &sum, callDurations(r, &sum)))
	ru := newRollup()
	ru.add(&sum, callDurations(r, &sum))
	f.Add(appendRollup(nil, ru))
	f.Add([]byte{tagRecord, codecV1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeRecord(b); err == nil {
			if _, err := decodeRecord(appendRecord(nil, r)); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
		}
		var durs []time.Duration
		decodeSummary(b, &durs)
		var scratch store.Sketch
		ru := newRollup()
		if ru.mergeEncoded(b, false, &scratch) == nil {
			ru.stats(store.Window{})
		}
		newRollup().mergeEncoded(b, true, &scratch)
	})
}

func BenchmarkEncodeRecord(b *testing.B) {
	r := record20(time.Now(), 1)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = appendRecord(buf[:0], r)
	}
	b.ReportMetric(float64(len(buf)), "bytes/record")
}

func BenchmarkDecodeRecord(b *testing.B) {
	enc := appendRecord(nil, record20(time.Now(), 1))
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := decodeRecord(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSummary(b *testing.B) {
	r := record20(time.Now(), 1)
	sum := r.Summary()
	enc := appendSummary(nil, &sum, callDurations(r, &sum))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSummary(enc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
