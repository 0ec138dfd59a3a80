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

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// ScopeName is the instrumentation scope of the spans an [Exporter] makes.
const ScopeName = "github.com/goappstats/appstats/otelexport"

// intKeys are attribute keys whose values OpenTelemetry defines as integers;
// recording.Attr values (strings) under these keys are exported as ints.
var intKeys = map[string]bool{
	convention.KeyHTTPResponseStatusCode: true, convention.KeyHTTPRequestBodySize: true,
	convention.KeyHTTPResponseBodySize: true, convention.KeyServerPort: true, convention.KeyClientPort: true,
	convention.KeyNetworkPeerPort: true, convention.KeyRPCGRPCStatusCode: true,
	convention.KeyDBResponseReturnedRows: true,
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
	if r.Error != "" {
		root.Events = append(root.Events, exceptionEvent(end, "", r.Error))
	}
	if r.Panic != "" {
		root.Events = append(root.Events, exceptionEvent(end, "panic", r.Panic))
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
	attrs := []attribute.KeyValue{attribute.String(convention.KeyExceptionMessage, msg)}
	if typ != "" {
		attrs = append(attrs, attribute.String(convention.KeyExceptionType, typ))
	}
	return sdktrace.Event{Name: convention.EventException, Time: t, Attributes: attrs}
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
			return convention.GRPCSpanName(r.Path)
		}
	case recording.KindMessage:
		// "{operation} {destination}": "process GET /ws typing".
		if op := r.Attr(convention.KeyMessagingOperationType); op != "" && r.Route != "" {
			return op + " " + r.Route
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
		as.str(convention.KeyHTTPRequestMethod, r.Method)
		as.str(convention.KeyURLPath, r.Path)
		as.str(convention.KeyURLQuery, r.Query)
		as.str(convention.KeyHTTPRoute, httpRoute(r.Method, r.Route))
		if r.Status != 0 {
			as.set(attribute.Int(convention.KeyHTTPResponseStatusCode, r.Status))
		}
		if r.RequestBytes > 0 {
			as.set(attribute.Int64(convention.KeyHTTPRequestBodySize, r.RequestBytes))
		}
		if r.ResponseBytes > 0 {
			as.set(attribute.Int64(convention.KeyHTTPResponseBodySize, r.ResponseBytes))
		}
	case recording.KindGRPC:
		grpcAttrs(&as, r.Path)
		as.set(attribute.Int(convention.KeyRPCGRPCStatusCode, r.Status))
		as.str(convention.KeyRPCResponseStatusCode, grpccodes.Code(r.Status).String())
	case recording.KindMessage:
		as.str(convention.KeyMessagingDestinationName, r.Route)
		if n := max(r.RequestBytes, r.ResponseBytes); n > 0 {
			as.set(attribute.Int64(convention.KeyMessagingMessageBodySize, n))
		}
	}
	if r.Remote != "" {
		if host, port, err := net.SplitHostPort(r.Remote); err == nil {
			as.str(convention.KeyClientAddress, host)
			if p, err := strconv.Atoi(port); err == nil {
				as.set(attribute.Int(convention.KeyClientPort, p))
			}
		} else {
			as.str(convention.KeyClientAddress, r.Remote)
		}
	}
	as.str(convention.KeyUserID, r.User)
	if !r.ID.IsZero() {
		as.str(convention.KeyRecordID, r.ID.String())
	}
	as.set(attribute.Float64(convention.KeyOverheadMS, float64(r.Overhead)/float64(time.Millisecond)))
	if r.DroppedCalls > 0 {
		as.set(attribute.Int(convention.KeyDroppedCalls, r.DroppedCalls))
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

// grpcAttrs sets the attributes that name a gRPC method, read from its full
// method ("/pkg.Service/Method").
func grpcAttrs(as *attrSet, full string) {
	svc, method := convention.SplitGRPCMethod(full)
	as.str(convention.KeyRPCSystem, convention.ServiceGRPC)
	as.str(convention.KeyRPCSystemName, convention.ServiceGRPC)
	as.str(convention.KeyRPCService, svc)
	as.str(convention.KeyRPCMethod, method)
}

func callSpan(r *recording.Record, c *recording.Call, parent trace.SpanContext, res *resource.Resource, scope instrumentation.Scope) sdktrace.ReadOnlySpan {
	start := r.Start.Add(c.Start)
	end := start.Add(c.Duration)
	st := sdktrace.Status{Code: codes.Unset}
	if c.Error != "" {
		st = sdktrace.Status{Code: codes.Error, Description: c.Error}
	}
	as := make(attrSet, 0, 12+len(c.Attrs))
	as.str(convention.KeyService, c.Service)
	name := c.Method
	switch c.Service {
	case convention.ServiceHTTP:
		httpCallAttrs(&as, c)
	case convention.ServiceGRPC:
		name = convention.GRPCSpanName(c.Method)
		grpcAttrs(&as, c.Method)
	case convention.ServiceSQL:
		sqlCallAttrs(&as, c)
	default:
		if c.Method == "" {
			name = c.Service
		} else {
			name = c.Service + " " + c.Method
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
	as.passthrough(c.Attrs)

	// Status from codes the call's attributes carry.
	if st.Code != codes.Error {
		for _, kv := range as {
			switch kv.Key {
			case convention.KeyHTTPResponseStatusCode:
				if n := kv.Value.AsInt64(); n >= 400 { // a client span fails on 4xx too
					st = sdktrace.Status{Code: codes.Error, Description: "HTTP " + strconv.FormatInt(n, 10)}
				}
			case convention.KeyRPCGRPCStatusCode:
				if n := kv.Value.AsInt64(); n != 0 {
					st = sdktrace.Status{Code: codes.Error, Description: grpccodes.Code(n).String()}
				}
			}
		}
	}
	if c.Service == convention.ServiceGRPC && as.lookup(convention.KeyRPCGRPCStatusCode) == nil && c.Error == "" && !c.Running {
		as.set(attribute.Int(convention.KeyRPCGRPCStatusCode, 0))
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

// httpCallAttrs sets the attributes of an HTTP client call: its method,
// host and port as its name gives them ("GET api.example.com:8080/users/{id}",
// see [convention.HTTPCallName]), for calls named by hand or recorded
// without those attributes — the call's own attributes, passed through
// after these, win — and its sizes.
func httpCallAttrs(as *attrSet, c *recording.Call) {
	method, host, port, _ := convention.ParseHTTPCallName(c.Method)
	as.str(convention.KeyHTTPRequestMethod, method)
	as.str(convention.KeyServerAddress, host)
	if n, err := strconv.Atoi(port); err == nil {
		as.set(attribute.Int(convention.KeyServerPort, n))
	}
	if c.RequestSize >= 0 {
		as.set(attribute.Int64(convention.KeyHTTPRequestBodySize, c.RequestSize))
	}
	if c.ResponseSize >= 0 {
		as.set(attribute.Int64(convention.KeyHTTPResponseBodySize, c.ResponseSize))
	}
}

// sqlCallAttrs sets the database attributes. The query text is the call's
// request summary, which database wrappers record normalized, without
// arguments; a db.query.text attribute of the call wins over it.
func sqlCallAttrs(as *attrSet, c *recording.Call) {
	sys := c.Attr(convention.KeyDBSystemName)
	if sys == "" {
		sys = "other_sql"
	}
	as.str(convention.KeyDBSystemName, sys)
	as.str(convention.KeyDBQueryText, c.Request)
	op := c.Attr(convention.KeyDBOperationName)
	if op == "" {
		op, _, _ = strings.Cut(strings.TrimSpace(c.Method), " ")
		op = strings.ToUpper(op)
	}
	as.str(convention.KeyDBOperationName, op)
}
