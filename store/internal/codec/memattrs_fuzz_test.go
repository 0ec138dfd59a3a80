package codec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// FuzzMemCallAttrs builds records whose calls' attributes the fuzzer's ops
// draw beside the previous call's (its very slice, its keys and values at
// the same index or not, the same strings or equal bytes apart, fewer or
// more of them, past the 32 that have flags), with values that are the
// last bytes of the call's request in its memory (url.full), or of the
// previous call's request the call repeats, or other bytes of it, and
// requests empty, repeated or of the fuzzer's words. Each record written
// in the memory version decodes, and its summary reads, to what it was;
// each of its strict prefixes (of a long one, some) is corrupt
// (store.ErrCorrupt); and it with a byte of the fuzzer's xored into its
// last, middle or third byte reads as a record or ErrCorrupt, never a
// panic nor another error. (appendCallAttrs writing an empty value at the
// request's end as an offset, which the reader refuses, fails its seed in
// testdata, which fuzzing found within seconds.)
func FuzzMemCallAttrs(f *testing.F) {
	f.Add([]byte("GET /a|http://x/a|200|server.port"), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("url.full|GET http://127.0.0.1:1/item|true"), []byte{3, 3, 9, 1, 4, 7, 7, 7, 2, 0, 5, 200, 6, 33, 1, 1, 1})
	f.Add([]byte(""), []byte{5, 5, 5, 4, 4, 4, 255, 255, 128, 64})
	f.Fuzz(func(t *testing.T, words, ops []byte) {
		if len(words) > 512 || len(ops) > 256 {
			return
		}
		pool := strings.Split(string(words), "|")
		pool = append(pool, "", "url.full", "http.response.status_code", strings.Repeat("v", 130))
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			v := int(ops[0])
			ops = ops[1:]
			return v
		}
		word := func() string {
			w := pool[next()%len(pool)]
			if next()%2 == 0 {
				w = strings.Clone(w) // equal bytes, other memory
			}
			return w
		}
		r := fanoutRecord(time.Unix(1700000000, 0), 1+next()%12)
		var prev *recording.Call
		for i := range r.Calls {
			c := &r.Calls[i]
			switch op := next(); op % 8 {
			case 0: // the previous call's request, the very string
				if prev != nil {
					c.Request = prev.Request
				}
			case 1:
				c.Request = word()
			case 2:
				c.Request = ""
			}
			var pa []recording.Attr
			if prev != nil {
				pa = prev.Attrs
			}
			switch op := next(); op % 8 {
			case 0: // the previous call's slice
				c.Attrs = pa
			case 1:
				c.Attrs = nil
			case 2: // the previous call's, one key or value changed
				c.Attrs = append([]recording.Attr(nil), pa...)
				if len(c.Attrs) > 0 {
					a := &c.Attrs[next()%len(c.Attrs)]
					if next()%2 == 0 {
						a.Key = word()
					} else {
						a.Value = word()
					}
				}
			case 3: // fewer or more than the previous call's
				c.Attrs = append([]recording.Attr(nil), pa...)
				if k := next() % (len(pa) + 1); next()%2 == 0 {
					c.Attrs = c.Attrs[:k]
				} else {
					for range 1 + next()%3 {
						c.Attrs = append(c.Attrs, recording.Attr{Key: word(), Value: word()})
					}
				}
			case 4: // many: some past the 32 with flags
				c.Attrs = append([]recording.Attr(nil), pa...)
				for range 28 + next()%10 {
					c.Attrs = append(c.Attrs, recording.Attr{Key: word(), Value: word()})
				}
			case 5: // of the fuzzer's words
				c.Attrs = nil
				for range next() % 8 {
					c.Attrs = append(c.Attrs, recording.Attr{Key: word(), Value: word()})
				}
			}
			// Values in the request's memory: its last bytes (written as
			// an offset), or bytes that stop before its end (not).
			for range next() % 3 {
				if len(c.Attrs) == 0 {
					break
				}
				if !sharesAttrs(c, prev) {
					c.Attrs = append([]recording.Attr(nil), c.Attrs...)
				}
				a := &c.Attrs[next()%len(c.Attrs)]
				k := next() % (len(c.Request) + 1)
				if next()%4 == 0 && k < len(c.Request) {
					a.Value = c.Request[k : k+(len(c.Request)-k+1)/2]
				} else {
					a.Value = c.Request[k:]
				}
			}
			prev = c
		}
		b := AppendRecordWithoutStacks(nil, r)
		checkWithoutStacks(t, "record", b, r)
		// Every prefix of a short record; of a long one, 200 spread
		// over it and its last 100.
		step := max(len(b)/200, 1)
		for k := 0; k < len(b); k++ {
			if k%step != 0 && k < len(b)-100 {
				continue
			}
			if _, err := DecodeRecordWithoutStacks(b[:k]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("cut at %d of %d: err = %v, want ErrCorrupt", k, len(b), err)
			}
			if _, err := SummaryWithoutStacks(b[:k]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("cut at %d of %d: summary: err = %v, want ErrCorrupt", k, len(b), err)
			}
		}
		// A byte of the fuzzer's in place of the last, or in the middle:
		// a record or ErrCorrupt, nothing else.
		x := byte(next())
		for _, at := range []int{len(b) - 1, len(b) / 2, len(b) / 3} {
			bad := append([]byte(nil), b...)
			bad[at] ^= x | 1
			if _, err := DecodeRecordWithoutStacks(bad); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: err = %v, want ErrCorrupt or none", at, x|1, err)
			}
			if _, err := SummaryWithoutStacks(bad); err != nil && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: summary: err = %v, want ErrCorrupt or none", at, x|1, err)
			}
		}
	})
}

// sharesAttrs reports whether c's attributes are prev's very slice.
func sharesAttrs(c, prev *recording.Call) bool {
	return prev != nil && len(c.Attrs) > 0 && len(prev.Attrs) > 0 && &c.Attrs[0] == &prev.Attrs[0]
}
