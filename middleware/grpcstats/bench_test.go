package grpcstats_test

import (
	"context"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

var discard = recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })

func newTracerProvider(b *testing.B) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// BenchmarkUnary measures one unary call over loopback, client and server in
// the same process: bare, with stats handlers that do nothing (what gRPC
// itself spends on producing stats events), with grpcstats' client and server handlers (100%
// sampling, a discarding sink; each call made in a recorded request, so one
// op makes two records and one call), with the handlers mounted but sampling
// at 0, and with otelgrpc's handlers (SDK tracer, AlwaysSample, batch span
// processor, discarding exporter, W3C propagation; one op makes a client and
// a server span).
func BenchmarkUnary(b *testing.B) {
	type setup struct {
		srv    []grpc.ServerOption
		cli    []grpc.DialOption
		record *recording.Recorder // when set, each call runs in a record of its own
	}
	cases := []struct {
		name string
		make func(b *testing.B) setup
	}{
		{"bare", func(*testing.B) setup { return setup{} }},
		{"nop-handlers", func(*testing.B) setup {
			return setup{
				srv: []grpc.ServerOption{grpc.StatsHandler(nopHandler{})},
				cli: []grpc.DialOption{grpc.WithStatsHandler(nopHandler{})},
			}
		}},
		{"grpcstats", func(b *testing.B) setup {
			rec := recording.New(recording.WithSinks(discard))
			b.Cleanup(func() { rec.Close(context.Background()) })
			return setup{
				srv:    []grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))},
				cli:    []grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler())},
				record: rec,
			}
		}},
		{"grpcstats-sample0", func(b *testing.B) setup {
			rec := recording.New(recording.WithSinks(discard), recording.WithSampleRate(0))
			b.Cleanup(func() { rec.Close(context.Background()) })
			return setup{
				srv:    []grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))},
				cli:    []grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler())},
				record: rec,
			}
		}},
		{"otelgrpc", func(b *testing.B) setup {
			tp := newTracerProvider(b)
			opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{})}
			return setup{
				srv: []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))},
				cli: []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(opts...))},
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := c.make(b)
			addr, _ := startServer(b, &testServer{}, s.srv...)
			_, client := dial(b, addr, s.cli...)
			req := &testgrpc.SimpleRequest{ResponseSize: 64, Payload: payload(64)}
			bg := context.Background()
			if _, err := client.UnaryCall(bg, req); err != nil { // connect
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ctx, ar := bg, (*recording.ActiveRecord)(nil)
				if s.record != nil {
					ctx, ar = s.record.StartRecord(bg, recording.RequestInfo{Kind: recording.KindBackground, Path: "bench"})
				}
				if _, err := client.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
				ar.Finish()
			}
		})
	}
}

// nopHandler is a stats handler that does nothing: the baseline of
// BenchmarkHandlers (the events themselves are allocated).
type nopHandler struct{}

