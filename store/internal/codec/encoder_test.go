package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

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
