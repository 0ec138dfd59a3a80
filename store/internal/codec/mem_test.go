package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// fanoutRecord is a record as cmd/appstats-bench's fanout scenario's
// handler gives it: n HTTP calls to n URLs, each with the same keys in the
// same order (the keys the same strings), the method, address, port and
// status equal but apart in memory (the port and address parsed from each
// URL), the URL each call's own.
func fanoutRecord(at time.Time, n int) *recording.Record {
	r := storetest.FullRecord(at, 7)
	r.Headers = map[string][]string{"Accept": {"*/*"}}
	r.Calls = nil
	for i := range n {
		url := fmt.Sprintf("http://127.0.0.1:40%03d/item/%d", i, i)
		r.Calls = append(r.Calls, recording.Call{
			Service: "http", Method: "GET", Request: url[len("http://127.0.0.1:40000"):],
			Start: time.Duration(i) * time.Microsecond, Duration: 80 * time.Microsecond,
			ResponseSize: 5, SpanID: recording.SpanID{byte(i + 1), 9},
			Attrs: []recording.Attr{
				{Key: "http.request.method", Value: strings.Clone("GET")},
				{Key: "server.address", Value: url[7:16]},
				{Key: "server.port", Value: strings.Clone(url[17:22])},
				{Key: "url.full", Value: url},
				{Key: "http.response.status_code", Value: "200"},
				{Key: "http.connection.reused", Value: []string{"true", "false"}[i%2]},
			},
			Phases: []recording.Phase{{Name: "connect", Start: 1, Duration: 2}, {Name: "wait", Start: 3, Duration: 4}},
		})
	}
	return r
}

// TestMemFirstFormRefused: a record in the memory version's first form
// (0x80), which no encoder writes any more and no store keeps (the
// memory version's bytes never leave the process that wrote them), is
// corrupt to each reader, with an error naming the form; the golden
// records and a fanout record, written in the memory version, decode, and
// their summaries read, to what they were.
func TestMemFirstFormRefused(t *testing.T) {
	recs := append(goldenRecords(), fanoutRecord(time.Unix(1700000002, 0), 10))
	for i, r := range recs {
		b := AppendRecordWithoutStacks(nil, r)
		if b[1] != codecMem {
			t.Fatalf("record %d: written in version %#x, want %#x", i, b[1], codecMem)
		}
		if !RecordWithoutStacks(b) {
			t.Fatalf("record %d: RecordWithoutStacks = false", i)
		}
		checkWithoutStacks(t, fmt.Sprint("record ", i), b, r)

		old := slices.Clone(b)
		old[1] = codecMem1
		if RecordWithoutStacks(old) {
			t.Errorf("record %d in version %#x: RecordWithoutStacks = true", i, codecMem1)
		}
		const want = "memory version's first form (0x80), which is no longer read"
		if _, err := DecodeRecordWithoutStacks(old); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("record %d in version %#x: err = %v, want ErrCorrupt: …%s", i, codecMem1, err, want)
		}
		if _, err := SummaryWithoutStacks(old); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("record %d in version %#x: summary: err = %v, want ErrCorrupt: …%s", i, codecMem1, err, want)
		}
		// memstore reads a record RecordWithoutStacks does not claim as
		// a stored one: corrupt too.
		if _, err := DecodeRecord(old); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("record %d in version %#x: DecodeRecord: err = %v, want ErrCorrupt", i, codecMem1, err)
		}
	}
}

