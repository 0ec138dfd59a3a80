package storekit

import (
	"cmp"
	"sort"
	"strings"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// Exact computes [store.Stats] exactly, by keeping every duration and
// sorting. Small stores (memstore) answer with it, and the conformance suite
// checks every store against it; large stores keep rollups with sketches
// instead.
type Exact struct {
	w        store.Window
	maxKeys  int
	requests int64
	errors   int64
	durs     []time.Duration
	rpcs     map[[2]string]*exactRPC
	routes   map[string]*exactReqs
	rr       map[[3]string]*exactRPC
	insts    map[string]*exactReqs
}

type exactRPC struct {
	s    store.RPCStats
	durs []time.Duration
}

// exactReqs aggregates requests: those of a route, or of an instance.
type exactReqs struct {
	requests, errors, calls int64
	total                   time.Duration
	cost                    float64
	durs                    []time.Duration
}

func (e *exactReqs) add(s *recording.Summary, failed bool) {
	e.requests++
	if failed {
		e.errors++
	}
	e.calls += int64(s.CallCount)
	e.total += s.Duration
	e.cost += s.Cost()
	e.durs = append(e.durs, s.Duration)
}

func (e *exactReqs) mean() time.Duration { return e.total / time.Duration(max(e.requests, 1)) }

// exactReqsOf returns m's entry for k, added if new (with a copy of k:
// see AddSummary).
func exactReqsOf(m map[string]*exactReqs, k string) *exactReqs {
	e := m[k]
	if e == nil {
		e = new(exactReqs)
		m[strings.Clone(k)] = e
	}
	return e
}

// NewExact starts aggregating for window w. Its lists keep at most maxKeys
// distinct keys each, as [store.DefaultMaxKeys] documents; maxKeys <= 0
// keeps them all.
func NewExact(w store.Window, maxKeys int) *Exact {
	return &Exact{
		w:       w,
		maxKeys: maxKeys,
		rpcs:    make(map[[2]string]*exactRPC),
		routes:  make(map[string]*exactReqs),
		rr:      make(map[[3]string]*exactRPC),
		insts:   make(map[string]*exactReqs),
	}
}

// AddRecord counts one record, with each call's own duration in the per-RPC
// percentiles.
func (a *Exact) AddRecord(r *recording.Record) {
	s := r.Summary()
	callDurs := make(map[[2]string][]time.Duration, len(s.RPCs))
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		k := [2]string{c.Service, c.Method}
		callDurs[k] = append(callDurs[k], c.Duration)
	}
	a.requests++
	failed := s.HasError()
	if failed {
		a.errors++
	}
	a.durs = append(a.durs, s.Duration)
	exactReqsOf(a.routes, s.Route).add(&s, failed)
	exactReqsOf(a.insts, s.Instance).add(&s, failed)
	for _, r := range s.RPCs {
		k := [2]string{r.Service, r.Method}
		for _, e := range []*exactRPC{
			exactRPCOf(a.rpcs, k, r),
			exactRPCOf(a.rr, [3]string{s.Route, r.Service, r.Method}, r),
		} {
			e.s.Count += int64(r.Count)
			e.s.Errors += int64(r.Errors)
			e.s.Requests++
			e.s.Total += r.Total
			e.s.Cost += r.Cost
			e.durs = append(e.durs, callDurs[k]...)
		}
	}
}

// exactRPCOf returns m's entry for k, made for r's service and method if new.
func exactRPCOf[K [2]string | [3]string](m map[K]*exactRPC, k K, r recording.RPCStat) *exactRPC {
	e := m[k]
	if e == nil {
		// Copies of the strings kept (see AddSummary): k's, and the
		// RPC's, which are among k's.
		for i := range len(k) {
			k[i] = strings.Clone(k[i])
		}
		n := len(k)
		e = &exactRPC{s: store.RPCStats{Service: k[n-2], Method: k[n-1]}}
		m[k] = e
	}
	return e
}

// AddSummary counts one record by its summary, as AddRecord counts the
// record: durs are its calls' durations, RPC by RPC in the order of
// s.RPCs, each RPC's Count of them (as codec.DecodeSummary gives them).
// The aggregate keeps neither s nor durs, nor any of s's strings: it
// copies those it keeps (routes, instances, services and methods, once
// each), so that s may be a view of a store's bytes, read for the call
// (codec.ViewSummary).
func (a *Exact) AddSummary(s *recording.Summary, durs []time.Duration) {
	a.requests++
	failed := s.HasError()
	if failed {
		a.errors++
	}
	a.durs = append(a.durs, s.Duration)
	exactReqsOf(a.routes, s.Route).add(s, failed)
	exactReqsOf(a.insts, s.Instance).add(s, failed)
	for _, r := range s.RPCs {
		n := min(max(r.Count, 0), len(durs))
		rd := durs[:n]
		durs = durs[n:]
		for _, e := range []*exactRPC{
			exactRPCOf(a.rpcs, [2]string{r.Service, r.Method}, r),
			exactRPCOf(a.rr, [3]string{s.Route, r.Service, r.Method}, r),
		} {
			e.s.Count += int64(r.Count)
			e.s.Errors += int64(r.Errors)
			e.s.Requests++
			e.s.Total += r.Total
			e.s.Cost += r.Cost
			e.durs = append(e.durs, rd...)
		}
	}
}

