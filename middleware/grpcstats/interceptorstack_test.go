package grpcstats_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// callerServer is a service A whose EmptyCall makes a unary RPC and a
// stream to B.
type callerServer struct {
	testgrpc.UnimplementedTestServiceServer
	next testgrpc.TestServiceClient
}

func (s *callerServer) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	if _, err := s.next.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
		return nil, err
	}
	st, err := s.next.FullDuplexCall(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.CloseSend(); err != nil {
		return nil, err
	}
	if _, err := st.Recv(); err != io.EOF {
		return nil, err
	}
	return &testgrpc.Empty{}, nil
}

// TestInterceptorCallStack: the stack of a call made through
// UnaryClientInterceptor and StreamClientInterceptor starts at the code
// that made the RPC, not in the interceptor. (The interceptors' closures,
// inlined into the function that mounts them, were named after it —
// "main.main.UnaryClientInterceptor.func1" — and so taken for the
// application's code: the call's first frame was client.go's.)
func TestInterceptorCallStack(t *testing.T) {
	rec, sink := newRecorder(t)
	baddr, stopB := startServer(t, &testServer{})
	bconn, bclient := dial(t, baddr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	aaddr, stopA := startServer(t, &callerServer{next: bclient}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	aconn, aclient := dial(t, aaddr)
	if _, err := aclient.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	aconn.Close()
	stopA()
	bconn.Close()
	stopB()
	closeRecorder(t, rec)
	recs := byKind(sink.Records(), recording.KindGRPC)
	if len(recs) != 1 || len(recs[0].Calls) != 2 {
		t.Fatalf("got %d records (want 1) with calls %v (want 2)", len(recs), recs)
	}
	for _, c := range recs[0].Calls {
		if len(c.Stack) == 0 {
			t.Errorf("%s: no stack", c.Method)
			continue
		}
		if f := c.Stack[0]; !strings.Contains(f.Function, "callerServer).EmptyCall") {
			t.Errorf("%s: the stack starts at %s (%s:%d), want callerServer.EmptyCall", c.Method, f.Function, f.File, f.Line)
		}
	}
}
