package badgerstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/goappstats/appstats/store"
)

// Options configures a [Store]. The zero value is ready to use: every zero
// field takes the default documented on it, tuned for an embedded profiler
// on a laptop or a small server (tens of MiB of heap; the rest of Badger's
// memory is memory-mapped files the kernel can reclaim).
type Options struct {
	// Retention. The background loop enforces them every RetentionInterval;
	// [Store.EnforceRetention] enforces them now.

	// MaxAge is how long records are kept. Default 7 days; negative: forever.
	MaxAge time.Duration
	// MaxRecords caps the number of records; the oldest go first.
	// Default 1,000,000; negative: no cap.
	MaxRecords int64
	// MaxBytes caps the store's size. Retention deletes the oldest records
	// until their stored size (keys and encoded values, those in the LSM
	// tree counted twice, and each record's share of its compressed block:
	// see [Store.Size]) is within MaxBytes, and until the directory,
	// Badger's own files included, is within MaxBytes too (records are not
	// cut below half of MaxBytes for that).
	// Past MaxBytes a retention pass starts at once, not at the next
	// RetentionInterval (unless that is negative), and at every moment the
	// directory stays within MaxBytes + [Options.DiskSlack]: Write drops
	// (and counts) records rather than go beyond. A store whose LSM tree
	// is most of its directory (records whose blocks compress below
	// ValueThreshold) holds less than MaxBytes, since Write keeps room
	// for a compaction to rewrite the tree (see DiskSlack). Default 1
	// GiB; negative: no cap; at most 2⁶² bytes (4 EiB), a larger value
	// (math.MaxInt64, say) is taken as that, and Open logs a warning
	// through Logger.
	MaxBytes int64
	// MaxKeys is how many distinct routes, RPCs (service and method) and
	// route×RPC pairs the per-minute and per-hour rollups, and each list of
	// a Stats answer, keep; the others are folded into one [store.Other]
	// entry (see [store.DefaultMaxKeys]), so that routes or call names
	// without end cannot grow the rollups or the dashboard without end.
	// Default [store.DefaultMaxKeys] (500); negative: no cap.
	MaxKeys int
	// MaxTraceBytes caps the stored size of the execution traces attached
	// to records (see [recording.WithFlightRecorder]), counted in MaxBytes
	// too: retention deletes the oldest traces (not their records) past
	// it, and deletes traces before any record when the store is over
	// MaxBytes; Write stores a trace only while the directory is within
	// MaxBytes, so traces are refused long before records. A trace larger
	// than the cap, or than a value-log file, is not stored. A snapshot
	// that several records share (see recording.ExecTrace.Snapshot) is
	// stored and counted once. Default
	// MaxBytes/8 (128 MiB by default; 256 MiB when MaxBytes is negative);
	// negative: no traces.
	MaxTraceBytes int64
	// RecordBudget is how many full records of each route the store
	// persists per second (of the records' start). Every record is
	// counted in the rollups, so Stats and Series count every request;
	// beyond the budget a record is persisted only if it failed
	// ([recording.Summary.HasError]) or is slower than every record of its
	// route persisted so far in that second, so each second keeps its
	// errors and its slowest as they come. Records not persisted are
	// counted in [store.Health]'s OverBudget, and each route's
	// [store.RouteStats] Stored says how many of its requests were
	// persisted. Routes beyond MaxKeys share the budget of [store.Other].
	// A record over budget costs a small fraction of one persisted (see
	// docs/BENCHMARKS.md). Default [DefaultRecordBudget] (20); negative:
	// persist every record.
	RecordBudget int
	// RingBytes bounds the memory that holds the most recent records not
	// persisted (over RecordBudget), encoded, so that Get and List still
	// find them while they are recent: the oldest go first when a new one
	// needs room. The ring is memory only: Close and Clear empty it, and
	// a record held only there is gone after a restart (the rollups still
	// count it). It counts toward the store's heap, as do the stacks of
	// its records, kept once each beside it (at most 16,384 frames, 640
	// KiB, in a table; a table no record refers to any longer goes), the
	// strings its records refer to (at most 4,096, 64 KiB, a table).
	// RingBytes bounds the buffer of records and its index together: the
	// index, 48 bytes a record held, holds at most one entry for each 176
	// bytes (27% of RingBytes, as it fills; the ring's oldest record goes
	// when it is full), and the buffer takes the rest, so a hello
	// handler's records (96–160 bytes each) fill both about together.
	// Default [DefaultRingBytes] (4 MiB: 23,831 records at most, 1.1 MiB
	// of index, 2.9 MiB of buffer: about 1,000 20-call records);
	// negative: none; at most 1 GiB (the buffer is allocated whole, at
	// the first record over budget; while the index grows, the array it
	// outgrew is garbage, at most half the index's bound more).
	RingBytes int64
	// RetentionInterval is how often retention and value-log garbage
	// collection run in the background. Default 1 minute; negative: never
	// (call EnforceRetention yourself).
	RetentionInterval time.Duration

	// Durability.

	// SyncWrites makes every Write wait for an fsync (Badger's SyncWrites):
	// nothing acknowledged is lost even to a power failure, at a large cost
	// in write speed. Off by default: a process crash (kill -9) loses
	// nothing that Write acknowledged, since Badger's write-ahead log is in
	// the kernel's page cache, and SyncInterval bounds what a power failure
	// can lose.
	SyncWrites bool
	// SyncInterval is how often the store fsyncs its files when SyncWrites
	// is off. Default 1 second; negative: never (the kernel writes back on
	// its own schedule).
	SyncInterval time.Duration
	// FoldInterval is how often per-write rollup deltas are folded into the
	// per-minute and per-hour rollups. Reads always include unfolded deltas
	// (kept decoded in memory), so folding less often only costs memory and
	// replay time at Open, and saves rewriting rollups. Default 10 seconds;
	// negative: only when 1024 deltas are pending, and on Close.
	FoldInterval time.Duration

	// Badger memory and files (see [badger.Options] for details).

	// MemTableSize is the size of each memtable. Default 1.75 MiB (Badger:
	// 64 MiB); at most 1 GiB. Badger allocates each memtable whole on the Go
	// heap (an arena of 1.3 × MemTableSize), and while it flushes a full one
	// it holds that, the next one and the level-0 table builder's buffers
	// (see BaseTableSize) at once; the builders' buffers then stay in a pool
	// of up to eight that compactions draw on too, each as large as the
	// largest table built through it, for as long as tables are built at
	// least every two seconds. The default's level-0 table (1.25–1.75 MB of
	// blocks in BenchmarkWrite's cases) fits a builder's first buffer with
	// the default 1 MiB tables (2 MiB), so no builder's buffers grow past
	// that. With 4 MiB memtables (the default in the twenty-ninth round) a
	// flush's builder grew to 6 MiB and compactions kept such builders:
	// BenchmarkWrite's peak heap over 2.4 M records, every record persisted,
	// was 38.6–65.6 MiB in eighteen runs (two over 64); with 1.75 MiB
	// 31.7–37.6 in eight, and lower in the other cases too, at about the
	// same CPU per record (see "thirtieth round" in
	// docs/BENCHMARKS-history-2.md).
	// With records in blocks, the LSM tree holds most of what Write writes
	// (summaries and where each record is). The memtables' logs are part of
	// the working space (see Disk space in the package documentation). A
	// directory left with memtable logs written with larger memtables (a
	// crash under a larger setting, or under an earlier default: 8 MiB, then
	// 4 MiB) is opened with memtables of their size, which is logged (at
	// info level up to 8 MiB, as a warning above): Badger would otherwise
	// exit the process replaying them.
	MemTableSize int64
	// NumMemtables is how many full memtables may wait for their flush
	// before writes wait. Default 2 (Badger: 5); at most 64. Badger starts
	// the next memtable as soon as one is full, so a flush holds two
	// whatever this is; more are held only while flushes lag behind. A
	// crash leaves up to NumMemtables+2 memtable logs, each replayed into
	// a memtable at the next Open; Open logs a warning when it finds more,
	// and refuses more than 66 (see Damaged directories in the package documentation).
	NumMemtables int
	// BlockCacheSize is the block cache size. Default: none when the
	// tables are not compressed (Badger then reads blocks from its
	// memory-mapped tables, and a cache only adds work), 8 MiB with
	// Compress (Badger: 256 MiB); at most 64 GiB.
	BlockCacheSize int64
	// IndexCacheSize is the index cache size. Default none (as Badger's);
	// at most 64 GiB. Badger consults its index cache only for encrypted
	// tables, which the store does not write: an unencrypted table's index
	// (block offsets, bloom filter) is read in place from the table's
	// memory-mapped file, with or without a cache, and is not on the Go
	// heap. A positive size therefore only starts a cache that holds
	// nothing — ristretto's buffers, counters and goroutine, which the
	// garbage collector marks every cycle (see "twenty-eighth round" in
	// docs/BENCHMARKS-history-2.md). Were the store ever to encrypt its
	// tables, it would need one: Badger refuses encrypted tables without it.
	IndexCacheSize int64
	// BaseTableSize is the size of level-1 tables. Default 1 MiB (Badger:
	// 2 MiB); at least 64 KiB. Badger's table builder starts with a buffer
	// of 2 × BaseTableSize rounded up to a power of two (so a size that is
	// not a power of two costs up to twice as much: 1.125 MiB tables take
	// 4 MiB buffers) and adds a buffer twice the last when a table
	// outgrows it; the level-0 table a flush builds holds a whole memtable,
	// so this also sets what a flush holds beside the memtables: 2 MiB with
	// the defaults (a 1.75 MiB memtable's table fits the first buffer),
	// where 4 MiB memtables made it 2 + 4 MiB, and 8 MiB memtables with
	// 2 MiB tables 4 + 8 MiB.
	BaseTableSize int64
	// ValueLogFileSize is the size of each value-log file; garbage
	// collection reclaims space a file at a time. Default MaxBytes/16
	// within [1 MiB, 64 MiB] (Badger: 1 GiB), so that space comes back in
	// steps small against MaxBytes; at least 1 MiB. A record larger than
	// this cannot be stored.
	ValueLogFileSize int64
	// ValueThreshold: values at least this large go to the value log,
	// smaller ones stay in the LSM tree. Default 1 KiB, so summaries stay in
	// the tree and full records go to the log. At least 21 (a smaller positive
	// one is taken as 21, with a warning: below it, Badger's transaction markers,
	// up to 20 bytes, would go to the value log too, and its recovery after
	// a crash drops every transaction since the last memtable flush when
	// one has). At most 15% of MemTableSize
	// (Badger's largest batch: 268 KiB with the default 1.75 MiB) and 1
	// MiB; with MemTableSize left at its default, a larger ValueThreshold
	// raises the memtables to fit it (6.67 MiB for 1 MiB).
	ValueThreshold int64
	// NumCompactors is the number of compaction goroutines. Default 2
	// (Badger's minimum); at most 64.
	NumCompactors int

	// Compress compresses the LSM tree's tables (Snappy), which hold the
	// summaries: less disk, but compactions then hold about twice as much
	// heap (measured: live heap while ingesting 27 MiB without, 63 MiB
	// with). Off by default. Full records, in the value log, are never
	// compressed.
	Compress bool

	// ReadOnly opens the directory read-only (see [OpenReadOnly]).
	ReadOnly bool

	// Logger receives the store's warnings (corrupt entries skipped,
	// background failures) and Badger's own log lines, at their levels.
	// Nil means silent.
	Logger *slog.Logger

	// statfs, when set, replaces the filesystem's free-space query (tests).
	statfs func(dir string) (int64, error)
	// now, when set, replaces time.Now for retention: its age cutoff, and
	// the background loop's spacing and backoff of passes (tests).
	now func() time.Time
	// after, when set, replaces time.After for the retention loop's wait
	// of minRetentionGap between passes (tests).
	after func(d time.Duration) <-chan time.Time
	// retained, when set, is called by the retention loop after it
	// handled a tick or an ask for a pass, with the time it read then,
	// whether it ran a pass (false: the ask was skipped) and how many
	// passes it has run (tests).
	retained func(at time.Time, ran bool, passes int64)
}

