package codec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestMemDictReadsAsWithoutDict writes records against one MemDict, their
// head's and attributes' strings the previous record's (the same strings)
// or not (two strings in runs, equal bytes apart, other ones, empty ones, long ones, more
// headers' values and attributes than have memos, a header map too large
// for headermap.Small): each decodes, and its summary reads, exactly as
// the record written by AppendRecordWithoutStacks does, with the
// dictionary's strings as they were when it was written and as they are
// later; records written once the dictionary is full still read; a
// record refers to the dictionary (is shorter than written against an
// empty one) once its strings repeat; an index past the strings given,
// every truncation and a record of another form are errors wrapping
// store.ErrCorrupt, never a panic.
func TestMemDictReadsAsWithoutDict(t *testing.T) {
	m := &MemDict{MaxStrings: 40}
	long := strings.Repeat("x", 200)
	route, inst := "GET /hello", "vm/1"
	type written struct {
		b    []byte
		r    *recording.Record
		strs []string
	}
	var all []written
	refs := 0
	for i := range 300 {
		r := storetest.FullRecord(time.Unix(1700000000, int64(i)), uint32(i))
		r.Route, r.Instance, r.Method = route, inst, "GET"
		if i/3%2 == 1 { // runs of three, in turns
			r.Method = "POST"
		}
		switch i % 5 {
		case 1:
			r.Route = strings.Clone(route) // equal bytes apart
		case 2:
			r.Instance = fmt.Sprint("vm/", i) // another
		case 3:
			r.Path, r.Query, r.Error = "", "", long
		}
		r.Headers = map[string][]string{"Accept": {"*/*"}, "X-Two": {"a", fmt.Sprint(i)}}
		if i%7 == 0 {
			for k := range 12 { // too many names for headermap.Small
				r.Headers[fmt.Sprint("X-", k)] = []string{"v"}
			}
		}
		r.Attrs = nil
		for k := range i % 12 {
			r.Attrs = append(r.Attrs, recording.Attr{Key: []string{"a", "b", "c"}[k%3], Value: []string{"http", long, ""}[k%3]})
		}
		b := AppendRecordWithoutStacksDict(nil, r, m)
		if len(b) < len(AppendRecordWithoutStacksDict(nil, r, new(MemDict))) {
			refs++
		}
		all = append(all, written{b, r, m.Strings()})
		checkDict(t, fmt.Sprintf("record %d", i), b, m.Strings(), r)
	}
	if !m.Full() || m.Len() != 40 {
		t.Fatalf("the dictionary holds %d strings, full %v: want 40, full", m.Len(), m.Full())
	}
	if refs < 200 {
		t.Fatalf("%d of 300 records refer to the dictionary", refs)
	}
	for i, w := range all {
		// With the strings as they are now, and as they were.
		checkDict(t, fmt.Sprintf("record %d later", i), w.b, m.Strings(), w.r)
		checkDict(t, fmt.Sprintf("record %d as written", i), w.b, w.strs, w.r)
	}
	w := all[len(all)-1]
	for _, bad := range []struct {
		name string
		b    []byte
		strs []string
	}{
		{"no strings", w.b, nil},
		{"truncated", w.b[:len(w.b)/2], w.strs},
		{"without a dictionary's form", AppendRecordWithoutStacks(nil, w.r), w.strs},
	} {
		if _, err := DecodeRecordWithoutStacksDict(bad.b, bad.strs); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", bad.name, err)
		}
		if _, err := SummaryWithoutStacksDict(bad.b, bad.strs); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: summary: err = %v, want ErrCorrupt", bad.name, err)
		}
	}
	for n := range len(w.b) {
		if _, err := DecodeRecordWithoutStacksDict(w.b[:n], w.strs); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("truncated to %d: err = %v, want ErrCorrupt", n, err)
		}
	}
	// The dictionary's form is not read as the memory version's.
	checkCorrupt(t, "a dictionary's record", w.b)
}

// checkDict checks that b, r written against a dictionary whose strings
// are strs, decodes and sums up as r written by AppendRecordWithoutStacks.
func checkDict(t *testing.T, name string, b []byte, strs []string, r *recording.Record) {
	t.Helper()
	plain := AppendRecordWithoutStacks(nil, r)
	want, err := DecodeRecordWithoutStacks(plain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecordWithoutStacksDict(b, strs)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %v\n%+v\nwant\n%+v", name, err, got, want)
	}
	wantSum, err := SummaryWithoutStacks(plain)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := SummaryWithoutStacksDict(b, strs)
	if err != nil || !reflect.DeepEqual(sum, wantSum) {
		t.Fatalf("%s: summary: %v\n%+v\nwant\n%+v", name, err, sum, wantSum)
	}
}

