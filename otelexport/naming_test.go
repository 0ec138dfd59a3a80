package otelexport_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// namingKeys are the attributes that name a call; they must not depend on
// the path by which the call was recorded.
var namingKeys = []attribute.Key{
	"appstats.service",
	"http.request.method", "server.address", "server.port", "url.full", "http.response.status_code",
	"rpc.system.name", "rpc.method", "rpc.response.status_code",
	"rpc.system", "rpc.service", "rpc.grpc.status_code", // older keys: never written
}

// recordedCall is what a call looks like once recorded and once exported.
type recordedCall struct {
	service, method, request string
	attrs                    map[string]string // the recorded call's naming attributes
	span                     string            // the exported span's name…
	kind                     trace.SpanKind    // …kind…
	spanAttrs                map[attribute.Key]string
}

// TestOneNameWhateverThePath makes the same HTTP request (to a real
// loopback server) and the same gRPC call (to a real gRPC server) twice in
// two recorded requests: once through appstats' own wrappers
// (httpstats.NewTransport, grpcstats.NewClientHandler), once through
// OpenTelemetry's instrumentation (otelhttp, otelgrpc) bridged by
// SpanProcessor. Both records must name each call the same, carry the same
// naming attributes, and export spans of the same name and attributes. It
// runs under each of otelgrpc's semantic-convention modes, which spell the
// gRPC method differently.
func TestOneNameWhateverThePath(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "user "+r.URL.Path)
	}))
	defer backend.Close()
	hostPort := strings.TrimPrefix(backend.URL, "http://")
	_, httpPort, _ := net.SplitHostPort(hostPort)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()
	_, grpcPort, _ := net.SplitHostPort(lis.Addr().String())

	wantHTTP := recordedCall{
		service: "http",
		method:  "GET " + hostPort + "/users/{id}",
		request: "GET " + backend.URL + "/users/42?access_token=[REDACTED]&q=1",
		attrs: map[string]string{
			"http.request.method": "GET", "server.address": "127.0.0.1", "server.port": httpPort,
			"url.full": backend.URL + "/users/42?access_token=[REDACTED]&q=1", "http.response.status_code": "200",
		},
		span: "GET", // the method; never the URI (no url.template is known)
		kind: trace.SpanKindClient,
		spanAttrs: map[attribute.Key]string{
			"appstats.service": "http", "http.request.method": "GET", "server.address": "127.0.0.1",
			"server.port": httpPort, "url.full": backend.URL + "/users/42?access_token=REDACTED&q=1",
			"http.response.status_code": "200",
		},
	}
	wantGRPC := recordedCall{
		service: "grpc",
		method:  "/grpc.health.v1.Health/Check",
		attrs: map[string]string{
			"server.address": "127.0.0.1", "server.port": grpcPort, "rpc.response.status_code": "OK",
		},
		span: "grpc.health.v1.Health/Check",
		kind: trace.SpanKindClient,
		spanAttrs: map[attribute.Key]string{
			"appstats.service": "grpc", "rpc.system.name": "grpc",
			"rpc.method": "grpc.health.v1.Health/Check", "rpc.response.status_code": "OK",
			"server.address": "127.0.0.1", "server.port": grpcPort,
		},
	}

	for _, mode := range []string{"", "rpc/old", "rpc/dup"} {
		t.Run("OTEL_SEMCONV_STABILITY_OPT_IN="+mode, func(t *testing.T) {
			t.Setenv("OTEL_SEMCONV_STABILITY_OPT_IN", mode)
			rec, sink, tp, _ := bridgeSetup(t)

			// makeCalls makes the HTTP request and the gRPC call in a
			// recorded request of its own, through rt and sh.
			makeCalls := func(path string, rt http.RoundTripper, sh stats.Handler) {
				t.Helper()
				ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: path})
				req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL+"/users/42?access_token=secret&q=1", nil)
				resp, err := (&http.Client{Transport: rt}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadAll(resp.Body); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()

				conn, err := grpc.NewClient(lis.Addr().String(),
					grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(sh))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					t.Fatal(err)
				}
				ar.Finish()
			}
			makeCalls("/wrappers", httpstats.NewTransport(nil), grpcstats.NewClientHandler())
			makeCalls("/bridge", otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp)),
				otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tp)))
			if err := rec.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			recs := sink.Records()
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}

			spans := exportSpans(t, recs)

			byPath := map[string][]recordedCall{}
			for _, r := range recs {
				byPath[r.Path] = recordedCalls(t, r, spans)
			}
			for _, path := range []string{"/wrappers", "/bridge"} {
				got := byPath[path]
				if len(got) != 2 {
					t.Fatalf("%s: %d calls, want 2: %+v", path, len(got), got)
				}
				checkCall(t, path, got[0], wantHTTP)
				checkCall(t, path, got[1], wantGRPC)
			}
		})
	}
}

