// Package store defines where recorded requests are kept and how they are
// read back: the [Store] interface, its [Query] and [Window], the results
// ([Page], [Stats], [Bucket]) and the sentinel errors. It is what a consumer,
// such as the dashboard in package ui, programs against.
//
// Implementations: [github.com/goappstats/appstats/store/badgerstore] (the
// embedded, durable default), [github.com/goappstats/appstats/store/redisstore]
// (Redis or Redis Cluster, shared by the instances of a fleet) and
// [github.com/goappstats/appstats/store/memstore] (in memory, for tests and
// ephemeral use). Each keeps records encoded, not the *Records it is
// given, and is a [recording.Borrower]: a recorder writing into them
// reuses its records' memory. Every implementation passes the
// conformance suite in [github.com/goappstats/appstats/store/storetest].
// What implementations share — query matching, exact aggregation, the
// histogram's buckets, percentile sketches — is internal to store/, so a new
// store belongs under store/ too.
//
// # Record IDs
//
// [Store.Get] takes a [recording.ID]: text from a URL or a command line is
// parsed once, where it enters, with [recording.ParseID], which rejects a
// malformed ID with [recording.ErrInvalidID].
//
// # Percentiles
//
// [Latency] percentiles may be estimates: badgerstore and redisstore keep a
// mergeable DDSketch per group and time bucket, with a relative error of
// 1%, and merge them to answer any window; memstore computes them exactly.
//
// # Costs and execution traces
//
// [RPCStats.Cost] and [RouteStats.Cost] add up the costs of calls, as a
// recording.CostModel priced them; every store aggregates them with the
// rest of its statistics. A store that also keeps the Go execution traces
// attached to slow requests' records implements [ExecTraceStore]: it keeps
// them apart from the records, under a byte cap of its own, and drops
// them before records when space runs short. badgerstore and memstore
// do; redisstore keeps no traces and stores such records without theirs.
//
// # Sizes
//
// Each implementation also reports how many records it holds with a Len
// method outside the interface. Len returns an int, as every Len in the
// standard library does; so does
// [github.com/goappstats/appstats/recording/recordingtest.Sink.Len].
// redisstore's Len asks the server, so it takes a context and returns an
// error too.
package store
