// Package codec encodes what the stores under store/ keep — badgerstore on
// disk, redisstore in Redis: full records, summaries (with each call's
// duration, so partial time buckets can be aggregated from summaries alone)
// and rollups (per-bucket aggregates with latency sketches, merged in Go so
// that every store folds them the same way).
//
// Every value starts with a tag byte and a version byte, followed by varint
// fields. Decoders reject unknown tags and versions, truncated input, counts
// larger than the input could hold and trailing bytes, with an error
// wrapping [store.ErrCorrupt]; they never panic (FuzzDecode), and the
// memory of what they decode is linear in their input: a call's stack that
// adds no frame of its own shares the previous call's frames, and a record
// whose calls would copy more frames than 64 Ki plus 4 a byte of it is
// refused as corrupt (TestDecodeCopiedStacksBounded). AppendRecord writes a
// call's stack whole where sharing would pass that bound, so every record
// it writes decodes (TestAppendRecordAlwaysDecodes). It is
// a package of its own so that fuzzing runs in a small binary.
package codec