// checkWithoutStacks checks that b, r written without its stacks, decodes
// to r without its stacks, and its summary read without decoding it is
// r's.
func checkWithoutStacks(t *testing.T, name string, b []byte, r *recording.Record) {
	t.Helper()
	got, err := DecodeRecordWithoutStacks(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := *r
	want.Start = time.Unix(0, r.Start.UnixNano())
	want.Calls = slices.Clone(r.Calls)
	for i := range want.Calls {
		c := &want.Calls[i]
		c.Stack = nil
		if len(c.Attrs) == 0 {
			c.Attrs = nil
		}
		if len(c.Phases) == 0 {
			c.Phases = nil
		}
	}
	if len(want.Calls) == 0 {
		want.Calls = nil
	}
	if !reflect.DeepEqual(got, &want) {
		for i := range min(len(got.Calls), len(want.Calls)) {
			if !reflect.DeepEqual(got.Calls[i], want.Calls[i]) {
				t.Fatalf("%s, call %d decoded:\n%+v\nwant\n%+v", name, i, got.Calls[i], want.Calls[i])
			}
		}
		t.Fatalf("%s decoded:\n%+v\nwant\n%+v", name, got, &want)
	}
	sum, err := SummaryWithoutStacks(b)
	if err != nil {
		t.Fatalf("%s: summary: %v", name, err)
	}
	wantSum := r.Summary()
	wantSum.Start = want.Start
	if !reflect.DeepEqual(sum, wantSum) {
		t.Fatalf("%s: summary\n%+v\nwant\n%+v", name, sum, wantSum)
	}
}

// TestCallAttrsRandom: random records whose calls' attributes repeat the
// previous call's keys and values at the same index or not (the same
// strings, equal ones apart, other ones, empty ones, ones of 127 bytes
// and more, fewer or more of them, many, the very slice again, the last
// bytes of the call's request, short or long) decode, and
// their summaries read, to what they were; every truncation gives an
// error wrapping store.ErrCorrupt, and every byte flipped an error
// wrapping it or a record, never a panic.
func TestCallAttrsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	keys := []string{"http.request.method", "server.address", "server.port", "url.full", "http.response.status_code", "http.connection.reused", "db.system", ""}
	long := strings.Repeat("v", 126)
	values := []string{"", "GET", "127.0.0.1", "8080", "200", "true", long, long + "w", long + "wx"}
	pick := func(from []string) string {
		switch rng.IntN(6) {
		case 0:
			return fmt.Sprint("fresh ", rng.IntN(40)) // new memory each time
		case 1:
			return strings.Clone(from[rng.IntN(len(from))]) // equal bytes, other memory
		}
		return from[rng.IntN(len(from))]
	}
	at := time.Unix(1700000000, 0)
	for n := range 3000 {
		r := fanoutRecord(at, rng.IntN(12))
		var prev []recording.Attr
		for i := range r.Calls {
			c := &r.Calls[i]
			switch rng.IntN(8) {
			case 0: // the previous call's slice
				c.Attrs = prev
			case 1: // none
				c.Attrs = nil
			case 2: // the previous call's, one changed
				if len(prev) > 0 {
					c.Attrs = slices.Clone(prev)
					a := &c.Attrs[rng.IntN(len(prev))]
					if rng.IntN(2) == 0 {
						a.Key = pick(keys)
					} else {
						a.Value = pick(values)
					}
				}
			case 3: // fewer or more than the previous call's
				c.Attrs = slices.Clone(prev)
				if k := rng.IntN(len(prev) + 1); rng.IntN(2) == 0 {
					c.Attrs = c.Attrs[:k]
				} else {
					for range 1 + rng.IntN(3) {
						c.Attrs = append(c.Attrs, recording.Attr{Key: pick(keys), Value: pick(values)})
					}
				}
			case 4: // random
				c.Attrs = nil
				for range rng.IntN(8) {
					c.Attrs = append(c.Attrs, recording.Attr{Key: pick(keys), Value: pick(values)})
				}
			case 5: // many
				if rng.IntN(4) == 0 {
					c.Attrs = nil
					for range 30 + rng.IntN(8) {
						c.Attrs = append(c.Attrs, recording.Attr{Key: pick(keys), Value: pick(values)})
					}
				}
			}
			if len(c.Attrs) > 0 && rng.IntN(3) == 0 {
				// A value of the request's last bytes, in its memory (an
				// HTTP call's url.full), of a request short or long.
				if rng.IntN(4) == 0 {
					c.Request = fmt.Sprint("GET ", long, i)
				}
				c.Attrs = slices.Clone(c.Attrs)
				c.Attrs[rng.IntN(len(c.Attrs))].Value = c.Request[rng.IntN(len(c.Request)+1):]
			}
			if rng.IntN(10) == 0 {
				c.Event = true
			}
			prev = c.Attrs
		}
		checkRandomRecord(t, n, r, 100)
	}
}