// DiskSlack is how far beyond MaxBytes the store's directory may grow at
// any moment: an eighth of MaxBytes plus two value-log files, 256 MiB with
// the defaults (1 GiB, 64 MiB files); zero when MaxBytes is negative. Space
// comes back late and in steps: deleted records free theirs only when
// Badger has compacted its tables and collected its value log, a file at a
// time, and both write their new files before deleting the old. So Write
// drops records past MaxBytes + DiskSlack/2 (until retention catches up),
// and earlier when the directory would leave too little room within
// MaxBytes + DiskSlack for what Badger may write before deleting on its
// own: new tables for up to the whole LSM tree (two compactions run at
// once, each on tables of its own, and as records are written at the
// newest keys and deleted at the oldest, a level-0 table spans the tree
// and a compaction from it rewrites every table of the next level it
// overlaps), a level-0 table for each memtable's log, and one value-log
// file's live entries; retention deletes records to keep that within
// MaxBytes + DiskSlack/2. The larger the tree, the less of MaxBytes the
// store fills: with records that stay in the tree (blocks compressed
// below ValueThreshold), about 40 of 64 MiB.
func (o Options) DiskSlack() int64 {
	o, err := o.withDefaults()
	if err != nil || o.MaxBytes <= 0 {
		return 0
	}
	return o.MaxBytes/8 + 2*o.ValueLogFileSize
}

