// Package redisstore is a [store.Store] in Redis, for a fleet: every
// instance of a service writes its records to one Redis (or Redis Cluster)
// and the dashboard of any instance, or of `appstats serve -redis`, shows
// them all, grouped and filtered by instance.
//
//	s, err := redisstore.Open(ctx, "redis://:password@redis.internal:6379/0", redisstore.Options{})
//	...
//	defer s.Close()
//
// URLs are go-redis's: redis:// or rediss:// (TLS), with AUTH from the user
// info. A Redis Cluster is found by asking the node in the URL.
//
// # Key layout
//
// All keys start with [Options.Prefix] ("appstats"). Everything about one
// hour of records shares the hash tag {prefix:hour}, so that every
// multi-key script and transaction stays in one Redis Cluster slot, and a
// cluster spreads the hours over its masters:
//
//	{p:h}:r  hash        ID → full record
//	{p:h}:s  sorted set  start | ID | summary, all scores 0, in byte order
//	{p:h}:d  list        rollup deltas: minute | rollup of one write's records
//	{p:h}:u  hash        "h" → the hour's rollup, "0".."59" → minute rollups
//	{p:h}:b  integer     the hour's size, as MaxBytes counts it
//	{p:h}:f  string      the fold lease
//	p:hours  sorted set  the hours that hold data
//	p:ids    hash        ID → hour, for records whose ID's time is in another hour
//	p:events channel     "n newest-ID" per write, "0" per Clear
//
// Records, summaries and rollups use the encoding badgerstore uses
// (store/internal/codec). List reads an hour's summaries newest first with
// ZREVRANGEBYLEX, decoding summaries only; Get is one HGET.
//
// # Writes and rollups
//
// A Write stores each hour's records, summaries and a rollup delta per
// minute in one MULTI transaction (atomic: a reader never sees records
// without their rollup; a Lua script doing the same measured twice the
// Redis CPU), while it lists the hours in a pipeline of its own. Writers
// only append deltas, so concurrent writers never conflict. In the background,
// a process folds the deltas of the hours it wrote into the minute and
// hour rollups: under WATCH it reads the rollups and the oldest deltas,
// merges them in Go, and in one MULTI writes the rollups and removes the
// folded deltas; if another process changed the rollups meanwhile, EXEC
// fails and the fold is retried, so no update is lost (a fold lease keeps
// processes from folding the same hour at once). Stats and Series read,
// with one script per hour in one pipeline, the hour rollups of the
// window's whole hours, the minute rollups of its other whole minutes, the
// pending deltas, and the summaries of its two partial edge minutes: their
// cost grows with the window's hours, not with the records stored.
//
// # Retention
//
// Each hour's keys expire [Options.MaxAge] after the hour ends, so a store
// no process opens any more empties itself. Every RetentionInterval, one
// open store (under a lease) enforces MaxAge, MaxRecords and MaxBytes
// exactly: it deletes the oldest hours whole, then the oldest records of
// the oldest hour left, and rebuilds that hour's rollups without the
// minutes deleted. MaxBytes counts the encoded records, summaries, rollups
// and deltas plus [RecordOverhead] per record, which approximates the
// memory Redis uses for them (see the Performance section).
//
// # Outages
//
// Recording never waits for Redis: a Write that fails or takes longer than
// [Options.WriteTimeout] drops its records, counts them ([Store.Health])
// and returns an error wrapping [ErrUnavailable], which the recorder counts
// and logs; while Redis stays unreachable, writes are dropped at once, for
// a backoff that doubles up to 5 seconds, and the first write after it
// tries again, so writing resumes by itself when Redis returns. Reads
// fail with an error the dashboard shows. (go-redis itself logs failed
// dials to the standard logger, a setting global to the process: a program
// that wants them in its own log calls redis.SetLogger with
// [GoRedisLogger]; this package changes no global.)
//
// # Live updates
//
// Every write is announced on the events channel by the transaction that
// stores it; [Store.Subscribe] delivers the announcements of all instances, so a
// dashboard of the fleet refreshes live.
package redisstore