// TestCallAttrsWritten: a call's attributes' keys equal to the previous
// call's at the same index, and values that are the same strings, are
// written as flags, two bits an attribute in one uvarint; flags naming an
// attribute of the previous call beyond its attributes, or beyond the
// call's, are corrupt.
func TestCallAttrsWritten(t *testing.T) {
	prev := []recording.Attr{{Key: "server.address", Value: "127.0.0.1"}, {Key: "url.full", Value: "http://127.0.0.1:1/a"}}
	attrs := []recording.Attr{{Key: "server.address", Value: strings.Clone("127.0.0.1")}, {Key: strings.Clone("url.full"), Value: "http://127.0.0.1:1/b"}, {Key: "k", Value: ""}}
	r := &recording.Record{Calls: []recording.Call{{Service: "s", Attrs: prev}, {Service: "s", Attrs: attrs}}}
	b := AppendRecordWithoutStacks(nil, r)
	checkWithoutStacks(t, "equal keys", b, r)
	// 3; the flags of the first two (the previous call has two): each
	// one's key the previous call's (01 01); the first's value (equal
	// bytes elsewhere) in full, its length doubled; the second's value;
	// the third in full.
	want := []byte{3, 0b0101, 9 << 1}
	want = append(want, "127.0.0.1"...)
	want = append(want, 20<<1)
	want = append(want, "http://127.0.0.1:1/b"...)
	want = append(want, 1, 'k', 0)
	if !bytes.Contains(b, want) {
		t.Fatalf("the second call's attributes % x not in % x", want, b)
	}
	// Two calls: the second's attributes the first's one and another.
	r = &recording.Record{Calls: []recording.Call{
		{Attrs: prev[:1]},
		{Attrs: prev},
	}}
	b = AppendRecordWithoutStacks(nil, r)
	checkWithoutStacks(t, "two calls", b, r)
	at := bytes.Index(b, []byte("\x08url.full\x28http://127.0.0.1:1/a"))
	if at < 2 || !bytes.Equal(b[at-2:at], []byte{2, attrSameKey | attrSameValue}) {
		t.Fatalf("the second call's attributes not found in % x", b)
	}
	for _, c := range []struct {
		name  string
		flags byte
	}{
		{"the previous call's second key, which it has not", 0b0111},
		{"the previous call's second value", 0b1011},
		{"a flag past the call's attributes", 0b110011},
	} {
		bad := slices.Clone(b)
		bad[at-1] = c.flags
		if _, err := DecodeRecordWithoutStacks(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", c.name, err)
		}
		if _, err := SummaryWithoutStacks(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s: summary: err = %v, want ErrCorrupt", c.name, err)
		}
	}
}

// TestAttrValueOfRequest: an attribute's value that is the last bytes of
// its call's request, in the request's memory (an HTTP call's url.full,
// sliced from its request "GET " + URL), is written as its offset in the
// request, not its bytes, and decodes to the request's bytes; equal
// bytes elsewhere, or the request's first bytes, are written in full; an
// offset at or past the request's end is corrupt.
func TestAttrValueOfRequest(t *testing.T) {
	req := "GET http://127.0.0.1:1/a"
	url := req[4:]
	r := &recording.Record{Calls: []recording.Call{
		{Request: req, Attrs: []recording.Attr{{Key: "url.full", Value: url}, {Key: "m", Value: req[:3]}}},
		{Request: strings.Clone(req), Attrs: []recording.Attr{{Key: "url.full", Value: strings.Clone(url)}}},
	}}
	b := AppendRecordWithoutStacks(nil, r)
	checkWithoutStacks(t, "url.full", b, r)
	if n := bytes.Count(b, []byte(url)); n != 3 {
		t.Errorf("the URL's bytes written %d times, want 3 (each request, the second url.full)", n)
	}
	// The first call's attributes: 2, no flags (no previous call), the
	// key, the offset 4 (9, odd), the second's key and value in full.
	at := bytes.Index(b, []byte("\x02\x08url.full\x09\x01m\x06GET"))
	if at < 0 {
		t.Fatalf("the first call's attributes not found in % x", b)
	}
	got, err := DecodeRecordWithoutStacks(b)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Calls[0].Attrs[0].Value; unsafe.StringData(v) != unsafe.StringData(got.Calls[0].Request[4:]) {
		t.Errorf("url.full decoded apart from the request")
	}
	for _, off := range []byte{byte(len(req)), byte(len(req)) + 1} {
		bad := slices.Clone(b)
		bad[at+10] = off<<1 | 1
		if _, err := DecodeRecordWithoutStacks(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("offset %d: err = %v, want ErrCorrupt", off, err)
		}
		if _, err := SummaryWithoutStacks(bad); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("offset %d: summary: err = %v, want ErrCorrupt", off, err)
		}
	}
}

// BenchmarkAppendRecordWithoutStacks: the memory version's encoder, for a
// fanout record (ten HTTP calls, see fanoutRecord), storetest.FullRecord
// and storetest.Record20.
func BenchmarkAppendRecordWithoutStacks(b *testing.B) {
	at := time.Unix(1700000000, 0)
	for _, c := range []struct {
		name string
		r    *recording.Record
	}{
		{"fanout", fanoutRecord(at, 10)},
		{"full", storetest.FullRecord(at, 1)},
		{"record20", storetest.Record20(at, 2)},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := AppendRecordWithoutStacks(nil, c.r)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = AppendRecordWithoutStacks(buf[:0], c.r)
			}
		})
	}
}

