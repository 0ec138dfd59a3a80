package codec

import (
	"errors"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// A record's summary for a store that keeps the record's bytes in memory
// (memstore) is read from two parts: the record's own head (its ID, trace
// ID, kind, start, duration, method, path, route, query, status, sizes,
// user, instance, overhead, error and panic, as [AppendRecord] and
// [AppendRecordWithoutStacks] write them), and what the summary adds to
// it, which [AppendSummaryRest] writes after the record: whether the
// record failed ([recording.Summary.HasError]) and its calls' cost, which
// [RecordOverall] reads without passing over the head's strings and
// headers nor the RPCs; then the calls' and errors' counts, the dropped
// calls, the warnings, and each RPC's stats with its calls' durations, as
// [AppendSummary] writes them. The head's fields are written once, where
// AppendSummary after AppendRecord wrote them twice (~500 instructions a
// record). The rest is never stored: its form can change with the code
// that reads it.

// The rest's first byte: whether the record failed.
const restFailed = 1

// AppendSummaryRest appends what r's summary adds to r's head (see
// above), and returns it with durs: the durations of r's calls appended,
// as [SummaryInto] gives them, and s set to r's summary (its RPCs' memory
// is s.RPCs'; a record without calls leaves s as it was).
func AppendSummaryRest(b []byte, r *recording.Record, s *recording.Summary, durs []time.Duration) ([]byte, []time.Duration) {
	var flags byte
	if r.HasError() {
		flags = restFailed
	}
	if len(r.Calls) == 0 {
		// No call nor RPC: the flags, the cost (0), four counts and the
		// RPCs' (0), without the summary.
		e := enc{b: append(b, flags, 0, 0, 0)}
		e.i(int64(r.DroppedCalls))
		e.i(int64(len(r.Warnings)))
		e.b = append(e.b, 0)
		return e.b, durs
	}
	n := len(durs)
	durs = SummaryInto(r, s, durs)
	var cost float64 // as RecordOverall summed it from the RPCs
	for i := range s.RPCs {
		cost += s.RPCs[i].Cost
	}
	e := enc{b: append(b, flags)}
	e.f(cost)
	e.i(int64(s.CallCount))
	e.i(int64(s.ErrorCalls))
	e.i(int64(s.DroppedCalls))
	e.i(int64(s.Warnings))
	e.n(len(s.RPCs))
	ds := durs[n:]
	for i := range s.RPCs {
		rpc := &s.RPCs[i]
		e.s(rpc.Service)
		e.s(rpc.Method)
		e.i(int64(rpc.Count))
		e.i(int64(rpc.Errors))
		e.d(rpc.Total)
		k := min(rpc.Count, len(ds))
		e.n(k)
		e.b = appendTimes(e.b, ds[:k]...)
		ds = ds[k:]
		e.f(rpc.Cost)
	}
	return e.b, durs
}

// ViewSummary sets s to the summary of the record whose bytes are rec (as
// [AppendRecord] or [AppendRecordWithoutStacks] wrote them) and rest (as
// [AppendSummaryRest] wrote it), and appends its calls' durations to
// *durs if durs is not nil (grouped by RPC, as [DecodeSummary] gives
// them). It allocates nothing but s.RPCs' growth: s's strings are rec's
// and rest's memory, and s.RPCs reuses its array (empty, not nil, for a
// record without RPCs, unless s.RPCs was nil). So s is only a view,
// valid while those bytes are not changed: a reader that keeps it gives it
// memory of its own ([OwnStrings]). Corrupt input gives an error wrapping
// store.ErrCorrupt, never a panic.
func ViewSummary(rec, rest []byte, s *recording.Summary, durs *[]time.Duration) error {
	rpcs := s.RPCs[:0]
	if err := viewHead(rec, s); err != nil {
		return err
	}
	var d dec
	d.view(rest)
	if !knownRestFlags(rest) {
		d.fail(errors.New("unknown flags"))
	}
	d.p = min(1, len(rest))
	d.f() // the cost, the RPCs' summed
	s.CallCount = d.int()
	s.ErrorCalls = d.int()
	s.DroppedCalls = d.int()
	s.Warnings = d.int()
	n := d.n(6)
	if cap(rpcs) < n {
		rpcs = make([]recording.RPCStat, n)
	}
	s.RPCs = rpcs[:n]
	clear(s.RPCs)
	for i := range s.RPCs {
		rpc := &s.RPCs[i]
		rpc.Service = d.s()
		rpc.Method = d.s()
		rpc.Count = d.int()
		rpc.Errors = d.int()
		rpc.Total = d.d()
		if d.n(1) != rpc.Count {
			d.fail(errors.New("call durations do not match the count"))
		}
		for range rpc.Count {
			if v := d.d(); durs != nil && d.err == nil {
				*durs = append(*durs, v)
			}
		}
		rpc.Cost = d.f()
	}
	if err := d.done("summary"); err != nil {
		s.RPCs = rpcs[:0]
		return err
	}
	return nil
}

// viewHead sets s to the summary of the record head in rec, its strings
// rec's memory, without RPCs (s.RPCs is left as it is): the fields
// summaryHead takes from a record, read as recordHead reads them, the
// others passed over.
func viewHead(rec []byte, s *recording.Summary) error {
	var d dec
	recHead(&d, rec)
	d.raw(s.ID[:])
	d.raw(s.TraceID[:])
	d.pass(2 * len(recording.SpanID{})) // SpanID, ParentSpanID
	s.Kind = recording.Kind(d.u())
	s.Start = time.Unix(0, d.i())
	s.Duration = d.d()
	s.Method = d.s()
	s.Path = d.s()
	s.Route = d.s()
	s.Query = d.s()
	s.Status = d.int()
	s.RequestBytes = d.i()
	s.ResponseBytes = d.i()
	s.User = d.s()
	d.headers()
	d.skip() // Remote
	s.Instance = d.s()
	s.Overhead = d.d()
	s.Error = d.s()
	s.Panic = d.s()
	s.CallCount, s.ErrorCalls, s.DroppedCalls, s.Warnings = 0, 0, 0, 0
	if d.err != nil {
		return d.done("record")
	}
	return nil
}

// recHead sets d to decode rec, a record's bytes (whole or without its
// stacks), its strings rec's memory, after its tag and version. (A
// function that returned the decoder would give it to the heap.)
func recHead(d *dec, rec []byte) {
	d.view(rec)
	if len(rec) < 2 || rec[0] != tagRecord || (!RecordWithoutStacks(rec) && (rec[1] < codecV1 || rec[1] > codecV4)) {
		d.fail(errors.New("not a record"))
	}
	d.p = min(2, len(rec))
}

// pass passes n bytes.
func (d *dec) pass(n int) {
	if len(d.b)-d.p < n {
		d.fail(errShort)
		return
	}
	d.p += n
}

// headers passes a record's headers, as recordHead does. A request's
// headers are mostly a few names of one short value each, whose counts
// and lengths take a byte: those are read here without binary.Uvarint
// (passing the headers took more than reading the rest of a head). Any
// other byte, or the end of the input, takes the general way from the
// start, which reports what is wrong.
func (d *dec) headers() {
	b, p := d.b, d.p
	if p < len(b) && b[p] < 0x80 {
		n := int(b[p])
		p++
		for ; n > 0 && p < len(b) && b[p] < 0x80; n-- {
			p += 1 + int(b[p]) // the name
			if p >= len(b) || b[p] >= 0x80 {
				break
			}
			m := int(b[p])
			p++
			for ; m > 0 && p < len(b) && b[p] < 0x80; m-- {
				p += 1 + int(b[p]) // a value
			}
			if m > 0 {
				break
			}
		}
		if n == 0 && p <= len(b) && d.err == nil {
			d.p = p
			return
		}
	}
	for n := d.n(2); n > 0 && d.err == nil; n-- {
		d.skip()
		for m := d.n(1); m > 0 && d.err == nil; m-- {
			d.skip()
		}
	}
}

// view sets d to decode b, its strings b's memory, not a copy.
func (d *dec) view(b []byte) {
	*d = dec{b: b, str: unsafe.String(unsafe.SliceData(b), len(b))}
}

// OwnStrings gives s's strings (its own and its RPCs' services and
// methods) memory of their own, one allocation for all, for a summary
// that [ViewSummary] read from rec and rest, which a reader keeps past
// those bytes. The bytes its strings lie in are copied at once, rec's
// from the first string to the last and rest whole, and the strings
// made the same places in the copy (copying each string on its own cost
// several times as much, for a summary of a few RPCs). s.RPCs' array is
// left as it is.
func OwnStrings(s *recording.Summary, rec, rest []byte) {
	head := [...]*string{&s.Method, &s.Path, &s.Route, &s.Query, &s.User, &s.Instance, &s.Error, &s.Panic}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(rec)))
	lo, hi := uintptr(len(rec)), uintptr(0) // the head's strings' bytes, in rec
	for _, f := range head {
		if len(*f) > 0 {
			at := uintptr(unsafe.Pointer(unsafe.StringData(*f))) - base
			lo, hi = min(lo, at), max(hi, at+uintptr(len(*f)))
		}
	}
	if hi < lo || hi > uintptr(len(rec)) {
		lo, hi = 0, 0
	}
	nrest := 0
	if len(s.RPCs) > 0 {
		nrest = len(rest)
	}
	if hi == lo && nrest == 0 {
		return
	}
	buf := make([]byte, int(hi-lo)+nrest)
	copy(buf, rec[lo:hi])
	copy(buf[hi-lo:], rest[:nrest])
	for _, f := range head {
		rebase(f, base+lo, buf[:hi-lo])
	}
	restBase := uintptr(unsafe.Pointer(unsafe.SliceData(rest)))
	for i := range s.RPCs {
		rebase(&s.RPCs[i].Service, restBase, buf[hi-lo:])
		rebase(&s.RPCs[i].Method, restBase, buf[hi-lo:])
	}
}

