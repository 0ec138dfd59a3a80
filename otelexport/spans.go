package otelexport

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// ScopeName is the instrumentation scope of the spans an [Exporter] makes.
const ScopeName = "github.com/goappstats/appstats/otelexport"

// SchemaURL is the schema of the semantic conventions the exported spans
// follow (semconv v1.43.0): the schema URL of their resource and scope.
const SchemaURL = "https://opentelemetry.io/schemas/1.43.0"

// Attribute types: OpenTelemetry defines these keys as integers, booleans
// or lists of strings, and appstats' own counts and lists are typed alike;
// recorded attributes (strings) under them are exported so.
var (
	intKeys = map[string]bool{
		convention.KeyHTTPResponseStatusCode: true, convention.KeyHTTPRequestBodySize: true,
		convention.KeyHTTPResponseBodySize: true, convention.KeyServerPort: true, convention.KeyClientPort: true,
		convention.KeyNetworkPeerPort: true, convention.KeyDBResponseReturnedRows: true,
		convention.KeyCodeLineNumber: true, convention.KeyDBAffectedRows: true,
		convention.KeyRPCMessagesReceived: true, convention.KeyRPCMessagesSent: true,
		convention.KeyGenAIUsageInputTokens: true, convention.KeyGenAIUsageOutputTokens: true,
		convention.KeyMessagingMessageBodySize: true,
		convention.KeyStreamMessagesReceived:   true, convention.KeyStreamMessagesSent: true,
		convention.KeyStreamBytesReceived: true, convention.KeyStreamBytesSent: true,
		convention.KeyDroppedAttrs: true,
	}
	boolKeys = map[string]bool{
		convention.KeyHTTPConnectionReused: true, convention.KeyHTTPHijacked: true,
		convention.KeyHTTPNoResponse: true, convention.KeyRouteUnmatched: true, convention.KeyCallRunning: true,
	}
	listKeys = map[string]string{ // key → separator of the recorded value
		convention.KeyDNSAnswers:    convention.AnswerSep,
		convention.KeyPhasesUnknown: ",",
	}
	// droppedKeys are never exported: older semantic-convention keys whose
	// content the exporter writes under the current ones.
	droppedKeys = map[string]bool{
		convention.KeyOldRPCSystem: true, convention.KeyOldRPCService: true, convention.KeyOldRPCGRPCStatusCode: true,
		convention.KeySpanKind:   true, // the span's kind itself
		convention.KeySpanParent: true, // the span's parent itself
	}
)

// attrSet collects attributes; a later value replaces an earlier one with
// the same key.
type attrSet []attribute.KeyValue

func (s *attrSet) set(kv attribute.KeyValue) {
	for i := range *s {
		if (*s)[i].Key == kv.Key {
			(*s)[i] = kv
			return
		}
	}
	*s = append(*s, kv)
}

func (s *attrSet) str(k, v string) {
	if v != "" {
		s.set(attribute.String(k, v))
	}
}

func (s *attrSet) del(k string) {
	for i := range *s {
		if string((*s)[i].Key) == k {
			*s = append((*s)[:i], (*s)[i+1:]...)
			return
		}
	}
}

func (s attrSet) get(key string) (attribute.Value, bool) {
	for i := range s {
		if string(s[i].Key) == key {
			return s[i].Value, true
		}
	}
	return attribute.Value{}, false
}

// getStr returns the value of key as a string, or "".
func (s attrSet) getStr(key string) string {
	if v, ok := s.get(key); ok {
		return v.String()
	}
	return ""
}

// typed returns a recorded attribute as OpenTelemetry types it.
func typed(key, value string) attribute.KeyValue {
	switch {
	case intKeys[key]:
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			return attribute.Int64(key, n)
		}
	case boolKeys[key]:
		if b, err := strconv.ParseBool(value); err == nil {
			return attribute.Bool(key, b)
		}
	case listKeys[key] != "":
		return attribute.StringSlice(key, strings.Split(value, listKeys[key]))
	}
	return attribute.String(key, value)
}

