package otelexport

import (
	"net"
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
	grpccodes "google.golang.org/grpc/codes"

	"github.com/goappstats/appstats/recording"
)

// ScopeName is the instrumentation scope of the spans an [Exporter] makes.
const ScopeName = "github.com/goappstats/appstats/otelexport"

// Attribute keys: OpenTelemetry semantic conventions (HTTP, database and code
// attributes as in semconv v1.40+; rpc.* in the form trace backends read
// today, with the newer rpc.system.name and rpc.response.status_code added),
// and appstats' own under "appstats.".
const (
	keyHTTPMethod      = "http.request.method"
	keyHTTPStatus      = "http.response.status_code"
	keyHTTPRoute       = "http.route"
	keyHTTPReqSize     = "http.request.body.size"
	keyHTTPRespSize    = "http.response.body.size"
	keyURLPath         = "url.path"
	keyURLQuery        = "url.query"
	keyURLFull         = "url.full"
	keyServerAddress   = "server.address"
	keyServerPort      = "server.port"
	keyClientAddress   = "client.address"
	keyClientPort      = "client.port"
	keyUserID          = "user.id"
	keyRPCSystem       = "rpc.system"
	keyRPCSystemName   = "rpc.system.name"
	keyRPCService      = "rpc.service"
	keyRPCMethod       = "rpc.method"
	keyRPCGRPCStatus   = "rpc.grpc.status_code"
	keyRPCRespStatus   = "rpc.response.status_code"
	keyDBSystemName    = "db.system.name"
	keyDBQueryText     = "db.query.text"
	keyDBOperationName = "db.operation.name"
	keyCodeFunction    = "code.function.name"
	keyCodeFile        = "code.file.path"
	keyCodeLine        = "code.line.number"
	keyExceptionMsg    = "exception.message"
	keyExceptionType   = "exception.type"

	keyRecordID     = "appstats.record.id"
	keyOverheadMS   = "appstats.overhead_ms"
	keyDroppedCalls = "appstats.dropped_calls"
	keyService      = "appstats.service"
	keyRunning      = "appstats.call.running"
	keyRequest      = "appstats.call.request"
	keyResponse     = "appstats.call.response"
	keyRequestSize  = "appstats.call.request_size"
	keyResponseSize = "appstats.call.response_size"
	keyPhaseMS      = "appstats.phase.duration_ms"
	keyEventDetail  = "appstats.event.detail"
	keyWarnKind     = "appstats.warning.kind"
	keyWarnCount    = "appstats.warning.count"
	keyWarnMessage  = "appstats.warning.message"
	keyWarnMethod   = "appstats.warning.method"
)

// intKeys are attribute keys whose values OpenTelemetry defines as integers;
// recording.Attr values (strings) under these keys are exported as ints.
var intKeys = map[string]bool{
	keyHTTPStatus: true, keyServerPort: true, keyClientPort: true, keyRPCGRPCStatus: true,
	keyHTTPReqSize: true, keyHTTPRespSize: true, "network.peer.port": true,
	"db.response.returned_rows": true,
}

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

// passthrough adds recorded attributes, typed per the conventions.
func (s *attrSet) passthrough(attrs []recording.Attr) {
	for _, a := range attrs {
		if a.Key == "" {
			continue
		}
		if intKeys[a.Key] {
			if n, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
				s.set(attribute.Int64(a.Key, n))
				continue
			}
		}
		s.set(attribute.String(a.Key, a.Value))
	}
}

// appendSpans appends the spans of one record to dst: the record's own span
// first, then one CLIENT span per call.
func (e *Exporter) appendSpans(dst []sdktrace.ReadOnlySpan, r *recording.Record) []sdktrace.ReadOnlySpan {
	return appendSpans(dst, r, e.resource(r.Instance))
}

