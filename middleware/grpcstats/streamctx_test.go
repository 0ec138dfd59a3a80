package grpcstats_test

import (
	"context"
	"io"
	"testing"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// TestCallsWithStreamContext makes a unary RPC with a client stream's
// Context (so that it is cancelled with the stream), with and without
// StreamClientInterceptor: it is a call of its own, as it is made with
// the stream's context, not the stream's call itself. (The RPC's context
// inside the client handler says it is inside the stream's call, for the
// instrumentation mounted after the handler; the stream's Context, which
// the application gets, must not.)
func TestCallsWithStreamContext(t *testing.T) {
	for _, intercepted := range []bool{false, true} {
		name := "handler"
		if intercepted {
			name = "intercepted"
		}
		t.Run(name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			addr, stop := startServer(t, &testServer{})
			opts := []grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler())}
			if intercepted {
				opts = append(opts, grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
			}
			conn, client := dial(t, addr, opts...)
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			st, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(3)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Recv(); err != nil {
				t.Fatal(err)
			}
			if _, err := client.EmptyCall(st.Context(), &testgrpc.Empty{}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Recv(); err != io.EOF {
				t.Fatalf("Recv: %v, want io.EOF", err)
			}
			ar.Finish()
			conn.Close()
			stop()
			closeRecorder(t, rec)
			recs := sink.Records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want the job", len(recs))
			}
			var methods []string
			for _, c := range recs[0].Calls {
				methods = append(methods, c.Method)
			}
			if len(methods) != 2 {
				t.Errorf("calls %q, want the stream's and EmptyCall's", methods)
			}
		})
	}
}

// callCreds notes whether the context of each GetRequestMetadata is inside
// a recorded call.
type callCreds struct{ inside chan bool }

func (c callCreds) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	c.inside <- recording.CallFromContext(ctx) != nil
	return nil, nil
}

func (callCreds) RequireTransportSecurity() bool { return false }

// TestCredentialsContext checks that per-RPC credentials, which gRPC calls
// with the RPC's context once it has begun, get a context inside no
// recorded call, as bare, for a unary RPC and a stream: the calls they
// make (fetching a token over HTTP, say) are calls of their own.
func TestCredentialsContext(t *testing.T) {
	rec, _ := newRecorder(t)
	addr, stop := startServer(t, &testServer{})
	creds := callCreds{inside: make(chan bool, 2)}
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()), grpc.WithPerRPCCredentials(creds))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	st, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(1)})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = st.Recv()
	}
	ar.Finish()
	conn.Close()
	stop()
	closeRecorder(t, rec)
	for _, what := range []string{"unary RPC", "stream"} {
		if <-creds.inside {
			t.Errorf("%s: per-RPC credentials called with a context inside a recorded call", what)
		}
	}
}
