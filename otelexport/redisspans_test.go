package otelexport_test

import (
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestRedisSpansAreDatabaseSpans bridges Redis commands as redisotel
// makes their spans (named by the command, db.system or db.system.name
// "redis", the command line in db.statement or db.query.text) and checks
// the exported spans against the database conventions: named
// "{db.operation.name}" with db.operation.name the command, or by
// db.query.summary when the span has one, with a Redis error's prefix
// ("READONLY") as db.response.status_code and error.type, the older
// net.peer.port and db.redis.database_index as server.port and
// db.namespace, and no attribute outside semconv v1.43.0 or appstats.*. On main they were
// named "{service} {method}" ("redis get"), a name of no convention,
// without db.operation.name, and a Redis error's error.type was "_OTHER".
func TestRedisSpansAreDatabaseSpans(t *testing.T) {
	rec, sink, tp, _ := bridgeSetup(t)
	tr := tp.Tracer("github.com/redis/go-redis/extra/redisotel")
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/p"})
	type want struct {
		name, op, status, errType string
	}
	tests := []struct {
		span  string
		attrs []attribute.KeyValue
		err   string
		want  want
	}{
		{"get", []attribute.KeyValue{attribute.String("db.system", "redis"), attribute.String("db.statement", "get user:42"),
			attribute.String("net.peer.name", "127.0.0.1"), attribute.Int("net.peer.port", 6379), attribute.Int("db.redis.database_index", 2)},
			"", want{name: "get", op: "get"}},
		{"set", []attribute.KeyValue{attribute.String("db.system.name", "redis"), attribute.String("db.query.text", "set k v"),
			attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 6379)},
			"READONLY You can't write against a read only replica.", want{name: "set", op: "set", status: "READONLY", errType: "READONLY"}},
		{"hget", []attribute.KeyValue{attribute.String("db.system.name", "valkey"), attribute.String("db.query.text", "hget h f"),
			attribute.String("server.address", "cache"), attribute.Int("server.port", 6380)},
			"dial tcp 127.0.0.1:6379: connect: connection refused", want{name: "hget", op: "hget", errType: str(semconv.ErrorTypeOther)}},
		{"cluster info", []attribute.KeyValue{attribute.String("db.system.name", "redis"), attribute.String("db.query.summary", "cluster info"),
			attribute.String("net.peer.name", "cache"), attribute.Int("net.peer.port", 6380)},
			"", want{name: "cluster info"}},
	}
	for _, tt := range tests {
		_, s := tr.Start(ctx, tt.span, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(tt.attrs...))
		if tt.err != "" {
			s.RecordError(errors.New(tt.err))
			s.SetStatus(codes.Error, tt.err)
		}
		s.End()
	}
	ar.Finish()
	r := finish(t, rec, sink)
	known := map[string]bool{string(semconv.DBNamespaceKey): true}
	for _, k := range semconvKeys {
		known[string(k)] = true
	}
	spans := exportSpans(t, []*recording.Record{r})
	for i, tt := range tests {
		var found bool
		for _, sp := range spans {
			if sp.SpanContext.SpanID() != trace.SpanID(r.Calls[i].SpanID) {
				continue
			}
			found = true
			attrs := spanAttrs(sp.Attributes)
			got := want{name: sp.Name, op: attrs[semconv.DBOperationNameKey], status: attrs[semconv.DBResponseStatusCodeKey], errType: attrs[semconv.ErrorTypeKey]}
			if got != tt.want || sp.SpanKind != trace.SpanKindClient || (tt.err != "") != (sp.Status.Code == codes.Error) {
				t.Errorf("%s: span %+v, kind %v, status %v; want %+v", tt.span, got, sp.SpanKind, sp.Status, tt.want)
			}
			if attrs[semconv.ServerAddressKey] == "" || attrs[semconv.ServerPortKey] == "" {
				t.Errorf("%s: server.address %q, server.port %q", tt.span, attrs[semconv.ServerAddressKey], attrs[semconv.ServerPortKey])
			}
			if tt.span == "get" && attrs[semconv.DBNamespaceKey] != "2" {
				t.Errorf("%s: db.namespace %q, want the database index, 2", tt.span, attrs[semconv.DBNamespaceKey])
			}
			for k := range attrs {
				if !known[string(k)] && !strings.HasPrefix(string(k), "appstats.") {
					t.Errorf("%s: attribute %s is neither semconv v1.43.0's nor under appstats.", tt.span, k)
				}
			}
			for _, k := range deprecatedKeys {
				if _, ok := attrs[k]; ok {
					t.Errorf("%s: deprecated %s", tt.span, k)
				}
			}
		}
		if !found {
			t.Errorf("%s: no span", tt.span)
		}
	}
}

// TestOtherDatabaseCallNamedBySummary: a call to a database recorded by
// hand (recording.StartCall with a db.system.name, no operation) is named
// as an SQL call is, by its name, which is also its db.query.summary: the
// database conventions' name of a span with a summary. On main it was
// "{service} {method}" ("mongo find users"), without db.query.summary.
func TestOtherDatabaseCallNamedBySummary(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/p"})
	c := recording.StartCall(ctx, "mongo", "find users")
	c.SetAttr(string(semconv.DBSystemNameKey), str(semconv.DBSystemNameMongoDB))
	c.End(nil)
	ar.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, sp := range exportSpans(t, sink.Records()) {
		if sp.SpanKind != trace.SpanKindClient {
			continue
		}
		attrs := spanAttrs(sp.Attributes)
		if sp.Name != "find users" || attrs[semconv.DBQuerySummaryKey] != "find users" || attrs[semconv.DBSystemNameKey] != "mongodb" {
			t.Errorf("span %q, attributes %v; want \"find users\", its db.query.summary", sp.Name, attrs)
		}
	}
}
