package otelexport_test

import (
	"encoding/hex"
	"net"
	"net/http/httptest"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/goappstats/appstats/internal/otlptest"
)

// receiver is the project's OTLP trace receiver (otlptest.Receiver), with
// spans, which reads what it received for these tests.
type receiver struct {
	otlptest.Receiver
}

// startGRPCReceiver serves r on a loopback port and returns its address.
func startGRPCReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// startHTTPReceiver serves r on a loopback httptest server and returns its
// host:port.
func startHTTPReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// gotSpan is a received span in a comparable form.
type gotSpan struct {
	Name           string
	Kind           tracepb.Span_SpanKind
	TraceID        string
	SpanID         string
	Parent         string
	Flags          uint32
	TraceState     string
	Start          uint64
	End            uint64
	Status         tracepb.Status_StatusCode
	Message        string
	Attrs          map[string]any
	Events         []string
	Resource       map[string]any
	ResourceSchema string
	Scope          string
	ScopeVersion   string
	ScopeSchema    string
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = v.BoolValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = v.DoubleValue
		case *commonpb.AnyValue_ArrayValue:
			var vs []string
			for _, e := range v.ArrayValue.GetValues() {
				vs = append(vs, e.GetStringValue())
			}
			m[kv.GetKey()] = vs
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

// spans returns what r received, by span ID.
func (r *receiver) spans() map[string]gotSpan {
	out := make(map[string]gotSpan)
	for _, rs := range r.ResourceSpans() {
		res := attrMap(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				g := gotSpan{
					Name:           s.GetName(),
					Kind:           s.GetKind(),
					TraceID:        hex.EncodeToString(s.GetTraceId()),
					SpanID:         hex.EncodeToString(s.GetSpanId()),
					Parent:         hex.EncodeToString(s.GetParentSpanId()),
					Flags:          s.GetFlags(),
					TraceState:     s.GetTraceState(),
					Start:          s.GetStartTimeUnixNano(),
					End:            s.GetEndTimeUnixNano(),
					Status:         s.GetStatus().GetCode(),
					Message:        s.GetStatus().GetMessage(),
					Attrs:          attrMap(s.GetAttributes()),
					Resource:       res,
					ResourceSchema: rs.GetSchemaUrl(),
					Scope:          ss.GetScope().GetName(),
					ScopeVersion:   ss.GetScope().GetVersion(),
					ScopeSchema:    ss.GetSchemaUrl(),
				}
				for _, ev := range s.GetEvents() {
					g.Events = append(g.Events, ev.GetName())
				}
				out[g.SpanID] = g
			}
		}
	}
	return out
}