// passthrough adds recorded attributes, typed per the conventions.
func (s *attrSet) passthrough(attrs []recording.Attr) {
	for _, a := range attrs {
		if a.Key == "" || droppedKeys[a.Key] {
			continue
		}
		s.set(typed(a.Key, a.Value))
	}
}

// appendSpans appends the spans of one record to dst: the record's own span
// first, then one CLIENT span per call.
func (e *Exporter) appendSpans(dst []sdktrace.ReadOnlySpan, r *recording.Record) []sdktrace.ReadOnlySpan {
	return appendSpans(dst, r, e.resource(r.Instance), e.scope)
}

func appendSpans(dst []sdktrace.ReadOnlySpan, r *recording.Record, res *resource.Resource, scope instrumentation.Scope) []sdktrace.ReadOnlySpan {
	tid := trace.TraceID(r.TraceID)
	// The spans' flags and tracestate are the caller's, as OpenTelemetry's
	// SDK gives a span its parent's: sampled (an unsampled record is not
	// exported), the caller's random-trace-id flag, and the tracestate the
	// recorder passed on (one that does not parse is left out, as the
	// SDK's propagator leaves it).
	flags := trace.FlagsSampled.WithRandom(r.RandomTraceID)
	var state trace.TraceState
	if s := r.TraceState(); s != "" {
		state, _ = trace.ParseTraceState(s)
	}
	self := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: trace.SpanID(r.SpanID), TraceFlags: flags, TraceState: state,
	})
	var parent trace.SpanContext
	if r.ParentSpanID.IsValid() {
		parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: trace.SpanID(r.ParentSpanID), TraceFlags: flags, TraceState: state, Remote: true,
		})
	}
	if v := r.Attr(convention.KeySpanParent); v != "" {
		// otelhttp's SERVER span for the request, mounted inside the
		// middleware: the child of the record's parent, in this
		// process (see bridge.serverInside).
		if sid, err := trace.SpanIDFromHex(v); err == nil {
			parent = trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: tid, SpanID: sid, TraceFlags: flags, TraceState: state,
			})
		}
	}
	end := r.Start.Add(max(r.Duration, 0)) // OTLP expects end >= start
	attrs, status := serverAttrs(r)
	root := tracetest.SpanStub{
		Name:                 serverSpanName(r, attrs),
		SpanContext:          self,
		Parent:               parent,
		SpanKind:             trace.SpanKindServer,
		StartTime:            r.Start,
		EndTime:              end,
		Attributes:           attrs,
		Status:               status,
		Resource:             res,
		InstrumentationScope: scope,
	}
	switch r.Kind {
	case recording.KindBackground:
		root.SpanKind = trace.SpanKindInternal
	case recording.KindMessage:
		// A message handled on a long-lived connection: consumed, or
		// produced, as OpenTelemetry's messaging conventions say.
		root.SpanKind = trace.SpanKindConsumer
		if r.Method == "SEND" {
			root.SpanKind = trace.SpanKindProducer
		}
	}
	for _, w := range r.Warnings {
		root.Events = append(root.Events, sdktrace.Event{
			Name: convention.EventWarning,
			Time: end,
			Attributes: []attribute.KeyValue{
				attribute.String(convention.KeyWarningKind, w.Kind),
				attribute.String(convention.KeyService, w.Service),
				attribute.String(convention.KeyWarningMethod, w.Method),
				attribute.Int(convention.KeyWarningCount, w.Count),
				attribute.String(convention.KeyWarningMessage, w.Message),
			},
		})
	}
	for i := range r.Calls {
		c := &r.Calls[i]
		if !c.Event {
			root.ChildSpanCount++
			continue
		}
		var as attrSet
		as.str(convention.KeyEventDetail, c.Request)
		as.passthrough(c.Attrs)
		root.Events = append(root.Events, sdktrace.Event{
			Name: c.Method, Time: r.Start.Add(c.Start), Attributes: as,
		})
	}
	dst = append(dst, root.Snapshot())
	parents := r.Parents()
	for i := range r.Calls {
		if r.Calls[i].Event {
			continue
		}
		c, _ := r.FinalCall(i) // a call still running at the request's end may have ended since
		dst = append(dst, callSpan(r, &c, callParent(r, parents[i], self), res, scope))
	}
	return dst
}

