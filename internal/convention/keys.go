package convention

// Attribute keys of records, calls and exported spans. Every key appstats
// writes or reads is spelled here, once: OpenTelemetry semantic-convention
// names where one exists (as in semconv v1.43.0), and appstats' own under
// "appstats." — never inside a namespace of the conventions.
const (
	KeyHTTPRequestMethod         = "http.request.method"
	KeyHTTPRequestMethodOriginal = "http.request.method_original" // the method sent, when http.request.method is _OTHER
	KeyHTTPResponseStatusCode    = "http.response.status_code"
	KeyHTTPRoute                 = "http.route"
	KeyHTTPRequestBodySize       = "http.request.body.size"
	KeyHTTPResponseBodySize      = "http.response.body.size"
	KeyURLFull                   = "url.full"
	KeyURLPath                   = "url.path"
	KeyURLQuery                  = "url.query"
	KeyURLTemplate               = "url.template"
	KeyURLScheme                 = "url.scheme"
	KeyUserAgentOriginal         = "user_agent.original"
	KeyServerAddress             = "server.address"
	KeyServerPort                = "server.port"
	KeyClientAddress             = "client.address"
	KeyClientPort                = "client.port"
	KeyUserID                    = "user.id"
	KeyErrorType                 = "error.type" // the class of a failure: a status code, an error's type, or _OTHER

	KeyNetworkTransport       = "network.transport" // tcp, udp, unix, pipe: see NetworkTransport
	KeyNetworkType            = "network.type"      // ipv4, ipv6: see NetworkType
	KeyNetworkPeerAddress     = "network.peer.address"
	KeyNetworkPeerPort        = "network.peer.port"
	KeyNetworkProtocolVersion = "network.protocol.version" // "1.1", "2": see HTTPProtocolVersion

	KeyRPCSystemName         = "rpc.system.name"          // "grpc"
	KeyRPCMethod             = "rpc.method"               // the full method without its leading slash, "pkg.Service/Method", or _OTHER
	KeyRPCMethodOriginal     = "rpc.method_original"      // the method called, when rpc.method is _OTHER
	KeyRPCResponseStatusCode = "rpc.response.status_code" // "OK", "NOT_FOUND": see GRPCStatusName

	KeyDNSQuestionName = "dns.question.name"
	KeyDNSAnswers      = "dns.answers" // exported as a list; recorded as the addresses joined by AnswerSep

	KeyDBSystemName           = "db.system.name"
	KeyDBNamespace            = "db.namespace"
	KeyDBQueryText            = "db.query.text"
	KeyDBQuerySummary         = "db.query.summary"
	KeyDBOperationName        = "db.operation.name"
	KeyDBCollectionName       = "db.collection.name"
	KeyDBResponseReturnedRows = "db.response.returned_rows"
	KeyDBResponseStatusCode   = "db.response.status_code" // the database's own code of an error: SQLSTATE, SQLite's result code
	KeyDBQueryParameterPrefix = "db.query.parameter."     // followed by the parameter's name or position

	KeyMessagingSystem          = "messaging.system"
	KeyMessagingDestinationName = "messaging.destination.name"
	KeyMessagingOperationType   = "messaging.operation.type"
	KeyMessagingOperationName   = "messaging.operation.name" // required on messaging spans; names them
	KeyMessagingMessageBodySize = "messaging.message.body.size"

	KeyCodeFunctionName = "code.function.name"
	KeyCodeFilePath     = "code.file.path"
	KeyCodeLineNumber   = "code.line.number"

	// Token counts of a call to a generative AI model; a cost model
	// prices such calls by them (recording.CostModel).
	KeyGenAIRequestModel      = "gen_ai.request.model"
	KeyGenAIUsageInputTokens  = "gen_ai.usage.input_tokens"
	KeyGenAIUsageOutputTokens = "gen_ai.usage.output_tokens"

	KeyExceptionMessage = "exception.message"
	KeyExceptionType    = "exception.type"

	// Resource attributes of exported spans.
	KeyServiceName          = "service.name"
	KeyServiceInstanceID    = "service.instance.id"
	KeyTelemetrySDKName     = "telemetry.sdk.name"
	KeyTelemetrySDKLanguage = "telemetry.sdk.language"
	KeyTelemetrySDKVersion  = "telemetry.sdk.version"
)

