// Package otelexport connects appstats to OpenTelemetry: it exports records as
// traces to any OTLP collector (Jaeger, Tempo, the OpenTelemetry Collector),
// propagates trace context and baggage with OpenTelemetry's propagators, and
// bridges spans of OpenTelemetry-instrumented libraries into records.
//
// The OpenTelemetry SDK is a dependency of this package only: an application
// that records without it does not link the SDK.
//
// # Export
//
// An [Exporter] is a [recording.Sink]. Give it to the recorder, and close it
// after the recorder:
//
//	exp, err := otelexport.NewFromEnv(ctx) // nil, nil without OTEL_EXPORTER_OTLP_ENDPOINT, or with OTEL_TRACES_EXPORTER=none
//	...
//	rec := recording.New(recording.WithSinks(store, exp))
//	defer exp.Close(ctx)
//	defer rec.Close(ctx)
//
// [NewOTLPHTTP] and [NewOTLPGRPC] make exporters for either OTLP transport,
// configured by the standard OTEL_EXPORTER_OTLP_* environment variables and
// by options ([WithHTTPOptions], [WithGRPCOptions]); [New] takes any
// [go.opentelemetry.io/otel/sdk/trace.SpanExporter].
//
// Each record becomes one trace, with the record's own IDs and times, in
// the terms of the OpenTelemetry semantic conventions v1.43.0 ([SchemaURL]),
// which trace backends and their dashboards read:
//
//   - a SERVER span for the request (INTERNAL for background work), with the
//     record's trace and span IDs and its caller's span as remote parent
//     when a traceparent came in. Every span of the record has the caller's
//     tracestate and random-trace-id flag in its span context, as
//     OpenTelemetry's SDK gives a span its parent's (OTLP's trace_state and
//     flags).
//     HTTP: named "{method} {http.route}", or "{method}" when no router
//     matched (the record's route is then appstats' own and is not
//     exported), "HTTP" standing for a method the conventions do not know;
//     attributes http.request.method ("_OTHER" for such a method, with
//     http.request.method_original), http.route, url.path, url.query (with
//     the conventions' REDACTED for hidden values), url.scheme,
//     http.response.status_code (none for a handler that panicked before it
//     wrote a response: none was sent), the body sizes (of the HTTP
//     message: a long-lived connection's record counts its stream's bytes
//     apart, appstats.stream.bytes_*, for a websocket's frames are not the
//     body, and a server-sent event stream's events are counted in it
//     already), user_agent.original,
//     appstats.stream.system for a long-lived connection ("sse",
//     "websocket": the recorder's messaging.system, which marks messaging
//     spans, its messages' PRODUCER and CONSUMER spans, and not an HTTP
//     one), network.protocol.version, network.peer.address and network.peer.port
//     (and client.address, the peer: proxy headers are not trusted); status
//     Error for a 5xx response or a panic, with error.type the status code or
//     "panic". Not server.address, which the conventions recommend: the
//     record does not keep the request's Host, and keeping it would cost
//     an allocation a request (its room for attributes is full).
//     gRPC: named by rpc.method, the full method "pkg.Service/Method" ("grpc"
//     for a method the server does not have: rpc.method "_OTHER" and
//     rpc.method_original the name called); attributes rpc.system.name,
//     rpc.method, rpc.response.status_code ("NOT_FOUND"), server.address and
//     server.port (the server's), network.peer.*; status Error, with
//     error.type the status code's name, only for the codes the conventions
//     call the server's failures (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
//     INTERNAL, UNAVAILABLE, DATA_LOSS), with the status message for
//     description.
//     A message on a long-lived connection ([recording.Stream]): a CONSUMER
//     span for one received and handled, a PRODUCER span for one sent,
//     named "{messaging.operation.name} {messaging.destination.name}"
//     ("process GET /ws"); the destination is the connection's route, and
//     the message's type is in appstats.message.type.
//     All: user.id, appstats.record.id, appstats.overhead_ms, the record's
//     warnings as appstats.warning events, and its attributes;
//   - a CLIENT span per call (INTERNAL or PRODUCER for a call bridged from
//     an INTERNAL or a PRODUCER span: see [NewSpanProcessor]; PRODUCER for a
//     message another record sent to a stream ([recording.Stream.StartSend]:
//     a websocket reply or push, an event broadcast to an event stream,
//     named as a message record's PRODUCER span, "send GET /ws", with the
//     messaging.* attributes, messaging.operation.name "send" and
//     messaging.message.body.size among them, and the message's type in
//     appstats.message.type; the dashboard's call is "websocket send
//     text"); its kind
//     travels in the call's appstats.span.kind, not exported as an
//     attribute, though the dashboard shows it), child of the
//     request's span, or of the call's it was made inside of
//     ([recording.Call.ParentSpanID]: [recording.Do],
//     [recording.ContextWithParent], a bridged span), with the call's span ID (the one propagated
//     downstream, so a downstream service's trace joins it) and its recorded
//     start and end. Its name and attributes
//     depend on the call's service ("appstats.service"):
//     "http": named by the method ("GET"), or "{method} {url.template}" for a
//     call with a url.template — never by the URI, which the dashboard's call
//     name shows; http.request.method, server.address, server.port, url.full,
//     http.response.status_code, the body sizes; status Error for a 4xx or
//     5xx, with error.type the code and no description (the code says why,
//     as the conventions ask). Not network.protocol.version, which the
//     conventions recommend: package httpstats' calls do not keep it, and
//     keeping it would cost an allocation a call (its room for attributes
//     is full).
//     "grpc": named by the full method, with rpc.system.name, rpc.method,
//     rpc.response.status_code, server.address, server.port and, from
//     middleware/grpcstats, network.peer.address and network.peer.port
//     (the port an integer); status Error
//     for any code but OK, with error.type the code's name and the status
//     message, as otelgrpc gives it, for description.
//     "sql": named by db.query.summary ("SELECT users", the call's name), or
//     by db.operation.name for a call without a statement ("COMMIT");
//     db.system.name ("other_sql" when the call does not say),
//     db.query.text (normalized, without values), db.response.* and the
//     error's db.response.status_code; db.namespace, server.address and
//     server.port where the call names them (package sqlstats' Open reads
//     them from the data source name).
//     "net" and "dns": network.transport, network.type, server.* or
//     network.peer.*, dns.question.name and dns.answers (a list).
//     A call to another database, with a db.system.name (a Redis command
//     bridged from redisotel's span, see [NewSpanProcessor]): named as the
//     database conventions name a span, by db.query.summary, else
//     "{db.operation.name} {db.collection.name}", else the call's
//     name, as db.query.summary too (as for an SQL call); a
//     Redis (or Valkey) call's db.operation.name is its command ("get",
//     as redisotel names it), and a Redis error's prefix ("WRONGTYPE",
//     "READONLY") its db.response.status_code and error.type; the
//     command line, its passwords hidden, in appstats.call.request (not
//     db.query.text: its values are not sanitized).
//     Others: "{service} {method}", with appstats.call.request and
//     appstats.call.response.
//     A failed call has status Error, its error as description and an
//     error.type: the one its wrapper recorded (a status code, a database's
//     code, the Go type of its error as semconv's ErrorType names it), else
//     "_OTHER". Errors are never "exception" events, which the conventions
//     deprecate. The code.* attributes locate the code that made the call;
//   - HTTP phases (dns, connect, tls, …) as span events on their call's span,
//     at the phase's start, with its length in appstats.phase.duration_ms —
//     events rather than child spans, so a trace has exactly one span per
//     call and phases need no invented span IDs;
//   - custom events ([recording.Event]) as span events of the request's span.
//
// Attributes of appstats' own are under "appstats.", never inside a
// namespace of the conventions: appstats.http.connection.reused,
// appstats.http.hijacked, appstats.rpc.grpc.type, appstats.rpc.messages_*,
// appstats.db.affected_rows, appstats.route.unmatched, … Those that count
// (appstats.rpc.messages_*, appstats.stream.messages_* and bytes_*,
// appstats.db.affected_rows, appstats.dropped_*) are integers, flags are
// booleans, and appstats.phases.unknown is a list of strings.
//
// A call still running when its request ended has appstats.call.running
// set. The Exporter holds such a record, at most [WithRunningCallWait] after
// its request's end (1 s by default), until its calls have ended: a call
// that ends in time is exported with its true end and final attributes
// ([recording.Record.FinalCall]); one that does not, with the request's end.
//
// A record whose caller did not sample the trace ([recording.Record.Unsampled],
// see [recording.WithCallerSampling]) is not exported, and counted in
// [Stats.Unsampled]: its spans would hang from a parent its caller did not
// export. Exported spans are sampled.
//
// The resource carries service.name ([WithServiceName], else
// OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES, else
// "unknown_service:" and the executable's name), service.instance.id (the
// record's Instance), telemetry.sdk.name ("appstats"),
// telemetry.sdk.language and telemetry.sdk.version ([Version]), the rest of
// OTEL_RESOURCE_ATTRIBUTES and [WithResourceAttributes]; the resource and the
// instrumentation scope ([ScopeName], version [Version]) have the
// conventions' [SchemaURL].
//
// Of the SDK's environment variables, the package reads the OTLP
// exporter's (OTEL_EXPORTER_OTLP_*, through the OTLP exporters it makes),
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_EXPORTER and
// OTEL_SDK_DISABLED, and no other. In particular, OTEL_PROPAGATORS does not
// choose the propagator (the recorder's, see Propagation below, or the one
// given to [NewPropagator]), and the span limits
// (OTEL_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
// OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
// OTEL_SPAN_EVENT_COUNT_LIMIT, …) do not cut the exported spans: the
// recorder's own limits bound what a span carries
// ([recording.WithMaxAttrs], [recording.WithMaxText],
// [recording.WithMaxCalls]).
//
// The recorder's writer hands records to Write, which only queues them: one
// goroutine of the Exporter converts and exports them, each call of the
// SpanExporter bounded by [WithExportTimeout]. When the collector is down or
// slow the queue fills and records are dropped and counted ([Exporter.Stats]);
// requests are never slowed. A collector that asks to wait (HTTP
// Retry-After, gRPC RetryInfo) gets no export until then, a minute at most
// ([MaxRetryAfter]): the records wait in the queue, and a ForceFlush
// meanwhile keeps them and returns a [*RetryAfterError] naming the end of
// the wait. ForceFlush returns an [*ExportError] when exports failed
// since it last returned (the records lost, the exports' errors).
// [Exporter.Close] exports what is queued, stops
// the goroutine and shuts the SpanExporter down. Close is bounded by about
// one export timeout whatever its context (context.Background() too), the
// SpanExporter's Shutdown included (given a second at least): its
// exports share one deadline, the export timeout from the moment Close
// began, or the context's deadline if sooner, and once that deadline passes,
// or a chunk fails for a collector that does not answer or is unavailable,
// the records left are dropped and counted ([Stats.Dropped]), rather than
// each chunk of 1,024 spans waiting a whole timeout of its own, and Close
// returns an [*ExportError] that says how many and why (wrapping
// context.DeadlineExceeded when its deadline passed). A collector
// that answers receives every record queued. Close leaves no goroutine
// running: it also closes the connections of the OTLP/HTTP exporter made
// by [NewOTLPHTTP] (over a transport of its own), which otlptracehttp
// would keep idle for 90 s, and the OTLP/gRPC exporter's Shutdown closes
// its connection. Those of a client or proxy function of yours
// ([otlptracehttp.WithHTTPClient], [otlptracehttp.WithProxy]) are yours
// to close: they may serve your own requests, as is a gRPC connection of
// yours ([otlptracegrpc.WithGRPCConn]), which the exporter uses as it
// is: its own backoff, not the exporter's bound of 5 s on the wait
// between attempts to connect, applies (see [NewOTLPGRPC]). Failed exports are
// logged at most once every 10 s ([WithLogger]), each error cut to 1 KiB,
// with the values of the OTLP headers hidden, as they are from the
// errors ForceFlush and Close return: a collector may echo the
// request's Authorization in its answer.
//
// # Propagation
//
// The recorder's default propagator reads and writes W3C traceparent and
// tracestate. [NewPropagator] adapts any OpenTelemetry propagator instead; with
// nil, W3C trace context plus W3C baggage:
//
//	rec := recording.New(recording.WithPropagator(otelexport.NewPropagator(nil)))
//
// The middleware then extracts the caller's trace context and baggage from
// each request (the request's context carries the baggage, and the caller's
// span context as a remote parent), and the recording transports inject the
// trace context of each call, and the baggage of its context, into the
// request they send. The caller's tracestate and random-trace-id flag go on
// as they came, and the sampled flag as the caller set it: by
// default a request that came with flags 00 sends 00 downstream (see
// [recording.WithCallerSampling]). A request the recorder does not record
// (sampled out, filtered, paused) passes its caller's trace context and
// baggage on unchanged. When the recorder makes a record's trace ID itself,
// which is random, the record's context carries the random-trace-id flag for
// the OpenTelemetry spans started under it without a parent (the SDK takes
// a root span's flags from its context only; see [NewPropagator]). With
// otelhttp's handler mounted outside the recording middleware, the record
// is the child of otelhttp's SERVER span, in its trace: NewPropagator's
// Extract takes a span of this process in the request's context for the
// parent when no traceparent came in or the one that did is of the span's
// trace (the traceparent is then that span's parent). A traceparent of another trace wins over such a
// span (one that a server's BaseContext gives every request, say). The
// other way round, with otelhttp's handler mounted inside the recording
// middleware, otelhttp's propagator reads the incoming traceparent itself
// and makes its SERVER span the caller's child, whatever the request's
// context carries (which is no span context of the record's: giving it
// one would cost each request under NewPropagator two allocations, and
// make every span started under a recorded request the child of a span
// only an [Exporter] exports). With the bridge ([NewSpanProcessor], and
// [NewIDGenerator], which puts otelhttp's span in the record's trace when
// no traceparent came in) registered with otelhttp's TracerProvider, the
// Exporter exports the record's span as the child of otelhttp's — the
// tree a backend sees with otelhttp mounted outside, whichever way the two
// are stacked: caller, otelhttp's SERVER span, the record's, its calls.
// The bridge takes otelhttp's span for the request's when it is sampled,
// in the record's trace, with the record's parent, and has the request's
// url.path and http.request.method; the record keeps its parent (the
// caller's span), and the span's ID in appstats.span.parent, added when
// the record finishes (see [recording.ActiveRecord.SetServerSpan]), which
// the Exporter reads and does not export as an attribute (the record keeps
// it: the dashboard, the JSON API and the stores show it with the
// record's other attributes). Without the bridge the two SERVER spans
// are siblings (or, without a traceparent, of two traces).
//
// # Bridge
//
// Spans that OpenTelemetry-instrumented libraries (otelhttp, otelgrpc,
// otelsql, redisotel, …) start under a recorded request's context become
// calls of that request's record when the span processor made by
// [NewSpanProcessor] is registered with their TracerProvider:
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
//		sdktrace.WithIDGenerator(otelexport.NewIDGenerator()), // spans join the record's trace
//	)
//
// Each bridged call keeps its span's ID, so with [NewIDGenerator] (or a
// traceparent on the incoming request) the trace context the instrumentation
// propagates downstream points at the call in the exported record.
//
// A bridged call is named as appstats' own wrappers name the same call, so
// that it groups with them on the dashboard and exports the same span: an
// HTTP client span as middleware/httpstats' transport names its request
// ("GET host:port/path", the port left out when it is 80 or 443, the path's
// identifier-like segments replaced by "{id}"), with the same redacted URL
// as request summary and url.full; a gRPC span as middleware/grpcstats'
// client names its RPC ("/pkg.Service/Method"), whichever of the older or
// newer rpc.* conventions the instrumentation writes. Attributes under
// older semantic-convention names (http.method, http.status_code,
// db.system, …) are recorded under the newer ones, and the numeric
// rpc.grpc.status_code as rpc.response.status_code by name.
//
// One outgoing request is one call and one exported span, whichever way
// the instrumentations are stacked. appstats' own wrappers mark the contexts
// they pass down with [recording.ContextWithCall]; the bridge skips spans
// started under such a context, and the children of the CLIENT and PRODUCER
// spans it bridges. The other way round, appstats' wrappers ask the bridge
// (a [recording.CallFinder]) whether a context is inside a bridged CLIENT or
// PRODUCER span: middleware/httpstats' transport under otelhttp's (and
// middleware/grpcstats' client handler mounted after otelgrpc's) records no
// second call and sends the bridged call's trace context. With otelhttp's
// transport under appstats' (or otelgrpc's client handler after
// grpcstats'), [NewIDGenerator] gives the instrumentation's span the
// call's span ID, so the traceparent it writes last names the call.
package otelexport
