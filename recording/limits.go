package recording

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

// TruncatedMarker begins the note the recorder appends where it cut a string
// over its byte cap: "…[truncated 1234 bytes]". See [WithMaxSummary].
const TruncatedMarker = convention.TruncatedMarker

// HeaderTruncated is the pseudo-header under which a record notes the
// request header values it left out because all of them together were over
// [WithMaxHeaders]' total, e.g. "[3 values, 1048410 bytes not kept]". It is
// not a valid header name, so no request can send it.
const HeaderTruncated = "(truncated)"

// maxPhases is how many phases a call keeps; AddPhase ignores the rest.
const maxPhases = 32

// headerEntryCost is what a kept header value costs besides its name and
// its bytes: the two string headers of its pair. It bounds the number of
// values kept, however short.
const headerEntryCost = 32

// capString cuts *s to n bytes with convention.Truncate. The common case,
// a string under its cap, costs one comparison.
func capString(s *string, n int) {
	if len(*s) > n {
		*s = convention.Truncate(*s, n)
	}
}

// capRecord applies the byte caps to the fields of a finished record that
// its server wrapper set directly (the calls were capped as they were
// made). It runs on the request path and allocates only for what it cuts.
// The path and the query are capped later, by the writer, after their
// redaction (see capRedacted): a secret value cut in two would no longer
// look like one, and its kept part would be stored.
//
// It returns attrsSize of the capped attributes, for recordSizeWith: the
// pass over them that checks their caps sums their lengths too.
func (c *config) capRecord(r *Record) (attrBytes int64) {
	// The bitwise OR of lengths is at least the longest of them: when
	// it is within the cap, so is each; otherwise each is checked. (A
	// few strings under a cap that is no power of two may take the
	// checks with none over it: the same outcome, a little later.)
	if len(r.Method)|len(r.Route)|len(r.User)|len(r.Remote) > c.maxName {
		capString(&r.Method, c.maxName)
		capString(&r.Route, c.maxName)
		capString(&r.User, c.maxName)
		capString(&r.Remote, c.maxName)
	}
	if len(r.Error)|len(r.Panic) > c.maxText {
		capString(&r.Error, c.maxText)
		capString(&r.Panic, c.maxText)
	}
	// Mostly few attributes, all within their caps: checked and summed
	// here, in a loop that calls nothing and does not branch (the keys'
	// and the values' lengths ORed, checked after it as above), and the
	// record's slice left as it is; capAttrs (a call, and a store of the
	// slice) when one may be over a cap, or there are too many.
	attrs := r.Attrs
	if len(attrs) <= c.maxAttrs {
		n, keys, values := 0, 0, 0
		for i := range attrs {
			k, v := len(attrs[i].Key), len(attrs[i].Value)
			keys, values = keys|k, values|v
			n += k + v
		}
		if keys <= c.maxName && values <= c.maxAttrValue {
			attrBytes = sizeAttr*int64(len(attrs)) + int64(n)
		} else {
			r.Attrs, attrBytes = c.capAttrs(attrs)
		}
	} else {
		r.Attrs, attrBytes = c.capAttrs(attrs)
	}
	if r.Headers != nil && !c.headersFit(r.Headers) {
		r.hdrFlat, r.hdrFlatBytes = c.flatHeaders(r.hdrFlat[:0], r.Headers)
		r.hdrUA, r.hdrSame = 0, false
		r.Headers = nil
	}
	return attrBytes
}

// capRedacted caps the path and the query of a record once the writer
// has redacted them. Until then they are the request's own strings
// (counted whole in the queue's bytes).
func (c *config) capRedacted(r *Record) {
	capString(&r.Path, c.maxText)
	capString(&r.Query, c.maxText)
}

// capAttrs caps the keys and values of attrs in place and keeps at most
// c.maxAttrs of them; the ones left out are counted by a KeyDroppedAttrs
// attribute at the end. It returns the attributes and their attrsSize.
func (c *config) capAttrs(attrs []Attr) ([]Attr, int64) {
	if len(attrs) <= c.maxAttrs {
		// Mostly all of them, within their caps: one pass that only
		// reads, the caps in registers, and sums their lengths.
		maxKey, maxValue := c.maxName, c.maxAttrValue
		i, n := 0, 0
		for ; i < len(attrs); i++ {
			k, v := len(attrs[i].Key), len(attrs[i].Value)
			if k > maxKey || v > maxValue {
				break
			}
			n += k + v
		}
		if i == len(attrs) {
			return attrs, sizeAttr*int64(len(attrs)) + int64(n)
		}
	}
	dropped := 0
	if over := len(attrs) - c.maxAttrs; over > 0 {
		attrs = attrs[:c.maxAttrs:c.maxAttrs]
		dropped += over
	}
	for i := range attrs {
		capString(&attrs[i].Key, c.maxName)
		capString(&attrs[i].Value, c.maxAttrValue)
	}
	if dropped > 0 {
		attrs = append(attrs, droppedAttrs(dropped))
	}
	return attrs, attrsSize(attrs)
}