// Older semantic-convention keys, read from spans of instrumentation that
// still writes them; appstats never writes them.
const (
	KeyOldRPCSystem         = "rpc.system"              // now rpc.system.name
	KeyOldRPCService        = "rpc.service"             // now the part of rpc.method before its slash
	KeyOldRPCGRPCStatusCode = "rpc.grpc.status_code"    // now rpc.response.status_code, by name
	KeyOldHTTPMethod        = "http.method"             // now http.request.method
	KeyOldHTTPURL           = "http.url"                // now url.full
	KeyOldHTTPStatusCode    = "http.status_code"        // now http.response.status_code
	KeyOldNetPeerName       = "net.peer.name"           // now server.address
	KeyOldNetPeerPort       = "net.peer.port"           // now server.port
	KeyOldDBName            = "db.name"                 // now db.namespace
	KeyOldDBRedisIndex      = "db.redis.database_index" // now db.namespace, for Redis
	KeyOldDBSystem          = "db.system"               // now db.system.name
	KeyOldDBOperation       = "db.operation"            // now db.operation.name
	KeyOldDBStatement       = "db.statement"            // now db.query.text
	KeyOldDBSQLTable        = "db.sql.table"            // now db.collection.name
)

// appstats' own keys, and the names of the span events it exports.
const (
	KeyHTTPConnectionReused = "appstats.http.connection.reused" // "true" when the HTTP client reused a connection
	KeyHTTPHijacked         = "appstats.http.hijacked"          // "true" on a record whose handler hijacked the connection
	KeyHTTPNoResponse       = "appstats.http.no_response"       // "true" on a record whose handler panicked before any of its response went out: none was sent
	KeyRouteUnmatched       = "appstats.route.unmatched"        // "true" on a record no router matched: its Route is appstats' own, not the router's
	KeyRPCGRPCType          = "appstats.rpc.grpc.type"          // "unary", "client_stream", "server_stream" or "bidi_stream"
	KeyRPCMessagesReceived  = "appstats.rpc.messages_received"  // messages received by the recording side
	KeyRPCMessagesSent      = "appstats.rpc.messages_sent"      // messages sent by the recording side
	KeyDBAffectedRows       = "appstats.db.affected_rows"       // rows an Exec changed

	KeyRecordID     = "appstats.record.id"
	KeyOverheadMS   = "appstats.overhead_ms"
	KeyDroppedCalls = "appstats.dropped_calls"
	KeyService      = "appstats.service" // a call's Service
	KeyCallRunning  = "appstats.call.running"
	// KeySpanKind is the OpenTelemetry span kind of a call whose span is
	// not a CLIENT one: "internal" or "producer" (SpanKindInternal,
	// SpanKindProducer), for a call bridged from such a span or a message
	// sent to a stream. Exporters give the call's span that kind (CLIENT
	// without it) and do not export the attribute; the call keeps it, and
	// the dashboard, the JSON API and the stores show it with its other
	// attributes.
	KeySpanKind = "appstats.span.kind"
	// KeySpanParent is, on an HTTP record, the span ID (hex) of the
	// SERVER span an OpenTelemetry instrumentation mounted inside the
	// recording middleware (otelhttp's handler) started for the same
	// request, a child of the record's own parent: the exporter makes
	// it the record's span's parent, so that a backend sees one tree.
	// Added when the record finishes (recording's
	// ActiveRecord.SetServerSpan). Exporters do not export it as an
	// attribute; the record keeps it, and the dashboard, the JSON API
	// and the stores show it with its other attributes.
	KeySpanParent       = "appstats.span.parent"
	KeyCallRequest      = "appstats.call.request"
	KeyCallResponse     = "appstats.call.response"
	KeyCallRequestSize  = "appstats.call.request_size"
	KeyCallResponseSize = "appstats.call.response_size"
	KeyPhaseDurationMS  = "appstats.phase.duration_ms"
	KeyPhasesUnknown    = "appstats.phases.unknown" // phases of a call that happened but could not be timed, comma-separated
	KeyEventDetail      = "appstats.event.detail"
	KeyWarningKind      = "appstats.warning.kind"
	KeyWarningCount     = "appstats.warning.count"
	KeyWarningMessage   = "appstats.warning.message"
	KeyWarningMethod    = "appstats.warning.method"

	// A long-lived connection's record counts its messages and bytes; the
	// record of one of its messages names the connection's record.
	KeyStreamMessagesReceived = "appstats.stream.messages_received"
	KeyStreamMessagesSent     = "appstats.stream.messages_sent"
	KeyStreamBytesReceived    = "appstats.stream.bytes_received"
	KeyStreamBytesSent        = "appstats.stream.bytes_sent"
	KeyStreamRecordID         = "appstats.stream.record.id"
	// KeyStreamSystem is a long-lived connection's system ("sse",
	// "websocket") on its HTTP server span, where the recorder's
	// messaging.system is not exported (it marks messaging spans).
	KeyStreamSystem = "appstats.stream.system"
	KeyMessageType  = "appstats.message.type" // a message's type, from its record's route

	EventWarning   = "appstats.warning" // a record's warning, on the request's span
	EventException = "exception"        // an error event, read from bridged spans; appstats does not export it
)

// KeyDroppedAttrs is the attribute, on a record or a call, that counts the
// attributes over the recorder's cap that were not kept.
const KeyDroppedAttrs = "appstats.dropped_attributes"

// IsDigits reports whether s is a non-empty run of ASCII digits.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
