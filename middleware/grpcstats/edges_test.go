package grpcstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/encoding/gzip"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// wireCounter is a stats handler that sums the wire lengths of the
// messages its side sends and receives, as gRPC reports them.
type wireCounter struct{ in, out atomic.Int64 }

func (w *wireCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (w *wireCounter) HandleRPC(_ context.Context, rs stats.RPCStats) {
	switch rs := rs.(type) {
	case *stats.InPayload:
		w.in.Add(int64(rs.WireLength))
	case *stats.OutPayload:
		w.out.Add(int64(rs.WireLength))
	}
}
func (w *wireCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (w *wireCounter) HandleConn(context.Context, stats.ConnStats)                       {}

// edgeRun is what one run of an edge case saw: the error the application
// got and, wrapped, the server's record and the client's call.
type edgeRun struct {
	err    error
	server *recording.Record // nil when the server made no record
	call   *recording.Call   // nil when the client made no call
}

// runEdge serves testServer with sopts, dials it with copts and runs do
// with a client, once bare and once wrapped (the server and the client
// recorded by one recorder, do's context a recorded request's), and
// returns both runs. In the wrapped run, every record is written by the
// time runEdge returns and none is in the making.
func runEdge(t *testing.T, sopts []grpc.ServerOption, copts []grpc.DialOption, do func(ctx context.Context, c testgrpc.TestServiceClient, conn *grpc.ClientConn, srv *testServer, stop func(hard bool)) error) (bare, wrapped edgeRun) {
	t.Helper()
	run := func(rec *recording.Recorder) edgeRun {
		so, co := sopts, copts
		ctx := context.Background()
		var ar *recording.ActiveRecord
		if rec != nil {
			so = append([]grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))}, so...)
			co = append([]grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler()),
				grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
				grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor())}, co...)
			ctx, ar = rec.StartRecord(ctx, recording.RequestInfo{Kind: recording.KindBackground, Path: "edge"})
		}
		srv := &testServer{blocked: make(chan struct{}, 1)}
		// Stopped gracefully, or not (hard), waiting for the methods to
		// return either way.
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer(append(so, grpc.WaitForHandlers(true))...)
		testgrpc.RegisterTestServiceServer(s, srv)
		served := make(chan error, 1)
		go func() { served <- s.Serve(lis) }()
		var once sync.Once
		stop := func(hard bool) {
			once.Do(func() {
				if hard {
					s.Stop()
				} else {
					s.GracefulStop()
				}
				if err := <-served; err != nil {
					t.Errorf("Serve: %v", err)
				}
			})
		}
		t.Cleanup(func() { stop(true) })
		conn, client := dial(t, lis.Addr().String(), co...)
		err = do(ctx, client, conn, srv, stop)
		conn.Close()
		stop(false)
		ar.Finish()
		return edgeRun{err: err}
	}
	bare = run(nil)
	rec, sink := newRecorder(t)
	wrapped = run(rec)
	if active, unlisted := rec.Active(0, 0); len(active)+unlisted != 0 {
		t.Errorf("%d records still in the making after the servers stopped", len(active)+unlisted)
	}
	closeRecorder(t, rec)
	for _, r := range sink.Records() {
		switch r.Kind {
		case recording.KindGRPC:
			wrapped.server = r
		case recording.KindBackground:
			if len(r.Calls) > 1 {
				t.Errorf("the request has %d calls, want at most 1", len(r.Calls))
			}
			if len(r.Calls) == 1 {
				wrapped.call = &r.Calls[0]
			}
		}
	}
	// The messages are compared too, except a transport failure's
	// (Unavailable): its text is the socket's error, which differs from
	// run to run whatever wraps the client (a server stopped hard reads
	// as "error reading from server: EOF" or "connection reset by peer").
	bc, wc := status.Code(bare.err), status.Code(wrapped.err)
	if bc != wc || (bc != codes.Unavailable && status.Convert(bare.err).Message() != status.Convert(wrapped.err).Message()) {
		t.Errorf("wrapped, the application got %v; bare, %v", wrapped.err, bare.err)
	}
	return bare, wrapped
}

