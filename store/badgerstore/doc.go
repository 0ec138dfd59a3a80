// Package badgerstore is the embedded, durable [store.Store]: records in a
// Badger v4 database under a directory, with bounded retention and
// pre-aggregated rollups, so the dashboard stays fast at a million records.
//
//	s, err := badgerstore.Open("appstats-data", badgerstore.Options{})
//	...
//	defer s.Close()
//
// The zero [Options] are tuned for an embedded profiler: 1.75 MiB
// memtables and 1 MiB tables (a memtable's flush, ingest's highest point
// on the heap, holds about 7 MiB, and no table builder's buffers grow past
// 2 MiB), a compaction of level 0 every three flushes rather than two
// (each compaction holds table builders on the heap too), and small
// caches, 7 days / 1M records /
// 1 GiB of retention, and Badger's logging routed to an optional
// [log/slog.Logger] (silent by default; its
// advice that a cache "might be too small", repeated every minute while
// reads miss the deliberately small caches, is demoted to debug).
//
// The store never takes its host down: it stops writing before a full
// disk could crash the process, and after a write that failed (its
// directory deleted or unwritable), keeps its directory within MaxBytes plus a
// stated slack at every moment, and moves a damaged directory aside rather
// than let Badger panic or silently discard data (see the sections below).
//
// # Storage budget
//
// Every record Write is given is counted in the rollups, so Stats, Series
// and the histogram count every request. Full records are persisted within
// a budget of [Options.RecordBudget] per route and second of their start
// (20 by default): beyond it, a record is persisted only if it failed or is
// slower than every record of its route persisted so far in that second,
// so each second keeps its errors and its slowest as they come. A busy
// route's records beyond the budget cost a small part of a persisted one
// (encoding into memory and the rollup's counts, against Badger's logs and
// tables; see Performance). Each route's [store.RouteStats] Stored counts
// its requests persisted in full, [store.Health]'s OverBudget the records
// counted but not persisted, and the dashboard says so under a route
// whose records were not all kept. RecordBudget -1 persists every record.
//
// The records not persisted are held, encoded, in a ring in memory of
// [Options.RingBytes] (4 MiB by default; oldest out first; the stacks
// their calls share are kept once, beside it), so that the
// recent ones can still be listed and opened: Get finds them by ID, and
// List merges their summaries with the persisted ones, newest first, under
// every filter, with one cursor for both (a record that leaves the ring
// between two pages is not listed). The ring is memory only: Clear and
// Close empty it, and after a restart only the persisted records remain
// (the rollups still count the others). Execution traces of records not
// persisted are not kept.
//
// Where a window's edge cuts a minute whose records were not all
// persisted, Stats and Series cannot count that minute record by record:
// they count the share of its rollup that the window covers by time (of
// the part that has passed, for the current minute), so a window that
// ends now counts its current minute whole, and a Series step within a
// minute, or a window that begins in one, is an estimate, the minute's
// latencies standing for its share.
//
// # Key layout
//
//	i | last(8) | first(8) | seq(8)  index block: the records of one second
//	                        whose ID holds their start (as the recorder's
//	                        IDs do), in (start, ID) order — each one's start,
//	                        ID, summary's length and where its full record
//	                        is —, then their summaries, compressed together,
//	                        and a CRC-32C of it all
//	s | start(8) | id(16)   a record not in an index block (an ID made
//	                        elsewhere, a record given again, one from the
//	                        future): its summary; a gone marker, which hides
//	                        the index entry of its key; or, in a directory
//	                        written before index blocks, where the summary
//	                        is (its summary block, offset and length) and
//	                        where the full record is, if its ID holds its
//	                        start
//	c | last(8) | seq(8)    summary block, written before index blocks: what
//	                        List needs of each record, compressed together
//	f | id(16)              where the full record is, if not in an index
//	                        block or an s entry: its block, offset and length
//	b | last(8) | seq(8)    block: full records (calls, stacks, phases,
//	                        headers, …), compressed together
//	d | minute(8) | seq(8)  rollup delta: one Write's records of one minute
//	m | minute(8)           minute rollup
//	h | hour(8)             hour rollup
//	t | snapshot(16)        an execution trace's data (its metadata is in the
//	                        records referring to it); a trace stored before
//	                        snapshots were shared is under its record's ID
//	u | id(16)              the snapshot the record refers to
//	u | snapshot(16) | id   (empty) the record refers to the snapshot
//
// Times are big-endian with the sign bit flipped, so keys sort by time. A
// record's place in List's order is (start, ID), its s key's or its index
// entry's: List is a reverse walk of the s keys merged with the index
// blocks' entries (an s key shadows the index entry of the same key), from
// the newest, the Until bound or the cursor, that never decodes a full
// record; Get reads one full record.
//
// Write encodes the records it persists one after another into a block,
// and stores the block, compressed with S2, once it holds 32 KiB of
// records and at the end of each transaction: one Badger value and one
// compression per block, rather than a value per record, since Badger
// copies each value-log entry into a memory-mapped file (faulting fresh
// pages in), and a service's records repeat each other (routes, calls,
// stacks), so a block of them compresses well. Get decompresses the block
// (the last one read is kept for the next Get) and decodes the record. A
// block's key leads with the latest start of its records, so retention,
// which deletes records oldest first, deletes with them every block whose
// records are all gone. A directory written before blocks (its f values
// the records themselves) is read, listed, trimmed and cleared as before,
// and new records go to blocks beside them (its first Open counts its
// records again, as after a crash, since Size now counts the LSM tree's
// bytes twice); a version of this package from before blocks cannot read
// the blocks.
//
// A persisted record whose ID holds its start puts no entry of its own
// into the LSM tree: its summary goes into an index block of its second
// (one open per second in each transaction; closed at 32 KiB of summaries
// and at the end of the transaction), whose index says where its record
// is. At 20,000 records a second in Writes of 256, a block holds about a
// hundred records: Badger's work on the tree (its write-ahead log,
// memtables, flushes and compactions), which a persisted record cost most
// once its full record and summary were in blocks, falls to a few entries
// per hundred records, and a long burst's memtables fill about fifteen
// times more slowly. Index blocks of one second may overlap in time (a
// record written late, Writes in parallel): List merges their entries,
// reading the keys newest last start first and a block's value only when
// its entries may be next, and those of different seconds never overlap.
// Get looks at the s key of its ID's time (a record given again, or
// written before index blocks), then in the index blocks of its ID's
// second that end at or after its start, in that order, whose first start
// is not after it (the keys say so: most often the first one read holds
// it), then at its f entry.
// A record that does not fit an index block is written as summaries were
// in the tree: an s entry holding its summary and an f entry holding its
// ref. A record given again is such a record: its s entry shadows its
// earlier version's index entry (at the same start), or a gone marker at
// the earlier version's key hides it (an index block is never rewritten:
// two Writes replacing records of one block would each write it, and the
// store opens Badger without conflict detection). A directory written
// with summary blocks and an s entry per record is read, listed, trimmed
// and cleared as it is, beside the index blocks, until retention deletes
// its records; a version of this package from before index blocks cannot
// read the index blocks.
//
// A rollup holds, for its time bucket, the request count, errors, calls,
// total time, a latency sketch (a DDSketch with 1% relative error) and a
// histogram with the buckets of [store.Stats.Histogram], and the same per
// route and per instance, and (with a sketch of call durations) per
// service.method and per route×service.method. Write stores each
// transaction's records together with the deltas for them, atomically; a
// background fold merges deltas into the minute and hour rollups
// (atomically deleting them). Pending deltas are also kept decoded in
// memory, so reads add them without scanning. Stats over a window reads hour
// rollups for its whole hours, minute rollups for its remaining whole
// minutes, and summaries for the partial minutes at its two edges (unless
// no record of that minute lies beyond the edge, as in the current minute
// of a window that ends now: then the minute's rollup serves), so its cost
// grows with the window's buckets, not with the records stored; Series
// does the same per step, reading only the rollups' overall part.
//
// The minute and hour rollups, and each list of a Stats answer, keep at
// most [Options.MaxKeys] routes, service.methods and route×service.method
// pairs (500 by default), the ones with the most requests or calls; the
// others are folded into one [store.Other] group, so routes or call names
// without end cost neither disk nor memory without end. A rollup may grow
// to twice the maximum while being merged, before it is folded.
//
// # Encoding
//
// Values are a tag byte, a version byte and varint fields. A call's stack is
// stored as the number of outer frames it shares with the previous call's
// stack plus its own inner frames; decoded, a stack that adds no frame of
// its own shares the previous call's memory, and a record whose calls
// would copy more than 64 Ki frames plus 4 a byte of it from each other is
// corrupt (its stacks would take memory in the square of its size; the
// recorder's copy under 3 a byte, and a record whose calls would copy more
// is written with whole stacks past that bound, so that it decodes). Decoding foreign or corrupt bytes returns an
// error wrapping [store.ErrCorrupt], never panics (see FuzzDecode); List
// skips a corrupt summary with a logged warning. A realistic record of 20
// SQL calls with 12-frame stacks (storetest.Record20) encodes to 3,113
// bytes (3,266 in version 3, 6,187 in version 2), its summary to about
// 400; encoding takes about 3–4 µs with no allocation, decoding about
// 30–40 µs with 50 allocations (all strings share one copy of the value),
// decoding a summary about 1.2 µs (2-core machine shared with other
// work).
//
// Version 2 of the record encoding adds optional parts after the
// attributes (the calls' costs, an execution trace's metadata), and
// version 2 of the summary and rollup encodings carries costs (see
// recording.CostModel), which rollups add up per route and per RPC;
// decoders read version 1 values as they were written, with no costs.
// Version 3 of the record encoding writes each string of a record's calls
// (services, methods, requests, responses, errors, frames' functions and
// files, phases, attributes, warnings) once, and later copies as an index
// into the record's strings: the calls of a record repeat their services,
// methods and stack frames. Version 4 writes a call's stack that is the
// very stack of an earlier call of the record (the recorder gives calls
// made from one place one stack) as a reference to that call, found by
// the stack's address, without comparing frames. Records persisted in
// blocks are written in version 4; every version is read, so blocks
// written before hold version 2 and 3 records beside version 4 ones. The
// in-memory ring's records, without their stacks, are written in a
// version for memory only, never stored: a call writes its strings and
// attributes only where they are not the previous call's, and its times
// and sizes as fixed words; the strings of its head and attributes that
// the record before had in the same field, the very same strings (the
// route, the instance, headers' names, attributes' keys), as indexes
// into a dictionary of the ring's, which goes once no record held refers
// to it (a hello-handler record: 96–160 bytes rather than 263); their
// summaries are read from them when List needs them, not written beside
// them.
//
// # Execution traces
//
// An execution trace attached to a record (see
// [recording.WithFlightRecorder]) is stored under its own key, so that Get
// reads only its size, time and reason, and [Store.ExecTrace] the data.
// The slow requests of one recorder batch share one snapshot of the flight
// recorder ([recording.ExecTrace.Snapshot]): it is stored once, and each
// record refers to it with two small keys (u), which count in
// [Store.TraceSize]. Traces count in MaxBytes and are the first thing to
// go: Write stores one only while the directory is within MaxBytes
// (records go on to MaxBytes plus half of [Options.DiskSlack]); retention
// deletes the oldest past [Options.MaxTraceBytes], from every record
// referring to it, and deletes traces, oldest first, before any record
// when the store is over its byte target; a snapshot goes with the last
// record referring to it.
//
// # Durability
//
// Write returns once Badger has accepted its transactions into its
// write-ahead log and value log, which are in the kernel's page cache: a
// process crash (kill -9) loses nothing Write acknowledged, and the store
// reopens cleanly with records and rollups in agreement. A power failure
// can lose what was written since the last fsync, which the store issues
// every [Options.SyncInterval] (1 s by default); [Options.SyncWrites] makes
// every Write wait for an fsync instead. Close folds pending deltas and
// closes the database; nothing is lost.
//
// # Retention
//
// Every [Options.RetentionInterval] (or on [Store.EnforceRetention]), the
// oldest records are deleted until MaxAge, MaxRecords and MaxBytes all hold;
// rollups of minutes before the oldest record kept are deleted with them
// (the minute of the oldest record kept keeps its rollup, and an hour
// rollup goes once its whole hour is gone, so a window reaching into a
// partly deleted minute or hour may still count up to a minute, or an
// hour, of deleted records); then Badger's value-log garbage collection
// runs until it has nothing to rewrite. After a large deletion the LSM
// tree is flushed and compacted first so that the collector sees the freed
// space.
//
// An index block goes whole when all its records are to go (too old, or
// fewer than MaxRecords and MaxBytes ask for, and no other record lies
// among them: no s entry within its starts, no other index block of its
// second whose starts meet its own). Otherwise its records
// within the limits' reach go one by one, each hidden by a gone marker (an
// s entry, of about 30 bytes) until the block goes: MaxAge, MaxRecords and
// MaxBytes hold to the record, as before, oldest first, and a pass writes
// at most a block's worth of markers. A
// damaged index block is skipped by the walk and deleted once the records
// after it go. Its records, which can no longer be read, leave Len and
// Size once a read has found it: the next retention pass first counts the
// records again (holding the store's lock exclusively: ~0.1 s for 100k
// records), and a Close before it leaves the count to the next Open.
// A record written again while a pass deletes it, or its execution
// trace, is written once the pass has (the pass takes the records it
// deletes, and those whose traces it deletes, as a Write's batch does,
// see flights.go), or, if its Write's transaction ran first, the pass
// reads again: the record (and its trace) is either deleted or kept,
// counted once.
//
// A record that starts more than a day after now was written under a
// wrong clock (or the clock is wrong now): its age is not known, so MaxAge
// keeps it until the clock reaches its start (deleting it by the clock of
// the moment would delete the whole store under a clock set back), but it
// is the first to go, before the oldest, when MaxRecords or MaxBytes needs
// room. Write gives it blocks of its own, deleted with it, so that the
// records written with it do not stay on disk, uncounted, for as long as
// it does (blocks written before kept it in the batch's).
//
// MaxBytes bounds the directory, not only the records: a pass starts as
// soon as a write takes the records or the directory past MaxBytes, and
// deletes records until the directory, Badger's files included, fits
// again. Space comes back late (once compaction and garbage collection
// have run, a value-log file at a time), so the directory may exceed
// MaxBytes by [Options.DiskSlack] — never more: Write estimates the
// directory's size between measurements and drops (and counts) records
// past MaxBytes + DiskSlack/2, and earlier when the directory would leave
// too little room within MaxBytes + DiskSlack for what compaction and
// garbage collection may write before deleting the old files: new tables
// for up to the whole LSM tree, a level-0 table per memtable and a
// value-log file (with a 64th of DiskSlack to spare for what a write adds
// beyond its estimate). So the larger the tree, the less of MaxBytes the store
// fills; retention deletes records to keep that room. When it cannot (the
// tree holds tables that are not records, or the store was reopened with a
// smaller MaxBytes) and a pass deleted and rewrote nothing, the passes that
// writes and the directory's measurements ask for are skipped until the
// tree changes or records could be deleted for MaxBytes or MaxRecords, or
// else for 1 s, then 2, 4… up to a minute after each futile pass (those of
// RetentionInterval still run): until Badger's own compactions shrink the
// tree, records are dropped without a pass a second.
// Measured (internal/faults, TestDiskBoundedByMaxBytes with
// -faults.load=30s, 2 cores shared with other work): 64 KB records (of
// repeated headers, which stay in the tree) handed to Write as fast as it
// returns for 30 s, MaxBytes 64 MiB (DiskSlack 16 MiB): the directory
// peaked at 70.8 MiB and ended at 38 MiB; the store took 531 MB/s of
// records (as handed to it) and dropped the rest of the 2,976 MB/s
// offered. Without the room for compactions it peaked at 86–90 MiB in 10
// s. With the default 1 GiB, the same load (with incompressible records,
// in an earlier measurement) peaked at 1,110 MiB. Before, MaxBytes was enforced
// once a minute: the directory reached 2.2 GB in 30 s with MaxBytes 64
// MiB, 1.5 GB with 1 GiB.
//
// # Disk space
//
// Badger writes through memory maps: a page of its logs, or of a new
// table, gets a disk block only when first written, and when the
// filesystem has none left the kernel kills the process (SIGBUS) — no error
// is returned anywhere (on a full tmpfs even reading a sparse file's hole
// through a map does). So the store watches its filesystem's free space
// (statfs) and its directory's size (allocated blocks) every second, and
// before each transaction if the last look is over 100 ms old, adding what
// it wrote since. It stops writing records while that would leave less
// than a reserve: room for the memtables' logs and their level-0 tables
// (2 × (NumMemtables+1) × MemTableSize), for one value-log file (garbage
// collection rewrites one), for a compaction's new tables (the LSM tree's
// size, up to 64 MiB), and a MiB: 75.5 MiB with the defaults (1.75 MiB
// memtables) on an empty store. Records are then dropped and counted
// ([Store.Health] says "disk full"), one ERROR is logged, and writing
// resumes by itself once the free space is an eighth above the reserve. Retention, folding and garbage
// collection wait for room too. Opened on a full disk, the store opens
// its directory read-only if Badger closed it cleanly (else an empty
// database in memory: after a crash Badger must truncate its logs before
// reading them) and reopens it for writing once space returns.
//
// The reserve covers what the store and Badger write; if another program
// fills the filesystem to its last block, Badger's flushes and compactions
// still under way can fault. Close, which flushes the memtables, leaves the
// database unflushed instead (as a crash would: the next Open replays its
// logs) when less than half the working space is free. Free space is
// watched on Linux, macOS and FreeBSD; elsewhere only MaxBytes applies.
//
// # Failed writes
//
// Badger cannot go on writing after it failed to create a file: with the
// directory deleted under it, made read-only, or the process out of file
// descriptors, it cannot create its next value-log file or memtable, and
// writes after that fail again and again, or fault (SIGBUS, seen on a
// tmpfs with the directory deleted).
// So the store sends Badger one write at a time, and after one that
// failed for no fault of the write itself it sends none: records are
// dropped and counted, [Store.Health] says "write failed" with Badger's
// error, and one ERROR is logged. Reads are still served by the failed
// database. Every second the store tries to create a file in the
// directory (making it again, empty, if it was deleted); once it can, it
// closes the failed database, opens the directory as Open does and writes
// again. While the failed database closes (a second or more), an empty
// one in memory stands in for it: reads show no records, and Health's
// Detail says so. A directory made again holds none of the records stored
// before, only the tables the failed database flushed into it as it
// closed. If a store was put there meanwhile (a regular file named
// MANIFEST is found once the failed database has closed: its own went
// with the deleted directory), nothing is removed and that store is
// opened (Badger then removes the tables its MANIFEST does not list).
// Otherwise the store removes the regular files under Badger's names
// (tables, logs, MANIFEST-REWRITE, KEYREGISTRY, DISCARD, LOCK) before
// opening it, and leaves, and logs, any other entry: a file under one of
// those names copied in before the failed database closed (a second or
// so after the directory was made), with no MANIFEST beside it by then,
// is not told from the failed database's, and goes. An entry under one of
// Badger's names that is not a regular file makes the open fail: writes
// stay stopped, the open is tried every second until it is taken away,
// Health's Detail says why it failed, and it is logged once for each
// cause (and once when the store writes again). Badger's Close flushes
// the memtables and retries a flush that cannot create its table for
// good, stopping none of its goroutines meanwhile: so Close makes a
// deleted directory again for the flush to land in (clears it once the
// failed database has closed, as above, and removes it if it is empty
// then), and waits at most 5 s for
// the failed database to close; past that (a directory that still cannot
// be written: read-only, or the process out of file descriptors) it
// leaves it as a crash would, its goroutines running: Badger retries the
// flush every second (logged once a minute) until the directory can be
// written, and its goroutines end then. Nothing is lost: the records of
// its memtables are in their logs, replayed by the next Open.
//
// Restore a backup with the service stopped; into the directory of a
// running store whose writes failed, only by renaming a whole directory
// into place at once (copied in full beside it first, on the same file
// system; rename(2) replaces a directory only while it is empty). The
// store tells a store put there from the failed database's flush only by
// whether a MANIFEST is there when it looks, once a second, so a copy
// made file by file is caught half done. Copied MANIFEST first, it is
// opened before its tables and value logs are all there: a table missing
// or partly written makes Open find it damaged and move it aside,
// starting an empty store while the copy goes on into the new store's
// directory; a value log not yet copied whole may lose what it holds.
// Copied tables first, the tables already there are removed as the
// failed database's before the MANIFEST arrives. And a failed database
// that rewrites its MANIFEST as it closes (Badger does after ten
// thousand tables deleted) writes it into the directory made again,
// where it is taken for a store put there: Open finds its tables
// missing, and moves it aside as damaged.
//
// # Damaged directories
//
// Badger mishandles some damage: a truncated table makes it panic in a
// goroutine it starts while opening (no caller can recover that: the
// process dies), a missing or emptied MANIFEST makes it start empty and
// delete the tables, and a damaged entry in the newest value-log file or
// in a write-ahead log makes it cut the log there, silently discarding
// what follows. So Open checks the directory first, in its own goroutine
// and with Badger's own code: ReplayManifestFile for the MANIFEST,
// table.OpenTable and Table.VerifyChecksum for every table it lists
// (recovering their panics), and a read of the logs Badger replays, entry
// by entry with their checksums, looking past a bad entry for valid ones
// (a crash leaves zeros or a torn last entry there, damage does not).
// Opening in a child process, the other way to survive Badger's panics,
// is not open to a library: it would run the host program again. The
// check reads every table (the LSM tree: where each summary and record
// is, and blocks that compress below ValueThreshold) and the newest
// value-log file: 0.14 s for 100k records before blocks (BenchmarkOpen, 2
// cores shared with other work; Open and Close took 0.38 s in all), growing
// with the LSM tree.
//
// A damaged directory is moved aside — renamed DIR.damaged-TIME, or, if
// it cannot be renamed (a mount point), its files moved into
// DIR/damaged-TIME — with one ERROR line naming it, reported by
// [Store.Health], and an empty store starts in DIR. Nothing is deleted,
// but for empty memtable logs (a crash between Badger's creating one and
// sizing it), which Open for writing removes (a read-only Open returns an
// error naming such a log, as Badger cannot open it read-only: open the
// store for writing once). A file under a name Badger opens that is not a
// regular file (a named pipe, a directory, a device, or a link to one) is
// not damage: Open, and Snapshot, return an error naming it. Nor are more
// non-empty memtable logs than Badger ever leaves (NumMemtables+2, at most
// 66): Badger would replay each into a memtable of its own, all on the
// heap at once, so Open returns an error naming them and what to do (more
// than NumMemtables+2 but no more than 66, which a store run with a larger
// NumMemtables leaves, are opened, with a warning), and so does Snapshot,
// before it copies anything. A directory another process holds is
// reported as such ([ErrLocked]) before its logs are counted.
//
// Older value-log files are not read at Open: Badger verifies a value's
// checksum when it reads it. A damaged entry found by a read is skipped and
// counted (once, in [Store.Health]): Get returns an error wrapping both
// [store.ErrNotFound] and [store.ErrCorrupt] (which the dashboard answers
// with 500, naming the record as damaged); List skips the summary (an
// index block whose checksum fails loses List and Get of all its records,
// up to a block's worth, though their full records stay in their blocks);
// Stats and Series count a bucket whose rollup is damaged, or lacks a
// damaged delta, again from finer data — an hour from its minutes, a
// minute from its summaries — so that they keep agreeing with List; and
// so, once a read has found a damaged index block or summary, the minute
// of its records (which its rollups count though List cannot show them):
// the next fold stores its minute and hour rollups as to be counted again,
// so that it stays so after a reopen, before a read finds the damage
// again (a minute whose records were not all persisted, where List shows
// fewer than Stats by design, keeps its rollup and the lost records in
// it). A
// ref into a block that leads to another record, or another record's
// summary, than its key's ID is damaged too.
//
// # Performance
//
// Measured on a 2-core machine shared with other work (go test -bench, see
// bench_test.go). Ingest of 20-call records in batches of 256, every
// record persisted: 3.3–4.6 µs of CPU per record (eight runs at load
// 14–21, the thirtieth round, with the defaults above), all threads,
// GC and compaction included; 7.1–13.5 µs with an s entry per record and
// about 0.2 KB and 2 allocations per record (earlier rounds, before
// these defaults). BenchmarkWrite's peaks start before
// Badger's first memtable flush and end after it, at GOGC=100, with the
// defaults above (the thirtieth round, load 6–21, runs alternated with
// the twenty-ninth round's 4 MiB memtables): peak heap 31.7–37.6 MiB over
// 2.4 M records with every record persisted (eight runs; 39.6–61.8 with
// 4 MiB memtables), 36.2–40.2 MiB over 2.4 M small HTTP records (the
// hello case; 46.9–52.0), 32.4–41.2 MiB over 3 M records of ten routes
// (the mix case; 38.2–48.2) and 20.6–22.5 MiB over 2.4 M records over
// budget (33.0–33.5).
// The heap's growth is Badger's: its memtables (1.3 × MemTableSize each,
// two at once from the moment one is full, up to NumMemtables + 2 while a
// flush is slow) and its table builders' buffers, which it keeps while it
// flushes and compacts (up to 8, each as large as the largest table it
// built, 2 MiB with the defaults). The store's own part (the ring's buffer and index, chunk
// buffers, sketches) stays at about 9 MiB. A record over the storage
// budget costs less CPU than one persisted
// (BenchmarkWrite/over-budget; docs/BENCHMARKS.md has the figures of each
// run), and a List page merges a full ring
// (BenchmarkListRing: about 30,000 small records) in a fraction of a
// millisecond. A Get whose record is not in the block read last
// decompresses its block: about 0.1 ms at load 5–6, against 12–29 µs
// before blocks (BenchmarkGetBlock). Before blocks, with 1M records
// spread over 7 days (681 MB on disk): Get 34 µs, the first List page
// 0.13 ms, Stats over the last hour 7 ms and over 7 days 56 ms, Series
// 1.5 ms and 48 ms, on minute-aligned windows; with 100k records the same
// queries take 29 µs, 0.16 ms, 5 ms, 34 ms, 1.1 ms and 26 ms: rollups
// answer them, and a rollup's sketches stop growing once every latency
// bucket is in use. Where records are a second or more apart (100k over 7
// days), each has an index block of its own, read and decoded apart: the
// first List page took 92–103 µs against 57 µs with an s entry per record
// and a summary block shared by many, Get 38–41 µs against 30–33 (load
// about 2; BenchmarkRead). At 20,000 records a second the first page took
// 49–60 µs against 58–76, Get 29–37 µs against 24–29. A ragged window adds a scan of its edge minutes (for
// Series, of every step's edges: 7 days in hourly steps, 95 ms at 1M). A
// clean Close saves the record count, so Open need not count the records
// (after a crash it counts them again: 3–5 s for 1M); its check of the
// directory reads the LSM tree (see Damaged directories).
//
// # Concurrency
//
// All methods are safe for concurrent use. Reads run on consistent
// snapshots, concurrently with writes. Only one process may open a
// directory for writing; [OpenReadOnly] opens it for reading only when no
// writer has it open (Badger's lock).
//
// Open checks a directory before Badger opens it, under a
// lock of the directory that Badger's own excludes, on every Unix but AIX.
// On AIX, Windows, plan9, js and wasip1 the directory is not locked
// while it is checked: a second Open of a directory a live Store holds,
// in this process or another, may remove that store's empty memtable logs
// (which it is about to write) or move the directory aside as damaged
// before Badger refuses it, with Badger's error rather than [ErrLocked]
// (js and wasip1 have no Badger lock at all). The checks cannot wait for
// Badger's lock: they mend what Badger would mishandle when it opens the
// directory. There, open a directory from one Store of one process only.
package badgerstore