// maxRingBytes bounds Options.RingBytes: the ring's buffer is one
// allocation, which must not take the host's memory.
const maxRingBytes = 1 << 30

// maxMaxBytes bounds Options.MaxBytes: MaxBytes plus its DiskSlack
// (under a ninth more) must fit in an int64.
const maxMaxBytes = 1 << 62

// The largest NumMemtables and NumCompactors, and the largest
// BlockCacheSize and IndexCacheSize.
const (
	maxBadgerCount = 64
	maxCacheSize   = 64 << 30
)

// Defaults.
const (
	DefaultMaxAge            = 7 * 24 * time.Hour
	DefaultMaxRecords        = 1_000_000
	DefaultMaxBytes          = 1 << 30
	DefaultRetentionInterval = time.Minute
	DefaultSyncInterval      = time.Second
	DefaultFoldInterval      = 10 * time.Second
)

// Badger's sizes by default (see Options.MemTableSize and
// Options.BaseTableSize): what a memtable flush holds on the heap. The
// level-0 table of a memtable of defaultMemTableSize fits in a table
// builder's first buffer, 2 × defaultBaseTableSize (a power of two).
const (
	defaultMemTableSize  = 1792 << 10
	defaultBaseTableSize = 1 << 20
)

// numLevelZeroTables is how many level-0 tables (one a flushed memtable)
// start a compaction into the next level (Badger's NumLevelZeroTables;
// Badger: 5). Each compaction holds its table builders on the heap (up to
// five key ranges at once, 2 × BaseTableSize each, kept in Badger's pool
// for reuse), so the fewer compactions, the fewer of them overlap a
// flush: 3 rather than 2 took BenchmarkWrite's mix case over 2 M records
// from 55.6–61.9 MiB of peak heap to 37.3–45.2 in four runs each, at the
// same CPU per record; over 4 M records it did not help (Badger's pool
// keeps the builders once several compactions have run; see
// "twenty-ninth round", i29-compact, in docs/BENCHMARKS-history-2.md). Writes
// stall at numLevelZeroTablesStall.
const (
	numLevelZeroTables      = 3
	numLevelZeroTablesStall = 8
)

