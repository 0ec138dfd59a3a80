package codec

import "github.com/goappstats/appstats/recording"

// appendRecordV2 appends r's encoding as version 2 records were written
// (before string tables), for tests of reading old values.
func appendRecordV2(b []byte, r *recording.Record) []byte {
	e := enc{b: append(b, tagRecord, codecV2)}
	e.raw(r.ID[:])
	e.raw(r.TraceID[:])
	e.raw(r.SpanID[:])
	e.raw(r.ParentSpanID[:])
	e.u(uint64(r.Kind))
	e.i(r.Start.UnixNano())
	e.d(r.Duration)
	e.s(r.Method)
	e.s(r.Path)
	e.s(r.Route)
	e.s(r.Query)
	e.i(int64(r.Status))
	e.i(r.RequestBytes)
	e.i(r.ResponseBytes)
	e.s(r.User)
	e.n(len(r.Headers))
	for k, vs := range r.Headers {
		e.s(k)
		e.n(len(vs))
		for _, v := range vs {
			e.s(v)
		}
	}
	e.s(r.Remote)
	e.s(r.Instance)
	e.d(r.Overhead)
	e.s(r.Error)
	e.s(r.Panic)
	e.n(len(r.Calls))
	var prev []recording.Frame
	lastFile := ""
	for i := range r.Calls {
		c := &r.Calls[i]
		e.s(c.Service)
		e.s(c.Method)
		e.d(c.Start)
		e.d(c.Duration)
		e.s(c.Error)
		e.i(c.RequestSize)
		e.i(c.ResponseSize)
		e.s(c.Request)
		e.s(c.Response)
		{
			shared := sharedFrames(c.Stack, prev)
			fresh := c.Stack[:len(c.Stack)-shared]
			e.n(shared)
			e.n(len(fresh))
			for _, f := range fresh {
				e.s(f.Function)
				if f.File == lastFile {
					e.u(0)
				} else {
					e.u(uint64(len(f.File)) + 1)
					e.b = append(e.b, f.File...)
					lastFile = f.File
				}
				e.i(int64(f.Line))
			}
			prev = c.Stack
		}
		e.n(len(c.Phases))
		for _, p := range c.Phases {
			e.s(p.Name)
			e.d(p.Start)
			e.d(p.Duration)
		}
		e.b = appendAttrs(e.b, c.Attrs)
		e.raw(c.SpanID[:])
		var flags uint64
		if c.Running {
			flags |= 1
		}
		if c.Event {
			flags |= 2
		}
		if c.ParentSpanID.IsValid() {
			flags |= 4 // the parent's span ID follows
		}
		e.u(flags)
		if flags&4 != 0 {
			e.raw(c.ParentSpanID[:])
		}
	}
	e.i(int64(r.DroppedCalls))
	e.n(len(r.Warnings))
	for _, w := range r.Warnings {
		e.s(w.Kind)
		e.s(w.Service)
		e.s(w.Method)
		e.s(w.Request)
		e.i(int64(w.Count))
		e.d(w.Total)
		e.s(w.Message)
	}
	e.b = appendAttrs(e.b, r.Attrs)
	var parts uint64
	if r.Cost() != 0 {
		parts |= recCallCosts
	}
	if r.ExecTrace != nil {
		parts |= recExecTrace
	}
	e.u(parts)
	if parts&recCallCosts != 0 {
		for i := range r.Calls {
			e.f(r.Calls[i].Cost)
		}
	}
	if t := r.ExecTrace; t != nil {
		e.i(max(t.Size, int64(len(t.Data))))
		e.i(t.Taken.UnixNano())
		e.s(t.Reason)
	}
	return e.b
}