// callParent returns the span context a call's span is a child of: the span
// of the call it was made inside of (index p in r.Calls, -1 for none), as
// the record has it, else the record's own span.
func callParent(r *recording.Record, p int, self trace.SpanContext) trace.SpanContext {
	if p < 0 || r.Calls[p].Event {
		return self
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: self.TraceID(), SpanID: trace.SpanID(r.Calls[p].SpanID), TraceFlags: self.TraceFlags(),
		TraceState: self.TraceState(),
	})
}

// serverSpanName follows the conventions: "{method} {http.route}", or
// "{method}" without a route from the router, "HTTP" standing for a method
// the conventions do not know; rpc.method for gRPC, or "grpc" for a method
// the server does not have.
func serverSpanName(r *recording.Record, attrs attrSet) string {
	switch r.Kind {
	case recording.KindHTTP:
		name := httpSpanMethod(attrs.getStr(convention.KeyHTTPRequestMethod))
		if rt := attrs.getStr(convention.KeyHTTPRoute); rt != "" {
			return name + " " + rt
		}
		return name
	case recording.KindGRPC:
		if m := attrs.getStr(convention.KeyRPCMethod); m != "" && m != convention.Other {
			return m
		}
		return convention.RPCSystemGRPC
	case recording.KindMessage:
		// "{messaging.operation.name} {destination}": "process GET /ws".
		if op, dest := attrs.getStr(convention.KeyMessagingOperationName), attrs.getStr(convention.KeyMessagingDestinationName); op != "" && dest != "" {
			return op + " " + dest
		}
	}
	if r.Path != "" {
		return r.Path
	}
	if r.Method != "" {
		return r.Method
	}
	return r.Kind.String()
}

// httpSpanMethod is the method part of an HTTP span's name: the
// http.request.method, or "HTTP" for _OTHER.
func httpSpanMethod(m string) string {
	if m == "" || m == convention.Other {
		return "HTTP"
	}
	return m
}

// httpRoute turns a net/http pattern ("GET example.com/users/{id}") into an
// http.route ("/users/{id}"); a router's template passes unchanged.
func httpRoute(method, route string) string {
	if m, rest, ok := strings.Cut(route, " "); ok && (m == method || isMethodToken(m)) {
		route = strings.TrimLeft(rest, " ")
	}
	if route != "" && route[0] != '/' {
		if i := strings.IndexByte(route, '/'); i >= 0 {
			route = route[i:] // drop the host of a host-specific pattern
		}
	}
	return route
}

func isMethodToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// serverAttrs returns the attributes and the status of a record's span.
func serverAttrs(r *recording.Record) (attrSet, sdktrace.Status) {
	as := make(attrSet, 0, 16+len(r.Attrs))
	as.passthrough(r.Attrs)
	var errType string
	failed := r.Error != "" || r.Panic != ""
	switch r.Kind {
	case recording.KindHTTP:
		httpMethodAttrs(&as, r.Method)
		as.str(convention.KeyURLPath, r.Path)
		as.str(convention.KeyURLQuery, specRedacted(r.Query))
		if r.Attr(convention.KeyRouteUnmatched) == "" {
			// The route came from the router: the one http.route.
			as.str(convention.KeyHTTPRoute, httpRoute(r.Method, r.Route))
		}
		sent := r.Status != 0 && r.Attr(convention.KeyHTTPNoResponse) == ""
		if sent {
			as.set(attribute.Int(convention.KeyHTTPResponseStatusCode, r.Status))
		}
		// The HTTP message's bodies: a long-lived connection's record
		// counts its stream's bytes apart (appstats.stream.bytes_*; see
		// recording.StartStream).
		if r.RequestBytes > 0 {
			as.set(attribute.Int64(convention.KeyHTTPRequestBodySize, r.RequestBytes))
		}
		if r.ResponseBytes > 0 {
			as.set(attribute.Int64(convention.KeyHTTPResponseBodySize, r.ResponseBytes))
		}
		// A long-lived connection's system (recording.StartStream:
		// "sse", "websocket"), which the recorder writes as
		// messaging.system: on the connection's HTTP SERVER span it is
		// appstats' own. The messaging conventions put messaging.system
		// on messaging spans (its messages' PRODUCER and CONSUMER spans
		// have it), and backends take a span that has it for one.
		if v, ok := as.get(convention.KeyMessagingSystem); ok {
			as.del(convention.KeyMessagingSystem)
			as.set(attribute.KeyValue{Key: convention.KeyStreamSystem, Value: v})
		}
		switch {
		case sent && r.Status >= 500:
			failed, errType = true, strconv.Itoa(r.Status)
		case r.Panic != "":
			errType = "panic"
		}
	case recording.KindGRPC:
		as.set(attribute.String(convention.KeyRPCSystemName, convention.RPCSystemGRPC))
		if _, ok := as.get(convention.KeyRPCMethod); !ok {
			as.str(convention.KeyRPCMethod, convention.GRPCSpanName(r.Path))
		}
		code := convention.GRPCStatusName(r.Status)
		as.set(attribute.String(convention.KeyRPCResponseStatusCode, code))
		if convention.GRPCServerFailed(r.Status) {
			failed, errType = true, code
		} else if r.Panic == "" {
			failed = false // an answer to the client, such as NOT_FOUND
		}
	case recording.KindMessage:
		// The destination is the connection's route, which the recorder
		// writes as its own attribute; a message's route adds its type
		// ("GET /ws typing"), which is not part of the destination.
		dest := as.getStr(convention.KeyMessagingDestinationName)
		if dest == "" {
			dest = r.Route // a record of a recorder before the attribute
			as.str(convention.KeyMessagingDestinationName, dest)
		}
		if typ, ok := strings.CutPrefix(r.Route, dest+" "); ok && dest != "" {
			as.str(convention.KeyMessageType, typ)
		}
		if as.getStr(convention.KeyMessagingOperationName) == "" {
			// Required, and the span's name: the operation, "process" or
			// "send", as its type says.
			as.str(convention.KeyMessagingOperationName, as.getStr(convention.KeyMessagingOperationType))
		}
		if n := max(r.RequestBytes, r.ResponseBytes); n > 0 {
			as.set(attribute.Int64(convention.KeyMessagingMessageBodySize, n))
		}
	}
	peerAttrs(&as, r.Remote)
	as.str(convention.KeyUserID, r.User)
	if !r.ID.IsZero() {
		as.str(convention.KeyRecordID, r.ID.String())
	}
	as.set(attribute.Float64(convention.KeyOverheadMS, float64(r.Overhead)/float64(time.Millisecond)))
	if r.DroppedCalls > 0 {
		as.set(attribute.Int(convention.KeyDroppedCalls, r.DroppedCalls))
	}
	if !failed {
		return as, sdktrace.Status{Code: codes.Unset}
	}
	switch {
	case errType != "":
	case r.Panic != "":
		errType = "panic"
	default:
		errType = convention.Other
	}
	as.set(attribute.String(convention.KeyErrorType, errType))
	desc := r.Error
	if r.Kind == recording.KindGRPC && desc == convention.GRPCCodeName(r.Status) {
		desc = "" // middleware/grpcstats' stand-in for an empty status message
	}
	if r.Panic != "" {
		desc = "panic: " + r.Panic
	}
	return as, sdktrace.Status{Code: codes.Error, Description: desc}
}