func (nopHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (nopHandler) HandleRPC(context.Context, stats.RPCStats)                         {}
func (nopHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (nopHandler) HandleConn(context.Context, stats.ConnStats)                       {}

// BenchmarkHandlers measures the handlers alone, without gRPC and the
// network: the events of one unary RPC replayed on a server handler and on a
// client handler, the client's call inside a recorded request for
// grpcstats. It isolates the added cost that BenchmarkUnary measures inside
// the noise of a real RPC.
func BenchmarkHandlers(b *testing.B) {
	const method = "/grpc.testing.TestService/UnaryCall"
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	md := metadata.Pairs("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"content-type", "application/grpc", "user-agent", "grpc-go/1.85.0", ":authority", "127.0.0.1:50051")

	replay := func(b *testing.B, srv, cli stats.Handler, rec *recording.Recorder) {
		b.ReportAllocs()
		bg := context.Background()
		connctx := srv.TagConn(bg, &stats.ConnTagInfo{RemoteAddr: remote, LocalAddr: remote})
		cli.TagConn(bg, &stats.ConnTagInfo{RemoteAddr: remote, LocalAddr: remote})
		inctx := metadata.NewIncomingContext(connctx, md)
		for range b.N {
			ctx, ar := bg, (*recording.ActiveRecord)(nil)
			if rec != nil {
				ctx, ar = rec.StartRecord(bg, recording.RequestInfo{Kind: recording.KindBackground, Path: "bench"})
			}
			now := time.Now()
			// Client side.
			cctx := cli.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
			cli.HandleRPC(cctx, &stats.Begin{Client: true, BeginTime: now})
			cli.HandleRPC(cctx, &stats.OutHeader{Client: true, FullMethod: method, Authority: "127.0.0.1:50051", RemoteAddr: remote})
			cli.HandleRPC(cctx, &stats.OutPayload{Client: true, Length: 70, WireLength: 75, SentTime: now})
			// Server side.
			sctx := srv.TagRPC(inctx, &stats.RPCTagInfo{FullMethodName: method})
			srv.HandleRPC(sctx, &stats.InHeader{FullMethod: method, RemoteAddr: remote, Header: md, WireLength: 100})
			srv.HandleRPC(sctx, &stats.Begin{BeginTime: now})
			srv.HandleRPC(sctx, &stats.InPayload{Length: 70, WireLength: 75, RecvTime: now})
			srv.HandleRPC(sctx, &stats.OutHeader{})
			srv.HandleRPC(sctx, &stats.OutPayload{Length: 68, WireLength: 73, SentTime: now})
			srv.HandleRPC(sctx, &stats.OutTrailer{})
			srv.HandleRPC(sctx, &stats.End{BeginTime: now, EndTime: time.Now()})
			// Client side again.
			cli.HandleRPC(cctx, &stats.InHeader{Client: true})
			cli.HandleRPC(cctx, &stats.InPayload{Client: true, Length: 68, WireLength: 73, RecvTime: time.Now()})
			cli.HandleRPC(cctx, &stats.InTrailer{Client: true})
			cli.HandleRPC(cctx, &stats.End{Client: true, BeginTime: now, EndTime: time.Now()})
			ar.Finish()
		}
	}
	b.Run("none", func(b *testing.B) {
		replay(b, nopHandler{}, nopHandler{}, nil)
	})
	b.Run("grpcstats", func(b *testing.B) {
		rec := recording.New(recording.WithSinks(discard))
		b.Cleanup(func() { rec.Close(context.Background()) })
		replay(b, grpcstats.NewServerHandler(rec), grpcstats.NewClientHandler(), rec)
	})
	b.Run("grpcstats-server", func(b *testing.B) {
		rec := recording.New(recording.WithSinks(discard))
		b.Cleanup(func() { rec.Close(context.Background()) })
		replay(b, grpcstats.NewServerHandler(rec), grpcstats.NewClientHandler(), nil)
	})
	b.Run("grpcstats-unrecorded", func(b *testing.B) {
		rec := recording.New(recording.WithSinks(discard), recording.WithSampleRate(0))
		b.Cleanup(func() { rec.Close(context.Background()) })
		replay(b, grpcstats.NewServerHandler(rec), grpcstats.NewClientHandler(), nil)
	})
	b.Run("otelgrpc", func(b *testing.B) {
		tp := newTracerProvider(b)
		opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{})}
		replay(b, otelgrpc.NewServerHandler(opts...), otelgrpc.NewClientHandler(opts...), nil)
	})
	b.Run("otelgrpc-server", func(b *testing.B) {
		tp := newTracerProvider(b)
		opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(propagation.TraceContext{})}
		replay(b, otelgrpc.NewServerHandler(opts...), nopHandler{}, nil)
	})
}

// unrecordedClientRPC replays a unary RPC's events on a client handler with
// a context that carries no recorded request.
func unrecordedClientRPC(h stats.Handler, ctx context.Context, evs []stats.RPCStats, info *stats.RPCTagInfo) {
	ctx = h.TagRPC(ctx, info)
	for _, ev := range evs {
		h.HandleRPC(ctx, ev)
	}
}

func clientEvents() []stats.RPCStats {
	now := time.Now()
	return []stats.RPCStats{
		&stats.Begin{Client: true, BeginTime: now},
		&stats.OutHeader{Client: true, Authority: "127.0.0.1:50051"},
		&stats.OutPayload{Client: true, Length: 70, WireLength: 75, SentTime: now},
		&stats.InHeader{Client: true},
		&stats.InPayload{Client: true, Length: 68, WireLength: 73, RecvTime: now},
		&stats.InTrailer{Client: true},
		&stats.End{Client: true, BeginTime: now, EndTime: now},
	}
}

// BenchmarkClientUnrecorded measures the client handler on an RPC made
// without a recorded request: the cost every unrecorded RPC pays.
func BenchmarkClientUnrecorded(b *testing.B) {
	h := grpcstats.NewClientHandler()
	evs := clientEvents()
	info := &stats.RPCTagInfo{FullMethodName: "/grpc.testing.TestService/UnaryCall"}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "k", "v")
	b.ReportAllocs()
	for range b.N {
		unrecordedClientRPC(h, ctx, evs, info)
	}
}

func TestClientUnrecordedAllocs(t *testing.T) {
	h := grpcstats.NewClientHandler()
	evs := clientEvents()
	info := &stats.RPCTagInfo{FullMethodName: "/grpc.testing.TestService/UnaryCall"}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { unrecordedClientRPC(h, ctx, evs, info) }); n != 0 {
		t.Errorf("an unrecorded RPC allocates %v times in the client handler, want 0", n)
	}
}
