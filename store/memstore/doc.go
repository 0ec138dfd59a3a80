// Package memstore is an in-memory [store.Store]: a bounded set of the most
// recent records, for tests, examples and ephemeral use. Nothing survives the
// process. Aggregates are computed exactly by scanning, which is fine for the
// few thousand records it holds; use badgerstore for anything larger.
//
// The store keeps records encoded with the stores' codec, as badgerstore's
// in-memory ring keeps them (without their calls' stacks, which a table
// holds once each for all the records that refer to them), in slabs of
// bytes it reuses as old records go, with an index that holds no pointer:
// the garbage collector has nothing of theirs to mark, however many
// records the store holds, and the store keeps nothing of a record once
// Write returns but strings, so it is a [recording.Borrower] and a
// recorder writing into it reuses its records' memory. A record's summary
// is read from the record's own head and what the summary adds to it,
// written beside the record. Readers are given
// records and summaries decoded for them, which share nothing with the
// store or with each other.
//
// A record read back equals the record written, as a store on disk gives it
// back: its times (Start, an execution trace's Taken) without their
// monotonic clock reading and location, as Unix nanoseconds (years 1678 to
// 2262); empty slices and maps (Calls, a call's Stack, Phases and Attrs,
// Headers, Warnings, Attrs) as nil; an execution trace's Data apart
// ([Store.ExecTrace]), its Size that of the data kept. What no store keeps
// is dropped: [recording.Record.Unsampled] and
// [recording.Record.RandomTraceID] read back false, and the recorder's
// unexported state of a record is not kept.
package memstore
