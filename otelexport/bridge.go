package otelexport

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/sqlnorm"
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
// A database call's request is the span's query text: an SQL statement
// normalized as package sqlstats normalizes it, a Redis command (redisotel
// writes its arguments) with the passwords of AUTH, HELLO, MIGRATE, CONFIG
// SET and ACL SETUSER replaced by [recording.Redacted].
// HTTP and gRPC calls get the method appstats' own wrappers give the same
// request ("GET host:port/users/{id}", "/pkg.Service/Method"; see the
// package documentation). The call takes the span's ID, so a request that
// the span propagated to a downstream service points at the call in the
// exported trace.
//
// Only CLIENT, PRODUCER and INTERNAL spans are bridged, never SERVER or
// CONSUMER spans (such as the request's own span from otelhttp's handler;
// mounted inside the recording middleware, that span is noted as the
// parent the [Exporter] gives the record's span: see "Propagation" in the
// package documentation).
// The [Exporter] exports a call bridged from an INTERNAL or a PRODUCER span
// with its span's kind, and the others as CLIENT spans.
// One request is one call, however the instrumentations are stacked: a span
// is skipped when its parent context is inside a call recorded by appstats'
// own wrappers (see [recording.ContextWithCall]), and when its parent span is
// a bridged CLIENT or PRODUCER span (whose children are its internals, such
// as the DNS lookup of an HTTP request); and the processor is a
// [recording.CallFinder] of the records it feeds, so that appstats' wrappers
// under a bridged CLIENT or PRODUCER span — middleware/httpstats' transport
// under otelhttp's — see the call as recorded, record nothing more, and send
// its trace context downstream. In the other order (otelhttp's transport
// under appstats'), [NewIDGenerator] gives otelhttp's span the call's span ID,
// so the traceparent otelhttp writes names the call too.
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

// bridged is the state of a span between OnStart and OnEnd: the call made
// of it, if any, and the call that contexts under it are inside of (see
// FindCall) — its own call for a CLIENT or PRODUCER span, the already
// recorded call around it for a span that was skipped, none for others.
type bridged struct {
	call  *recording.ActiveCall
	owner *recording.ActiveCall
	redac *recording.Redaction
}

type bridge struct {
	rec   *recording.Recorder
	mu    sync.Mutex
	spans map[spanKey]bridged
}

var _ recording.ParentFinder = (*bridge)(nil)

func keyOf(sc trace.SpanContext) spanKey { return spanKey{sc.TraceID(), sc.SpanID()} }

// OnStart starts a call for s if it belongs to a recorded request.
func (b *bridge) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	kind := s.SpanKind()
	if kind == trace.SpanKindServer {
		b.serverInside(parent, s)
		return
	}
	if kind == trace.SpanKindConsumer {
		return
	}
	ar := recording.FromContext(parent)
	if ar == nil || (b.rec != nil && ar.Recorder() != b.rec) {
		return
	}
	key := keyOf(s.SpanContext())
	b.mu.Lock()
	full := len(b.spans) >= maxBridged
	b.mu.Unlock()
	if full {
		return
	}
	if owner := recording.CallFromContext(parent); owner != nil {
		// Inside a call that is already recorded — by appstats' own
		// wrappers, or as a bridged CLIENT or PRODUCER span: the span is a
		// part of it. Tracked so that contexts under it are found inside
		// the call too.
		b.mu.Lock()
		b.spans[key] = bridged{owner: owner}
		b.mu.Unlock()
		ar.AddCallFinder(b)
		return
	}
	n := classify(s.Name(), s.Attributes())
	// The call's parent: the call the parent context is inside of — the
	// parent span's call, when it was bridged, or a call of appstats' own
	// (recording.Do) around it.
	c := ar.StartChildAt(recording.ParentFromContext(parent), n.service, n.method, s.StartTime(), recording.SpanID(key.span))
	if c == nil {
		return // over the record's call limit, or the request has ended
	}
	e := bridged{call: c, redac: ar.Recorder().Redaction()}
	if kind == trace.SpanKindClient || kind == trace.SpanKindProducer {
		e.owner = c
	}
	// The exporter makes a call a CLIENT span unless told otherwise.
	switch kind {
	case trace.SpanKindInternal, trace.SpanKindUnspecified:
		c.SetAttr(convention.KeySpanKind, spanKindInternal)
	case trace.SpanKindProducer:
		c.SetAttr(convention.KeySpanKind, spanKindProducer)
	}
	b.mu.Lock()
	b.spans[key] = e
	b.mu.Unlock()
	ar.AddCallFinder(b)
}

