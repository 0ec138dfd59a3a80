package codec

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestSharedFrames: sharedFrames counts the outer frames two stacks have
// equal, whether their strings share their memory or not, and stops at
// the first frame that differs in any one field.
func TestSharedFrames(t *testing.T) {
	frame := func(i int) recording.Frame {
		return recording.Frame{Function: "pkg.f" + strings.Repeat("x", i), File: "/src/pkg/f.go", Line: 10 + i}
	}
	base := make([]recording.Frame, 12)
	for i := range base {
		base[i] = frame(i)
	}
	// copies returns base's frames, their strings in memory of their own.
	copies := func() []recording.Frame {
		c := make([]recording.Frame, len(base))
		for i, f := range base {
			c[i] = recording.Frame{Function: strings.Clone(f.Function), File: strings.Clone(f.File), Line: f.Line}
		}
		return c
	}
	for _, own := range []bool{false, true} {
		for at := range base {
			for field := range 5 {
				s := append([]recording.Frame(nil), base...)
				if own {
					s = copies()
				}
				f := &s[at]
				switch field {
				case 0:
					f.Line++
				case 1: // the same length, another function
					f.Function = f.Function[:len(f.Function)-1] + "y"
				case 2: // the same file, a byte shorter
					f.File = f.File[:len(f.File)-1]
				case 3:
					f.File = "/src/pkg/g.go"
				case 4: // equal strings elsewhere in memory
					f.Function = strings.Clone(f.Function)
				}
				want := len(base) - 1 - at
				if field == 4 {
					want = len(base)
				}
				if got := sharedFrames(s, base); got != want {
					t.Errorf("own strings %v, frame %d, change %d: %d frames shared, want %d", own, at, field, got, want)
				}
				// A longer and a shorter stack share the outer frames.
				if got := sharedFrames(append([]recording.Frame{frame(20)}, s...), base); got != want {
					t.Errorf("own strings %v, frame %d, change %d, longer: %d frames shared, want %d", own, at, field, got, want)
				}
				if got := sharedFrames(s[1:], base); got != min(want, len(base)-1) {
					t.Errorf("own strings %v, frame %d, change %d, shorter: %d frames shared, want %d", own, at, field, got, min(want, len(base)-1))
				}
			}
		}
	}
	if got := sharedFrames(base, base); got != len(base) {
		t.Errorf("one stack: %d frames shared, want %d", got, len(base))
	}
	if got := sharedFrames(nil, base); got != 0 {
		t.Errorf("no stack: %d frames shared", got)
	}
}

// TestEncodingEqualStringsApart: a call's string equal to the previous
// call's in the same field, in memory of its own, is written as the
// previous one was (its index), as when both share their memory.
func TestEncodingEqualStringsApart(t *testing.T) {
	shared := storetest.Record20(time.Unix(1700000000, 0), 1)
	apart := storetest.Record20(time.Unix(1700000000, 0), 1)
	shared.Headers, apart.Headers = nil, nil // map order is random
	for i := range apart.Calls {
		c := &apart.Calls[i]
		c.Method, c.Response = strings.Clone(c.Method), strings.Clone(c.Response)
		c.Attrs = []recording.Attr{{Key: strings.Clone(c.Attrs[0].Key), Value: strings.Clone(c.Attrs[0].Value)}}
	}
	a, b := AppendRecord(nil, shared), AppendRecord(nil, apart)
	if !bytes.Equal(a, b) {
		t.Fatalf("strings apart: %d bytes, where strings shared take %d", len(b), len(a))
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got.Calls {
		g, w := &got.Calls[i], &apart.Calls[i]
		if g.Method != w.Method || g.Response != w.Response || !slices.Equal(g.Attrs, w.Attrs) {
			t.Fatalf("call %d: %q %q %v, want %q %q %v", i, g.Method, g.Response, g.Attrs, w.Method, w.Response, w.Attrs)
		}
	}
}

// TestEncVarints: enc writes the bytes of binary.AppendUvarint and
// binary.AppendVarint, and appendTime and appendTimes (one value, and
// several after another) those of binary.AppendVarint, around the one-
// to four-byte cases they write themselves, negative values too; and
// appendStart (a start and a duration) those of two AppendVarints,
// around its nine-byte case and at starts from 1970 to 2262.
func TestEncVarints(t *testing.T) {
	vals := []uint64{0, 1, 0x7f, 0x80, 0x81, 0x3fff, 0x4000, 0x4001, 1 << 20, 1<<63 - 1, 1 << 63, ^uint64(0)}
	for v := uint64(0); v < 0x10000; v += 7 {
		vals = append(vals, v)
	}
	for _, b := range []uint{21, 28, 35} { // around the three- and four-byte ends
		for d := uint64(0); d < 300; d++ {
			vals = append(vals, 1<<b-150+d)
		}
	}
	for v := uint64(0x10000); v < 1<<30; v = v*5/4 + 3 {
		vals = append(vals, v)
	}
	// Around appendStart's nine-byte case (zig-zagged: 2^55 to 2^62 and
	// their negatives), and starts of records: 1970, 2026, 2116, 2262.
	for _, b := range []uint{55, 62, 63} {
		for d := uint64(0); d < 300; d++ {
			vals = append(vals, 1<<b-150+d, -(1<<b - 150 + d))
		}
	}
	for _, at := range []time.Time{time.Unix(0, 1), time.Date(2026, 12, 5, 12, 0, 0, 123456789, time.UTC), time.Date(2116, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)} {
		vals = append(vals, uint64(at.UnixNano()), uint64(-at.UnixNano()))
	}
	for v := uint64(1 << 30); v < 1<<62; v = v*3/2 + 11 {
		vals = append(vals, v, -v)
	}
	for _, v := range vals {
		var e enc
		e.u(v)
		if want := binary.AppendUvarint(nil, v); !bytes.Equal(e.b, want) {
			t.Errorf("u(%#x) = %x, want %x", v, e.b, want)
		}
		e = enc{}
		e.i(int64(v))
		want := binary.AppendVarint(nil, int64(v))
		if !bytes.Equal(e.b, want) {
			t.Errorf("i(%d) = %x, want %x", int64(v), e.b, want)
		}
		if got := appendTime([]byte{9}, time.Duration(v)); !bytes.Equal(got[1:], want) || got[0] != 9 {
			t.Errorf("appendTime(%d) = %x, want 09%x", int64(v), got, want)
		}
		if got := appendTimes([]byte{9}, time.Duration(v)); !bytes.Equal(got[1:], want) || got[0] != 9 {
			t.Errorf("appendTimes(%d) = %x, want 09%x", int64(v), got, want)
		}
		// A record head's start and duration: each as alone.
		want = binary.AppendVarint(binary.AppendVarint([]byte{9}, int64(v)), int64(v/3))
		if got := appendStart([]byte{9}, int64(v), time.Duration(v/3)); !bytes.Equal(got, want) {
			t.Errorf("appendStart(%d, %d) = %x, want %x", int64(v), int64(v/3), got, want)
		}
		// Several at once: each as alone.
		ds := []time.Duration{time.Duration(v), -time.Duration(v), 0, time.Duration(v / 3)}
		want = []byte{9}
		for _, d := range ds {
			want = binary.AppendVarint(want, int64(d))
		}
		if got := appendTimes([]byte{9}, ds...); !bytes.Equal(got, want) {
			t.Errorf("appendTimes(%d) = %x, want %x", ds, got, want)
		}
	}
}