// peerAttrs sets the attributes of a server's peer, from its address
// "host:port": network.peer.address and network.peer.port, and
// client.address (the peer itself: headers a proxy may add are the
// client's to write, and are not trusted).
func peerAttrs(as *attrSet, remote string) {
	if remote == "" {
		return
	}
	host, port, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	as.str(convention.KeyClientAddress, host)
	as.str(convention.KeyNetworkPeerAddress, host)
	if p, err := strconv.Atoi(port); err == nil {
		as.set(attribute.Int(convention.KeyNetworkPeerPort, p))
	}
}

// httpMethodAttrs sets http.request.method, and
// http.request.method_original for a method the conventions do not know.
func httpMethodAttrs(as *attrSet, method string) {
	name, original := convention.HTTPMethod(method)
	as.set(attribute.String(convention.KeyHTTPRequestMethod, name))
	if original != "" {
		as.set(attribute.String(convention.KeyHTTPRequestMethodOriginal, original))
	} else {
		as.del(convention.KeyHTTPRequestMethodOriginal)
	}
}

// specRedacted rewrites the redaction marker of recorded URLs and queries
// ("[REDACTED]", or its escaped form) into the conventions' "REDACTED" (for
// url.full and url.query); a URL's user information becomes
// "REDACTED:REDACTED".
func specRedacted(s string) string {
	if !strings.Contains(s, "REDACTED") {
		return s
	}
	s = strings.ReplaceAll(s, escapedMarker, convention.Redacted)
	if i := strings.Index(s, "://"+convention.Redacted+"@"); i >= 0 {
		s = s[:i+3] + "REDACTED:REDACTED" + s[i+3+len(convention.Redacted):]
	}
	return strings.ReplaceAll(s, convention.Redacted, "REDACTED")
}

var escapedMarker = url.QueryEscape(convention.Redacted)