// rebase makes *v, which lies at base+k for some k, the string at k in
// buf; a string that does not lie within buf's length there (which
// ViewSummary never gives) is copied on its own.
func rebase(v *string, base uintptr, buf []byte) {
	n := len(*v)
	if n == 0 {
		return
	}
	k := uintptr(unsafe.Pointer(unsafe.StringData(*v))) - base
	if k >= uintptr(len(buf)) || uintptr(len(buf))-k < uintptr(n) {
		*v = string([]byte(*v))
		return
	}
	*v = unsafe.String(&buf[k], n)
}

// RecordOverall returns what the summary of the record of rec and rest
// (see [ViewSummary]) adds to a rollup's overall group, as [DecodeOverall]
// reads it from a summary's encoding, without allocating. It reads the
// record's head up to its duration and the rest's first fields only
// (whether the record failed, its cost and its calls): corrupt input
// there gives an error wrapping store.ErrCorrupt, never a panic; bytes
// after them are not checked (ViewSummary reads them all).
func RecordOverall(rec, rest []byte) (Overall, error) {
	var d dec
	recHead(&d, rec)
	d.pass(len(recording.ID{}) + len(recording.TraceID{}) + 2*len(recording.SpanID{}))
	d.u() // Kind
	d.i() // Start
	o := Overall{Duration: d.d()}
	if d.err != nil {
		return Overall{}, d.done("record")
	}
	d.view(rest)
	if !knownRestFlags(rest) {
		d.fail(errors.New("unknown flags"))
		return Overall{}, d.done("summary")
	}
	d.p = 1
	o.Failed = rest[0]&restFailed != 0
	o.Cost = d.f()
	o.Calls = d.int()
	if d.err != nil {
		return Overall{}, d.done("summary")
	}
	return o, nil
}

// RecordWithoutStacks reports whether rec, a record's bytes, was written
// without its calls' stacks ([AppendRecordWithoutStacks]): read by
// [DecodeRecordWithoutStacks], else by [DecodeRecord].
func RecordWithoutStacks(rec []byte) bool {
	return len(rec) >= 2 && rec[0] == tagRecord && rec[1] == codecMem
}

// knownRestFlags reports whether rest, the part of a summary
// AppendSummaryRest writes, starts with a flags byte holding no flag but
// restFailed.
func knownRestFlags(rest []byte) bool { return len(rest) > 0 && rest[0]&^restFailed == 0 }
