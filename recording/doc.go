// Package recording is the core of appstats: it decides which requests are
// recorded, collects the calls each request makes, and hands finished
// records to sinks without slowing the request down.
//
// # Records and calls
//
// A [Record] is the timeline of one request (HTTP, gRPC, or background work):
// its method, path, route, status, sizes and duration, and every [Call] it
// made — service and method (e.g. "http" + "GET api.example.com/users/{id}",
// "sql" + "SELECT users"), start offset, duration, sizes, error, short
// request/response summaries, the stack that made it, HTTP phases and
// attributes. Server wrappers (middleware/httpstats, middleware/grpcstats)
// start records with [Recorder.StartRecord]; client wrappers and users add
// calls with [StartCall], [Do] and [Event]:
//
//	c := recording.StartCall(ctx, "memcache", "Get")
//	v, err := cache.Get(key)
//	c.End(err) // not defer c.End(err): err would be evaluated too early
//
// A client wrapper that keeps a value of its own for each call (as
// middleware/httpstats' transport keeps a call's state) may take it with
// [Alloc], which carves the values of one request from chunks its record
// lets go of when the request ends.
//
// # Attribution
//
// A call belongs to the request whose record its context carries
// ([NewContext], [FromContext]). Contexts derived from the request's — also
// ones passed to goroutines the handler starts — carry it too, so concurrent
// requests never mix. A call started after its request ended is counted in
// [Stats.LateCalls], not recorded; a call still running when its request ends
// is kept with [Call.Running] set and a [WarnRunning] warning.
//
// # Cost on the request path
//
// Calls are made in an array of the record's and take slots (what a
// call's handle reads: its record, parent, span and start) from chunks
// that a record allocates as it needs them, both first sized by the last
// record's number of calls, so that a request's calls usually cost one
// allocation in all (the slots) when the record is reused, two when a sink
// keeps it; the array becomes the record's Calls as it is, without a copy.
// A call takes one lock, and its cost is timed on every eighth call (the
// others are charged the last measurement), which saves a clock read on
// most. Its stack is captured as
// raw program counters by walking frame pointers (on amd64; runtime.Callers
// elsewhere) into a buffer of the record's, and symbolized later, off the
// request path, with a cache. [Record.Overhead] reports what recording cost
// each request, stack capture included. When every sink is a [Borrower], the
// recorder reuses a record's memory once the sinks are done with it.
//
// # The pipeline
//
// A finished record goes into a queue bounded in records ([WithQueueSize])
// and in bytes ([WithQueueBytes]); one background goroutine symbolizes
// stacks, redacts headers, runs [Analyze] (N+1 and still-running warnings)
// and offers batches to every [Sink], each of which has a bounded queue and
// a goroutine of its own. A record that does not fit a queue is dropped and
// counted there, never waited for: a failing, slow or stuck sink loses its
// own backlog, is counted and logged (rate-limited), and never reaches a
// request or holds up the other sinks. [Stats] counts per sink what was
// written and dropped. [Recorder.ForceFlush] waits until the records
// finished before it are written (or dropped and counted), without
// stopping anything; [Recorder.Close] drains every queue within its
// context's deadline and stops the goroutines.
//
// # What runs now
//
// A record is in its recorder's set of records in the making from
// [Recorder.StartRecord] until it finishes: [Recorder.Active] and
// [Recorder.ActiveRecord] return snapshots of them — slow requests still
// running, long-lived connections still open — with their calls so far,
// prepared and redacted as finished records are. A record joins the set
// with one compare-and-swap and leaves it with one atomic store, with no
// lock and no allocation; calls cost nothing more.
//
// # Long-lived connections
//
// A websocket or a server-sent event stream is one request that may live
// for hours. [StartStream] turns its record into a [Stream]: each message
// handled on the connection ([Stream.StartMessage], [Stream.StartSend])
// becomes a record of its own, of kind [KindMessage], with the calls made
// while handling it, in the connection's trace as a child of the
// connection's span; the connection's record keeps "connect" and "close"
// events and counts the messages and bytes, and is visible while open
// through [Recorder.Active]. Packages middleware/wsstats
// (github.com/coder/websocket), middleware/gorillastats
// (github.com/gorilla/websocket) and middleware/ssestats (server-sent
// events) do this for their protocols.
//
// # Limits and privacy
//
// Options bound what is kept: [WithSampleRate], [WithInclude] and
// [WithExclude] filters, [WithMaxCalls], [WithMaxStack], and a byte cap on
// every recorded string — [WithMaxSummary], [WithMaxName], [WithMaxText],
// [WithMaxHeaders], [WithMaxAttrs] — whose defaults suit production: a
// string over its cap is cut, with a note of how much was cut
// ("…[truncated N bytes]"), never kept whole.
// [DefaultRedaction] hides credentials and personal data: secret headers,
// the values of names holding a secret word (password, token, pin, ssn,
// email…, matched as words: "author" and ":authority" stay readable) in
// query strings, headers, attributes and in any recorded text — written
// name=value, as JSON, as fmt prints a struct or map ({Password:…}; with
// %v, {bob hunter2}, after a login word), as a header line ("Cookie: …"),
// as YAML ("password: …") —, OAuth authorization codes, values that look
// secret (JSON Web Tokens, card numbers, long random tokens), the user
// information and secret parameters of URLs and connection strings found
// in any recorded text, and the quoted fragments of error messages; counts
// of secret things ("gen_ai.usage.input_tokens"=1200) stay. The recorder's
// background writer applies it to every record before any sink sees it; the
// one marker, [Redacted], is never percent-encoded. Summaries never contain
// bodies unless a wrapper is told to keep them.
//
// # Trace context and sampling
//
// A record carries the W3C trace context of its request: the caller's trace
// and span when a traceparent came in ([Propagator]), else a new trace.
// Calls send their own span downstream with the request's sampled flag, the
// random-trace-id flag (W3C Trace Context Level 2: the caller's, or set
// when the recorder made the trace ID, which is random) and the caller's
// tracestate, which the record keeps ([Record.RandomTraceID],
// [Record.TraceState]) for exporters. The recorder's own sampling
// ([WithSampleRate]) decides what the dashboard keeps; the caller's
// decision is kept for the trace: by default
// ([WithCallerSampling]) a request whose caller did not sample it is
// recorded, marked [Record.Unsampled], and its calls send "not sampled" on,
// as OpenTelemetry's parent-based sampler would. A request that is not
// recorded still passes its caller's trace context on
// ([Recorder.ContextWithTrace], [Passthrough]).
//
// A call still running when its request ends is kept with [Call.Running]
// set and the request's end as its end; [Record.FinalCall] tells a sink that
// writes the record later (an exporter) how it really ended.
//
// # Costs and execution traces
//
// [WithCostModel] prices every call with a [CostModel], a function from a
// call (its service, method, sizes and attributes) to a cost in a unit the
// operator names; [Call.Cost], [RPCStat.Cost], [Record.Cost] and
// [Summary.Cost] carry the result, which the stores aggregate per RPC and
// per route. [WithFlightRecorder] runs the runtime's flight recorder and
// attaches a snapshot of it ([ExecTrace]) to the records of slow
// requests. Both work on the background writer, off the request path, and
// are off by default.
//
// What the flight recorder costs is nearly all Go's: while it runs, the
// runtime's execution tracer writes an event, most with a stack, at every
// goroutine start, block, wake-up and system call of the whole process.
// Measured with cmd/appstats-bench on a handler that does nothing (a hello
// request, ~65 µs of CPU with the load generator, two cores; scenarios
// flight and flight-floor, docs/BENCHMARKS-history.md "The flight recorder
// split"): the tracer alone, with no appstats, added a median 7.5 µs of
// CPU a request (+11%; 4.8–17 µs over twelve runs on a loaded machine), so
// a CPU-bound hello service serves ~10% fewer requests with it; a recorder
// with WithFlightRecorder added a median 11 µs (+16%; 3.9–20 µs), the
// difference within the runs' spread (twelve later runs: 5.3 µs and 6.8
// µs; with the collector off, 5.6 µs and 5.3 µs over four runs: the flight
// recorder's window lies in the heap and slows the collector's pace, less
// so beside a recorder's store). A recorded request makes the runtime
// trace the same events as a bare one: in execution traces of the hello
// scenario, 8.0 goroutine wake-ups a request with a recorder or without,
// and ~11.2 events with ~45 stack frames on the server's goroutine, of
// which appstats' allocation adds 0.11 (the heap's size, traced as it
// grows); the recorder's two goroutines wake once a batch each, 0.036
// events a request. Appstats' own work is the per-route p99 (~500
// instructions a record on the background goroutine, no lock or
// allocation) and the snapshots: each copies the window (0.4–4 MiB at that
// load; WriteTo took a median of 2–10 ms) on the background goroutine, at
// most PerMinute (2) a minute. The tracer's cost grows with the scheduling
// events a request causes, not with its work, so it weighs less on a
// handler that does something.
//
// # Imports
//
// Every other package of appstats may import recording; recording imports
// none of them. The one exception is internal/convention, a leaf that
// imports only the standard library and holds the conventions the wrappers,
// the exporter and recording share: call names, attribute keys, the
// mechanics of redaction (behind [Redaction]) and the rate-limited
// logging of background problems.
package recording
