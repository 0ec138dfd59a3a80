// Package store defines where recorded requests are kept and how they are
// read back: the [Store] interface, its queries, and the aggregates the
// dashboard shows.
//
// Implementations: [github.com/goappstats/appstats/store/badgerstore] (the
// embedded, durable default) and [github.com/goappstats/appstats/store/memstore]
// (in memory, for tests and ephemeral use). Every implementation passes the
// conformance suite in [github.com/goappstats/appstats/store/storetest].
//
// # Percentiles
//
// Latency percentiles come from [Sketch], a mergeable DDSketch with a
// relative error of [SketchRelativeError] (1%): stores keep one sketch per
// group and time bucket and merge them to answer any window.
package store
