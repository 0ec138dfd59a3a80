// Package storekit is what the implementations of [store.Store] share
// (badgerstore, memstore, the conformance suite storetest, and any store
// added under store/), kept out of the API that consumers import:
//
//   - [Limit], [Matches], [ResolveWindow] and [ResolveSeries] give a query
//     and a window the meaning [store.Query] and [store.Window] document,
//     with errors wrapping [store.ErrInvalidQuery] ([InvalidQuery]);
//   - [NewHistogram], [HistogramIndex] and [Histogram] fix the buckets of
//     [store.Stats.Histogram], the same for every store;
//   - [SortStats] puts [store.Stats] lists in their documented order, and
//     [Fold] bounds them to a maximum of keys and one [store.Other] entry;
//   - [SplitRange] cuts a time range into the whole hours, whole minutes
//     and partial edge minutes that a store with hour and minute rollups
//     answers from each;
//   - [Exact] and [ExactSeries] aggregate exactly, by keeping every
//     duration: memstore's answers, and the reference the suite holds other
//     stores to.
//
// Percentile sketches, for stores that pre-aggregate, are in package
// store/internal/sketch.
package storekit