// checkCall asserts that the call was recorded with the status the
// application got.
func checkCall(t *testing.T, run edgeRun) {
	t.Helper()
	if run.call == nil {
		t.Fatal("no call recorded")
	}
	st := status.Convert(run.err)
	if got, want := run.call.Attr(grpcstats.AttrStatusCode), codeName(st.Code()); got != want {
		t.Errorf("call status %s (error %q), the application got %v", got, run.call.Error, run.err)
	}
	if st.Code() != codes.OK && run.call.Error != st.Code().String()+": "+st.Message() {
		t.Errorf("call error %q, the application got %v", run.call.Error, run.err)
	}
}

// TestGzipSizes: with gzip, the recorded sizes are the messages' wire
// lengths, compressed, with gRPC's framing (as documented), on the server
// and on the client, equal to those gRPC reports to any stats handler.
func TestGzipSizes(t *testing.T) {
	const n = 100 << 10
	var srvWire, cliWire wireCounter
	req := &testgrpc.SimpleRequest{Payload: payload(n), ResponseSize: n}
	_, w := runEdge(t, []grpc.ServerOption{grpc.StatsHandler(&srvWire)},
		[]grpc.DialOption{grpc.WithStatsHandler(&cliWire), grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name))},
		func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn, _ *testServer, _ func(bool)) error {
			_, err := c.UnaryCall(ctx, req)
			return err
		})
	if w.err != nil {
		t.Fatal(w.err)
	}
	if w.server == nil || w.call == nil {
		t.Fatal("no server record or no call")
	}
	// Both runs count: halve the handlers' sums.
	if in, out := srvWire.in.Load()/2, srvWire.out.Load()/2; w.server.RequestBytes != in || w.server.ResponseBytes != out {
		t.Errorf("server record: %d bytes in, %d out; gRPC's wire lengths %d, %d", w.server.RequestBytes, w.server.ResponseBytes, in, out)
	}
	if in, out := cliWire.in.Load()/2, cliWire.out.Load()/2; w.call.RequestSize != out || w.call.ResponseSize != in {
		t.Errorf("call: %d bytes sent, %d received; gRPC's wire lengths %d, %d", w.call.RequestSize, w.call.ResponseSize, out, in)
	}
	if w.call.RequestSize >= int64(proto.Size(req)) || w.server.ResponseBytes >= n {
		t.Errorf("sizes %d, %d: not compressed (messages of %d, %d bytes)", w.call.RequestSize, w.server.ResponseBytes, proto.Size(req), n)
	}
}

// TestMaxMessageSize: a message over a size limit, either way, is recorded
// with the status RESOURCE_EXHAUSTED the application got, on the side that
// refused it; the application gets what it gets bare.
func TestMaxMessageSize(t *testing.T) {
	const big = 64 << 10
	unary := func(req *testgrpc.SimpleRequest) func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn, _ *testServer, _ func(bool)) error {
		return func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn, _ *testServer, _ func(bool)) error {
			_, err := c.UnaryCall(ctx, req)
			return err
		}
	}
	for _, tc := range []struct {
		name       string
		sopts      []grpc.ServerOption
		copts      []grpc.DialOption
		req        *testgrpc.SimpleRequest
		serverCode codes.Code
		maybeNone  bool // the server may see no RPC
	}{
		{name: "server receives", sopts: []grpc.ServerOption{grpc.MaxRecvMsgSize(1 << 10)},
			req: &testgrpc.SimpleRequest{Payload: payload(big)}, serverCode: codes.ResourceExhausted},
		{name: "server sends", sopts: []grpc.ServerOption{grpc.MaxSendMsgSize(1 << 10)},
			req: &testgrpc.SimpleRequest{ResponseSize: big}, serverCode: codes.ResourceExhausted},
		{name: "client receives", copts: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1 << 10))},
			req: &testgrpc.SimpleRequest{ResponseSize: big}, serverCode: codes.OK},
		// The stream is reset as its message is refused: the server sees
		// an RPC its client cancels, or nothing, as gRPC's writer sends
		// the stream's header before the reset or drops it.
		{name: "client sends", copts: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(1 << 10))},
			req: &testgrpc.SimpleRequest{Payload: payload(big)}, serverCode: codes.Canceled, maybeNone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, w := runEdge(t, tc.sopts, tc.copts, unary(tc.req))
			if status.Code(w.err) != codes.ResourceExhausted {
				t.Fatalf("the application got %v, want ResourceExhausted", w.err)
			}
			checkCall(t, w)
			switch {
			case w.server == nil && tc.maybeNone:
			case w.server == nil:
				t.Errorf("no server record")
			case w.server.Status != int(tc.serverCode):
				t.Errorf("server record: status %d (%q), want %d", w.server.Status, w.server.Error, tc.serverCode)
			}
		})
	}
}