// callSpan returns the span of call c of record r.
func callSpan(r *recording.Record, c *recording.Call, parent trace.SpanContext, res *resource.Resource, scope instrumentation.Scope) sdktrace.ReadOnlySpan {
	start := r.Start.Add(c.Start)
	end := start.Add(max(c.Duration, 0))
	as := make(attrSet, 0, 16+len(c.Attrs))
	as.str(convention.KeyService, c.Service)
	as.passthrough(c.Attrs)
	var name string
	var failed bool // by the call's own status codes
	var errType string
	switch c.Service {
	case convention.ServiceHTTP:
		name, failed, errType = httpCallAttrs(&as, c)
	case convention.ServiceGRPC:
		name, failed, errType = grpcCallAttrs(&as, c)
	case convention.ServiceSQL:
		name = sqlCallAttrs(&as, c)
	default:
		name = strings.TrimSpace(c.Service + " " + c.Method)
		if sys := as.getStr(convention.KeyDBSystemName); sys != "" {
			name, errType = dbCallAttrs(&as, c, sys)
		}
		if op := c.Attr(convention.KeyMessagingOperationType); op != "" && c.Attr(convention.KeyMessagingSystem) != "" {
			// A message sent (a stream's send, or a bridged producer's):
			// the operation's name is required, and the message's size
			// is the body's.
			if c.Attr(convention.KeyMessagingOperationName) == "" {
				as.str(convention.KeyMessagingOperationName, op)
			}
			if c.RequestSize > 0 && c.Attr(convention.KeyMessagingMessageBodySize) == "" {
				as.set(attribute.Int64(convention.KeyMessagingMessageBodySize, c.RequestSize))
			}
			// A stream's send (recording.Stream.StartSend: the
			// call's service is the stream's system, its method
			// "send {type}"): named as the messaging conventions
			// name a span, "{messaging.operation.name}
			// {destination}" ("send GET /prices"), as a message
			// record's span is, the message's type apart.
			if dest := c.Attr(convention.KeyMessagingDestinationName); dest != "" && c.Service == c.Attr(convention.KeyMessagingSystem) {
				opName := as.getStr(convention.KeyMessagingOperationName)
				name = opName + " " + dest
				if typ, ok := strings.CutPrefix(c.Method, opName+" "); ok {
					as.str(convention.KeyMessageType, typ)
				}
			}
		}
		as.str(convention.KeyCallRequest, c.Request)
		as.str(convention.KeyCallResponse, c.Response)
		if c.RequestSize >= 0 {
			as.set(attribute.Int64(convention.KeyCallRequestSize, c.RequestSize))
		}
		if c.ResponseSize >= 0 {
			as.set(attribute.Int64(convention.KeyCallResponseSize, c.ResponseSize))
		}
	}
	if name == "" {
		name = c.Service
	}
	if len(c.Stack) > 0 {
		f := c.Stack[0]
		as.str(convention.KeyCodeFunctionName, f.Function)
		as.str(convention.KeyCodeFilePath, f.File)
		if f.Line > 0 {
			as.set(attribute.Int(convention.KeyCodeLineNumber, f.Line))
		}
	}
	if c.Running {
		as.set(attribute.Bool(convention.KeyCallRunning, true))
	}

	st := sdktrace.Status{Code: codes.Unset}
	if failed || c.Error != "" {
		desc := c.Error
		switch {
		case c.Service == convention.ServiceGRPC:
			desc = grpcStatusMessage(desc, as.getStr(convention.KeyRPCResponseStatusCode))
		case c.Service == convention.ServiceHTTP && failed && (desc == errType || strings.HasPrefix(desc, errType+" ")):
			// The response's status line ("503 Service Unavailable", as
			// middleware/httpstats records a 5xx): "Don't set the span
			// status description if the reason can be inferred from
			// http.response.status_code", which error.type repeats.
			desc = ""
		}
		st = sdktrace.Status{Code: codes.Error, Description: desc}
		if errType == "" {
			errType = as.getStr(convention.KeyErrorType) // the wrapper's, or the error's type
		}
		if errType == "" {
			errType = convention.Other
		}
		as.set(attribute.String(convention.KeyErrorType, errType))
	} else {
		as.del(convention.KeyErrorType)
	}

	var events []sdktrace.Event
	for _, p := range c.Phases {
		events = append(events, sdktrace.Event{
			Name: p.Name,
			Time: r.Start.Add(p.Start),
			Attributes: []attribute.KeyValue{
				attribute.Float64(convention.KeyPhaseDurationMS, float64(p.Duration)/float64(time.Millisecond)),
			},
		})
	}
	return tracetest.SpanStub{
		Name: name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: parent.TraceID(), SpanID: trace.SpanID(c.SpanID), TraceFlags: parent.TraceFlags(),
			TraceState: parent.TraceState(),
		}),
		Parent:               parent,
		SpanKind:             callSpanKind(c),
		StartTime:            start,
		EndTime:              end,
		Attributes:           as,
		Events:               events,
		Status:               st,
		Resource:             res,
		InstrumentationScope: scope,
	}.Snapshot()
}

// The values of a call's convention.KeySpanKind.
const (
	spanKindInternal = convention.SpanKindInternal
	spanKindProducer = convention.SpanKindProducer
)

// callSpanKind returns the kind of a call's span: CLIENT, the kind of a
// call to another service, unless the call was bridged from an INTERNAL or
// a PRODUCER span, whose kind it keeps, or is a message sent to a stream
// (a PRODUCER, see recording.Stream.StartSend): convention.KeySpanKind.
func callSpanKind(c *recording.Call) trace.SpanKind {
	switch c.Attr(convention.KeySpanKind) {
	case spanKindInternal:
		return trace.SpanKindInternal
	case spanKindProducer:
		return trace.SpanKindProducer
	}
	return trace.SpanKindClient
}