// droppedAttrs is the attribute that counts n attributes not kept.
func droppedAttrs(n int) Attr { return Attr{Key: convention.KeyDroppedAttrs, Value: strconv.Itoa(n)} }

// headersFit reports whether h is within the header caps as it is.
func (c *config) headersFit(h map[string][]string) bool {
	budget := c.maxHeaderBytes
	for k, vs := range h {
		if len(k) > c.maxName {
			return false
		}
		for _, v := range vs {
			if len(v) > c.maxHeaderValue {
				return false
			}
			budget -= len(k) + len(v) + headerEntryCost
			if budget < 0 {
				return false
			}
		}
	}
	return true
}

// flatHeaders returns h as name/value pairs within the header caps: names
// and values cut to their caps, and the values past the total left out and
// counted under HeaderTruncated, appended to dst, and recordSize's estimate
// of the pairs it appended (each string's header and bytes), so that
// neither recordSize nor the writer walks them to count it. It allocates
// at most one slice whose size is bounded by the caps (none when dst has
// room), and a copy of each value it cuts.
func (c *config) flatHeaders(dst []string, h map[string][]string) ([]string, int64) {
	flat := dst
	if cap(dst)-len(dst) < 2*len(h) {
		// No room for one value a name (a reused record has room, and a
		// name has one value mostly): make room for all, in one go.
		flat = slices.Grow(dst, 2*c.headerValues(h))
	}
	budget := c.maxHeaderBytes
	var leftValues, leftBytes int
	var size int64 // recordSize's count of the pairs appended
	for k, vs := range h {
		// Most names have one value, both within their caps: kept as
		// they are, with no cut to make.
		if len(vs) == 1 && len(k) <= c.maxName && len(vs[0]) <= c.maxHeaderValue && cap(flat)-len(flat) >= 2 {
			if cost := len(k) + len(vs[0]) + headerEntryCost; cost <= budget {
				budget -= cost
				size += int64(cost) // headerEntryCost is the pair's two string headers
				flat = append(flat, k, vs[0])
				continue
			}
		}
		kn := convention.TruncatedLen(len(k), c.maxName)
		name := ""
		// A name over its cap is secret or not by the whole of it: the
		// cut name the writer redacts by may have lost the word that
		// made it secret (X-…-Api-Key), so its values are hidden here.
		secret := len(k) > c.maxName && c.redaction.secretHeader(k)
		for _, v := range vs {
			cost := kn + convention.TruncatedLen(len(v), c.maxHeaderValue) + headerEntryCost
			if cost > budget {
				leftValues++
				leftBytes += len(k) + len(v)
				continue
			}
			budget -= cost
			if name == "" {
				name = convention.Truncate(k, c.maxName)
			}
			if cap(flat)-len(flat) < 2 {
				// More values than names, past the room dst had: room
				// for all of them, in one allocation.
				flat = slices.Grow(flat, 2*c.headerValues(h))
			}
			if secret {
				v = Redacted
			}
			v = convention.Truncate(v, c.maxHeaderValue)
			size += 2*sizeString + int64(len(name)+len(v))
			flat = append(flat, name, v)
		}
	}
	if leftValues > 0 {
		note := "[" + strconv.Itoa(leftValues) + " values, " + strconv.Itoa(leftBytes) + " bytes not kept]"
		size += 2*sizeString + int64(len(HeaderTruncated)+len(note))
		flat = append(flat, HeaderTruncated, note)
	}
	return flat, size
}

// headerValues returns how many header values flatHeaders may keep of h.
func (c *config) headerValues(h map[string][]string) int {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	return min(n, c.maxHeaderBytes/headerEntryCost)
}

// maxTraceState is the longest incoming tracestate a record keeps to pass
// on, the length W3C Trace Context asks every vendor to propagate.
const maxTraceState = 512

// capTraceState shortens a tracestate longer than maxTraceState as W3C
// Trace Context says to: whole list members are removed from the end, the
// ones over 128 bytes first. One that cannot be valid (over 32 members of at
// most 256 + 256 bytes) is dropped. The result is a copy, so that the record
// does not keep a huge header alive.
func capTraceState(s string) string {
	if len(s) <= maxTraceState {
		return s
	}
	const maxMembers, maxValid = 32, 32*(256+1+256) + 31
	if len(s) > maxValid {
		return ""
	}
	var members []string
	for m := range strings.SplitSeq(s, ",") {
		if m = strings.TrimSpace(m); m != "" {
			members = append(members, m)
		}
	}
	if len(members) > maxMembers {
		return ""
	}
	size := len(members) - 1 // the commas
	for _, m := range members {
		size += len(m)
	}
	for _, long := range []bool{true, false} {
		for i := len(members) - 1; i >= 0 && size > maxTraceState; i-- {
			if !long || len(members[i]) > 128 {
				size -= len(members[i]) + 1
				members = slices.Delete(members, i, i+1)
			}
		}
	}
	return strings.Join(members, ",")
}

