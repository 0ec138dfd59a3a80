package storekit

import (
	"sort"
	"time"

	"github.com/goappstats/appstats/store"
)

// histogramBounds are the upper bounds of [store.Stats.Histogram]'s
// buckets, the same for every store of this module; a last bucket (Le = 0)
// counts everything slower. It is never modified.
var histogramBounds = [...]time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
}

// HistogramBuckets is the length of [store.Stats.Histogram].
const HistogramBuckets = len(histogramBounds) + 1

// HistogramIndex returns the index of the histogram bucket that counts d.
func HistogramIndex(d time.Duration) int {
	return sort.Search(len(histogramBounds), func(i int) bool { return d <= histogramBounds[i] })
}

// NewHistogram returns the [HistogramBuckets] buckets of a
// [store.Stats.Histogram], with their bounds set and nothing counted.
func NewHistogram() []store.HistogramBucket {
	h := make([]store.HistogramBucket, HistogramBuckets)
	for i, b := range histogramBounds {
		h[i].Le = b
	}
	return h
}

// Histogram counts durations into a new histogram.
func Histogram(durs []time.Duration) []store.HistogramBucket {
	h := NewHistogram()
	for _, d := range durs {
		h[HistogramIndex(d)].Count++
	}
	return h
}

// SortStats orders the lists of st as [store.Stats] documents: by Total,
// largest first, then by name.
func SortStats(st *store.Stats) {
	sort.Slice(st.RPCs, func(i, j int) bool {
		return st.RPCs[i].Total > st.RPCs[j].Total ||
			st.RPCs[i].Total == st.RPCs[j].Total && st.RPCs[i].Service+st.RPCs[i].Method < st.RPCs[j].Service+st.RPCs[j].Method
	})
	sort.Slice(st.Routes, func(i, j int) bool {
		return st.Routes[i].Total > st.Routes[j].Total ||
			st.Routes[i].Total == st.Routes[j].Total && st.Routes[i].Route < st.Routes[j].Route
	})
	sort.Slice(st.Instances, func(i, j int) bool {
		return st.Instances[i].Total > st.Instances[j].Total ||
			st.Instances[i].Total == st.Instances[j].Total && st.Instances[i].Instance < st.Instances[j].Instance
	})
	sort.Slice(st.RouteRPCs, func(i, j int) bool {
		a, b := st.RouteRPCs[i], st.RouteRPCs[j]
		return a.Total > b.Total || a.Total == b.Total && a.Route+a.Service+a.Method < b.Route+b.Service+b.Method
	})
}
