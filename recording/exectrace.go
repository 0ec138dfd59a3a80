package recording

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime/trace"
	"time"
)

// An ExecTrace is a Go execution trace attached to a record: a snapshot of
// the runtime's flight recorder ([runtime/trace.FlightRecorder]) taken when
// a slow request ended, which `go tool trace` opens. It shows what every
// goroutine, the scheduler and the garbage collector did in the seconds
// before the snapshot, so it holds the slow request's last seconds at
// least (see [FlightRecording.MinAge]).
type ExecTrace struct {
	// Data is the trace, in the format of [runtime/trace]. A store that
	// keeps traces apart from records (see store.ExecTraceStore) leaves it
	// nil in the records it returns and serves it on its own.
	Data []byte
	// Size is the trace's length in bytes.
	Size int64
	// Taken is when the snapshot was taken.
	Taken time.Time
	// Reason says why the request was traced, e.g. "1.2s, over the
	// route's p99 of 412ms".
	Reason string
	// Snapshot identifies the snapshot: the records of slow requests that
	// ended within one batch share one snapshot (the same Data), and carry
	// the same Snapshot, the ID of the first of them. A store keeps a
	// snapshot once however many records refer to it, until the last of
	// them goes or its own cap drops it. The zero ID means the trace is its
	// record's own (as in records stored before the field existed).
	Snapshot ID
}

// SnapshotOf returns the ID under which a store keeps the trace of the
// record id: t.Snapshot, or id when t has none.
func (t *ExecTrace) SnapshotOf(id ID) ID {
	if t.Snapshot.IsZero() {
		return id
	}
	return t.Snapshot
}

// FlightRecording configures execution traces of slow requests (see
// [WithFlightRecorder]). A request is slow when it took longer than its
// route's entry in Routes, or else than Threshold, or — with RouteP99 —
// than its route's 99th percentile. The zero value traces nothing: the
// flight recorder is started only when one of Threshold, Routes or
// RouteP99 is set.
type FlightRecording struct {
	// Threshold is the duration past which any request is slow, unless its
	// route has an entry in Routes. Zero: no threshold for all routes.
	Threshold time.Duration
	// Routes sets a threshold per route ([Record.Route], e.g.
	// "GET /users/{id}"); it takes precedence over Threshold and RouteP99.
	Routes map[string]time.Duration
	// RouteP99 makes a request slow when it took longer than the 99th
	// percentile of its route's recent requests (the last one to two
	// minutes, as the recorder saw them, within 8%), once the route has
	// had MinRequests of them; a route with a Routes entry uses that
	// instead. With Threshold set too, a request is slow past either.
	RouteP99 bool
	// MinRequests is how many recent requests a route needs before its
	// p99 counts (default 100).
	MinRequests int

	// PerMinute caps the snapshots taken in any minute (default 2): each
	// costs a copy of the flight recorder's window, and a store keeps
	// every one. Slow requests past the cap get no trace; they are
	// counted in [Stats.ExecTracesLimited]. Several slow requests that
	// end within the same batch share one snapshot.
	PerMinute int
	// MinAge is how much execution history the flight recorder keeps at
	// least, so how far back before the snapshot a trace reaches (default
	// 5 s; see [runtime/trace.FlightRecorderConfig]). MaxBytes takes
	// precedence.
	MinAge time.Duration
	// MaxBytes bounds the flight recorder's window (default 8 MiB), a
	// hint to the runtime; a snapshot of more than twice as much is
	// discarded.
	MaxBytes uint64
}

// Defaults of [FlightRecording].
const (
	DefaultFlightMinRequests = 100
	DefaultFlightPerMinute   = 2
	DefaultFlightMinAge      = 5 * time.Second
	DefaultFlightMaxBytes    = 8 << 20
)

// on reports whether f asks for traces at all.
func (f *FlightRecording) on() bool {
	return f.Threshold > 0 || len(f.Routes) > 0 || f.RouteP99
}

