package store

import (
	"sort"
	"time"

	"github.com/goappstats/appstats/recording"
)

// HistogramBounds are the upper bounds of [Stats.Histogram]'s buckets; a last
// bucket with Le = 0 counts everything slower.
var HistogramBounds = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
}

// Matches reports whether a summary satisfies q's filters (not its paging).
func (q *Query) Matches(s *recording.Summary) bool {
	if !q.Since.IsZero() && s.Start.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !s.Start.Before(q.Until) {
		return false
	}
	if q.Route != "" && s.Route != q.Route {
		return false
	}
	if q.Method != "" && s.Method != q.Method {
		return false
	}
	if q.Status != 0 && s.Status != q.Status {
		return false
	}
	if q.StatusClass != 0 && s.Status/100 != q.StatusClass {
		return false
	}
	if q.MinDuration > 0 && s.Duration < q.MinDuration {
		return false
	}
	if q.ErrorsOnly && !s.HasError() {
		return false
	}
	if q.WarningsOnly && s.Warnings == 0 {
		return false
	}
	return true
}

// Validate checks a query's ranges and returns the effective page size.
func (q *Query) Validate() (limit int, err error) {
	if q.Limit < 0 {
		return 0, wrapQuery("negative limit")
	}
	if q.MinDuration < 0 {
		return 0, wrapQuery("negative minimum duration")
	}
	if q.StatusClass < 0 || q.StatusClass > 5 {
		return 0, wrapQuery("status class must be 1 to 5")
	}
	if q.Status < 0 || q.Status > 999 {
		return 0, wrapQuery("status out of range")
	}
	limit = q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	return min(limit, MaxLimit), nil
}

type queryError string

func (e queryError) Error() string { return "invalid query: " + string(e) }
func (e queryError) Unwrap() error { return ErrInvalidQuery }

func wrapQuery(msg string) error { return queryError(msg) }

// ExactAggregator computes [Stats] and [Bucket]s exactly from summaries, by
// keeping every duration and sorting. Small stores (memstore) use it; large
// ones keep rollups with sketches instead.
type ExactAggregator struct {
	w        Window
	requests int64
	errors   int64
	durs     []time.Duration
	rpcs     map[[2]string]*exactRPC
	routes   map[string]*exactRoute
	rr       map[[3]string]*exactRPC
}

type exactRPC struct {
	s    RPCStats
	durs []time.Duration
}

type exactRoute struct {
	s    RouteStats
	durs []time.Duration
}

// NewExactAggregator starts aggregating for window w.
func NewExactAggregator(w Window) *ExactAggregator {
	return &ExactAggregator{
		w:      w,
		rpcs:   make(map[[2]string]*exactRPC),
		routes: make(map[string]*exactRoute),
		rr:     make(map[[3]string]*exactRPC),
	}
}

// Add counts one record's summary. Per-call percentiles use each RPC's mean
// duration within the record, since summaries carry no per-call durations;
// [ExactAggregator.AddRecord] uses each call's own duration.
func (a *ExactAggregator) Add(s *recording.Summary) {
	a.add(s, nil)
}

// AddRecord counts one record, with each call's own duration in the per-RPC
// percentiles.
func (a *ExactAggregator) AddRecord(r *recording.Record) {
	s := r.Summary()
	durs := make(map[[2]string][]time.Duration, len(s.RPCs))
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		k := [2]string{c.Service, c.Method}
		durs[k] = append(durs[k], c.Duration)
	}
	a.add(&s, durs)
}

func (a *ExactAggregator) add(s *recording.Summary, callDurs map[[2]string][]time.Duration) {
	a.requests++
	failed := s.HasError()
	if failed {
		a.errors++
	}
	a.durs = append(a.durs, s.Duration)
	rt := a.routes[s.Route]
	if rt == nil {
		rt = &exactRoute{s: RouteStats{Route: s.Route}}
		a.routes[s.Route] = rt
	}
	rt.s.Requests++
	if failed {
		rt.s.Errors++
	}
	rt.s.Calls += int64(s.CallCount)
	rt.s.Total += s.Duration
	rt.durs = append(rt.durs, s.Duration)
	for _, r := range s.RPCs {
		k := [2]string{r.Service, r.Method}
		addRPC := func(e *exactRPC) {
			e.s.Count += int64(r.Count)
			e.s.Errors += int64(r.Errors)
			e.s.Requests++
			e.s.Total += r.Total
			if d, ok := callDurs[k]; ok {
				e.durs = append(e.durs, d...)
				return
			}
			mean := r.Total / time.Duration(max(r.Count, 1))
			for range r.Count {
				e.durs = append(e.durs, mean)
			}
		}
		e := a.rpcs[k]
		if e == nil {
			e = &exactRPC{s: RPCStats{Service: r.Service, Method: r.Method}}
			a.rpcs[k] = e
		}
		addRPC(e)
		k3 := [3]string{s.Route, r.Service, r.Method}
		e3 := a.rr[k3]
		if e3 == nil {
			e3 = &exactRPC{s: RPCStats{Service: r.Service, Method: r.Method}}
			a.rr[k3] = e3
		}
		addRPC(e3)
	}
}