// Sizes used to estimate the memory a queued record holds. A record is
// its Record (the ActiveRecord that made it is let go of when its request
// ends: TestRecordSizeCountsTheRecord).
const (
	sizeRecord    = int64(unsafe.Sizeof(Record{}))
	sizeCall      = int64(unsafe.Sizeof(Call{}))
	sizeString    = int64(unsafe.Sizeof(""))
	sizeAttr      = int64(unsafe.Sizeof(Attr{}))
	sizeFrame     = int64(unsafe.Sizeof(Frame{})) // the strings are the symbolizer's, shared
	sizePhase     = int64(unsafe.Sizeof(Phase{}))
	sizeWarning   = int64(unsafe.Sizeof(Warning{}))
	sizeExecTrace = int64(unsafe.Sizeof(ExecTrace{}))
)

// recordSize estimates the bytes r holds: its own struct and the memory its
// strings, calls, stacks, headers and attributes point to. A string shared
// with other records (the instance name, a symbolized function) is counted
// by each, which errs on the safe side.
func recordSize(r *Record) int64 { return recordSizeWith(r, attrsSize(r.Attrs)) }

// recordSizeWith is recordSize with attrBytes, attrsSize(r.Attrs), given:
// capRecord's pass over the attributes sums them (see enqueue).
func recordSizeWith(r *Record, attrBytes int64) int64 {
	n := recordSizeHead(r) + attrBytes
	if recordSizeDone(r) {
		return n
	}
	return n + recordSizeRest(r)
}

// recordSizeHead is recordSizeWith's count of a record's struct, texts
// and header pairs, small enough to be inlined (enqueue's own use of
// recordSizeWith, without its call).
func recordSizeHead(r *Record) int64 {
	return sizeRecord + int64(len(r.Method)+len(r.Path)+len(r.Route)+len(r.Query)+
		len(r.User)+len(r.Remote)+len(r.Error)+len(r.Panic)) + r.hdrFlatBytes
}

// recordSizeDone reports whether recordSizeHead and the attributes are
// all of r's size: a request's record mostly has none of the parts
// recordSizeRest counts (its headers are pairs yet, in hdrFlatBytes; no
// calls), told by one test of them together, without a test and a loop's
// start each.
func recordSizeDone(r *Record) bool {
	return len(r.Calls)|len(r.Warnings)|len(r.Headers) == 0 && r.ExecTrace == nil && r.hdrBytes <= 0
}

// recordSizeRest is recordSizeWith's count of a record's header map,
// calls, warnings and execution trace.
func recordSizeRest(r *Record) (n int64) {
	switch {
	case r.hdrBytes > 0:
		n += r.hdrBytes
	case len(r.Headers) > 0: // ranging over a nil map is not free: it starts an iterator
		for k, vs := range r.Headers {
			n += headerSize(k, vs)
		}
	}
	n += sizeCall * int64(len(r.Calls))
	for i := range r.Calls {
		c := &r.Calls[i]
		n += int64(len(c.Service) + len(c.Method) + len(c.Error) + len(c.Request) + len(c.Response) +
			int(c.npcs)*int(unsafe.Sizeof(uintptr(0))) + len(c.Stack)*int(sizeFrame) + len(c.Phases)*int(sizePhase))
		if len(c.Attrs) > 0 {
			n += attrsSize(c.Attrs)
		}
	}
	for i := range r.Warnings {
		w := &r.Warnings[i]
		n += sizeWarning + int64(len(w.Service)+len(w.Method)+len(w.Request)+len(w.Message))
	}
	if t := r.ExecTrace; t != nil {
		// Counted whole; the recorder counts a snapshot shared by several
		// records of a batch once (see Recorder.fitTraces).
		n += sizeExecTrace + int64(len(t.Data)+len(t.Reason))
	}
	return n
}

// headerSize is recordSize's estimate of a header's bytes.
func headerSize(k string, vs []string) int64 {
	n := 3*sizeString + int64(len(k))
	for _, v := range vs {
		n += sizeString + int64(len(v))
	}
	return n
}

func attrsSize(attrs []Attr) int64 {
	n := sizeAttr * int64(len(attrs))
	for _, a := range attrs {
		n += int64(len(a.Key) + len(a.Value))
	}
	return n
}