// TestClientCloseInFlight: a client connection closed while an RPC waits
// on the server ends it as the application sees it (Canceled, the
// connection closing) on the client, and as the server saw it on the
// server, whose method returns once its context is done; no record is
// left in the making.
func TestClientCloseInFlight(t *testing.T) {
	_, w := runEdge(t, nil, nil, func(ctx context.Context, c testgrpc.TestServiceClient, conn *grpc.ClientConn, srv *testServer, _ func(bool)) error {
		done := make(chan error, 1)
		go func() {
			_, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(blockBody)}})
			done <- err
		}()
		<-srv.blocked // the server's method waits for its context
		conn.Close()
		return <-done
	})
	if status.Code(w.err) != codes.Canceled {
		t.Fatalf("the application got %v, want Canceled", w.err)
	}
	checkCall(t, w)
	if w.server == nil || w.server.Status != int(codes.Canceled) || w.server.Error != serverSaw+"context canceled" {
		t.Errorf("server record %+v, want Canceled, as the method returned", w.server)
	}
}

// TestGracefulStopInFlight: a server stopped gracefully while a stream is
// in flight lets it finish; its record and the client's call are those of
// the stream as it went, OK, with its messages counted.
func TestGracefulStopInFlight(t *testing.T) {
	_, w := runEdge(t, nil, nil, func(ctx context.Context, c testgrpc.TestServiceClient, conn *grpc.ClientConn, _ *testServer, stop func(hard bool)) error {
		st, err := c.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		exchange := func() error {
			if err := st.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: params(10)}); err != nil {
				return err
			}
			_, err := st.Recv()
			return err
		}
		if err := exchange(); err != nil {
			return err
		}
		stopped := make(chan struct{})
		go func() { stop(false); close(stopped) }()
		// The server's GOAWAY takes the connection out of READY: the
		// stop has begun, with the stream in flight.
		conn.WaitForStateChange(ctx, connectivity.Ready)
		if err := exchange(); err != nil {
			return err
		}
		if err := st.CloseSend(); err != nil {
			return err
		}
		if _, err := st.Recv(); err != io.EOF {
			return fmt.Errorf("the stream's end: %v, want io.EOF", err)
		}
		<-stopped
		return nil
	})
	if w.err != nil {
		t.Fatal(w.err)
	}
	checkCall(t, w)
	if w.server == nil || w.server.Status != 0 || w.server.Attr(grpcstats.AttrMessagesReceived) != "2" || w.server.Attr(grpcstats.AttrMessagesSent) != "2" {
		t.Fatalf("server record %+v, want OK with 2 messages each way", w.server)
	}
	if w.call.Attr(grpcstats.AttrMessagesReceived) != "2" || w.call.Attr(grpcstats.AttrMessagesSent) != "2" {
		t.Errorf("call attrs %v, want 2 messages each way", w.call.Attrs)
	}
}

// TestServerStopInFlight: a server stopped hard while an RPC waits on it
// ends the RPC as the application sees it (Unavailable) on the client; the
// server's record is as its method returned, Canceled. (A server enforcing
// keepalive closes the connection so after its GOAWAY too_many_pings:
// TestTooManyPings replays that.)
func TestServerStopInFlight(t *testing.T) {
	_, w := runEdge(t, nil, nil, func(ctx context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn, srv *testServer, stop func(hard bool)) error {
		done := make(chan error, 1)
		go func() {
			_, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(blockBody)}})
			done <- err
		}()
		<-srv.blocked
		stop(true)
		return <-done
	})
	if status.Code(w.err) != codes.Unavailable {
		t.Fatalf("the application got %v, want Unavailable", w.err)
	}
	checkCall(t, w)
	if w.server == nil || w.server.Status != int(codes.Canceled) {
		t.Errorf("server record %+v, want Canceled, as the method returned", w.server)
	}
}
