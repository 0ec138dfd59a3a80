// Package codec encodes what badgerstore stores: full records, summaries
// (with each call's duration, so partial time buckets can be aggregated from
// summaries alone) and rollups (per-bucket aggregates with latency
// sketches).
//
// Every value starts with a tag byte and a version byte, followed by varint
// fields. Decoders reject unknown tags and versions, truncated input, counts
// larger than the input could hold and trailing bytes, with an error
// wrapping [store.ErrCorrupt]; they never panic (FuzzDecode). It is
// separate from badgerstore so that fuzzing runs in a small binary.
package codec
