package recording

import (
	"fmt"
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
	if threshold <= 1 {
		threshold = DefaultRepeatThreshold
	}
	type key struct{ service, method, request string }
	type agg struct {
		n     int
		total time.Duration
		first int
	}
	var out []Warning
	if len(r.Calls) == 0 {
		return nil
	}
	var groups map[key]*agg
	if len(r.Calls) >= threshold {
		groups = make(map[key]*agg)
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
		if groups == nil {
			continue
		}
		k := key{c.Service, c.Method, c.Request}
		g := groups[k]
		if g == nil {
			g = &agg{first: i}
			groups[k] = g
		}
		g.n++
		g.total += c.Duration
	}
	type found struct {
		k key
		g *agg
	}
	var reps []found
	for k, g := range groups {
		if g.n >= threshold {
			reps = append(reps, found{k, g})
		}
	}
	// Report in order of first appearance, so the output is deterministic.
	for i := 1; i < len(reps); i++ {
		for j := i; j > 0 && reps[j].g.first < reps[j-1].g.first; j-- {
			reps[j], reps[j-1] = reps[j-1], reps[j]
		}
	}
	for _, f := range reps {
		out = append(out, Warning{
			Kind:    WarnRepeated,
			Service: f.k.service,
			Method:  f.k.method,
			Request: f.k.request,
			Count:   f.g.n,
			Total:   f.g.total,
			Message: fmt.Sprintf("%d identical %s calls %s (%v in all): an N+1 pattern? batch them or run them once",
				f.g.n, f.k.service, f.k.method, f.g.total.Round(time.Microsecond)),
		})
	}
	if running > 0 {
		out = append(out, Warning{
			Kind:    WarnRunning,
			Count:   running,
			Total:   runningTotal,
			Message: fmt.Sprintf("%d call(s) still running when the request ended", running),
		})
	}
	return out
}
