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
// it, which [AppendSummaryRest] writes after the record: the calls' and
// errors' counts, the dropped calls, the warnings, and each RPC's stats
// with its calls' durations, as [AppendSummary] writes them. The head's
// fields are written once, where AppendSummary after AppendRecord wrote
// them twice (~500 instructions a record). The rest is never stored: its
// form can change with the code that reads it.

// AppendSummaryRest appends what r's summary adds to r's head (see
// above), and returns it with durs: the durations of r's calls appended,
// as [SummaryInto] gives them, and s set to r's summary (its RPCs' memory
// is s.RPCs'; a record without calls leaves s as it was).
func AppendSummaryRest(b []byte, r *recording.Record, s *recording.Summary, durs []time.Duration) ([]byte, []time.Duration) {
	if len(r.Calls) == 0 {
		// No call nor RPC: four counts and the RPCs' (0), without the
		// summary.
		e := enc{b: append(b, 0, 0)}
		e.i(int64(r.DroppedCalls))
		e.i(int64(len(r.Warnings)))
		e.b = append(e.b, 0)
		return e.b, durs
	}
	n := len(durs)
	durs = SummaryInto(r, s, durs)
	e := enc{b: b}
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
	d := viewDec(rest)
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
// rec's memory, without RPCs.
func viewHead(rec []byte, s *recording.Summary) error {
	d := viewDec(rec)
	if len(rec) < 2 || rec[0] != tagRecord || (rec[1] != codecMem && (rec[1] < codecV1 || rec[1] > codecV4)) {
		d.fail(errors.New("not a record"))
	}
	d.p = min(2, len(rec))
	var r recording.Record
	d.recordHead(&r, false)
	*s = summaryHead(&r, nil)
	if d.err != nil {
		return d.done("record")
	}
	return nil
}

// viewDec returns a decoder of b whose strings are b's memory, not a copy.
func viewDec(b []byte) *dec {
	return &dec{b: b, str: unsafe.String(unsafe.SliceData(b), len(b))}
}

// OwnStrings gives s's strings (its own and its RPCs' services and
// methods) memory of their own, one allocation for all: for a summary
// that [ViewSummary] set, which a reader keeps past the bytes it was read
// from. s.RPCs' array is left as it is.
func OwnStrings(s *recording.Summary) {
	fields := [...]*string{&s.Method, &s.Path, &s.Route, &s.Query, &s.User, &s.Instance, &s.Error, &s.Panic}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	for i := range s.RPCs {
		n += len(s.RPCs[i].Service) + len(s.RPCs[i].Method)
	}
	if n == 0 {
		return
	}
	buf := make([]byte, 0, n)
	own := func(v *string) {
		if len(*v) == 0 {
			return
		}
		at := len(buf)
		buf = append(buf, *v...)
		*v = unsafe.String(&buf[at], len(*v))
	}
	for _, f := range fields {
		own(f)
	}
	for i := range s.RPCs {
		own(&s.RPCs[i].Service)
		own(&s.RPCs[i].Method)
	}
}

// RecordOverall returns what the summary of the record of rec and rest
// (see [ViewSummary]) adds to a rollup's overall group, as [DecodeOverall]
// reads it from a summary's encoding, without allocating.
func RecordOverall(rec, rest []byte) (Overall, error) {
	var s recording.Summary
	if err := viewHead(rec, &s); err != nil {
		return Overall{}, err
	}
	d := viewDec(rest)
	o := Overall{Duration: s.Duration, Failed: s.HasError(), Calls: d.int()}
	d.int() // ErrorCalls
	d.int() // DroppedCalls
	d.int() // Warnings
	for range d.n(6) {
		d.skip() // Service
		d.skip() // Method
		count := d.int()
		d.int() // Errors
		d.d()   // Total
		if d.n(1) != count {
			d.fail(errors.New("call durations do not match the count"))
		}
		for range count {
			d.d()
		}
		o.Cost += d.f()
	}
	if err := d.done("summary"); err != nil {
		return Overall{}, err
	}
	return o, nil
}

// RecordWithoutStacks reports whether rec, a record's bytes, was written
// without its calls' stacks ([AppendRecordWithoutStacks]): read by
// [DecodeRecordWithoutStacks], else by [DecodeRecord].
func RecordWithoutStacks(rec []byte) bool { return len(rec) >= 2 && rec[1] == codecMem }