// httpCallAttrs sets the attributes of an HTTP client call — its method,
// host and port as its name gives them ("GET api.example.com:8080/users/{id}",
// see [convention.HTTPCallName]) for calls named by hand or recorded
// without those attributes, url.full with the conventions' redaction
// marker, its sizes — and returns its span's name ("{method}", or
// "{method} {url.template}" when the call has a url.template), whether its
// status code is a failure (4xx and 5xx, on a client) and, then, its
// error.type (the code).
func httpCallAttrs(as *attrSet, c *recording.Call) (name string, failed bool, errType string) {
	method, host, port, _ := convention.ParseHTTPCallName(c.Method)
	if _, ok := as.get(convention.KeyHTTPRequestMethod); ok {
		method = as.getStr(convention.KeyHTTPRequestMethod)
	}
	httpMethodAttrs(as, method)
	if _, ok := as.get(convention.KeyServerAddress); !ok {
		as.str(convention.KeyServerAddress, host)
		if n, err := strconv.Atoi(port); err == nil {
			as.set(attribute.Int(convention.KeyServerPort, n))
		}
	}
	if u := as.getStr(convention.KeyURLFull); u != "" {
		as.set(attribute.String(convention.KeyURLFull, specRedacted(u)))
	}
	if c.RequestSize >= 0 {
		as.set(attribute.Int64(convention.KeyHTTPRequestBodySize, c.RequestSize))
	}
	if c.ResponseSize >= 0 {
		as.set(attribute.Int64(convention.KeyHTTPResponseBodySize, c.ResponseSize))
	}
	name = httpSpanMethod(as.getStr(convention.KeyHTTPRequestMethod))
	if t := as.getStr(convention.KeyURLTemplate); t != "" {
		name += " " + t
	}
	if v, ok := as.get(convention.KeyHTTPResponseStatusCode); ok && v.Type() == attribute.INT64 && v.AsInt64() >= 400 {
		return name, true, strconv.FormatInt(v.AsInt64(), 10)
	}
	return name, false, ""
}

// grpcCallAttrs sets the attributes of a gRPC client call, read from its
// full method ("/pkg.Service/Method") and its status, and returns its
// span's name ("pkg.Service/Method"), whether its status is a failure
// (anything but OK, on a client) and, then, its error.type (the status
// code's name).
func grpcCallAttrs(as *attrSet, c *recording.Call) (name string, failed bool, errType string) {
	name = convention.GRPCSpanName(c.Method)
	as.set(attribute.String(convention.KeyRPCSystemName, convention.RPCSystemGRPC))
	as.set(attribute.String(convention.KeyRPCMethod, name))
	code := as.getStr(convention.KeyRPCResponseStatusCode)
	if code == "" {
		// An older record's numeric code, else what the call's end says.
		for _, a := range c.Attrs {
			if a.Key == convention.KeyOldRPCGRPCStatusCode {
				if n, err := strconv.Atoi(a.Value); err == nil {
					code = convention.GRPCStatusName(n)
				}
			}
		}
		if code == "" && c.Error == "" && !c.Running {
			code = convention.GRPCStatusName(0)
		}
		as.str(convention.KeyRPCResponseStatusCode, code)
	}
	if code != "" && code != convention.GRPCStatusName(0) {
		return name, true, code
	}
	return name, false, ""
}

// grpcStatusMessage returns the status message of a gRPC call's error as
// middleware/grpcstats records it, "NotFound: no such user", for a code
// named "NOT_FOUND": the message alone, as otelgrpc describes a span's
// status (the code is in rpc.response.status_code and error.type). An
// error of another form is returned as it is.
func grpcStatusMessage(err, code string) string {
	for n := range 17 {
		if convention.GRPCStatusName(n) == code {
			if msg, ok := strings.CutPrefix(err, convention.GRPCCodeName(n)+":"); ok {
				return strings.TrimPrefix(msg, " ")
			}
			break
		}
	}
	return err
}

