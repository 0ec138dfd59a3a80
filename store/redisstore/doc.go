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
// info. A Redis Cluster is found by asking the node in the URL: INFO, or,
// for an ACL user without @dangerous (INFO's category), CLUSTER INFO,
// which a single server refuses (cluster support disabled); a user refused
// both is taken to talk to a single server, and names a cluster with
// cluster=true. A least-privilege user needs the
// store's keys and channel — with the default prefix,
// ~{appstats:* ~appstats:* &appstats:events — and the commands of +@all
// -@dangerous, or, at the least, exactly these (those the store sends
// and its scripts call, on a single server; TestACLMinimalUser uses every
// part of the store as such a user, and Redis refuses it nothing but the
// INFO that Open asks first, and the INFO that watches evictions asks
// once, then no more):
//
//	ACL SETUSER app on >password resetkeys resetchannels ~{appstats:* ~appstats:* &appstats:events -@all
//	  +hello +ping +cluster|info +time +publish +subscribe
//	  +multi +exec +watch +unwatch +eval +evalsha +scan
//	  +get +set +getrange +incrby +decrby +exists +del +unlink +type +pexpireat +pttl
//	  +hset +hsetnx +hget +hmget +hdel +hlen +hscan +hstrlen +hvals +hgetall
//	  +zadd +zrem +zcard +zrange +zrangebyscore +zrevrangebyscore +zrangebylex +zrevrangebylex
//	  +rpush +lrange +ltrim +llen +lrem
//
// (go-redis's cluster client also reads the slot map and the commands'
// key positions, CLUSTER SLOTS and COMMAND: add +cluster|slots +command
// on every node of a Redis Cluster, as TestACLMinimalUserCluster does). A
// user
// refused the channel (Redis 7 gives a new user none)
// keeps its records but has no live updates: writes go unannounced,
// Subscribe waits, and [Store.Health] and the log say so; both ask again
// every few minutes, so live updates come back once the channel is
// granted.
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
// ZREVRANGEBYLEX, decoding summaries only; Get is one HGET. An entry that
// does not decode is left out of answers (Get says [store.ErrCorrupt],
// which the dashboard answers with 500, naming the record as damaged),
// logged, and counted once in [Store.Health]'s Skipped. So is a key of an
// hour that holds a value of another type (another program's): List,
// Stats and Series read it as empty. At the records hash or summaries
// set, retention deletes its hour whole in its turn; at the rollups hash
// or deltas list, the next fold or retention pass deletes it, and the
// rollups lose what it stood in place of, the records none (a size counter
// that holds another program's value is set again from a recount of the
// hour, which retention then trims as usual). A value
// longer than any the store writes (64 MiB: Write refuses a record whose
// encoding is longer, dropped and counted) is left in Redis by every read,
// skipped and counted likewise. A write that meets one loses only what it could not store:
// a foreign records hash or summaries set drops the hour's records (Write
// says so, without [ErrUnavailable] and without backing off: Redis
// answered; their summaries and deltas are removed again, and folds leave
// such an hour's deltas pending, so that a fold between the write and the
// removal cannot count them; full records that replaced stored ones under
// the same IDs stay for Get), a foreign deltas list or size counter costs the records'
// share of the rollups alone. Another program's value at the hours list
// (p:hours), or members that name no hour, make reads find the hours from
// their keys (a SCAN) until the hours list is repaired, in the background
// (the fold loop, with a deadline of its own and a backoff after a failed
// attempt) or by a retention pass: a SCAN first, then one script that
// deletes the foreign value and lists the hours found together, so that a
// repair cut short leaves the damage visible rather than a list that
// misses the older hours. Writes never wait for the repair. Another program's value at the
// ids hash (p:ids) costs the records it would find alone. A lease key
// (an hour's fold lease, p:retain) without expiry is another program's
// (the store's leases all expire): it is deleted and counted, and the
// lease taken.
//
// # One server or a cluster
//
// On a single server the store puts keys of several slots in one
// transaction or script, which closes races that a Redis Cluster leaves
// narrow (see [Store.Write] and rewrite.go): each hour's transaction
// reads the ids hash, and names there a record stored outside its ID's
// hour; settling a record written again in another hour, and retention's
// cleaning of the ids hash, check the hours and the ids hash in one
// script. The store does so only for a *redis.Client (Open's for a server
// that is no cluster node, or one given to New) whose server says
// cluster_enabled:0 when the store is made (INFO cluster, or for an ACL
// user refused INFO, CLUSTER INFO, as Open asks; a user refused both is
// taken for a single server; New asks within WriteTimeout, whatever the
// client's options, and logs at Warn a question not answered). Every other
// client — a *redis.ClusterClient, a *redis.Ring (whose shards each hold
// some hours), a *redis.Client of a cluster node (a one-shard cluster
// serves every key but refuses a command across slots with CROSSSLOT), or
// a *redis.Client whose server did not answer New's question — keeps each
// transaction and script within one slot: correct on any server, with the
// narrow races said of a Redis Cluster. A proxy that reports
// cluster_enabled:0 (or no cluster section) but refuses commands across
// slots with CROSSSLOT is taken for a single server: the Writes whose
// transactions read or name in the ids hash fail with that error (their
// records dropped, as in an outage; the first Write of a store always
// reads it), and so do settling and retention's cleaning of the ids hash.
// Give such a store the cluster's nodes instead (a URL with cluster=true,
// or a *redis.ClusterClient).
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
// cost grows with the window's hours, not with the records stored. A
// record written again with its ID would leave its old summary listed
// beside the new one (a member holds the summary), and counted in the
// hour's size: each Write's transaction reads what its HSET replaces
// (HMGET: nils for new IDs), and its pipeline what the ids hash held
// (while it exists), and the rare Write that replaced records removes the
// old summaries and their sizes with a script of its own, in a second
// round trip; a record written again in another hour is settled under a
// lock of its ID's (a key prefix:mv:ID, with a TTL), which deletes the
// version left in another hour, in a few round trips more (see
// [Store.Write]; a new record stored outside its ID's hour, on a single
// server, needs none); a Write waits for locks held by other writers a
// tenth of WriteTimeout in all, then leaves those versions listed. The
// lock is no fence (an eviction policy may evict it, volatile-ttl the
// shortest TTL first; a failover may lose it): on a single server the
// deletes check, atomically, that the settling write's version is still
// there and that the ids hash still names it, so that two writers moving
// one ID at once never leave it without a version Get finds (see
// rewrite.go for the narrow case that leaves two listed); in a Redis Cluster
// (the ids hash in another slot than the hours) they read the lock again
// first, which narrows the race without closing it. The
// look-up costs a write about 24 bytes sent a record (4% of a small
// record's, 0.7% of a 20-call one's) and 0.2–0.5 µs of Redis CPU (5–10%,
// on a loaded machine).
//
// A record that starts more than [MaxAhead] after Redis's clock (from a
// host whose clock runs ahead, or a Redis whose clock is behind) is stored
// shifted back by the host's lead on Redis's clock (to Redis's time if
// that is not enough), rather than on top of every listing until the
// fleet's time catches up with it; WriteStats, Health's Detail and the
// log say so, with the offset.
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
// memory Redis uses for them (see the Performance section). A Redis that
// is full (maxmemory under the noeviction policy) refuses writes, but
// retention still deletes what the limits say (on Redis 7 and later, its
// lease is taken by a script allowed to write then), leaving the deltas of
// the hours it keeps unfolded; if Redis is still full after deleting, the
// rollups of an hour trimmed in part keep counting its deleted records. Set
// MaxBytes below Redis's maxmemory so that retention frees memory before
// Redis refuses writes. Under an eviction policy Redis deletes keys of its
// own choosing, which the store cannot tell from keys never written: a
// volatile-* policy evicts only hours' keys (they expire), an allkeys-*
// policy may evict the hours list too, which the next write notices (its
// own hour gone from the list while the hour's records, summaries or
// size counter were there, or, writing into a new hour, the list holding
// nothing but the write's hours while this store had listed others; a
// store just opened, which has listed nothing, cannot tell the latter)
// and has repaired from the hours' keys, as another program's value
// there (an hour retention deleted whole, listed again by a late write,
// sets off no repair). An hour that loses some of its keys
// reads without them: records without summaries are not listed (Get finds
// them), an hour without rollups counts none of its records in Stats.
// What the store can tell is that Redis evicts: every 5 seconds, off the
// request path, it reads INFO's maxmemory_policy and evicted_keys (of
// every node, within WriteTimeout whatever the client's options, so that
// Close never waits longer for it; not while writes fail, or a
// subscription finds Redis away with no write succeeding since, so that a
// Redis that is down is not dialled for it), and once Redis has evicted keys since the store opened,
// [Store.Health]'s Detail says how many and under which policy (state
// "ok": the count is Redis's, of every key, other programs' too; a user
// that may not run INFO is not asked again, and Health says nothing).
// Prefer noeviction with MaxBytes.
//
// # Outages
//
// Recording never waits for Redis: a Write that fails or takes longer than
// [Options.WriteTimeout] drops its records, counts them ([Store.WriteStats])
// and returns an error wrapping [ErrUnavailable] (which wraps
// [store.ErrUnavailable], as a read's error does when Redis is away), which
// the recorder counts and logs; while Redis stays unreachable, writes are dropped at once, for
// a backoff that doubles up to 5 seconds, and the first write after it
// tries again, so writing resumes by itself when Redis returns. From a
// failed write until a write succeeds (backoff or not) or, when no write
// comes, until Redis takes a script that may write (the store tries one
// in the background as each backoff ends, at most every 5 seconds, and
// Redis refuses it where it refuses writes: out of memory, a read-only
// replica), and while a
// [Store.Subscribe] finds Redis away or refusing it with no write
// succeeding since (all that a store that only reads, as appstats
// serve's, has to go by), [Store.Health]
// says "unavailable", which the dashboard's health panel and api/health
// show. Reads
// fail with an error the dashboard shows: one that wraps
// [store.ErrUnavailable] when Redis did not answer, refused the
// connection or is not serving (loading, its master or cluster down, this
// user refused), which the dashboard answers with 503 and Redis's error. Every round trip is bounded,
// whatever the client: a Write's and each background operation's by
// WriteTimeout, so that Close, which waits for them and folds what the
// store wrote, returns within a few WriteTimeouts of a Redis that stops
// answering (a client given to [New] without ContextTimeoutEnabled is
// used through a bounded clone, or refused: see New). (go-redis itself logs failed
// dials to the standard logger, a setting global to the process: a program
// that wants them in its own log calls redis.SetLogger with
// [GoRedisLogger]; this package changes no global.)
//
// # Performance
//
// Measured on a 2-core VM shared with other work (load average 14 to 27,
// so times are inflated and vary; see bench_test.go), Redis 7.0 on
// loopback. Writing 20-call records with 12-frame stacks
// (storetest.Record20) in batches of 128: 40–42 µs of CPU per record in
// the writing process, 42–59 µs in Redis (about 17–24k records/s per Redis
// core), 7.7 KB of Redis memory per record; 2,800–6,000 records/s from one
// process; from four processes at once, 1,214 records/s into one Redis and
// 3,271 into a 3-master cluster. Small records (storetest.Dataset, up to
// nine calls without stacks) take 808 bytes of Redis memory each at 1M
// records (1,050 at 100k). With 1M records over 7 days: Get 0.14 ms, the
// first List page 0.45 ms, Stats over the last hour 25 ms and over 7 days
// 122 ms, Series 1.2 ms and 195 ms; at 100k: 0.05 ms, 0.58 ms, 6.2 ms,
// 52–185 ms, 0.74 ms, 111 ms. Most of Stats' time is decoding and merging
// the rollups' sketches in Go, as in badgerstore (which took 37 ms for 7
// days at 1M under the same load).
//
// # Instances of different releases
//
// Records, summaries, rollups and deltas are encoded with a version
// (store/internal/codec), and a release reads every earlier version, so
// instances upgraded first read what the others write. An instance of an
// earlier release, sharing the store while a fleet is upgraded one
// instance at a time, cannot read what newer ones wrote: it leaves such a
// value out of its answers (Get says [store.ErrCorrupt], "written by a
// newer version of appstats", wrapping [store.ErrNewerVersion], which the
// dashboard's record page names), counts it in [Store.Health]'s Skipped, and
// logs it; it never rewrites it. Its folds fold an hour's deltas up to the
// first of a newer version and leave an hour whose rollups are of a newer
// version as it is, for a newer instance to fold; its retention deletes
// records as usual, but leaves such an hour's rollups as they are, still
// counting the records it deleted from the hour. So an older
// instance's dashboard undercounts the hours newer instances have folded,
// and says so: upgrade the dashboard's instance (or appstats serve) first. A
// value whose version is more than a few past this release's (8) is damage,
// not a newer release's: dropped and counted as any damaged value.
//
// A value damaged in its version byte so that it names one of the next 8
// versions (a single bit flipped does so for three of the byte's eight
// bits, at the versions this release writes) cannot be told from a newer
// release's: a newer encoding is unknown to this release, so no check of
// a value's shape or length for that version is possible, and one that
// decodes whole as this release's version proves nothing (a release may
// keep a layout and change what it means). The store makes the mistake
// that loses nothing, and takes it for a newer release's, for good (no
// newer instance comes to fold it): Get of such a record says
// [store.ErrNewerVersion], and reads leave it out, counted once in
// Skipped and logged as written by a newer version. A damaged delta stops
// its hour's folds at it, a damaged hour rollup stops them whole, and a
// damaged minute rollup as soon as a delta of its minute comes: the
// deltas left pending stay, every write to the hour appends one
// more, and Stats and Series read them all (right, but for what the
// damaged value held, and slower as they grow) until the hour's keys
// expire, MaxAge after the hour ends; retention trims the hour's records
// as usual but leaves its rollups, which go on counting the records it
// deleted. Deleting the damaged value (its field of {p:h}:u, or its
// element of {p:h}:d, which loses what it held), or Clear, ends it.
//
// # Live updates
//
// Every write is announced on the events channel by the transaction that
// stores it; [Store.Subscribe] delivers the announcements of all instances, so a
// dashboard of the fleet refreshes live.
package redisstore
