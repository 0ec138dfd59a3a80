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
//	exp, err := otelexport.NewFromEnv(ctx) // nil, nil without OTEL_EXPORTER_OTLP_ENDPOINT
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
// Each record becomes one trace, with the record's own IDs and times:
//
//   - a SERVER span for the request (INTERNAL for background work), with the
//     record's trace and span IDs, its caller's span as remote parent when a
//     traceparent came in, and the attributes http.request.method, url.path,
//     url.query (redacted), http.route, http.response.status_code,
//     client.address — or rpc.system, rpc.service, rpc.method and
//     rpc.grpc.status_code for gRPC; status Error for a 5xx response, a gRPC
//     error code, a panic or an error, which also become "exception" events;
//   - a CLIENT span per call, child of the request's span, with the call's
//     span ID (the one propagated downstream, so a downstream service's trace
//     joins it), its recorded start and end, status Error with the call's
//     error (and an "exception" event), a name and attributes by service:
//     for "http" the call's method as name ("GET api.example.com/users/{id}")
//     and http.request.method, server.address, server.port, url.full,
//     http.response.status_code; for "grpc" the full method without its
//     leading slash as name ("pkg.Service/Method") and rpc.system,
//     rpc.system.name, rpc.service, rpc.method (the full method split at its
//     last slash; a name without one is a method of no service),
//     rpc.grpc.status_code, server.address, server.port; for "sql" db.system.name,
//     db.operation.name and db.query.text (the recorded request summary,
//     which database wrappers record normalized, without arguments); for any
//     other service appstats.call.request and appstats.call.response. The
//     call's own attributes are passed through; a call still running when
//     the request ended has appstats.call.running=true and ends with it;
//   - HTTP phases (dns, connect, tls, …) as span events on their call's span,
//     at the phase's start, with its length in appstats.phase.duration_ms —
//     events rather than child spans, so a trace has exactly one span per
//     call and phases need no invented span IDs;
//   - custom events ([recording.Event]) as span events of the request's span.
//
// The resource carries service.name ([WithServiceName], else
// OTEL_SERVICE_NAME, else the executable's name), service.instance.id (the
// record's Instance) and OTEL_RESOURCE_ATTRIBUTES.
//
// The recorder's writer hands records to Write, which only queues them: one
// goroutine of the Exporter converts and exports them, each call of the
// SpanExporter bounded by [WithExportTimeout]. When the collector is down or
// slow the queue fills and records are dropped and counted ([Exporter.Stats]);
// requests are never slowed. [Exporter.Close] exports what is queued within
// its context's deadline, stops the goroutine and shuts the SpanExporter
// down.
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
// request they send.
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
// db.system, …) are recorded under the newer ones.
//
// One outgoing request is one call and one exported span, whichever way
// the instrumentations are stacked. appstats' own wrappers mark the contexts
// they pass down with [recording.ContextWithCall]; the bridge skips spans
// started under such a context, and the children of the CLIENT and PRODUCER
// spans it bridges. The other way round, appstats' wrappers ask the bridge
// (a [recording.CallFinder]) whether a context is inside a bridged CLIENT or
// PRODUCER span: middleware/httpstats' transport under otelhttp's records no
// second call and sends the bridged call's trace context. With otelhttp's
// transport under appstats', [NewIDGenerator] gives otelhttp's span the
// call's span ID, so the traceparent it writes last names the call.
package otelexport
