package codec

import (
	"reflect"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/storetest"
)

// FuzzDecodeDict feeds arbitrary bytes, with a dictionary's strings, to
// the decoders of records written against a dictionary (the badger ring's):
// a corrupt or hostile entry gives an error or a record, never a panic;
// a record read re-encodes, against a fresh dictionary, to one that
// reads the same way (reflect.DeepEqual with the first read).
func FuzzDecodeDict(f *testing.F) {
	m := &MemDict{MaxStrings: 16}
	for i := range 4 {
		r := storetest.FullRecord(time.Unix(1700000000, int64(i)), uint32(i))
		f.Add(AppendRecordWithoutStacksDict(nil, r, m))
		f.Add(AppendRecordWithoutStacksDict(nil, fanoutRecord(time.Unix(1700000000, int64(i)), i+1), m))
	}
	strs := m.Strings()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range [][]string{strs, strs[:len(strs)/2], nil} {
			if r, err := DecodeRecordWithoutStacksDict(b, s); err == nil {
				m2 := new(MemDict)
				r2, err := DecodeRecordWithoutStacksDict(AppendRecordWithoutStacksDict(nil, r, m2), m2.Strings())
				if err != nil {
					t.Fatalf("re-encoded record does not decode: %v", err)
				}
				if !reflect.DeepEqual(r2, r) {
					t.Fatalf("re-encoded record reads otherwise:\n got %+v\nwant %+v", r2, r)
				}
			}
			SummaryWithoutStacksDict(b, s)
		}
	})
}