// BenchmarkMemDictFresh writes hello-handler records (no calls, two
// headers, three attributes) whose method, path, remote address,
// headers' values and user agent attribute are made afresh for each
// record, as net/http makes them, and the rest constants: without a
// dictionary (plain) and against one (dict), the record's own cost in
// badgerstore's ring when 6 of its 15 strings miss their memos.
func BenchmarkMemDictFresh(b *testing.B) {
	attrs := []recording.Attr{{Key: "url.scheme", Value: "http"}, {Key: "network.protocol.version", Value: "1.1"}}
	recs := make([]*recording.Record, 1024)
	for i := range recs {
		ua := string([]byte("Go-http-client/1.1"))
		recs[i] = &recording.Record{Kind: recording.KindHTTP, Start: time.Unix(1700000000, int64(i)), Duration: 50 * time.Microsecond,
			Method: string([]byte("GET")), Path: string([]byte("/hello")), Route: "GET /hello", Status: 200, ResponseBytes: 5,
			Headers: map[string][]string{"Accept-Encoding": {string([]byte("gzip"))}, "User-Agent": {ua}},
			Remote:  string([]byte("127.0.0.1:43954")), Instance: "vm/32050", Overhead: 3 * time.Microsecond,
			Attrs: []recording.Attr{attrs[0], attrs[1], {Key: "user_agent.original", Value: ua}}}
	}
	buf := make([]byte, 0, 4096)
	b.Run("plain", func(b *testing.B) {
		for i := range b.N {
			buf = AppendRecordWithoutStacks(buf[:0], recs[i%len(recs)])
		}
	})
	b.Run("dict", func(b *testing.B) {
		m := new(MemDict)
		for i := range b.N {
			buf = AppendRecordWithoutStacksDict(buf[:0], recs[i%len(recs)], m)
		}
	})
}

// TestMemDictEqualBytesAreReferences writes hello records whose method,
// path and user agent are made afresh for each record with the same
// bytes, as net/http makes them (appstats-bench's badger scenario), against
// one MemDict, and the same records with the very same strings against
// another: from the third record on (the first writes them in full, the
// second puts them in the dictionary), the fresh ones are written as the
// dictionary's indexes, as long as the shared ones; strings of the same
// lengths but other bytes are written in full (27 bytes more: the three
// strings' bytes); each reads as written.
func TestMemDictEqualBytesAreReferences(t *testing.T) {
	shared, fresh := new(MemDict), new(MemDict)
	method, path, ua := "GET", "/hello", "Go-http-client/1.1"
	hello := func(i int, method, path, ua string) *recording.Record {
		return &recording.Record{
			ID: recording.ID{byte(i)}, Kind: recording.KindHTTP, Start: time.Unix(1700000000, int64(i)),
			Duration: time.Duration(i) * time.Microsecond, Method: method, Path: path, Route: "GET /hello",
			Status: 200, Remote: "127.0.0.1:43954", Instance: "vm/1",
			Headers: map[string][]string{"Accept-Encoding": {"gzip"}},
			Attrs:   []recording.Attr{{Key: "url.scheme", Value: "http"}, {Key: "user_agent.original", Value: ua}},
		}
	}
	var last []byte
	for i := range 20 {
		rs := hello(i, method, path, ua)
		rf := hello(i, strings.Clone(method), strings.Clone(path), strings.Clone(ua))
		bs := AppendRecordWithoutStacksDict(nil, rs, shared)
		bf := AppendRecordWithoutStacksDict(nil, rf, fresh)
		checkDict(t, fmt.Sprintf("record %d, shared", i), bs, shared.Strings(), rs)
		checkDict(t, fmt.Sprintf("record %d, fresh", i), bf, fresh.Strings(), rf)
		if i >= 2 && len(bf) != len(bs) {
			t.Fatalf("record %d: %d bytes with strings made afresh, %d with the same strings", i, len(bf), len(bs))
		}
		last = bf
	}
	other := hello(20, "PUT", "/hellp", "Go-http-client/1.2")
	b := AppendRecordWithoutStacksDict(nil, other, fresh)
	checkDict(t, "other bytes", b, fresh.Strings(), other)
	if len(b) != len(last)+27 {
		t.Fatalf("other bytes of the same lengths: %d bytes, want %d", len(b), len(last)+27)
	}
}

// TestSameBytes checks sameBytes8 and sameBytes24 against the language's
// comparison for every length from 1 to 30 (sameBytes24 false past 24),
// strings equal and differing in each one byte, each string cut out of a
// larger one at every offset so that the loads meet every alignment.
func TestSameBytes(t *testing.T) {
	for n := 1; n <= 30; n++ {
		for off := range 8 {
			buf := []byte(strings.Repeat("\x00", off) + strings.Repeat("ab", 16))
			a := string(buf[off : off+n])
			for pos := -1; pos < n; pos++ {
				c := []byte(a)
				if pos >= 0 {
					c[pos] ^= 0x40
				}
				b := string(c)
				want := a == b
				got := false
				if n <= 8 {
					got = sameBytes8(a, b)
				} else {
					got = sameBytes24(a, b)
					want = want && n <= 24
				}
				if got != want {
					t.Fatalf("length %d, offset %d, byte %d changed: got %v, want %v", n, off, pos, got, want)
				}
			}
		}
	}
}