// recordedCalls returns the calls of r with their naming attributes and
// the spans exported for them.
func recordedCalls(t *testing.T, r *recording.Record, spans tracetest.SpanStubs) []recordedCall {
	t.Helper()
	var out []recordedCall
	for _, c := range r.Calls {
		rc := recordedCall{service: c.Service, method: c.Method, request: c.Request,
			attrs: map[string]string{}, spanAttrs: map[attribute.Key]string{}}
		for _, k := range namingKeys {
			if v := c.Attr(string(k)); v != "" {
				rc.attrs[string(k)] = v
			}
		}
		for _, s := range spans {
			if s.SpanContext.TraceID() != trace.TraceID(r.TraceID) || s.SpanContext.SpanID() != trace.SpanID(c.SpanID) {
				continue
			}
			rc.span, rc.kind = s.Name, s.SpanKind
			for _, kv := range s.Attributes {
				for _, k := range namingKeys {
					if kv.Key == k {
						rc.spanAttrs[k] = kv.Value.String()
					}
				}
			}
		}
		if rc.span == "" {
			t.Errorf("record %s: no span exported for call %s %s", r.Path, c.Service, c.Method)
		}
		out = append(out, rc)
	}
	return out
}

func checkCall(t *testing.T, path string, got, want recordedCall) {
	t.Helper()
	if got.service != want.service || got.method != want.method {
		t.Errorf("%s: call %s %q, want %s %q", path, got.service, got.method, want.service, want.method)
	}
	if got.request != want.request {
		t.Errorf("%s: call %s request %q, want %q", path, got.method, got.request, want.request)
	}
	if !equalMaps(got.attrs, want.attrs) {
		t.Errorf("%s: call %s naming attributes\n got %v\nwant %v", path, got.method, got.attrs, want.attrs)
	}
	if got.span != want.span || got.kind != want.kind {
		t.Errorf("%s: span %q (%v), want %q (%v)", path, got.span, got.kind, want.span, want.kind)
	}
	if !equalMaps(got.spanAttrs, want.spanAttrs) {
		t.Errorf("%s: span %s naming attributes\n got %v\nwant %v", path, got.span, got.spanAttrs, want.spanAttrs)
	}
}

func equalMaps[K comparable](a, b map[K]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestServerAndCallSpanNames: a gRPC method gets the same span name and
// rpc.* attributes as the request a server recorded and as the call a
// client recorded.
func TestServerAndCallSpanNames(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	srv := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	srv.GracefulStop()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := exportSpans(t, sink.Records())
	var server, client []tracetest.SpanStub
	for _, s := range spans {
		switch s.SpanKind {
		case trace.SpanKindServer:
			server = append(server, s)
		case trace.SpanKindClient:
			client = append(client, s)
		}
	}
	if len(server) != 1 || len(client) != 1 {
		t.Fatalf("%d server spans and %d client spans, want 1 and 1", len(server), len(client))
	}
	attrs := func(s tracetest.SpanStub) string {
		var kvs []string
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "rpc.system", "rpc.system.name", "rpc.service", "rpc.method", "rpc.grpc.status_code", "rpc.response.status_code":
				kvs = append(kvs, string(kv.Key)+"="+kv.Value.String())
			}
		}
		slices.Sort(kvs)
		return strings.Join(kvs, " ")
	}
	want := "rpc.method=grpc.health.v1.Health/Check rpc.response.status_code=OK rpc.system.name=grpc"
	for _, s := range []tracetest.SpanStub{server[0], client[0]} {
		if s.Name != "grpc.health.v1.Health/Check" || attrs(s) != want {
			t.Errorf("%v span %q with %q; want %q with %q", s.SpanKind, s.Name, attrs(s), "grpc.health.v1.Health/Check", want)
		}
	}
}

// A long-lived connection's messages become spans of their own in the
// connection's trace: consumers for the messages it received and handled,
// producers for those it sent, children of the connection's server span.
func TestMessageSpans(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	mctx, m := s.StartMessage(ctx, recording.Receive, "typing", 30)
	recording.StartCall(mctx, "websocket", "send typing").End(nil)
	m.End(nil)
	s.StartSend(ctx, "UPDATED", 7).End(nil)
	conn.Record().Route = "GET /ws"
	conn.Record().Status = 101
	conn.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := exportSpans(t, sink.Records())
	byName := map[string]tracetest.SpanStub{}
	for _, sp := range spans {
		byName[sp.Name] = sp
	}
	server, ok := byName["GET /ws"]
	if !ok || server.SpanKind != trace.SpanKindServer {
		t.Fatalf("no server span for the connection in %v", names(spans))
	}
	for name, kind := range map[string]trace.SpanKind{
		"process GET /ws": trace.SpanKindConsumer,
		"send GET /ws":    trace.SpanKindProducer,
	} {
		sp, ok := byName[name]
		if !ok {
			t.Errorf("no span %q in %v", name, names(spans))
			continue
		}
		if sp.SpanKind != kind || sp.SpanContext.TraceID() != server.SpanContext.TraceID() || sp.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("span %q: kind %v, not a child of the connection's span", name, sp.SpanKind)
		}
		attrs := map[string]string{}
		for _, kv := range sp.Attributes {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		if attrs["messaging.system"] != "websocket" || attrs["messaging.destination.name"] == "" || attrs["messaging.message.body.size"] == "" {
			t.Errorf("span %q attributes %v", name, attrs)
		}
	}
	if c, ok := byName["websocket send typing"]; !ok || c.Parent.SpanID() != byName["process GET /ws"].SpanContext.SpanID() {
		t.Errorf("the call made while handling the message is not its child: %v", names(spans))
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// exportSpans exports recs through an Exporter into memory and returns the
// spans.
func exportSpans(t *testing.T, recs []*recording.Record) tracetest.SpanStubs {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	exp := otelexport.New(mem)
	if err := exp.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if err := exp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := mem.GetSpans() // before Close, whose Shutdown empties mem
	if err := exp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return spans
}