// Stats returns the aggregate.
func (a *ExactAggregator) Stats() *Stats {
	st := &Stats{Window: a.w, Requests: a.requests, Errors: a.errors}
	for _, e := range a.rpcs {
		e.s.Mean = e.s.Total / time.Duration(max(e.s.Count, 1))
		e.s.Latency = exactLatency(e.durs)
		st.RPCs = append(st.RPCs, e.s)
	}
	for _, e := range a.routes {
		e.s.Mean = e.s.Total / time.Duration(max(e.s.Requests, 1))
		e.s.Latency = exactLatency(e.durs)
		st.Routes = append(st.Routes, e.s)
	}
	for k, e := range a.rr {
		e.s.Mean = e.s.Total / time.Duration(max(e.s.Count, 1))
		e.s.Latency = exactLatency(e.durs)
		st.RouteRPCs = append(st.RouteRPCs, RouteRPCStats{Route: k[0], RPCStats: e.s})
	}
	st.Sort()
	st.Histogram = Histogram(a.durs)
	return st
}

// Sort orders the lists of s as [Stats] documents: by Total, largest first,
// then by name.
func (st *Stats) Sort() {
	sort.Slice(st.RPCs, func(i, j int) bool {
		return st.RPCs[i].Total > st.RPCs[j].Total ||
			st.RPCs[i].Total == st.RPCs[j].Total && st.RPCs[i].Service+st.RPCs[i].Method < st.RPCs[j].Service+st.RPCs[j].Method
	})
	sort.Slice(st.Routes, func(i, j int) bool {
		return st.Routes[i].Total > st.Routes[j].Total ||
			st.Routes[i].Total == st.Routes[j].Total && st.Routes[i].Route < st.Routes[j].Route
	})
	sort.Slice(st.RouteRPCs, func(i, j int) bool {
		a, b := st.RouteRPCs[i], st.RouteRPCs[j]
		return a.Total > b.Total || a.Total == b.Total && a.Route+a.Service+a.Method < b.Route+b.Service+b.Method
	})
}

// Histogram counts durations into [HistogramBounds] buckets.
func Histogram(durs []time.Duration) []HistogramBucket {
	h := make([]HistogramBucket, len(HistogramBounds)+1)
	for i, b := range HistogramBounds {
		h[i].Le = b
	}
	for _, d := range durs {
		i := sort.Search(len(HistogramBounds), func(i int) bool { return d <= HistogramBounds[i] })
		h[i].Count++
	}
	return h
}

func exactLatency(durs []time.Duration) Latency {
	if len(durs) == 0 {
		return Latency{}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	q := func(p float64) time.Duration {
		i := int(p*float64(len(durs))+0.999999) - 1
		return durs[max(0, min(i, len(durs)-1))]
	}
	return Latency{P50: q(0.50), P95: q(0.95), P99: q(0.99)}
}

// ExactSeries buckets summaries into steps across w (w.Until must be set).
func ExactSeries(w Window, step time.Duration, sums []*recording.Summary) []Bucket {
	n := int(w.Until.Sub(w.Since) / step)
	if w.Until.Sub(w.Since)%step != 0 {
		n++
	}
	out := make([]Bucket, n)
	durs := make([][]time.Duration, n)
	for i := range out {
		out[i].Start = w.Since.Add(time.Duration(i) * step)
	}
	for _, s := range sums {
		if s.Start.Before(w.Since) || !s.Start.Before(w.Until) {
			continue
		}
		i := int(s.Start.Sub(w.Since) / step)
		out[i].Requests++
		if s.HasError() {
			out[i].Errors++
		}
		out[i].Calls += int64(s.CallCount)
		durs[i] = append(durs[i], s.Duration)
	}
	for i := range out {
		out[i].Latency = exactLatency(durs[i])
	}
	return out
}

// ResolveWindow fills a zero Until with now and checks the window and step.
func ResolveWindow(w Window, step time.Duration, now time.Time) (Window, error) {
	if w.Until.IsZero() {
		w.Until = now
	}
	if !w.Since.Before(w.Until) {
		return w, wrapQuery("window is empty: since must be before until")
	}
	if step < 0 {
		return w, wrapQuery("negative step")
	}
	if step > 0 && w.Until.Sub(w.Since)/step > 10000 {
		return w, wrapQuery("too many buckets: more than 10000 steps in the window")
	}
	return w, nil
}
