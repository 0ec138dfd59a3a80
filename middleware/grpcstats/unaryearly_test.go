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

// TestUnaryEarlyStatusIntercepted runs UnaryClientInterceptor over an
// invoker that replays grpc-go's stats events of unary attempts on the
// client handler: an attempt ended without an error and without its
// response, whose status only the RPC's return tells. Such a call takes the
// status the RPC returned, when it was the RPC's last failed attempt and
// the RPC's context was not done.
func TestUnaryEarlyStatusIntercepted(t *testing.T) {
	const method = "/pkg.Service/Method"
	h := grpcstats.NewClientHandler()
	// attempt replays one attempt's events; early: the server's status
	// came before the request was written (End without an error).
	attempt := func(ctx context.Context, early bool, err error) {
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
		now := time.Now()
		h.HandleRPC(ctx, &stats.Begin{Client: true, BeginTime: now})
		h.HandleRPC(ctx, &stats.InTrailer{Client: true, Trailer: metadata.MD{}})
		if early {
			err = nil
		}
		h.HandleRPC(ctx, &stats.End{Client: true, BeginTime: now, EndTime: time.Now(), Error: err})
	}
	refused := status.Error(codes.Unavailable, "refused")
	for _, tt := range []struct {
		name    string
		invoker grpc.UnaryInvoker
		want    []string // each attempt's status
	}{
		{"early", func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			attempt(ctx, true, nil)
			return refused
		}, []string{"UNAVAILABLE"}},
		{"early then failed", func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			attempt(ctx, true, nil)
			attempt(ctx, false, status.Error(codes.Internal, "second"))
			return status.Error(codes.Internal, "second")
		}, []string{"UNKNOWN", "INTERNAL"}},
		{"failed then early", func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			attempt(ctx, false, refused)
			attempt(ctx, true, nil)
			return status.Error(codes.Unavailable, "max retries exhausted: refused")
		}, []string{"UNAVAILABLE", "UNAVAILABLE"}},
		{"context done", func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			attempt(ctx, true, nil)
			cancelJob()
			return status.Error(codes.Canceled, "context canceled")
		}, []string{"UNKNOWN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			cancelJob = cancel
			grpcstats.UnaryClientInterceptor()(ctx, method, nil, nil, nil, tt.invoker)
			ar.Finish()
			closeRecorder(t, rec)
			recs := sink.Records()
			if len(recs) != 1 || len(recs[0].Calls) != len(tt.want) {
				t.Fatalf("records %+v, want the job with %d calls", recs, len(tt.want))
			}
			for i, c := range recs[0].Calls {
				if got := c.Attr(grpcstats.AttrStatusCode); got != tt.want[i] {
					t.Errorf("attempt %d: status %s (error %q), want %s", i+1, got, c.Error, tt.want[i])
				}
			}
		})
	}
}

// cancelJob cancels the job of TestUnaryEarlyStatusIntercepted's case.
var cancelJob context.CancelFunc

// TestUnaryRefusedBeforeSend makes unary RPCs that a tap handler refuses
// with Unavailable, which the server answers at once, often before the
// client has written the request (then grpc-go's stats end the attempt
// without an error: see TestUnaryEarlyStatusEvents). The client sees
// Unavailable every time; no call may be recorded as OK.
func TestUnaryRefusedBeforeSend(t *testing.T) {
	for _, intercepted := range []bool{false, true} {
		name := "handler"
		if intercepted {
			name = "intercepted"
		}
		t.Run(name, func(t *testing.T) { unaryRefusedBeforeSend(t, intercepted) })
	}
}

// unaryRefusedBeforeSend is TestUnaryRefusedBeforeSend, with
// UnaryClientInterceptor or without: with it, every call must have the
// status the client saw, Unavailable and the server's message; without,
// Unavailable or Unknown (never OK).
func unaryRefusedBeforeSend(t *testing.T, intercepted bool) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &testServer{}, grpc.InTapHandle(func(ctx context.Context, _ *tap.Info) (context.Context, error) {
		return nil, status.Error(codes.Unavailable, "refused")
	}))
	opts := []grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler())}
	if intercepted {
		opts = append(opts, grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()))
	}
	conn, client := dial(t, addr, opts...)
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
		got := c.Attr(grpcstats.AttrStatusCode)
		if intercepted && (got != "UNAVAILABLE" || c.Error != "Unavailable: refused") {
			t.Errorf("call %d: status %q, error %q; the client saw Unavailable: refused", i, got, c.Error)
		}
		if got != "UNAVAILABLE" && got != "UNKNOWN" {
			t.Errorf("call %d: status %q, error %q; the client saw Unavailable", i, got, c.Error)
		}
	}
}

// TestUnaryLinkOtherMethod runs UnaryClientInterceptor over an invoker
// that replays an early-status attempt of its RPC (ended without an
// error and without its response: see TestUnaryEarlyStatusEvents) and
// then, with the context it was given (as an interceptor inside the chain
// may, to report the failure), an RPC of another method that ends so too,
// through the client handler alone. The status the intercepted RPC
// returns is its own attempt's, not the other RPC's: that one stays
// Unknown, and the intercepted attempt gets the status.
func TestUnaryLinkOtherMethod(t *testing.T) {
	const method, other = "/pkg.Service/Method", "/pkg.Audit/Report"
	h := grpcstats.NewClientHandler()
	attempt := func(ctx context.Context, m string) {
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: m})
		now := time.Now()
		h.HandleRPC(ctx, &stats.Begin{Client: true, BeginTime: now})
		h.HandleRPC(ctx, &stats.InTrailer{Client: true, Trailer: metadata.MD{}})
		h.HandleRPC(ctx, &stats.End{Client: true, BeginTime: now, EndTime: time.Now()})
	}
	rec, sink := newRecorder(t)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	err := grpcstats.UnaryClientInterceptor()(ctx, method, nil, nil, nil,
		func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			attempt(ctx, method)
			attempt(ctx, other) // the report, made with the RPC's context
			return status.Error(codes.PermissionDenied, "refused")
		})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the RPC returned %v", err)
	}
	ar.Finish()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 2 {
		t.Fatalf("records %+v, want the job with 2 calls", recs)
	}
	want := map[string]string{method: "PERMISSION_DENIED", other: "UNKNOWN"}
	for _, c := range recs[0].Calls {
		if got := c.Attr(grpcstats.AttrStatusCode); got != want[c.Method] {
			t.Errorf("call of %s: status %s (error %q), want %s", c.Method, got, c.Error, want[c.Method])
		}
	}
}
