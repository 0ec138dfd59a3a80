package recording

import (
	"slices"
	"strconv"
	"time"
)

// Analyze looks for problems in a finished record and returns them as
// warnings:
//
//   - [WarnRepeated]: threshold or more calls with the same service, method
//     and request summary — the N+1 pattern, where one call in a loop could
//     have been one batched call;
//   - [WarnRunning]: calls still running when the request ended.
//
// A [Recorder] runs it on every record before the sinks see it, with its
// repeat threshold (default [DefaultRepeatThreshold]).
func Analyze(r *Record, threshold int) []Warning {
	var a analysis
	return a.analyze(nil, r, threshold)
}

// analysis is Analyze's working memory, kept from record to record by the
// recorder's writer goroutine (which alone uses it), so that analysing a
// record allocates nothing but the messages of its warnings.
type analysis struct {
	groups map[callKey]callGroup
	reps   []repeated
	buf    []byte
}

type callKey struct{ service, method, request string }

type callGroup struct {
	n     int
	total time.Duration
	first int
}

type repeated struct {
	k callKey
	g callGroup
}

// analyze appends r's warnings to dst.
func (a *analysis) analyze(dst []Warning, r *Record, threshold int) []Warning {
	if threshold <= 1 {
		threshold = DefaultRepeatThreshold
	}
	if len(r.Calls) == 0 {
		return dst
	}
	group := len(r.Calls) >= threshold
	if group {
		if a.groups == nil {
			a.groups = make(map[callKey]callGroup)
		}
		clear(a.groups)
	}
	var running int
	var runningTotal time.Duration
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		if c.Running {
			running++
			runningTotal += c.Duration
		}
		if !group {
			continue
		}
		k := callKey{c.Service, c.Method, c.Request}
		g, ok := a.groups[k]
		if !ok {
			g.first = i
		}
		g.n++
		g.total += c.Duration
		a.groups[k] = g
	}
	a.reps = a.reps[:0]
	for k, g := range a.groups {
		if g.n >= threshold {
			a.reps = append(a.reps, repeated{k, g})
		}
	}
	if group {
		clear(a.groups) // do not keep the record's strings alive
		// A map that grew for a record of many distinct calls is let go.
		if len(r.Calls) > 1024 {
			a.groups = nil
		}
	}
	// Report in order of first appearance, so the output is deterministic.
	slices.SortFunc(a.reps, func(x, y repeated) int { return x.g.first - y.g.first })
	for _, f := range a.reps {
		// "10 identical svc calls Method (1.2ms in all): an N+1 pattern? …"
		b := strconv.AppendInt(a.buf[:0], int64(f.g.n), 10)
		b = append(b, " identical "...)
		b = append(b, f.k.service...)
		b = append(b, " calls "...)
		b = append(b, f.k.method...)
		b = append(b, " ("...)
		b = append(b, f.g.total.Round(time.Microsecond).String()...)
		b = append(b, " in all): an N+1 pattern? batch them or run them once"...)
		a.buf = b
		dst = append(dst, Warning{
			Kind:    WarnRepeated,
			Service: f.k.service,
			Method:  f.k.method,
			Request: f.k.request,
			Count:   f.g.n,
			Total:   f.g.total,
			Message: string(b),
		})
	}
	clear(a.reps)
	if running > 0 {
		b := strconv.AppendInt(a.buf[:0], int64(running), 10)
		b = append(b, " call(s) still running when the request ended"...)
		a.buf = b
		dst = append(dst, Warning{
			Kind:    WarnRunning,
			Count:   running,
			Total:   runningTotal,
			Message: string(b),
		})
	}
	return dst
}