// WithFlightRecorder attaches execution traces to the records of slow
// requests: the recorder runs the Go runtime's flight recorder, which
// keeps the last seconds of execution trace in memory, and when a request
// ends slower than f says, snapshots it and attaches the snapshot to the
// request's record ([Record.ExecTrace]). Off by default.
//
// The decision and the snapshot are made by the recorder's background
// goroutine, off the request path; the cost on the request path is the
// runtime's own cost of tracing while the flight recorder runs: on a
// hello handler, a median 7.5 µs of CPU a request, +11%, for Go's tracer
// alone, and 11 µs with the recorder's part (see "Costs and execution
// traces" in the package documentation, and docs/BENCHMARKS-history.md). A
// snapshot copies the window (a few MiB) at most PerMinute times a
// minute; the recorder keeps no buffer between snapshots. Only one
// flight recorder can run in a process: if another already runs (a
// second Recorder with this option, or the application's own), the
// recorder logs it and takes no traces. The flight recorder stops when
// the recorder is closed.
//
// Traces are large (up to MaxBytes, 8 MiB by default): they are bounded
// by PerMinute here, by the recorder's queue bytes ([WithQueueBytes]) on
// their way to the sinks, and in a store by its own cap on trace bytes,
// and a store drops traces before records when its space runs short.
func WithFlightRecorder(f FlightRecording) Option {
	return optionFunc(func(c *config) {
		if !f.on() {
			c.flight = nil
			return
		}
		if f.MinRequests <= 0 {
			f.MinRequests = DefaultFlightMinRequests
		}
		if f.PerMinute <= 0 {
			f.PerMinute = DefaultFlightPerMinute
		}
		if f.MinAge <= 0 {
			f.MinAge = DefaultFlightMinAge
		}
		if f.MaxBytes == 0 {
			f.MaxBytes = DefaultFlightMaxBytes
		}
		routes := make(map[string]time.Duration, len(f.Routes))
		for k, v := range f.Routes {
			if v > 0 {
				routes[k] = v
			}
		}
		f.Routes = routes
		c.flight = &f
	})
}

// flight is a recorder's flight recorder and what decides which records
// get a snapshot of it. Only the preparer goroutine uses it, but for
// start and stop.
type flight struct {
	cfg   FlightRecording
	fr    *trace.FlightRecorder
	lat   map[string]*routeLatency // recent request durations per route, for RouteP99
	taken []time.Time              // when the snapshots of the last minute were taken
	// last is the last snapshot's size: the next one is written into a
	// buffer made a little larger, which its records then hold without a
	// copy when it fits (see snapshot). The flight keeps no buffer between
	// snapshots.
	last int64
}

// maxLatencyRoutes bounds the routes whose latency a flight recorder
// follows for RouteP99; others are judged by the thresholds alone.
const maxLatencyRoutes = 1000

// startFlight starts the runtime's flight recorder for cfg, or returns an
// error saying why it could not.
func startFlight(cfg *FlightRecording) (*flight, error) {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: cfg.MinAge, MaxBytes: cfg.MaxBytes})
	if err := fr.Start(); err != nil {
		return nil, fmt.Errorf("recorder: flight recorder not started: %w", err)
	}
	f := &flight{cfg: *cfg, fr: fr}
	if cfg.RouteP99 {
		f.lat = make(map[string]*routeLatency)
	}
	return f, nil
}

// stop stops the flight recorder.
func (f *flight) stop() {
	if f != nil {
		f.fr.Stop()
	}
}

// slow returns why rec counts as slow, or "" if it does not; it also
// counts rec's duration in its route's latency.
func (f *flight) slow(rec *Record, now time.Time) string {
	d := rec.Duration
	if t, ok := f.cfg.Routes[rec.Route]; ok {
		if d > t {
			return fmt.Sprintf("%v, over the route's threshold of %v", roundDur(d), t)
		}
		return ""
	}
	var why string
	if t := f.cfg.Threshold; t > 0 && d > t {
		why = fmt.Sprintf("%v, over the threshold of %v", roundDur(d), t)
	}
	if f.lat == nil {
		return why
	}
	l := f.lat[rec.Route]
	if l == nil {
		if len(f.lat) >= maxLatencyRoutes {
			return why
		}
		l = new(routeLatency)
		f.lat[rec.Route] = l
	}
	l.rotate(now)
	if why == "" {
		if p99, ok := l.p99(f.cfg.MinRequests); ok && d > p99 {
			why = fmt.Sprintf("%v, over the route's p99 of %v", roundDur(d), roundDur(p99))
		}
	}
	l.add(d)
	return why
}