func (o Options) withDefaults() (Options, error) {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defDur(&o.MaxAge, DefaultMaxAge)
	def(&o.MaxRecords, DefaultMaxRecords)
	def(&o.MaxBytes, DefaultMaxBytes)
	// MaxBytes and its slack, summed, must fit in an int64: from
	// math.MaxInt64 the size limit wrapped around to a negative one, and
	// Write dropped every record.
	o.MaxBytes = min(o.MaxBytes, maxMaxBytes)
	if o.MaxBytes > 0 {
		def(&o.MaxTraceBytes, o.MaxBytes/8)
	}
	def(&o.MaxTraceBytes, 256<<20)
	def(&o.RingBytes, DefaultRingBytes)
	if o.RecordBudget == 0 {
		o.RecordBudget = DefaultRecordBudget
	}
	switch {
	case o.MaxKeys == 0:
		o.MaxKeys = store.DefaultMaxKeys
	case o.MaxKeys < 0:
		o.MaxKeys = 0 // no cap, as codec.NewBoundedRollup reads it
	}
	defDur(&o.RetentionInterval, DefaultRetentionInterval)
	defDur(&o.SyncInterval, DefaultSyncInterval)
	defDur(&o.FoldInterval, DefaultFoldInterval)
	if o.MemTableSize == 0 {
		// Memtables the ValueThreshold fits (Badger's largest batch is 15%
		// of a memtable): a threshold the earlier defaults took (up to 614
		// KiB with 4 MiB memtables) still opens.
		o.MemTableSize = max(defaultMemTableSize, memTableForThreshold(o.ValueThreshold))
	}
	if o.NumMemtables == 0 {
		o.NumMemtables = 2
	}
	if o.Compress {
		def(&o.BlockCacheSize, 8<<20)
	}
	def(&o.BaseTableSize, defaultBaseTableSize)
	vlog := int64(64 << 20)
	if o.MaxBytes > 0 {
		vlog = min(max(o.MaxBytes/16, 1<<20), vlog)
	}
	def(&o.ValueLogFileSize, vlog)
	def(&o.ValueThreshold, 1<<10)
	if 0 < o.ValueThreshold && o.ValueThreshold < minValueThreshold {
		o.ValueThreshold = minValueThreshold // logged by Open
	}
	if o.NumCompactors == 0 {
		o.NumCompactors = 2
	}
	// The upper bounds of Badger's sizes and counts: Badger allocates a
	// memtable, and its caches' counters, whole, and starts a goroutine a
	// compactor, so a value past them (math.MaxInt64, 2⁴⁰) made Open panic,
	// die out of memory, or not return.
	switch {
	case o.MemTableSize < 1<<20 || o.MemTableSize > maxMemTableSize:
		return o, fmt.Errorf("badgerstore: MemTableSize %d outside [1 MiB, 1 GiB]", o.MemTableSize)
	case o.NumMemtables < 1 || o.NumMemtables > maxBadgerCount:
		return o, fmt.Errorf("badgerstore: NumMemtables %d outside [1, %d]", o.NumMemtables, maxBadgerCount)
	case o.BlockCacheSize < 0 || o.BlockCacheSize > maxCacheSize:
		return o, fmt.Errorf("badgerstore: BlockCacheSize %d outside [0, 64 GiB]", o.BlockCacheSize)
	case o.IndexCacheSize < 0 || o.IndexCacheSize > maxCacheSize:
		return o, fmt.Errorf("badgerstore: IndexCacheSize %d outside [0, 64 GiB]", o.IndexCacheSize)
	case o.BaseTableSize < 64<<10:
		return o, fmt.Errorf("badgerstore: BaseTableSize %d below 64 KiB", o.BaseTableSize)
	case o.ValueLogFileSize < 1<<20 || o.ValueLogFileSize >= 2<<30:
		return o, fmt.Errorf("badgerstore: ValueLogFileSize %d outside [1 MiB, 2 GiB)", o.ValueLogFileSize)
	case o.ValueThreshold < minValueThreshold || o.ValueThreshold > maxValueThreshold(o.MemTableSize):
		return o, fmt.Errorf("badgerstore: ValueThreshold %d outside [%d, %d]: at most 15%% of MemTableSize (%d), and 1 MiB",
			o.ValueThreshold, minValueThreshold, maxValueThreshold(o.MemTableSize), o.MemTableSize)
	case o.NumCompactors < 2 || o.NumCompactors > maxBadgerCount:
		return o, fmt.Errorf("badgerstore: NumCompactors %d outside [2, %d]", o.NumCompactors, maxBadgerCount)
	case o.RingBytes > maxRingBytes:
		return o, fmt.Errorf("badgerstore: RingBytes %d over 1 GiB", o.RingBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// minValueThreshold is the smallest ValueThreshold a store opens with (a
// smaller positive one is taken as this, with a warning): one more than
// the longest commit timestamp in decimal (20 digits). Badger ends each
// transaction with a marker whose value is its commit timestamp in
// decimal, and a marker that long or longer goes to the value log like
// any value, leaving a pointer in the write-ahead log where the marker
// was. Replaying the log after a crash, Badger parses that pointer as the
// timestamp, fails, and takes it for the log's end: every transaction
// since the last memtable flush was dropped.
const minValueThreshold = 21

// maxValueThreshold is the largest ValueThreshold Badger opens with for
// memtables of memTableSize: its largest batch (15% of a memtable), and 1
// MiB. (Past it Badger's Open fails, advising a larger BaseTableSize.)
func maxValueThreshold(memTableSize int64) int64 {
	return min(memTableSize*15/100, 1<<20)
}

// memTableForThreshold is the smallest memtable size whose
// maxValueThreshold is at least v, for v in (0, 1 MiB]; 0 otherwise.
func memTableForThreshold(v int64) int64 {
	if v <= 0 || v > 1<<20 {
		return 0
	}
	return (v*100 + 14) / 15
}

func (o Options) badger(dir string) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(o.NumMemtables).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(o.IndexCacheSize).
		WithBaseTableSize(o.BaseTableSize).
		WithNumLevelZeroTables(numLevelZeroTables).
		WithNumLevelZeroTablesStall(numLevelZeroTablesStall).
		WithValueLogFileSize(o.ValueLogFileSize).
		WithValueThreshold(o.ValueThreshold).
		WithNumCompactors(o.NumCompactors).
		WithNumGoroutines(2).
		WithDetectConflicts(false).
		WithSyncWrites(o.SyncWrites).
		WithReadOnly(o.ReadOnly).
		WithMetricsEnabled(false).
		WithVerifyValueChecksum(true).
		WithLogger(slogAdapter{o.Logger, &retryLog{}}).
		WithCompression(options.None)
	if o.Compress {
		bo = bo.WithCompression(options.Snappy)
	}
	return bo
}

// slogAdapter routes Badger's log lines to a [slog.Logger].
type slogAdapter struct {
	l       *slog.Logger
	retries *retryLog // the database's flush retries
}

func (a slogAdapter) log(level slog.Level, format string, args []any, attrs ...any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)), append(attrs, "component", "badger")...)
}

