package recording

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/traceparent"
)

// A Carrier holds propagation fields: HTTP headers or gRPC metadata. It has
// the method set of OpenTelemetry's propagation.TextMapCarrier, so carriers
// written for one fit the other.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}

// HeaderCarrier adapts HTTP headers (or any map[string][]string with
// canonical keys) to a [Carrier].
type HeaderCarrier map[string][]string

// Get returns the first value of key.
func (h HeaderCarrier) Get(key string) string {
	vs := h[convention.CanonicalHeaderKey(key)]
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// Set replaces the values of key.
func (h HeaderCarrier) Set(key, value string) {
	h[convention.CanonicalHeaderKey(key)] = []string{value}
}

// Keys returns the keys present.
func (h HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// A TraceContext is the W3C trace context of a request or call.
type TraceContext struct {
	TraceID TraceID
	SpanID  SpanID // the parent's span when extracted; the call's span when injected
	Sampled bool
	// Random is the random-trace-id flag (0x02) of W3C Trace Context
	// Level 2: at least the right-most 7 bytes of TraceID are random. A
	// service that keeps its caller's trace ID passes it on as it came.
	Random bool
	State  string // tracestate, passed through
}

// IsValid reports whether both IDs are set.
func (tc TraceContext) IsValid() bool { return tc.TraceID.IsValid() && tc.SpanID.IsValid() }

// A Propagator moves trace context across process boundaries. Extract reads
// the caller's context from an incoming request (and may return a ctx that
// carries more, such as baggage); Inject writes tc into an outgoing request.
// Implementations must be safe for concurrent use.
type Propagator interface {
	Extract(ctx context.Context, carrier Carrier) (context.Context, TraceContext)
	Inject(ctx context.Context, tc TraceContext, carrier Carrier)
}

// A RootMarker is a [Propagator] that also marks the context of a record
// whose trace ID the recorder makes itself (no valid trace context came
// in): such an ID is random ([Record.RandomTraceID]), and instrumentation
// that starts root spans under the request may say so. The recorder calls
// MarkRoot, with the context it was given, when it starts such a record
// ([Recorder.StartRecord]) and builds the record's context on the one
// MarkRoot returns; requests it does not record are not marked. Package
// otelexport's propagator is one: it puts W3C Trace Context Level 2's
// random-trace-id flag where the OpenTelemetry SDK reads a root span's flags
// from. MarkRoot must be safe for concurrent use, and cheap: it runs on the
// request's path.
type RootMarker interface {
	Propagator
	MarkRoot(ctx context.Context) context.Context
}

// W3CPropagator is the W3C Trace Context [Propagator] (traceparent and
// tracestate headers); it is a [Recorder]'s default. It has no state: use
// the zero value, W3CPropagator{}. Package otelexport adapts any
// OpenTelemetry propagator, such as trace context plus baggage.
type W3CPropagator struct{}

var _ Propagator = W3CPropagator{}

// Extract parses traceparent ("00-<trace>-<span>-<flags>"). A malformed or
// all-zero header yields a zero TraceContext. A tracestate sent as several
// fields of a [HeaderCarrier] is their one combined list, as W3C Trace
// Context requires.
func (W3CPropagator) Extract(ctx context.Context, c Carrier) (context.Context, TraceContext) {
	var tp string
	h, isHeader := c.(HeaderCarrier)
	if isHeader {
		// A request's header map, the common carrier: indexed by the
		// canonical name, which is Get without its call and its
		// canonicalization (headerGet: in a small map, the slots in
		// use compared, without hashing the name); and a request
		// without the header (most, where nothing upstream traces) is
		// done with.
		if vs := headerGet(h, "Traceparent"); len(vs) > 0 {
			tp = vs[0]
		}
		if tp == "" {
			return ctx, TraceContext{}
		}
	} else {
		tp = c.Get("traceparent")
	}
	tc, ok := ParseTraceparent(tp)
	if !ok {
		return ctx, TraceContext{}
	}
	if isHeader {
		// Several tracestate fields are one list, in order (W3C Trace
		// Context, after RFC 7230's field order).
		tc.State = strings.Join(headerGet(h, "Tracestate"), ",") // one field: itself, no copy
	} else {
		tc.State = c.Get("tracestate")
	}
	return ctx, tc
}

// ExtractHeader is Extract for a request's header map, by address: it
// reports whether h carries a valid traceparent and, when it does, sets
// *tc to the TraceContext Extract(ctx, h) returns (tracestate's fields
// joined as one list); otherwise it leaves *tc as it was, where Extract
// returns a zero TraceContext. Extract returns ctx itself: a caller of
// ExtractHeader keeps its own. It saves a server the copies of a
// TraceContext returned by value and the Carrier interface. It does not
// keep tc.
func (W3CPropagator) ExtractHeader(h HeaderCarrier, tc *TraceContext) bool {
	// As Extract: the slots of a small map compared, and a request
	// without the header (most) done with.
	vs := headerGet(h, "Traceparent")
	if len(vs) == 0 || vs[0] == "" {
		return false
	}
	p, ok := ParseTraceparent(vs[0])
	if !ok {
		return false
	}
	p.State = strings.Join(headerGet(h, "Tracestate"), ",")
	*tc = p
	return true
}

// Inject writes traceparent (and tracestate when set).
func (W3CPropagator) Inject(_ context.Context, tc TraceContext, c Carrier) {
	if !tc.IsValid() {
		return
	}
	c.Set("traceparent", FormatTraceparent(tc))
	if tc.State != "" {
		c.Set("tracestate", tc.State)
	}
}

// ParseTraceparent parses a W3C traceparent header value.
func ParseTraceparent(s string) (TraceContext, bool) {
	s = strings.TrimSpace(s)
	// version(2)-trace(32)-span(16)-flags(2); future versions may append fields.
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return TraceContext{}, false
	}
	if s[:2] == "ff" || (s[:2] == "00" && len(s) != 55) {
		return TraceContext{}, false
	}
	var ver [1]byte
	if decodeHex(ver[:], s[:2]) != nil {
		return TraceContext{}, false
	}
	var tc TraceContext
	var flags [1]byte
	if decodeHex(tc.TraceID[:], s[3:35]) != nil || decodeHex(tc.SpanID[:], s[36:52]) != nil ||
		decodeHex(flags[:], s[53:55]) != nil || !tc.IsValid() {
		return TraceContext{}, false
	}
	// The flags this version defines; the others are reserved, and sent
	// as zero (W3C Trace Context: "Vendors MUST set those to zero").
	tc.Sampled, tc.Random = flags[0]&1 != 0, flags[0]&2 != 0
	return tc, true
}

// FormatTraceparent formats tc as a version-00 traceparent value.
func FormatTraceparent(tc TraceContext) string {
	var b [TraceparentLen]byte
	return string(AppendTraceparent(b[:0], tc))
}

// TraceparentLen is the length of a version-00 traceparent value.
const TraceparentLen = 55

// AppendTraceparent appends tc, formatted as a version-00 traceparent
// value, to dst and returns the extended buffer, as [FormatTraceparent]
// formats it: a caller that holds a buffer of [TraceparentLen] bytes
// formats without an allocation.
func AppendTraceparent(dst []byte, tc TraceContext) []byte {
	n := len(dst)
	dst = slices.Grow(dst, TraceparentLen)[:n+TraceparentLen]
	b := (*[TraceparentLen]byte)(dst[n:])
	b[0], b[1], b[2] = '0', '0', '-'
	// The trace ID's hex digits, eight (four of its bytes) at a time; the
	// span ID's and the flags' as httpstats rewrites them in place.
	t0, t1 := binary.BigEndian.Uint64(tc.TraceID[:8]), binary.BigEndian.Uint64(tc.TraceID[8:])
	binary.BigEndian.PutUint64(b[3:11], traceparent.Digits(uint32(t0>>32)))
	binary.BigEndian.PutUint64(b[11:19], traceparent.Digits(uint32(t0)))
	binary.BigEndian.PutUint64(b[19:27], traceparent.Digits(uint32(t1>>32)))
	binary.BigEndian.PutUint64(b[27:35], traceparent.Digits(uint32(t1)))
	b[35], b[52], b[53] = '-', '-', '0'
	traceparent.SpanInto(b, tc.SpanID, tc.Sampled, tc.Random)
	return dst
}