// serverInside notes in the record of a request the SERVER span s that an
// instrumentation mounted inside the recording middleware (otelhttp's
// handler) starts for the same request, so that the Exporter exports the
// record's span as s's child: otelhttp's propagator reads the incoming
// traceparent itself, which makes s the caller's child, the record's
// sibling (or, without one, a second root of the record's trace, with
// [NewIDGenerator]). A backend then sees one tree, the one it sees with
// otelhttp mounted outside: otelhttp's span, the record's, the calls.
// Only an HTTP record's, for a sampled span (exported by the SDK) in the
// record's trace with the record's parent (the caller's span, or none),
// whose url.path and http.request.method are the request's; the first
// such span (the outermost), which the exporter takes.
//
// The record's fields compared (Kind, Path, Method, ParentSpanID) are set
// when it starts and never change; they are compared, and the span's ID
// noted, by [recording.ActiveRecord.SetServerSpan], safe from otelhttp's
// goroutine, which need not be the request's (a timeout handler between
// the middleware and otelhttp runs it in one of its own) and may run it
// after the record finished (the span then is not noted).
func (b *bridge) serverInside(parent context.Context, s sdktrace.ReadWriteSpan) {
	ar := recording.FromContext(parent)
	if ar == nil || (b.rec != nil && ar.Recorder() != b.rec) {
		return
	}
	sc := s.SpanContext()
	if !sc.IsSampled() || trace.TraceID(ar.TraceContext().TraceID) != sc.TraceID() {
		return
	}
	var path, method string
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case convention.KeyURLPath:
			path = kv.Value.AsString()
		case convention.KeyHTTPRequestMethod:
			method = kv.Value.AsString()
		}
	}
	if path == "" || method == "" {
		return
	}
	ar.SetServerSpan(recording.SpanID(sc.SpanID()), recording.SpanID(s.Parent().SpanID()), method, path)
}

// FindCall returns the call a context is inside of, if its span is a
// bridged CLIENT or PRODUCER span, or a span under one or under a call of
// appstats' own wrappers: so appstats' transports and the other wrappers
// under otelhttp, otelgrpc, … see the request as recorded already, and this
// bridge skips the spans under it.
func (b *bridge) FindCall(ctx context.Context) *recording.ActiveCall {
	return b.entry(ctx).owner
}

// FindParent returns the call of the span a context carries, whatever the
// span's kind: calls started under a bridged INTERNAL span are its
// children; under a span that was skipped, children of the call it is a
// part of.
func (b *bridge) FindParent(ctx context.Context) *recording.ActiveCall {
	e := b.entry(ctx)
	if e.call != nil {
		return e.call
	}
	return e.owner
}

