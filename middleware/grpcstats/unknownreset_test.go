package grpcstats_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
)

// holdHeader is a stats handler around h that holds the InHeader event of
// an RPC of method until the RPC's context is done, after telling arrived.
type holdHeader struct {
	stats.Handler
	method  string
	arrived chan struct{}
}

func (h *holdHeader) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if in, ok := rs.(*stats.InHeader); ok && in.FullMethod == h.method {
		close(h.arrived)
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
	h.Handler.HandleRPC(ctx, rs)
}

// TestUnknownMethodCancelled checks that the record of an RPC of a method
// the server does not have ends when the client cancels it before gRPC has
// answered it: gRPC then sends no status, and the handler gets neither the
// trailer nor an End. The record must not stay in flight for ever.
func TestUnknownMethodCancelled(t *testing.T) {
	rec, sink := newRecorder(t)
	const method = "/no.Such/Service"
	h := &holdHeader{Handler: grpcstats.NewServerHandler(rec), method: method, arrived: make(chan struct{})}
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(h))
	conn, _ := dial(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- conn.Invoke(ctx, method, &testgrpc.Empty{}, &testgrpc.Empty{}) }()
	<-h.arrived
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Fatalf("Invoke: %v, want Canceled", err)
	}
	conn.Close()
	stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		active, unlisted := rec.Active(0, 0)
		if len(active) == 0 && unlisted == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still in flight after the server stopped (%d unlisted): %+v", len(active), unlisted, active)
		}
		time.Sleep(10 * time.Millisecond)
	}
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	if r := recs[0]; r.Path != method || r.Status != int(codes.Canceled) || r.Attr(grpcstats.AttrMethod) != "_OTHER" {
		t.Errorf("record %s: Status %d, Error %q, rpc.method %q; want Canceled, _OTHER", r.Path, r.Status, r.Error, r.Attr(grpcstats.AttrMethod))
	}
}