// attach snapshots the flight recorder for the slow records of batch, if
// any and if the minute's cap allows, and attaches the snapshot to each of
// them. It reports how many records got a trace and how many slow ones
// did not because of the cap.
func (f *flight) attach(batch []*Record, now time.Time) (traced, limited int, err error) {
	var slow []*Record
	var why []string
	for _, rec := range batch {
		if w := f.slow(rec, now); w != "" {
			slow = append(slow, rec)
			why = append(why, w)
		}
	}
	if len(slow) == 0 {
		return 0, 0, nil
	}
	// Snapshots older than a minute no longer count against the cap.
	keep := f.taken[:0]
	for _, t := range f.taken {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	f.taken = keep
	if len(f.taken) >= f.cfg.PerMinute {
		return 0, len(slow), nil
	}
	// A failed snapshot counts against the cap too: its cost was paid.
	f.taken = append(f.taken, now)
	data, err := f.snapshot()
	if err != nil {
		return 0, len(slow), fmt.Errorf("recorder: flight recorder snapshot: %w", err)
	}
	n := int64(len(data))
	snap := slow[0].ID
	for i, rec := range slow {
		rec.ExecTrace = &ExecTrace{Data: data, Size: n, Taken: now, Reason: why[i], Snapshot: snap}
	}
	return len(slow), 0, nil
}

// snapshot writes the flight recorder's window into a buffer of its own,
// which the records it goes to share (and never modify) and which the
// flight does not keep. The buffer is made an eighth larger than the last
// snapshot: a window of about the same size is written into it in place;
// one that outgrew it, or left more than an eighth of it unused, is copied
// into a buffer of its size, so that the stores, which keep the data,
// hold at most an eighth (and 64 KiB) more memory than they count.
func (f *flight) snapshot() ([]byte, error) {
	limit := 2 * int64(f.cfg.MaxBytes)
	size := min(f.last+f.last/8+minSnapshotBuffer, limit)
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := f.fr.WriteTo(&limitedWriter{w: buf, n: limit})
	if err != nil {
		return nil, err
	}
	f.last = n
	data := buf.Bytes()
	if int64(cap(data)) > n+n/8+minSnapshotBuffer {
		data = bytes.Clone(data)
	}
	return data[:n:n], nil
}

// minSnapshotBuffer is how much larger than the last snapshot the next
// one's buffer is made, beside an eighth of it (the first is made this
// large).
const minSnapshotBuffer = 64 << 10

// roundDur rounds d for a reason's text: to the millisecond from 10 ms,
// to the microsecond below.
func roundDur(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

var errTraceTooLarge = errors.New("snapshot larger than twice MaxBytes: discarded")

// limitedWriter fails once more than n bytes are written to it.
type limitedWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, errTraceTooLarge
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// routeLatency counts a route's request durations of the current and the
// previous minute in logarithmic buckets (each 8% wider than the last,
// from 1 µs to about 2 hours), for its p99.
type routeLatency struct {
	cur, prev [latBuckets]uint32
	n         [2]int // requests in cur and prev
	since     time.Time
	// p99 keeps its answer's bucket, pb, and le, the requests counted
	// in buckets up to pb: with a request more, the 99th percentile moves
	// by a bucket or none, so p99 moves pb a step or two rather than sum
	// the buckets from the first (~1,500 instructions a request; see
	// docs/BENCHMARKS-history.md, "The flight recorder's own cost").
	pb, le int
	// bound is bucket bpb-1's upper bound, if bpb > 0: math.Pow once
	// for each bucket p99 moves to, not once a request.
	bound time.Duration
	bpb   int
}

const (
	latGamma   = 1.08
	latBuckets = 300
)

var logGamma = math.Log(latGamma)

// rotate starts a new generation once a minute has passed.
func (l *routeLatency) rotate(now time.Time) {
	switch age := now.Sub(l.since); {
	case l.since.IsZero():
		l.since = now
	case age >= 2*time.Minute:
		l.cur, l.prev = [latBuckets]uint32{}, [latBuckets]uint32{}
		l.n = [2]int{}
		l.since = now
		l.pb, l.le = 0, 0
	case age >= time.Minute:
		l.prev, l.cur = l.cur, [latBuckets]uint32{}
		l.n = [2]int{0, l.n[0]}
		l.since = now
		l.pb, l.le = 0, int(l.prev[0]) // p99 finds its bucket again
	}
}

func latBucket(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	i := int(math.Log(float64(d)/float64(time.Microsecond)) / logGamma)
	return min(i, latBuckets-1)
}

func (l *routeLatency) add(d time.Duration) {
	b := latBucket(d)
	if l.cur[b] < math.MaxUint32 {
		l.cur[b]++
		l.n[0]++
		if b <= l.pb {
			l.le++
		}
	}
}

// count returns the requests counted in bucket b.
func (l *routeLatency) count(b int) int { return int(l.cur[b]) + int(l.prev[b]) }

// p99 returns the upper bound of the bucket holding the 99th percentile
// of the durations counted, if there are at least least of them.
func (l *routeLatency) p99(least int) (time.Duration, bool) {
	n := l.n[0] + l.n[1]
	if n < least || n == 0 {
		return 0, false
	}
	rank := int(math.Ceil(0.99 * float64(n)))
	// The first bucket b whose requests up to it are at least rank: down
	// while the buckets below pb hold rank, up while those up to pb do
	// not.
	for l.pb > 0 && l.le-l.count(l.pb) >= rank {
		l.le -= l.count(l.pb)
		l.pb--
	}
	for l.le < rank && l.pb < latBuckets-1 {
		l.pb++
		l.le += l.count(l.pb)
	}
	if l.le < rank {
		return time.Duration(math.MaxInt64), true
	}
	if l.bpb != l.pb+1 {
		l.bound = time.Duration(float64(time.Microsecond) * math.Pow(latGamma, float64(l.pb+1)))
		l.bpb = l.pb + 1
	}
	return l.bound, true
}
