package otelexport

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"

	"github.com/goappstats/appstats/recording"
)

// maxBridged bounds the spans a bridge tracks at once, so spans that are
// never ended cannot grow its memory without limit.
const maxBridged = 1 << 16

// NewSpanProcessor returns an OpenTelemetry span processor that turns spans
// started under a recorded request's context into calls of that request's
// record: register it with the TracerProvider that OpenTelemetry-instrumented
// libraries (otelhttp, otelgrpc, otelsql, redisotel, …) use, next to or
// instead of the usual batch processor:
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)))
//
// A call starts when its span starts (so its stack is the code that started
// the span) and ends at the span's end time; its service, method, request
// summary, sizes, error and a few attributes are read from the span's name
// and its http.*, rpc.*, db.* attributes when it ends: service "http" for
// HTTP client spans, "grpc" for gRPC ones, "sql" for SQL databases (or the
// database system's name, such as "redis"), and "otel" for anything else.
// The call takes the span's ID, so a request that the span propagated to a
// downstream service points at the call in the exported trace.
//
// Only CLIENT, PRODUCER and INTERNAL spans are bridged, never SERVER or
// CONSUMER spans (such as the request's own span from otelhttp's handler).
// To avoid recording a call twice, a span is skipped when its parent context
// is inside a call recorded by appstats' own wrappers (see
// [recording.ContextWithCall]), and when its parent span is a bridged CLIENT
// or PRODUCER span (whose children are its internals, such as the DNS lookup
// of an HTTP request).
//
// If rec is not nil, only records made by rec are fed; otherwise any record
// found in the parent context is.
func NewSpanProcessor(rec *recording.Recorder) sdktrace.SpanProcessor {
	return &bridge{rec: rec, spans: make(map[spanKey]bridged)}
}

type spanKey struct {
	trace trace.TraceID
	span  trace.SpanID
}

// bridged is the state of a span between OnStart and OnEnd. A span that is
// tracked only so that its children are skipped has no call.
type bridged struct {
	call  *recording.ActiveCall
	leaf  bool // the span's children are skipped
	redac *recording.Redaction
}

type bridge struct {
	rec   *recording.Recorder
	mu    sync.Mutex
	spans map[spanKey]bridged
}

func keyOf(sc trace.SpanContext) spanKey { return spanKey{sc.TraceID(), sc.SpanID()} }

// OnStart starts a call for s if it belongs to a recorded request.
func (b *bridge) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	kind := s.SpanKind()
	if kind == trace.SpanKindServer || kind == trace.SpanKindConsumer {
		return
	}
	ar := recording.FromContext(parent)
	if ar == nil || (b.rec != nil && ar.Recorder() != b.rec) {
		return
	}
	leaf := kind == trace.SpanKindClient || kind == trace.SpanKindProducer
	key := keyOf(s.SpanContext())
	psc := trace.SpanContextFromContext(parent)

	b.mu.Lock()
	p, parentTracked := b.spans[keyOf(psc)]
	full := len(b.spans) >= maxBridged
	b.mu.Unlock()
	if full {
		return
	}
	if (parentTracked && p.leaf) || recording.CallFromContext(parent) != nil {
		// Inside a call that is already recorded: track the span only so
		// that its own children are skipped too.
		if leaf || parentTracked {
			b.mu.Lock()
			b.spans[key] = bridged{leaf: true}
			b.mu.Unlock()
		}
		return
	}
	service, method, _ := classify(s.Name(), s.Attributes())
	c := ar.StartCallAt(service, method, s.StartTime(), recording.SpanID(key.span))
	if c == nil {
		return // over the record's call limit, or the request has ended
	}
	b.mu.Lock()
	b.spans[key] = bridged{call: c, leaf: leaf, redac: ar.Recorder().Redaction()}
	b.mu.Unlock()
}

// OnEnd completes the call of s, if it has one.
func (b *bridge) OnEnd(s sdktrace.ReadOnlySpan) {
	key := keyOf(s.SpanContext())
	b.mu.Lock()
	e, ok := b.spans[key]
	if ok {
		delete(b.spans, key)
	}
	b.mu.Unlock()
	if !ok || e.call == nil {
		return
	}
	c := e.call
	attrs := s.Attributes()
	service, method, request := classify(s.Name(), attrs)
	c.SetService(service)
	c.SetMethod(method)
	if request != "" {
		c.SetRequest(request)
	}
	for _, kv := range attrs {
		k := string(kv.Key)
		switch k {
		case "http.request.body.size":
			c.SetRequestSize(kv.Value.AsInt64())
		case "http.response.body.size":
			c.SetResponseSize(kv.Value.AsInt64())
		case "url.full", "http.url":
			c.SetAttr(keyURLFull, redactURL(e.redac, kv.Value.String()))
		case "rpc.response.status_code":
			if code, ok := grpcCode(kv.Value.String()); ok {
				c.SetAttr(keyRPCGRPCStatus, strconv.Itoa(int(code)))
			}
			c.SetAttr(k, kv.Value.String())
		case "http.status_code":
			c.SetAttr(keyHTTPStatus, kv.Value.String())
		default:
			if bridgedAttrs[k] {
				c.SetAttr(k, kv.Value.String())
			}
		}
	}
	var err error
	if st := s.Status(); st.Code == codes.Error {
		msg := st.Description
		if msg == "" {
			msg = exceptionMessage(s.Events())
		}
		if msg == "" {
			msg = "error"
		}
		err = errors.New(msg)
	}
	c.EndAt(s.EndTime(), err)
}