// entry returns the bridge's entry for the span ctx carries (the zero
// entry if none).
func (b *bridge) entry(ctx context.Context) bridged {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return bridged{}
	}
	b.mu.Lock()
	e := b.spans[keyOf(sc)]
	b.mu.Unlock()
	return e
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
	n := classify(s.Name(), attrs)
	c.SetService(n.service)
	c.SetMethod(n.method)
	if n.request != "" {
		c.SetRequest(n.queryText())
	}
	if n.url != nil {
		hc := convention.NewHTTPCall(n.httpMethod, n.url, e.redac)
		c.SetRequest(hc.Request)
		c.SetAttrs(convention.AppendHTTPAttrs([]recording.Attr(nil), hc)...)
	}
	for _, kv := range attrs {
		k := string(kv.Key)
		if newer, ok := renamedAttrs[k]; ok {
			if hasAttr(attrs, newer) {
				continue // the span has both spellings: the newer one wins
			}
			k = newer
		}
		switch {
		case k == convention.KeyHTTPRequestBodySize:
			c.SetRequestSize(kv.Value.AsInt64())
		case k == convention.KeyHTTPResponseBodySize:
			c.SetResponseSize(kv.Value.AsInt64())
		case k == convention.KeyRPCResponseStatusCode:
			if code, ok := convention.ParseGRPCStatus(kv.Value.String()); ok {
				c.SetAttr(convention.KeyRPCResponseStatusCode, convention.GRPCStatusName(code))
			}
		case k == convention.KeyOldRPCGRPCStatusCode:
			// The older, numeric code: under the newer key, by name.
			if !hasAttr(attrs, convention.KeyRPCResponseStatusCode) && kv.Value.Type() == attribute.INT64 {
				c.SetAttr(convention.KeyRPCResponseStatusCode, convention.GRPCStatusName(int(kv.Value.AsInt64())))
			}
		case n.named(k):
			// Set above, or by the exporter from the call's name.
		case bridgedAttrs[k]:
			c.SetAttr(k, kv.Value.String())
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
		if !hasAttr(attrs, convention.KeyErrorType) {
			// The span's error has no type to tell, only its message.
			c.SetAttr(convention.KeyErrorType, convention.Other)
		}
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

// bridgedAttrs are the span attributes copied to a call (some of them only
// when the call's name does not carry them, see callName.named).
var bridgedAttrs = map[string]bool{
	convention.KeyHTTPRequestMethod: true, convention.KeyHTTPResponseStatusCode: true,
	convention.KeyServerAddress: true, convention.KeyServerPort: true, convention.KeyURLTemplate: true,
	convention.KeyDBSystemName: true, convention.KeyDBOperationName: true, convention.KeyDBQuerySummary: true,
	convention.KeyDBCollectionName: true, convention.KeyDBNamespace: true,
	convention.KeyDBResponseStatusCode: true, convention.KeyDBResponseReturnedRows: true,
	convention.KeyMessagingSystem: true, convention.KeyMessagingDestinationName: true,
	convention.KeyErrorType: true,
}

// renamedAttrs maps the older semantic-convention keys a span may carry to
// the keys appstats records, so that a call has one spelling of each
// attribute whichever instrumentation made its span.
var renamedAttrs = map[string]string{
	convention.KeyOldHTTPMethod:     convention.KeyHTTPRequestMethod,
	convention.KeyOldHTTPStatusCode: convention.KeyHTTPResponseStatusCode,
	convention.KeyOldNetPeerName:    convention.KeyServerAddress,
	convention.KeyOldNetPeerPort:    convention.KeyServerPort,
	convention.KeyOldDBName:         convention.KeyDBNamespace,
	convention.KeyOldDBRedisIndex:   convention.KeyDBNamespace,
	convention.KeyOldDBSystem:       convention.KeyDBSystemName,
	convention.KeyOldDBOperation:    convention.KeyDBOperationName,
	convention.KeyOldDBSQLTable:     convention.KeyDBCollectionName,
}

func hasAttr(attrs []attribute.KeyValue, key string) bool {
	for _, kv := range attrs {
		if string(kv.Key) == key {
			return true
		}
	}
	return false
}

// sqlSystems are database systems recorded under service "sql" (names from
// the db.system.name conventions and their older db.system forms).
var sqlSystems = map[string]bool{
	"other_sql": true, "postgresql": true, "mysql": true, "mariadb": true, "sqlite": true,
	"microsoft.sql_server": true, "mssql": true, "oracle.db": true, "oracle": true,
	"ibm.db2": true, "db2": true, "cockroachdb": true, "h2database": true, "h2": true,
	"trino": true, "clickhouse": true, "spanner": true, "gcp.spanner": true,
}

// callName is how a bridged span is recorded: the call's service and
// method, named by the same conventions as appstats' own wrappers name the
// same operation (see package convention).
type callName struct {
	service, method string
	request         string   // database spans: the query text…
	system          string   // …and the database system
	httpMethod      string   // HTTP client spans with a URL: the method…
	url             *url.URL // …and the URL
}

// named reports whether the attribute key is set from the call's name
// rather than copied from the span: for an HTTP call to a known URL, the
// attributes [convention.NewHTTPCall] sets; for a gRPC call, the rpc.*
// attributes the exporter reads from the full method in the call's name.
func (n *callName) named(key string) bool {
	switch key {
	case convention.KeyHTTPRequestMethod, convention.KeyServerAddress, convention.KeyServerPort, convention.KeyURLFull:
		return n.url != nil
	case convention.KeyOldRPCSystem, convention.KeyRPCSystemName, convention.KeyOldRPCService, convention.KeyRPCMethod:
		return n.service == convention.ServiceGRPC
	}
	return false
}

// classify names the call of a span from its name and attributes: an HTTP
// client span as [convention.HTTPCallName] does (from url.full, else from
// server.address, server.port and url.path or url.template), an RPC span as
// [convention.GRPCCallName] does, a database span by its query summary or
// its operation and table (with the query text as its request).
func classify(name string, attrs []attribute.KeyValue) callName {
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
	if m := get(convention.KeyHTTPRequestMethod, convention.KeyOldHTTPMethod); m != "" {
		if raw := get(convention.KeyURLFull, convention.KeyOldHTTPURL); raw != "" {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				return callName{service: convention.ServiceHTTP, method: convention.HTTPURLCallName(m, u), httpMethod: m, url: u}
			}
		}
		host := get(convention.KeyServerAddress, convention.KeyOldNetPeerName)
		path := get(convention.KeyURLPath, convention.KeyURLTemplate)
		if host == "" && path == "" {
			return callName{service: convention.ServiceHTTP, method: name}
		}
		return callName{service: convention.ServiceHTTP, method: convention.HTTPCallName(m, host, get(convention.KeyServerPort), path)}
	}
	if sys := get(convention.KeyRPCSystemName, convention.KeyOldRPCSystem); sys != "" {
		method := convention.GRPCCallName(get(convention.KeyOldRPCService), get(convention.KeyRPCMethod))
		if method == "" {
			method = convention.GRPCCallName("", name) // otelgrpc names its spans "pkg.Service/Method"
		}
		return callName{service: sys, method: method}
	}
	if sys := get(convention.KeyDBSystemName, convention.KeyOldDBSystem); sys != "" {
		n := callName{service: sys, method: get(convention.KeyDBQuerySummary), system: sys}
		if sqlSystems[sys] {
			n.service = convention.ServiceSQL
		}
		if n.method == "" {
			op := get(convention.KeyDBOperationName, convention.KeyOldDBOperation)
			coll := get(convention.KeyDBCollectionName, convention.KeyOldDBSQLTable)
			n.method = strings.TrimSpace(op + " " + coll)
		}
		if n.method == "" {
			n.method = name
		}
		n.request = get(convention.KeyDBQueryText, convention.KeyOldDBStatement)
		return n
	}
	return callName{service: convention.ServiceOTel, method: name}
}

// queryText returns the request of a database call: its query text,
// normalized as package sqlstats normalizes statements when the system is
// an SQL database (the span's instrumentation may record literals).
func (n *callName) queryText() string {
	if n.service != convention.ServiceSQL {
		if redisSystems[n.system] {
			return redisText(n.request)
		}
		return n.request
	}
	if len(n.request) > maxScan {
		return sqlnorm.Normalize(sqlnorm.Of(n.system), n.request[:maxScan]) + "…"
	}
	return sqlnorm.Normalize(sqlnorm.Of(n.system), n.request)
}

// maxScan bounds the part of a span's query text that is normalized, as
// sqlstats bounds its own: the recorder clips a call's request (256 bytes
// by default), and a bulk statement of megabytes must not cost its size in
// the app's goroutine that ends the span.
const maxScan = 4096

// redisSystems are the db.system names of Redis and the servers that speak
// its protocol.
var redisSystems = map[string]bool{"redis": true, "valkey": true}

// redisText hides the passwords in a Redis command as redisotel writes it
// (go-redis' rediscmd: the command and its arguments separated by spaces,
// an argument holding a space hex-encoded, a pipeline's commands one a
// line, an error after ": "): AUTH's password, HELLO's and MIGRATE's after
// AUTH or AUTH2, CONFIG SET's values of requirepass, masterauth and the TLS
// key passphrases, and ACL SETUSER's passwords (">pw", "<pw", "#hash",
// "!hash"). User names and every other command are kept as written.
func redisText(s string) string {
	lines := strings.Split(s, "\n")
	changed := false
	for i, line := range lines {
		cmd, tail := line, ""
		if j := strings.Index(line, ": "); j >= 0 {
			cmd, tail = line[:j], line[j:]
		}
		f := strings.Split(cmd, " ")
		hide := func(k int) {
			if k > 0 && k < len(f) && f[k] != convention.Redacted {
				f[k] = convention.Redacted
				changed = true
			}
		}
		afterAuth := func(from int) {
			for k := from; k < len(f); k++ {
				switch strings.ToLower(f[k]) {
				case "auth":
					if strings.EqualFold(f[0], "hello") {
						hide(k + 2) // AUTH username password
					} else {
						hide(k + 1) // MIGRATE's AUTH password
					}
				case "auth2":
					hide(k + 2)
				}
			}
		}
		switch strings.ToLower(f[0]) {
		case "auth":
			hide(len(f) - 1) // AUTH [username] password
		case "hello":
			afterAuth(1)
		case "migrate":
			afterAuth(6)
		case "config":
			if len(f) > 1 && strings.EqualFold(f[1], "set") {
				for k := 2; k+1 < len(f); k += 2 {
					switch strings.ToLower(f[k]) {
					case "requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass":
						hide(k + 1)
					}
				}
			}
		case "acl":
			if len(f) > 2 && strings.EqualFold(f[1], "setuser") {
				for k := 3; k < len(f); k++ {
					if a := f[k]; len(a) > 1 && strings.IndexByte("<>#!", a[0]) >= 0 && a[1:] != convention.Redacted {
						f[k] = a[:1] + convention.Redacted
						changed = true
					}
				}
			}
		}
		lines[i] = strings.Join(f, " ") + tail
	}
	if !changed {
		return s
	}
	return strings.Join(lines, "\n")
}

func exceptionMessage(events []sdktrace.Event) string {
	for _, ev := range events {
		if ev.Name != convention.EventException {
			continue
		}
		for _, kv := range ev.Attributes {
			if kv.Key == convention.KeyExceptionMessage {
				return kv.Value.String()
			}
		}
	}
	return ""
}

// NewIDGenerator returns an ID generator for the TracerProvider whose spans are
// bridged, to keep them in the record's trace: a span started without a
// parent span under a recorded request gets the record's trace ID (a span
// with a parent keeps its parent's, as always). Without it, such a span —
// when the request came in without a traceparent — would start a trace of
// its own, and the requests it propagates downstream would not join the
// trace the record is exported as.
//
// A span started directly inside a call of appstats' own wrappers — the
// span of otelhttp's transport under middleware/httpstats' transport, say —
// takes the call's span ID, so that whichever of the two writes the
// outgoing traceparent last, the downstream's parent is the call. (The span
// itself is not bridged: the call is recorded already.)
//
// The SDK takes a root span's trace flags from its context alone, not from
// the ID generator: such a span carries W3C Trace Context Level 2's
// random-trace-id flag, as the record does when appstats made its trace
// ID, only when the recorder's propagator is [NewPropagator]'s, which
// puts the flag on the request's context.
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
//		sdktrace.WithIDGenerator(otelexport.NewIDGenerator()),
//	)
func NewIDGenerator() sdktrace.IDGenerator { return idGenerator{} }

type idGenerator struct{}

// NewIDs returns the record's trace ID if ctx carries one, else a new one,
// and a span ID as NewSpanID does.
func (g idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if ar := recording.FromContext(ctx); ar != nil {
		// The trace ID is set when the record starts and never changes;
		// TraceContext reads it also after the request has ended.
		tid := trace.TraceID(ar.TraceContext().TraceID)
		return tid, g.NewSpanID(ctx, tid)
	}
	return trace.TraceID(recording.NewTraceID()), trace.SpanID(recording.NewSpanID())
}

// NewSpanID returns the span ID of the recorded call ctx is directly inside
// of, if that call is in trace tid and the span would not be a child of a
// span that has the ID already; otherwise a new span ID.
func (idGenerator) NewSpanID(ctx context.Context, tid trace.TraceID) trace.SpanID {
	if c := recording.CallFromContext(ctx); c != nil && trace.TraceID(c.TraceID()) == tid {
		id := trace.SpanID(c.SpanID())
		if trace.SpanContextFromContext(ctx).SpanID() != id {
			return id
		}
	}
	return trace.SpanID(recording.NewSpanID())
}
