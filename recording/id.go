package recording

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"
)

// ErrInvalidID is returned for a record ID, trace ID or span ID that is not
// well formed.
var ErrInvalidID = errors.New("recording: invalid id")

// An ID identifies a record. Its first 8 bytes are the record's start time in
// Unix nanoseconds (big-endian), so IDs sort by time as bytes and as strings;
// the last 8 are a per-process random prefix and a counter, so IDs made by
// different processes do not collide.
type ID [16]byte

// String returns the ID as 32 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// Time returns the time encoded in the ID.
func (id ID) Time() time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(id[:8]))) }

// MarshalText implements [encoding.TextMarshaler].
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses the form [ID.String] returns. A malformed s gives an error
// wrapping [ErrInvalidID].
func ParseID(s string) (ID, error) {
	var id ID
	if err := decodeHex(id[:], s); err != nil {
		return ID{}, fmt.Errorf("record id %q: %w", clip(s, 40), err)
	}
	return id, nil
}

func decodeHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return ErrInvalidID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ErrInvalidID
		}
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return ErrInvalidID
	}
	return nil
}

// A TraceID is a W3C trace ID.
type TraceID [16]byte

// String returns 32 lowercase hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// IsValid reports whether t is not all zeros.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// MarshalText implements [encoding.TextMarshaler].
func (t TraceID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ParseTraceID parses 32 lowercase hex digits.
func ParseTraceID(s string) (TraceID, error) {
	var t TraceID
	if err := decodeHex(t[:], s); err != nil {
		return TraceID{}, fmt.Errorf("trace id %q: %w", clip(s, 40), err)
	}
	return t, nil
}

// A SpanID is a W3C span (parent) ID.
type SpanID [8]byte

// String returns 16 lowercase hex digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// IsValid reports whether s is not all zeros.
func (s SpanID) IsValid() bool { return s != SpanID{} }

// MarshalText implements [encoding.TextMarshaler].
func (s SpanID) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSpanID parses 16 lowercase hex digits.
func ParseSpanID(s string) (SpanID, error) {
	var v SpanID
	if err := decodeHex(v[:], s); err != nil {
		return SpanID{}, fmt.Errorf("span id %q: %w", clip(s, 40), err)
	}
	return v, nil
}

// idSource makes record IDs for one Recorder, and the trace and span IDs
// of its records.
type idSource struct {
	prefix uint32
	n      atomic.Uint32
	// keys turn a record's random span ID into its trace ID (see
	// traceSpan).
	keys [2]uint64
}

func newIDSource() *idSource {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		binary.BigEndian.PutUint32(b[:], mrand.Uint32())
		binary.BigEndian.PutUint64(b[4:], mrand.Uint64())
		binary.BigEndian.PutUint64(b[12:], mrand.Uint64())
	}
	return &idSource{prefix: binary.BigEndian.Uint32(b[:]),
		keys: [2]uint64{binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])}}
}

// traceSpan sets a new record's span ID, random, and its trace ID: the
// caller's when it is valid, else one made from the same random draw —
// each half the draw under one of s's keys, through splitmix64's
// finalizer: one draw a record instead of three. The finalizer is a
// bijection, so two records of s share a trace ID only if they share a
// span ID (as likely as two random draws being equal); the halves are as
// evenly spread as random bits, for samplers that read them; and a
// record's trace ID tells nothing of another record's IDs (each record's
// draw is its own), only of its own span ID, which travels with it
// anyway. The IDs are written where trace and span point (the record's
// own fields): returned, the two arrays would pass through the stack. made
// reports whether the trace ID was made here (the caller's was not valid),
// for the caller to tell without comparing the caller's ID with zero again.
func (s *idSource) traceSpan(trace *TraceID, span *SpanID, caller *TraceID) (made bool) {
	for {
		r := mrand.Uint64()
		if r == 0 {
			continue
		}
		if caller.IsValid() {
			*trace = *caller
			made = false
		} else {
			hi, lo := mix64(r^s.keys[0]), mix64(r^s.keys[1])
			if hi|lo == 0 {
				continue
			}
			binary.BigEndian.PutUint64(trace[:8], hi)
			binary.BigEndian.PutUint64(trace[8:], lo)
			made = true
		}
		binary.BigEndian.PutUint64(span[:], r)
		return made
	}
}

// mix64 is splitmix64's finalizer: a bijection of uint64 whose outputs look
// random.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// next sets *id to a new record ID of start time t.
func (s *idSource) next(id *ID, t time.Time) {
	binary.BigEndian.PutUint64(id[:8], uint64(t.UnixNano()))
	binary.BigEndian.PutUint32(id[8:12], s.prefix)
	binary.BigEndian.PutUint32(id[12:], s.n.Add(1))
}

// NewTraceID returns a random, valid trace ID.
func NewTraceID() TraceID {
	var t TraceID
	for !t.IsValid() {
		binary.BigEndian.PutUint64(t[:8], mrand.Uint64())
		binary.BigEndian.PutUint64(t[8:], mrand.Uint64())
	}
	return t
}

// NewSpanID returns a random, valid span ID.
func NewSpanID() SpanID {
	var s SpanID
	for !s.IsValid() {
		binary.BigEndian.PutUint64(s[:], mrand.Uint64())
	}
	return s
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return s[:0]
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
