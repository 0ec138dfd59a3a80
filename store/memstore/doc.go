// Package memstore is an in-memory [store.Store]: a bounded set of the most
// recent records, for tests, examples and ephemeral use. Nothing survives the
// process. Aggregates are computed exactly by scanning, which is fine for the
// few thousand records it holds; use badgerstore for anything larger.
package memstore
