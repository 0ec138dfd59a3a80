package convention

// Attribute keys of records, calls and exported spans. Every key appstats
// writes or reads is spelled here, once: OpenTelemetry semantic-convention
// names where one exists (HTTP, database, code and exception attributes as
// in semconv v1.40+; rpc.* in the form trace backends read today, with the
// newer rpc.system.name and rpc.response.status_code beside them), and
// appstats' own under "appstats.".
const (
	KeyHTTPRequestMethod      = "http.request.method"
	KeyHTTPResponseStatusCode = "http.response.status_code"
	KeyHTTPRoute              = "http.route"
	KeyHTTPRequestBodySize    = "http.request.body.size"
	KeyHTTPResponseBodySize   = "http.response.body.size"
	KeyURLFull                = "url.full"
	KeyURLPath                = "url.path"
	KeyURLQuery               = "url.query"
	KeyURLTemplate            = "url.template"
	KeyServerAddress          = "server.address"
	KeyServerPort             = "server.port"
	KeyClientAddress          = "client.address"
	KeyClientPort             = "client.port"
	KeyUserID                 = "user.id"

	KeyNetworkTransport   = "network.transport"
	KeyNetworkType        = "network.type"
	KeyNetworkPeerAddress = "network.peer.address"
	KeyNetworkPeerPort    = "network.peer.port"

	KeyRPCSystem             = "rpc.system"
	KeyRPCSystemName         = "rpc.system.name"
	KeyRPCService            = "rpc.service"
	KeyRPCMethod             = "rpc.method"
	KeyRPCGRPCStatusCode     = "rpc.grpc.status_code"
	KeyRPCResponseStatusCode = "rpc.response.status_code"

	KeyDBSystemName           = "db.system.name"
	KeyDBNamespace            = "db.namespace"
	KeyDBQueryText            = "db.query.text"
	KeyDBQuerySummary         = "db.query.summary"
	KeyDBOperationName        = "db.operation.name"
	KeyDBCollectionName       = "db.collection.name"
	KeyDBResponseReturnedRows = "db.response.returned_rows"
	KeyDBQueryParameterPrefix = "db.query.parameter." // followed by the parameter's name or position

	KeyMessagingSystem          = "messaging.system"
	KeyMessagingDestinationName = "messaging.destination.name"
	KeyMessagingOperationType   = "messaging.operation.type"
	KeyMessagingMessageBodySize = "messaging.message.body.size"

	KeyCodeFunctionName = "code.function.name"
	KeyCodeFilePath     = "code.file.path"
	KeyCodeLineNumber   = "code.line.number"

	KeyExceptionMessage = "exception.message"
	KeyExceptionType    = "exception.type"

	// Resource attributes of exported spans.
	KeyServiceName          = "service.name"
	KeyServiceInstanceID    = "service.instance.id"
	KeyTelemetrySDKName     = "telemetry.sdk.name"
	KeyTelemetrySDKLanguage = "telemetry.sdk.language"
)

// Keys appstats has recorded since before it kept its own keys under
// "appstats.", and still records under these names; they have no semantic
// convention.
const (
	KeyHTTPConnectionReused   = "http.connection.reused"    // "true" when the HTTP client reused a connection
	KeyHTTPHijacked           = "http.hijacked"             // "true" on a record whose handler hijacked the connection
	KeyRPCGRPCType            = "rpc.grpc.type"             // "unary", "client_stream", "server_stream" or "bidi_stream"
	KeyRPCMessagesReceived    = "rpc.messages_received"     // messages received by the recording side
	KeyRPCMessagesSent        = "rpc.messages_sent"         // messages sent by the recording side
	KeyDBResponseAffectedRows = "db.response.affected_rows" // rows an Exec changed
)

// Older semantic-convention keys, read from spans of instrumentation that
// still writes them; appstats never writes them.
const (
	KeyOldHTTPMethod     = "http.method"      // now http.request.method
	KeyOldHTTPURL        = "http.url"         // now url.full
	KeyOldHTTPStatusCode = "http.status_code" // now http.response.status_code
	KeyOldNetPeerName    = "net.peer.name"    // now server.address
	KeyOldDBSystem       = "db.system"        // now db.system.name
	KeyOldDBOperation    = "db.operation"     // now db.operation.name
	KeyOldDBStatement    = "db.statement"     // now db.query.text
	KeyOldDBSQLTable     = "db.sql.table"     // now db.collection.name
)

// appstats' own keys, and the names of the span events it exports.
const (
	KeyRecordID         = "appstats.record.id"
	KeyOverheadMS       = "appstats.overhead_ms"
	KeyDroppedCalls     = "appstats.dropped_calls"
	KeyService          = "appstats.service" // a call's Service
	KeyCallRunning      = "appstats.call.running"
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

	EventWarning   = "appstats.warning" // a record's warning, on the request's span
	EventException = "exception"        // an error or panic (semantic conventions)
)

// KeyDroppedAttrs is the attribute, on a record or a call, that counts the
// attributes over the recorder's cap that were not kept.
const KeyDroppedAttrs = "appstats.dropped_attributes"