// TestPhaseNamesByPlace: a call whose phases are as many as the previous
// call's, each named by the same string at the same index (a wrapper's
// constants: fanoutRecord's calls), is written without the names, and
// decodes, and its record's summary reads, to what it was; phases named
// by equal strings elsewhere in memory, or fewer, or after a call without
// phases, are written with their names.
func TestPhaseNamesByPlace(t *testing.T) {
	r := fanoutRecord(time.Unix(1700000003, 0), 3)
	b := AppendRecordWithoutStacks(nil, r)
	checkWithoutStacks(t, "fanout", b, r)
	if n := bytes.Count(b, []byte("\x07connect")); n != 1 {
		t.Errorf("the name connect written %d times in a record of 3 calls, want once (the first call's)", n)
	}
	// The second call's mask says its phases' names are the first's;
	// a mask that says so without phases, or after a call of none, is
	// corrupt.
	at := maskOfSecond(r)
	if b[at]&(memPhases|memPhaseNames) != memPhases|memPhaseNames {
		t.Fatalf("the second call's mask %#x, want memPhases and memPhaseNames", b[at])
	}
	bad := slices.Clone(b)
	bad[at] &^= memPhases
	checkCorrupt(t, "names without phases", bad)
	first := fanoutRecord(time.Unix(1700000003, 0), 2)
	first.Calls[0].Phases = nil
	at = maskOfSecond(first)
	bad = AppendRecordWithoutStacks(nil, first)
	if bad[at]&(memPhases|memPhaseNames) != memPhases {
		t.Fatalf("after a call of no phases: mask %#x, want memPhases alone", bad[at])
	}
	bad[at] |= memPhaseNames
	checkCorrupt(t, "names after a call of none", bad)

	other := fanoutRecord(time.Unix(1700000004, 0), 4)
	other.Calls[1].Phases = []recording.Phase{{Name: strings.Clone("connect"), Start: 5, Duration: 6}, {Name: "wait", Start: 7, Duration: 8}}
	other.Calls[2].Phases = other.Calls[2].Phases[:1]
	other.Calls[3].Phases = nil
	other = &recording.Record{ID: other.ID, Start: other.Start, Duration: other.Duration, Calls: append(other.Calls, recording.Call{
		Service: "http", Method: "GET", Phases: []recording.Phase{{Name: "connect", Start: 9, Duration: 1}},
	})}
	b = AppendRecordWithoutStacks(nil, other)
	checkWithoutStacks(t, "apart", b, other)
	// call 0 in full; call 1's connect apart in memory; call 2 fewer;
	// call 4 after a call of no phases.
	if n := bytes.Count(b, []byte("\x07connect")); n != 4 {
		t.Errorf("the name connect written %d times, want 4", n)
	}
}

// maskOfSecond returns the offset of the mask of r's second call in r
// written in the memory version: where r with its first call alone ends
// but for the record's end.
func maskOfSecond(r *recording.Record) int {
	one := *r
	one.Calls = r.Calls[:1]
	return len(AppendRecordWithoutStacks(nil, &one)) - len(appendRecordEnd(nil, &one))
}

// checkCorrupt checks that b is corrupt to both readers of the memory
// version.
func checkCorrupt(t *testing.T, name string, b []byte) {
	t.Helper()
	if _, err := DecodeRecordWithoutStacks(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
	}
	if _, err := SummaryWithoutStacks(b); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("%s: summary: err = %v, want ErrCorrupt", name, err)
	}
}

// checkRandomRecord encodes the n-th random record r and reads it back
// (checkWithoutStacks); every 20th record's truncations too, and every
// flipEvery-th record's flipped bytes.
func checkRandomRecord(t *testing.T, n int, r *recording.Record, flipEvery int) {
	t.Helper()
	b := AppendRecordWithoutStacks(nil, r)
	name := fmt.Sprint("record ", n)
	checkWithoutStacks(t, name, b, r)
	if n%20 != 0 {
		return
	}
	checkTruncated(t, name, b)
	if n%flipEvery == 0 {
		checkFlipped(t, name, b)
	}
}

// checkTruncated checks that every strict prefix of the encoded record b
// fails to decode, and to summarize, with store.ErrCorrupt.
func checkTruncated(t *testing.T, name string, b []byte) {
	t.Helper()
	for k := range len(b) {
		if _, err := DecodeRecordWithoutStacks(b[:k]); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("%s cut at %d: err = %v, want ErrCorrupt", name, k, err)
		}
		if _, err := SummaryWithoutStacks(b[:k]); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("%s cut at %d: summary: err = %v, want ErrCorrupt", name, k, err)
		}
	}
}

// checkFlipped checks that b with any one byte flipped (by each of a few
// masks) decodes, and summarizes, without error or with store.ErrCorrupt,
// never another error or a panic.
func checkFlipped(t *testing.T, name string, b []byte) {
	t.Helper()
	flipped := slices.Clone(b)
	for k := range len(b) {
		for _, x := range []byte{0x01, 0x40, 0x80, 0xff} {
			flipped[k] = b[k] ^ x
			if _, err := DecodeRecordWithoutStacks(flipped); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("%s, byte %d ^ %#x: err = %v, want ErrCorrupt or none", name, k, x, err)
			}
			if _, err := SummaryWithoutStacks(flipped); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("%s, byte %d ^ %#x: summary: err = %v, want ErrCorrupt or none", name, k, x, err)
			}
		}
		flipped[k] = b[k]
	}
}
