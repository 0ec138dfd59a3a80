package grpcstats_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// TestOtelgrpcSameClient mounts otelgrpc's stats handlers, their spans
// bridged into the records by otelexport's span processor, next to
// grpcstats' on the same client and server, in both orders, and makes a
// unary RPC and a server stream for a recorded job. Each RPC must be one
// call of the job (otelexport's promise: one outgoing request is one call,
// however the instrumentations are stacked), the server must be sent one
// traceparent, naming that call, and the server's record, otelgrpc's
// server span and the job must share one trace, both server spans
// children of the call.
func TestOtelgrpcSameClient(t *testing.T) {
	for _, otelFirst := range []bool{false, true} {
		name := "grpcstats first"
		if otelFirst {
			name = "otelgrpc first"
		}
		t.Run(name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelexport.NewSpanProcessor(rec)),
				sdktrace.WithIDGenerator(otelexport.NewIDGenerator()), sdktrace.WithSpanProcessor(spans))
			oo := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{})}
			sh := []stats.Handler{grpcstats.NewServerHandler(rec), otelgrpc.NewServerHandler(oo...)}
			ch := []stats.Handler{grpcstats.NewClientHandler(), otelgrpc.NewClientHandler(oo...)}
			if otelFirst {
				sh[0], sh[1] = sh[1], sh[0]
				ch[0], ch[1] = ch[1], ch[0]
			}
			var mu sync.Mutex
			var sent [][]string // the traceparents of each RPC the server got
			note := func(ctx context.Context) {
				md, _ := metadata.FromIncomingContext(ctx)
				mu.Lock()
				sent = append(sent, md.Get("traceparent"))
				mu.Unlock()
			}
			addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(sh[0]), grpc.StatsHandler(sh[1]),
				grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
					note(ctx)
					return h(ctx, req)
				}),
				grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
					note(ss.Context())
					return h(srv, ss)
				}))
			conn, client := dial(t, addr, grpc.WithStatsHandler(ch[0]), grpc.WithStatsHandler(ch[1]))
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: 10}); err != nil {
				t.Fatal(err)
			}
			st, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(3, 4)})
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := st.Recv(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			ar.Finish()
			conn.Close()
			stop()
			closeRecorder(t, rec)
			tp.Shutdown(context.Background())

			job := byKind(sink.Records(), recording.KindBackground)
			servers := byKind(sink.Records(), recording.KindGRPC)
			if len(job) != 1 || len(servers) != 2 {
				t.Fatalf("%d jobs and %d server records, want 1 and 2", len(job), len(servers))
			}
			calls := map[string]recording.Call{} // by span ID
			for _, c := range job[0].Calls {
				calls[c.SpanID.String()] = c
			}
			if len(job[0].Calls) != 2 {
				for _, c := range job[0].Calls {
					t.Logf("call %s span %s", c.Method, c.SpanID)
				}
				t.Fatalf("%d calls for 2 RPCs, want one each", len(job[0].Calls))
			}
			for _, tps := range sent {
				if len(tps) != 1 {
					t.Errorf("the server was sent traceparents %q, want one", tps)
				}
			}
			for _, sr := range servers {
				c, ok := calls[sr.ParentSpanID.String()]
				if sr.TraceID != job[0].TraceID || !ok || c.Method != sr.Path {
					t.Errorf("server record of %s: trace %s parent %s; want the job's trace %s, under its call", sr.Path, sr.TraceID, sr.ParentSpanID, job[0].TraceID)
				}
			}
			n := 0
			for _, s := range spans.Ended() {
				if s.SpanKind().String() != "server" {
					continue
				}
				n++
				if _, ok := calls[s.Parent().SpanID().String()]; !ok || s.SpanContext().TraceID().String() != job[0].TraceID.String() {
					t.Errorf("otelgrpc's server span %s: trace %s parent %s; want the job's trace, under its call", s.Name(), s.SpanContext().TraceID(), s.Parent().SpanID())
				}
			}
			if n != 2 {
				t.Errorf("%d otelgrpc server spans, want 2", n)
			}
		})
	}
}
