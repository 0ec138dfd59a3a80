package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/goappstats/appstats/recording"
)

// Sentinel errors, matched with [errors.Is]. Errors a store returns wrap
// them with context.
var (
	// ErrNotFound: no record has that ID.
	ErrNotFound = errors.New("store: record not found")
	// ErrInvalidQuery: a query parameter is out of range or a cursor is malformed.
	ErrInvalidQuery = errors.New("store: invalid query")
	// ErrInvalidCursor: a Query's Cursor is not a Page.Next this kind of
	// store gives (its length or digits are wrong). It wraps
	// ErrInvalidQuery.
	ErrInvalidCursor = fmt.Errorf("%w: malformed cursor", ErrInvalidQuery)
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt: stored bytes cannot be decoded (a damaged or foreign
	// file).
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrNewerVersion: stored bytes were written by a newer release of
	// appstats, in an encoding this one does not read (a fleet sharing
	// one store while it is upgraded one instance at a time). An error
	// that wraps it wraps ErrCorrupt too; upgrading the reader reads it.
	ErrNewerVersion = errors.New("written by a newer version of appstats, which this one cannot read")
	// ErrUnavailable: the store's server (Redis) did not answer, or
	// refused the connection (or, a write's, refused the write: a Redis
	// that is full); the same request may succeed once it is back. The
	// error that wraps it says the server's error.
	ErrUnavailable = errors.New("store: unavailable")
)

// A Store keeps records and answers the dashboard's questions about them.
//
// All methods are safe for concurrent use, readers concurrently with writers.
// Write makes a Store a [recording.Sink]. Close is idempotent; after it,
// methods return [ErrClosed].
//
// Write given a record whose ID is stored already (or twice in one batch)
// replaces it: Get returns the version written last, and List lists the
// ID once, with that version's summary, at its start, whatever start the
// versions have (the conformance suite checks both; redisstore may list
// both summaries while its Write runs). Stats counts either each ID once, as
// written last (memstore), or every version written, a record's rollup
// contribution counted again (badgerstore, redisstore).
type Store interface {
	recording.Sink

	// Get returns the full record with the given ID, or an error wrapping
	// ErrNotFound. Parse an ID from text with [recording.ParseID].
	Get(ctx context.Context, id recording.ID) (*recording.Record, error)

	// List returns summaries, newest first, that match q.
	List(ctx context.Context, q Query) (Page, error)

	// Stats aggregates the records that started within w.
	Stats(ctx context.Context, w Window) (*Stats, error)

	// Series returns one bucket per step across w, oldest first. The step
	// must be positive.
	Series(ctx context.Context, w Window, step time.Duration) ([]Bucket, error)

	// Clear deletes every record and aggregate.
	Clear(ctx context.Context) error

	// Close releases the store.
	Close() error
}

// An ExecTraceStore is a [Store] that also keeps the Go execution traces
// attached to records ([recording.Record.ExecTrace], see
// [recording.WithFlightRecorder]). Traces are large, so it keeps them apart
// from their records: the records Get returns carry the trace's Size,
// Taken and Reason but no Data, and ExecTrace serves the data. It keeps
// traces within a byte cap of its own, dropping the oldest first, and
// drops traces before records when it runs short of space; a record whose
// trace was dropped comes back with no ExecTrace.
type ExecTraceStore interface {
	Store
	// ExecTrace returns the execution trace of the record with the given
	// ID, or an error wrapping ErrNotFound if the record has none (or no
	// longer has one). The returned slice must not be modified.
	ExecTrace(ctx context.Context, id recording.ID) ([]byte, error)
}

// A Query selects records for [Store.List]. Zero fields do not filter.
type Query struct {
	Since, Until time.Time     // start time within [Since, Until)
	Route        string        // exact route
	Instance     string        // exact instance (recording.Record.Instance: host/pid)
	Method       string        // exact HTTP method
	Status       int           // exact status
	StatusClass  int           // 1..5 for 1xx..5xx
	MinDuration  time.Duration // at least this long
	ErrorsOnly   bool          // only failed requests (see recording.Summary.HasError)
	WarningsOnly bool          // only records with warnings (N+1, calls left running)
	Limit        int           // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor       string        // Page.Next of the previous page

	MaxDuration time.Duration // at most this long (0: no bound)
	// TraceID keeps only the records of one trace (zero: any): the
	// requests of the services that stored their records here, linked by
	// W3C trace context.
	TraceID recording.TraceID
	// PathContains keeps only records whose path contains this text,
	// ASCII letters matched without regard to case.
	PathContains string
	// CallService keeps only records that made at least one call of this
	// service ([recording.Call.Service]); with CallMethod, of this service
	// and method.
	CallService string
	CallMethod  string
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Bounded aggregates. Routes and call names come from the application and
// its clients: a router hook that returns raw paths, a gRPC server with an
// unknown-service handler, or an HTTP client calling many URLs could make
// them without end. So a store keeps, in each time bucket it aggregates
// and in each [Stats] answer, at most a fixed number of distinct routes,
// of RPCs (service and method), of route×RPC pairs and of instances, each
// list on its own, and folds the others into one entry named Other:
//
//   - [RouteStats] with Route Other;
//   - [RPCStats] with Service Other and an empty Method;
//   - [RouteRPCStats] with Route and Service Other and an empty Method;
//   - [InstanceStats] with Instance Other.
//
// Totals are kept: the counts and times of every list still add up to the
// window's. The entries kept are those with the most requests or calls;
// an entry's own figures count what was kept under its name, so a key
// folded in some time buckets and kept in others is split between its
// entry and Other. The Requests of the Other RPC entry count a request once
// per folded RPC it made.
const (
	// Other names the entry that keys beyond the maximum fold into.
	Other = "(other)"
	// DefaultMaxKeys is how many distinct routes, RPCs, route×RPC pairs
	// and instances a store keeps per time bucket and per [Stats] list
	// unless configured otherwise (badgerstore.Options.MaxKeys,
	// redisstore.Options.MaxKeys, memstore.WithMaxKeys).
	DefaultMaxKeys = 500
)

// A Page is one page of [Store.List] results.
type Page struct {
	Records []recording.Summary
	Next    string // cursor for the next (older) page; "" at the end
}

// A Window is a time range [Since, Until). A zero Until means now, as the
// store reads it when it answers: badgerstore reads it once it holds its
// snapshot of the records, so that the current minute, which no record of
// the snapshot started after, is read from its running rollup; a window
// with an explicit Until in the current minute has its records of that
// minute decoded one by one when some records started after Until.
// Records start at Unix nanoseconds, which hold 1677 to 2262: the stores
// cut a window to [MinTime, MaxTime], 1677-09-21 02:00 – 2262-04-11 22:00
// UTC (a zero Since is its start), and count a window outside it as empty.
type Window struct {
	Since, Until time.Time
}

// The ends of the windows a store counts in, in Unix nanoseconds: the
// times an int64 holds, less an hour or two at each end, in whole hours,
// so that the minutes and hours a store counts by never overflow.
const (
	nsHour   = int64(time.Hour)
	minNanos = (math.MinInt64/nsHour + 1) * nsHour // 1677-09-21 02:00 UTC
	maxNanos = (math.MaxInt64/nsHour - 1) * nsHour // 2262-04-11 22:00 UTC
)

// MinTime and MaxTime return the ends of the windows a store counts in:
// 1677-09-21 02:00 and 2262-04-11 22:00 UTC. A store cuts a [Window] to
// them; a caller that takes times from people can refuse others, as the
// dashboard does, rather than answer for a window nobody asked for.
func MinTime() time.Time { return time.Unix(0, minNanos) }

// MaxTime: see [MinTime].
func MaxTime() time.Time { return time.Unix(0, maxNanos) }

// Latency holds latency percentiles. A store may estimate them, within
// the relative error it documents (1% for badgerstore's sketches).
type Latency struct {
	P50, P95, P99 time.Duration
}

// RPCStats aggregates one kind of call (service and method).
type RPCStats struct {
	Service  string
	Method   string
	Count    int64 // calls
	Errors   int64 // calls with an error
	Requests int64 // records that made at least one such call
	Total    time.Duration
	Mean     time.Duration
	Cost     float64 // the calls' total cost (see recording.CostModel)
	Latency
}

// RouteStats aggregates the requests of one route.
type RouteStats struct {
	Route    string
	Requests int64
	// Stored counts the requests whose full record the store keeps
	// (persisted; Get and List find them): equal to Requests in a store
	// that keeps every record it counts, fewer in one with a storage
	// budget (badgerstore.Options.RecordBudget), which counts every
	// request in these figures but persists only some records in full.
	// Readers take a zero Stored with Requests above zero as every
	// request stored: a store that does not fill the field keeps all.
	Stored int64
	Errors int64
	Calls  int64 // calls made by these requests
	Total  time.Duration
	Mean   time.Duration
	Cost   float64 // the total cost of their calls (see recording.CostModel)
	Latency
}

// InstanceStats aggregates the requests recorded by one instance (a process
// of the service, [recording.Record.Instance]), so that a dashboard over a
// fleet's shared store can compare them.
type InstanceStats struct {
	Instance string
	Requests int64
	Errors   int64
	Calls    int64 // calls made by these requests
	Total    time.Duration
	Mean     time.Duration
	Latency
}

// RouteRPCStats aggregates one kind of call made by one route's requests.
type RouteRPCStats struct {
	Route string
	RPCStats
}

// Stats is what [Store.Stats] returns. Each list is sorted by Total,
// largest first, and holds at most the store's maximum of distinct keys
// ([DefaultMaxKeys] unless configured) plus one [Other] entry.
type Stats struct {
	Window    Window
	Requests  int64
	Errors    int64
	RPCs      []RPCStats
	Routes    []RouteStats
	RouteRPCs []RouteRPCStats
	Instances []InstanceStats
	// Histogram counts request durations in buckets of increasing upper
	// bounds; the last bucket, with Le = 0, counts everything slower. The
	// stores of this module use the same bounds, 1 ms to 10 s in 1-2-5
	// steps, for every window, empty ones included.
	Histogram []HistogramBucket
}

// A HistogramBucket counts requests with Le(previous) < duration <= Le; Le
// = 0 marks the last bucket, which has no upper bound.
type HistogramBucket struct {
	Le    time.Duration
	Count int64
}

// A Bucket is one step of [Store.Series].
type Bucket struct {
	Start    time.Time
	Requests int64
	Errors   int64
	Calls    int64
	Latency
}

// A HealthReporter is a [Store] that can tell an operator what keeps it from
// working normally — a full disk, a damaged directory it moved aside,
// records it dropped or could not read. The dashboard shows it, and
// api/health returns it, when the store implements it.
type HealthReporter interface {
	// Health returns the store's condition now. It must be cheap (no I/O)
	// and safe for concurrent use.
	Health() Health
}

// Store states, for [Health.State].
const (
	// StateOK: the store keeps what it is given.
	StateOK = "ok"
	// StateDiskFull: the filesystem is too full to write safely, so records
	// are dropped (and counted) until space returns.
	StateDiskFull = "disk full"
	// StateUnavailable: the server the store keeps its records in is
	// unreachable, slow or failing, so records are dropped (and counted)
	// until it answers again.
	StateUnavailable = "unavailable"
	// StateWriteFailed: writing to the store's files failed (its directory
	// deleted or made read-only, the process out of file descriptors), so
	// records are dropped (and counted) until the store can write again.
	StateWriteFailed = "write failed"
	// StateReadOnly: the store was opened for reading only.
	StateReadOnly = "read-only"
	// StateClosed: the store has been closed.
	StateClosed = "closed"
)

// Health is a store's condition, as [HealthReporter] reports it.
type Health struct {
	// State is StateOK or another of the State constants.
	State string
	// Detail explains State in a sentence for an operator; empty when
	// there is nothing to say.
	Detail string
	// Dropped counts records the store was given but did not keep since it
	// was opened: written while the disk was full, after writing failed,
	// or while the store was over its size limit, or too large to store.
	Dropped uint64
	// OverBudget counts records the store counted in its aggregates but
	// did not persist in full since it was opened, being over its storage
	// budget (badgerstore.Options.RecordBudget); unlike Dropped, they are
	// in Stats and Series. Zero for a store that persists every record.
	OverBudget uint64
	// Skipped counts stored entries that could not be read since the store
	// was opened (damaged bytes): they are left out of answers.
	Skipped uint64
	// MovedAside names the directory a damaged store was moved to when
	// this one was opened; empty if none was.
	MovedAside string
	// DiskBytes is the space the store's files take on disk, DiskFree the
	// space left on their filesystem (-1: unknown), and MaxBytes the limit
	// the store keeps its records to (0: none).
	DiskBytes, DiskFree, MaxBytes int64
}