// flushRetry is Badger's line for a memtable flush that failed, which it
// retries every second for good (the directory deleted, read-only, or
// full), after the store's Close too (see closeFailed).
const flushRetry = "error flushing memtable to disk: %v, retrying"

// retryInterval is how often a database's failed flush retries are logged.
const retryInterval = time.Minute

// A retryLog lets one of a database's failed flush retries through to
// the log a retryInterval, counting the others.
type retryLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// pass reports whether a retry is logged now, and how many were not
// since the last that was.
func (r *retryLog) pass() (ok bool, suppressed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); r.last.IsZero() || now.Sub(r.last) >= retryInterval {
		r.last, suppressed, r.suppressed = now, r.suppressed, 0
		return true, suppressed
	}
	r.suppressed++
	return false, 0
}

// Errorf logs at error level, Badger's failed flush retries at most once
// a retryInterval.
func (a slogAdapter) Errorf(f string, v ...any) {
	if f == flushRetry && a.retries != nil {
		ok, n := a.retries.pass()
		if !ok {
			return
		}
		a.log(slog.LevelError, f, v, "retries_not_logged", n, "retried", "every second; logged once a minute")
		return
	}
	a.log(slog.LevelError, f, v)
}

// Warningf logs at warn level, except Badger's advice about its caches
// ("Block cache might be too small", with the cache's metrics over several
// lines, then its life expectancy), which it repeats every minute while
// reads miss the cache: the store's caches are small on purpose.
func (a slogAdapter) Warningf(f string, v ...any) {
	level := slog.LevelWarn
	if strings.Contains(f, "might be too small") || strings.HasPrefix(f, "Cache life expectancy") {
		level = slog.LevelDebug
	}
	a.log(level, f, v)
}

// Badger narrates opening, compactions and flushes at info level; for an
// embedded profiler that is debug detail.
func (a slogAdapter) Infof(f string, v ...any)  { a.log(slog.LevelDebug, f, v) }
func (a slogAdapter) Debugf(f string, v ...any) { a.log(slog.LevelDebug, f, v) }