func appendSpans(dst []sdktrace.ReadOnlySpan, r *recording.Record, res *resource.Resource) []sdktrace.ReadOnlySpan {
	scope := instrumentation.Scope{Name: ScopeName}
	tid := trace.TraceID(r.TraceID)
	self := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: trace.SpanID(r.SpanID), TraceFlags: trace.FlagsSampled,
	})
	var parent trace.SpanContext
	if r.ParentSpanID.IsValid() {
		parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: trace.SpanID(r.ParentSpanID), TraceFlags: trace.FlagsSampled, Remote: true,
		})
	}
	end := r.Start.Add(r.Duration)
	root := tracetest.SpanStub{
		Name:                 serverSpanName(r),
		SpanContext:          self,
		Parent:               parent,
		SpanKind:             trace.SpanKindServer,
		StartTime:            r.Start,
		EndTime:              end,
		Attributes:           serverAttrs(r),
		Status:               serverStatus(r),
		Resource:             res,
		InstrumentationScope: scope,
	}
	if r.Kind == recording.KindBackground {
		root.SpanKind = trace.SpanKindInternal
	}
	if r.Error != "" {
		root.Events = append(root.Events, exceptionEvent(end, "", r.Error))
	}
	if r.Panic != "" {
		root.Events = append(root.Events, exceptionEvent(end, "panic", r.Panic))
	}
	for _, w := range r.Warnings {
		root.Events = append(root.Events, sdktrace.Event{
			Name: "appstats.warning",
			Time: end,
			Attributes: []attribute.KeyValue{
				attribute.String(keyWarnKind, w.Kind),
				attribute.String(keyService, w.Service),
				attribute.String(keyWarnMethod, w.Method),
				attribute.Int(keyWarnCount, w.Count),
				attribute.String(keyWarnMessage, w.Message),
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
		as.str(keyEventDetail, c.Request)
		as.passthrough(c.Attrs)
		root.Events = append(root.Events, sdktrace.Event{
			Name: c.Method, Time: r.Start.Add(c.Start), Attributes: as,
		})
	}
	dst = append(dst, root.Snapshot())
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		dst = append(dst, callSpan(r, c, self, res, scope))
	}
	return dst
}

func exceptionEvent(t time.Time, typ, msg string) sdktrace.Event {
	attrs := []attribute.KeyValue{attribute.String(keyExceptionMsg, msg)}
	if typ != "" {
		attrs = append(attrs, attribute.String(keyExceptionType, typ))
	}
	return sdktrace.Event{Name: "exception", Time: t, Attributes: attrs}
}

// serverSpanName follows the conventions: "{method} {route}" or "{method}"
// for HTTP, the full method without its leading slash for gRPC.
func serverSpanName(r *recording.Record) string {
	switch r.Kind {
	case recording.KindHTTP:
		if rt := httpRoute(r.Method, r.Route); rt != "" {
			return r.Method + " " + rt
		}
		if r.Method == "" {
			return "HTTP"
		}
		return r.Method
	case recording.KindGRPC:
		if r.Path != "" {
			return strings.TrimPrefix(r.Path, "/")
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

func serverAttrs(r *recording.Record) attrSet {
	as := make(attrSet, 0, 12+len(r.Attrs))
	switch r.Kind {
	case recording.KindHTTP:
		as.str(keyHTTPMethod, r.Method)
		as.str(keyURLPath, r.Path)
		as.str(keyURLQuery, r.Query)
		as.str(keyHTTPRoute, httpRoute(r.Method, r.Route))
		if r.Status != 0 {
			as.set(attribute.Int(keyHTTPStatus, r.Status))
		}
		if r.RequestBytes > 0 {
			as.set(attribute.Int64(keyHTTPReqSize, r.RequestBytes))
		}
		if r.ResponseBytes > 0 {
			as.set(attribute.Int64(keyHTTPRespSize, r.ResponseBytes))
		}
	case recording.KindGRPC:
		svc, method := splitGRPCMethod(r.Path)
		as.str(keyRPCSystem, "grpc")
		as.str(keyRPCSystemName, "grpc")
		as.str(keyRPCService, svc)
		as.str(keyRPCMethod, method)
		as.set(attribute.Int(keyRPCGRPCStatus, r.Status))
		as.str(keyRPCRespStatus, grpccodes.Code(r.Status).String())
	}
	if r.Remote != "" {
		if host, port, err := net.SplitHostPort(r.Remote); err == nil {
			as.str(keyClientAddress, host)
			if p, err := strconv.Atoi(port); err == nil {
				as.set(attribute.Int(keyClientPort, p))
			}
		} else {
			as.str(keyClientAddress, r.Remote)
		}
	}
	as.str(keyUserID, r.User)
	if !r.ID.IsZero() {
		as.str(keyRecordID, r.ID.String())
	}
	as.set(attribute.Float64(keyOverheadMS, float64(r.Overhead)/float64(time.Millisecond)))
	if r.DroppedCalls > 0 {
		as.set(attribute.Int(keyDroppedCalls, r.DroppedCalls))
	}
	as.passthrough(r.Attrs)
	return as
}

func serverStatus(r *recording.Record) sdktrace.Status {
	if !r.HasError() {
		return sdktrace.Status{Code: codes.Unset}
	}
	desc := r.Error
	switch {
	case r.Panic != "":
		desc = "panic: " + r.Panic
	case desc != "":
	case r.Kind == recording.KindGRPC:
		desc = grpccodes.Code(r.Status).String()
	default:
		desc = "HTTP " + strconv.Itoa(r.Status)
	}
	return sdktrace.Status{Code: codes.Error, Description: desc}
}

// splitGRPCMethod splits "/pkg.Service/Method" into its service and method.
func splitGRPCMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

func callSpan(r *recording.Record, c *recording.Call, parent trace.SpanContext, res *resource.Resource, scope instrumentation.Scope) sdktrace.ReadOnlySpan {
	start := r.Start.Add(c.Start)
	end := start.Add(c.Duration)
	st := sdktrace.Status{Code: codes.Unset}
	if c.Error != "" {
		st = sdktrace.Status{Code: codes.Error, Description: c.Error}
	}
	as := make(attrSet, 0, 12+len(c.Attrs))
	as.str(keyService, c.Service)
	name := c.Method
	switch c.Service {
	case "http":
		httpCallAttrs(&as, c)
	case "grpc":
		name = strings.TrimPrefix(c.Method, "/")
		svc, method := splitGRPCMethod(c.Method)
		as.str(keyRPCSystem, "grpc")
		as.str(keyRPCSystemName, "grpc")
		as.str(keyRPCService, svc)
		as.str(keyRPCMethod, method)
	case "sql":
		sqlCallAttrs(&as, c)
	default:
		if c.Method == "" {
			name = c.Service
		} else {
			name = c.Service + " " + c.Method
		}
		as.str(keyRequest, c.Request)
		as.str(keyResponse, c.Response)
		if c.RequestSize >= 0 {
			as.set(attribute.Int64(keyRequestSize, c.RequestSize))
		}
		if c.ResponseSize >= 0 {
			as.set(attribute.Int64(keyResponseSize, c.ResponseSize))
		}
	}
	if name == "" {
		name = c.Service
	}
	if len(c.Stack) > 0 {
		f := c.Stack[0]
		as.str(keyCodeFunction, f.Function)
		as.str(keyCodeFile, f.File)
		if f.Line > 0 {
			as.set(attribute.Int(keyCodeLine, f.Line))
		}
	}
	if c.Running {
		as.set(attribute.Bool(keyRunning, true))
	}
	as.passthrough(c.Attrs)

	// Status from codes the call's attributes carry.
	if st.Code != codes.Error {
		for _, kv := range as {
			switch kv.Key {
			case keyHTTPStatus:
				if n := kv.Value.AsInt64(); n >= 400 { // a client span fails on 4xx too
					st = sdktrace.Status{Code: codes.Error, Description: "HTTP " + strconv.FormatInt(n, 10)}
				}
			case keyRPCGRPCStatus:
				if n := kv.Value.AsInt64(); n != 0 {
					st = sdktrace.Status{Code: codes.Error, Description: grpccodes.Code(n).String()}
				}
			}
		}
	}
	if c.Service == "grpc" && as.lookup(keyRPCGRPCStatus) == nil && c.Error == "" && !c.Running {
		as.set(attribute.Int(keyRPCGRPCStatus, 0))
	}

	var events []sdktrace.Event
	for _, p := range c.Phases {
		events = append(events, sdktrace.Event{
			Name: p.Name,
			Time: r.Start.Add(p.Start),
			Attributes: []attribute.KeyValue{
				attribute.Float64(keyPhaseMS, float64(p.Duration)/float64(time.Millisecond)),
			},
		})
	}
	if c.Error != "" {
		events = append(events, exceptionEvent(end, "", c.Error))
	}
	return tracetest.SpanStub{
		Name: name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: parent.TraceID(), SpanID: trace.SpanID(c.SpanID), TraceFlags: trace.FlagsSampled,
		}),
		Parent:               parent,
		SpanKind:             trace.SpanKindClient,
		StartTime:            start,
		EndTime:              end,
		Attributes:           as,
		Events:               events,
		Status:               st,
		Resource:             res,
		InstrumentationScope: scope,
	}.Snapshot()
}

func (s attrSet) lookup(key attribute.Key) *attribute.Value {
	for i := range s {
		if s[i].Key == key {
			return &s[i].Value
		}
	}
	return nil
}

// httpCallAttrs reads the method and host from the call's method name
// ("GET api.example.com/users/{id}") where the transport set no attributes.
func httpCallAttrs(as *attrSet, c *recording.Call) {
	method, target, _ := strings.Cut(c.Method, " ")
	if m := c.Attr(keyHTTPMethod); m != "" {
		method = m
	}
	as.str(keyHTTPMethod, method)
	host := c.Attr(keyServerAddress)
	if host == "" {
		host, _, _ = strings.Cut(target, "/")
		if h, p, err := net.SplitHostPort(host); err == nil {
			host = h
			if n, err := strconv.Atoi(p); err == nil {
				as.set(attribute.Int(keyServerPort, n))
			}
		}
	}
	as.str(keyServerAddress, host)
	if c.RequestSize >= 0 {
		as.set(attribute.Int64(keyHTTPReqSize, c.RequestSize))
	}
	if c.ResponseSize >= 0 {
		as.set(attribute.Int64(keyHTTPRespSize, c.ResponseSize))
	}
}

// sqlCallAttrs sets the database attributes. The query text is the call's
// request summary, which database wrappers record normalized, without
// arguments; a db.query.text attribute of the call wins over it.
func sqlCallAttrs(as *attrSet, c *recording.Call) {
	sys := c.Attr(keyDBSystemName)
	if sys == "" {
		sys = "other_sql"
	}
	as.str(keyDBSystemName, sys)
	as.str(keyDBQueryText, c.Request)
	op := c.Attr(keyDBOperationName)
	if op == "" {
		op, _, _ = strings.Cut(strings.TrimSpace(c.Method), " ")
		op = strings.ToUpper(op)
	}
	as.str(keyDBOperationName, op)
}