// dbCallAttrs sets the attributes of a call to a database that is not an
// SQL one (a Redis command bridged from redisotel's span, say), and
// returns the span's name, as the database conventions name it —
// db.query.summary, else "{db.operation.name} {db.collection.name}", else
// db.collection.name, else the call's method, as db.query.summary too (as
// for an SQL call), else db.system.name — and its error.type when the call's attributes give
// none but "_OTHER" (the bridge's, for a span's error of no type): its
// db.response.status_code, which the conventions ask error.type to match. The operation of a Redis (or Valkey) call is its
// command, the call's method (redisotel names its spans by the command),
// and a Redis error's prefix ("WRONGTYPE", "READONLY": the error's code,
// as the conventions' Redis page has it) is its db.response.status_code.
func dbCallAttrs(as *attrSet, c *recording.Call, sys string) (name, errType string) {
	if redisSystems[sys] {
		if as.getStr(convention.KeyDBOperationName) == "" && as.getStr(convention.KeyDBQuerySummary) == "" {
			as.str(convention.KeyDBOperationName, c.Method)
		}
		if c.Error != "" && as.getStr(convention.KeyDBResponseStatusCode) == "" {
			as.str(convention.KeyDBResponseStatusCode, redisErrorPrefix(c.Error))
		}
	}
	if t := as.getStr(convention.KeyErrorType); t == "" || t == convention.Other {
		errType = as.getStr(convention.KeyDBResponseStatusCode) // "" keeps the call's
	}
	if s := as.getStr(convention.KeyDBQuerySummary); s != "" {
		return s, errType
	}
	if op := as.getStr(convention.KeyDBOperationName); op != "" {
		return strings.TrimSpace(op + " " + as.getStr(convention.KeyDBCollectionName)), errType
	}
	if coll := as.getStr(convention.KeyDBCollectionName); coll != "" {
		return coll, errType
	}
	if c.Method != "" { // as sqlCallAttrs does: the call's name is its summary
		as.str(convention.KeyDBQuerySummary, c.Method)
		return c.Method, errType
	}
	return sys, errType
}

// redisErrorPrefix returns the prefix of a Redis error reply, its code
// ("ERR", "WRONGTYPE", "READONLY": the first word, in capitals, of
// "WRONGTYPE Operation against a key…"), or "" for an error of another
// kind (a network error).
func redisErrorPrefix(msg string) string {
	word, _, ok := strings.Cut(msg, " ")
	if !ok || len(word) < 2 {
		return ""
	}
	for _, r := range word {
		if r < 'A' || r > 'Z' {
			return ""
		}
	}
	return word
}

// sqlCallAttrs sets the database attributes and returns the span's name:
// db.query.summary ("SELECT users", the call's method as package sqlstats
// names statements) when the call has one or names no operation, else
// db.operation.name and db.collection.name. The query text is the call's
// request summary, which database wrappers record normalized, without
// arguments; a db.query.text attribute of the call wins over it.
// db.system.name is "other_sql" when the call does not say.
func sqlCallAttrs(as *attrSet, c *recording.Call) string {
	if as.getStr(convention.KeyDBSystemName) == "" {
		as.set(attribute.String(convention.KeyDBSystemName, "other_sql"))
	}
	if as.getStr(convention.KeyDBQueryText) == "" {
		as.str(convention.KeyDBQueryText, c.Request)
	}
	if s := as.getStr(convention.KeyDBQuerySummary); s != "" {
		return s
	}
	if op := as.getStr(convention.KeyDBOperationName); op != "" {
		return strings.TrimSpace(op + " " + as.getStr(convention.KeyDBCollectionName))
	}
	as.str(convention.KeyDBQuerySummary, c.Method)
	return c.Method
}