// Stats returns the aggregate, with each list folded to the maximum of
// keys.
func (a *Exact) Stats() *store.Stats {
	a.fold()
	st := &store.Stats{Window: a.w, Requests: a.requests, Errors: a.errors}
	for _, e := range a.rpcs {
		e.s.Mean = e.s.Total / time.Duration(max(e.s.Count, 1))
		e.s.Latency = exactLatency(e.durs)
		st.RPCs = append(st.RPCs, e.s)
	}
	for k, e := range a.routes {
		st.Routes = append(st.Routes, store.RouteStats{
			// Every record counted here is kept in full.
			Route: k, Requests: e.requests, Stored: e.requests, Errors: e.errors, Calls: e.calls,
			Total: e.total, Mean: e.mean(), Cost: e.cost, Latency: exactLatency(e.durs),
		})
	}
	for k, e := range a.insts {
		st.Instances = append(st.Instances, store.InstanceStats{
			Instance: k, Requests: e.requests, Errors: e.errors, Calls: e.calls,
			Total: e.total, Mean: e.mean(), Latency: exactLatency(e.durs),
		})
	}
	for k, e := range a.rr {
		e.s.Mean = e.s.Total / time.Duration(max(e.s.Count, 1))
		e.s.Latency = exactLatency(e.durs)
		st.RouteRPCs = append(st.RouteRPCs, store.RouteRPCStats{Route: k[0], RPCStats: e.s})
	}
	SortStats(st)
	st.Histogram = Histogram(a.durs)
	return st
}

func exactLatency(durs []time.Duration) store.Latency {
	if len(durs) == 0 {
		return store.Latency{}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	q := func(p float64) time.Duration {
		i := int(p*float64(len(durs))+0.999999) - 1
		return durs[max(0, min(i, len(durs)-1))]
	}
	return store.Latency{P50: q(0.50), P95: q(0.95), P99: q(0.99)}
}

// ExactSeries buckets summaries into steps across w, exactly (w.Until must be
// set, as [ResolveSeries] sets it).
func ExactSeries(w store.Window, step time.Duration, sums []*recording.Summary) []store.Bucket {
	pts := make([]Point, 0, len(sums))
	for _, s := range sums {
		if s.Start.Before(w.Since) || !s.Start.Before(w.Until) {
			continue
		}
		pts = append(pts, Point{Start: s.Start.UnixNano(), Duration: s.Duration, Failed: s.HasError(), Calls: s.CallCount})
	}
	return ExactSeriesOf(w, step, pts)
}

// A Point is what a time series counts of a record: its start (Unix
// nanoseconds), duration, whether it failed ([recording.Summary.HasError])
// and its calls.
type Point struct {
	Start    int64
	Duration time.Duration
	Failed   bool
	Calls    int
}

// ExactSeriesOf buckets points into steps across w, as [ExactSeries]
// buckets summaries.
func ExactSeriesOf(w store.Window, step time.Duration, pts []Point) []store.Bucket {
	since, until := w.Since.UnixNano(), w.Until.UnixNano()
	var out []store.Bucket
	for a := range Buckets(since, until, step) {
		out = append(out, store.Bucket{Start: time.Unix(0, a)})
	}
	durs := make([][]time.Duration, len(out))
	for _, p := range pts {
		if p.Start < since || p.Start >= until {
			continue
		}
		i := int(span(since, p.Start) / uint64(step))
		out[i].Requests++
		if p.Failed {
			out[i].Errors++
		}
		out[i].Calls += int64(p.Calls)
		durs[i] = append(durs[i], p.Duration)
	}
	for i := range out {
		out[i].Latency = exactLatency(durs[i])
	}
	return out
}

// fold folds each map to a.maxKeys entries and one [store.Other].
func (a *Exact) fold() {
	foldReqs(a.routes, a.maxKeys)
	foldReqs(a.insts, a.maxKeys)
	foldRPCs(a.rpcs, a.maxKeys, [2]string{store.Other, ""})
	foldRPCs(a.rr, a.maxKeys, [3]string{store.Other, store.Other, ""})
}

func foldReqs(m map[string]*exactReqs, n int) {
	Fold(m, n, store.Other,
		func(ka string, x *exactReqs, kb string, y *exactReqs) int {
			return cmp.Or(Rank(x.requests, x.total, y.requests, y.total), cmp.Compare(ka, kb))
		},
		func() *exactReqs { return new(exactReqs) },
		func(dst, src *exactReqs) {
			dst.requests += src.requests
			dst.errors += src.errors
			dst.calls += src.calls
			dst.total += src.total
			dst.cost += src.cost
			dst.durs = append(dst.durs, src.durs...)
		})
}

func foldRPCs[K [2]string | [3]string](m map[K]*exactRPC, n int, other K) {
	Fold(m, n, other,
		func(ka K, x *exactRPC, kb K, y *exactRPC) int {
			return cmp.Or(Rank(x.s.Count, x.s.Total, y.s.Count, y.s.Total), CompareKeys(ka, kb))
		},
		func() *exactRPC { return &exactRPC{s: store.RPCStats{Service: store.Other}} },
		func(dst, src *exactRPC) {
			dst.s.Count += src.s.Count
			dst.s.Errors += src.s.Errors
			dst.s.Requests += src.s.Requests
			dst.s.Total += src.s.Total
			dst.s.Cost += src.s.Cost
			dst.durs = append(dst.durs, src.durs...)
		})
}
