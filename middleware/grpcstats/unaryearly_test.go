package grpcstats_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// TestUnaryEarlyStatusEvents feeds the client handler the stats events
// grpc-go gives a unary RPC that the server answers with an error before
// the client has written its request (a tap handler's refusal, a deadline
// already past on arrival): the trailer, then an End without an error, as
// the client's Send met io.EOF; the status is left for its Recv, which no
// event carries. The call must not be recorded as a success.
func TestUnaryEarlyStatusEvents(t *testing.T) {
	rec, sink := newRecorder(t)
	h := grpcstats.NewClientHandler()
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: "/pkg.Service/Method"})
	now := time.Now()
	h.HandleRPC(ctx, &stats.Begin{Client: true, BeginTime: now})
	h.HandleRPC(ctx, &stats.OutHeader{Client: true, FullMethod: "/pkg.Service/Method", Authority: "backend:443"})
	h.HandleRPC(ctx, &stats.InTrailer{Client: true, Trailer: metadata.MD{}})
	h.HandleRPC(ctx, &stats.End{Client: true, BeginTime: now, EndTime: time.Now()})
	ar.Finish()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("records %+v, want the job with its call", recs)
	}
	c := recs[0].Calls[0]
	if got := c.Attr(grpcstats.AttrStatusCode); got != "UNKNOWN" || c.Error == "" {
		t.Errorf("unary call ended without a response: status %q, error %q; want UNKNOWN with an error", got, c.Error)
	}
}

// TestUnaryRefusedBeforeSend makes unary RPCs that a tap handler refuses
// with Unavailable, which the server answers at once, often before the
// client has written the request (then grpc-go's stats end the attempt
// without an error: see TestUnaryEarlyStatusEvents). The client sees
// Unavailable every time; no call may be recorded as OK.
func TestUnaryRefusedBeforeSend(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &testServer{}, grpc.InTapHandle(func(ctx context.Context, _ *tap.Info) (context.Context, error) {
		return nil, status.Error(codes.Unavailable, "refused")
	}))
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	const n = 200
	for i := range n {
		if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.Unavailable {
			t.Fatalf("RPC %d: %v, want Unavailable", i, err)
		}
	}
	ar.Finish()
	conn.Close()
	stop()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != n {
		t.Fatalf("%d records, want the job with its %d calls", len(recs), n)
	}
	for i, c := range recs[0].Calls {
		if got := c.Attr(grpcstats.AttrStatusCode); got != "UNAVAILABLE" && got != "UNKNOWN" {
			t.Errorf("call %d: status %q, error %q; the client saw Unavailable", i, got, c.Error)
		}
	}
}