// Shutdown forgets the spans in flight; their calls stay as they are (still
// running, if the request ends before them).
func (b *bridge) Shutdown(context.Context) error {
	b.mu.Lock()
	clear(b.spans)
	b.mu.Unlock()
	return nil
}

// ForceFlush has nothing to flush: calls are written with their records.
func (b *bridge) ForceFlush(context.Context) error { return nil }

// bridgedAttrs are the span attributes copied to a call.
var bridgedAttrs = map[string]bool{
	keyHTTPMethod: true, keyHTTPStatus: true, keyServerAddress: true, keyServerPort: true,
	"url.template": true, keyRPCSystem: true, keyRPCSystemName: true, keyRPCService: true,
	keyRPCMethod: true, keyRPCGRPCStatus: true, keyDBSystemName: true, "db.system": true,
	keyDBOperationName: true, "db.collection.name": true, "db.namespace": true,
	"messaging.system": true, "messaging.destination.name": true,
}

// sqlSystems are database systems recorded under service "sql" (names from
// the db.system.name conventions and their older db.system forms).
var sqlSystems = map[string]bool{
	"other_sql": true, "postgresql": true, "mysql": true, "mariadb": true, "sqlite": true,
	"microsoft.sql_server": true, "mssql": true, "oracle.db": true, "oracle": true,
	"ibm.db2": true, "db2": true, "cockroachdb": true, "h2database": true, "h2": true,
	"trino": true, "clickhouse": true, "spanner": true, "gcp.spanner": true,
}

// classify names the call of a span: its service, its method and, for
// database spans, its query text.
func classify(name string, attrs []attribute.KeyValue) (service, method, request string) {
	get := func(keys ...string) string {
		for _, k := range keys {
			for _, kv := range attrs {
				if string(kv.Key) == k {
					if v := kv.Value.String(); v != "" {
						return v
					}
				}
			}
		}
		return ""
	}
	if m := get(keyHTTPMethod, "http.method"); m != "" {
		host := get(keyServerAddress, "net.peer.name")
		path := get("url.template")
		if raw := get(keyURLFull, "http.url"); raw != "" {
			if u, err := url.Parse(raw); err == nil {
				if host == "" {
					host = u.Hostname()
				}
				if path == "" {
					path = u.EscapedPath()
				}
			}
		}
		if host == "" && path == "" {
			return "http", name, ""
		}
		if path == "" {
			path = "/"
		}
		return "http", m + " " + host + path, ""
	}
	if sys := get(keyRPCSystemName, keyRPCSystem); sys != "" {
		m := get(keyRPCMethod)
		svc := get(keyRPCService)
		switch {
		case strings.Contains(m, "/"): // newer conventions: "pkg.Service/Method"
			method = "/" + strings.TrimPrefix(m, "/")
		case m != "" && svc != "":
			method = "/" + svc + "/" + m
		default:
			method = name
		}
		return sys, method, ""
	}
	if sys := get(keyDBSystemName, "db.system"); sys != "" {
		service = sys
		if sqlSystems[sys] {
			service = "sql"
		}
		method = get("db.query.summary")
		if method == "" {
			op := get(keyDBOperationName, "db.operation")
			coll := get("db.collection.name", "db.sql.table")
			method = strings.TrimSpace(op + " " + coll)
		}
		if method == "" {
			method = name
		}
		return service, method, get(keyDBQueryText, "db.statement")
	}
	return "otel", name, ""
}

func exceptionMessage(events []sdktrace.Event) string {
	for _, ev := range events {
		if ev.Name != "exception" {
			continue
		}
		for _, kv := range ev.Attributes {
			if kv.Key == keyExceptionMsg {
				return kv.Value.String()
			}
		}
	}
	return ""
}

// grpcCode parses a gRPC status code name, as in rpc.response.status_code:
// "OK", "NOT_FOUND" or "NotFound".
func grpcCode(name string) (grpccodes.Code, bool) {
	flat := strings.ReplaceAll(name, "_", "")
	for c := grpccodes.OK; c <= grpccodes.Unauthenticated; c++ {
		if strings.EqualFold(c.String(), flat) {
			return c, true
		}
	}
	if strings.EqualFold(flat, "cancelled") {
		return grpccodes.Canceled, true
	}
	return 0, false
}

// redactURL drops the userinfo of a URL and redacts secret-looking query
// parameters.
func redactURL(r *recording.Redaction, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	if u.RawQuery != "" && r != nil {
		u.RawQuery = r.Query(u.RawQuery)
	}
	return u.String()
}

// NewIDGenerator returns an ID generator for the TracerProvider whose spans are
// bridged, to keep them in the record's trace: a span started without a
// parent span under a recorded request gets the record's trace ID (a span
// with a parent keeps its parent's, as always). Without it, such a span —
// when the request came in without a traceparent — would start a trace of
// its own, and the requests it propagates downstream would not join the
// trace the record is exported as.
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
//		sdktrace.WithIDGenerator(otelexport.NewIDGenerator()),
//	)
func NewIDGenerator() sdktrace.IDGenerator { return idGenerator{} }

type idGenerator struct{}

// NewIDs returns the record's trace ID if ctx carries one, else a new one,
// and a new span ID.
func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if ar := recording.FromContext(ctx); ar != nil {
		// The trace ID is set when the record starts and never changes.
		return trace.TraceID(ar.Record().TraceID), trace.SpanID(recording.NewSpanID())
	}
	return trace.TraceID(recording.NewTraceID()), trace.SpanID(recording.NewSpanID())
}

// NewSpanID returns a new span ID.
func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	return trace.SpanID(recording.NewSpanID())
}
