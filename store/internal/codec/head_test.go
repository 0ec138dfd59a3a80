package codec

import (
	"bytes"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestRecordHeadIDsAsAppended checks that appendRecordHead writes a
// record's tag, version and four IDs as appending each one's bytes did,
// followed by the same rest, whether the bytes it appends to have room
// for them (written in place) or not (grown), after bytes of a record
// before it: the memory version's form, and version 3's (written to
// disk by badgerstore), are unchanged.
func TestRecordHeadIDsAsAppended(t *testing.T) {
	r := &recording.Record{
		ID:           recording.ID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		TraceID:      recording.TraceID{0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff},
		SpanID:       recording.SpanID{0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28},
		ParentSpanID: recording.SpanID{0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38},
		Kind:         recording.KindHTTP, Start: time.Unix(1700000000, 5), Duration: time.Millisecond,
		Method: "GET", Path: "/hello", Route: "GET /hello", Status: 200,
	}
	for _, v := range []byte{codecMem, codecV3} {
		// As the head was written before: each ID's bytes appended.
		e := enc{b: []byte{tagRecord, v}}
		e.raw(r.ID[:])
		e.raw(r.TraceID[:])
		e.raw(r.SpanID[:])
		e.raw(r.ParentSpanID[:])
		want := append(e.b, appendRecordHead(nil, v, r)[recordHeadIDs:]...)
		prefix := []byte("a record before")
		for _, room := range []int{0, 1, recordHeadIDs - 1, recordHeadIDs, 4096} {
			b := append(make([]byte, 0, len(prefix)+room), prefix...)
			got := appendRecordHead(b, v, r)
			if !bytes.Equal(got[:len(prefix)], prefix) {
				t.Errorf("version %#x, room %d: the bytes before were changed: %q", v, room, got[:len(prefix)])
			}
			if !bytes.Equal(got[len(prefix):], want) {
				t.Errorf("version %#x, room %d: head\n got %x\nwant %x", v, room, got[len(prefix):], want)
			}
		}
	}
}
