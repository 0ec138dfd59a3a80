package grpcstats_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
	"google.golang.org/grpc"
)

// TestMethodInternalCompressorTextKept: a method (a proxy passing on an
// upstream's status, say) returns INTERNAL whose message begins with
// grpc-go's "grpc: failed to set send compressor: ". The client gets that
// INTERNAL (gRPC wrote it to the client); the record must keep it.
func TestMethodInternalCompressorTextKept(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, c := dial(t, addr)
	_, err := c.UnaryCall(context.Background(), &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{
		Code: int32(codes.Internal), Message: "grpc: failed to set send compressor: upstream said so"}})
	if status.Code(err) != codes.Internal {
		t.Fatalf("client got %v", err)
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	wantInternalRecords(t, sink.Records())
}

// compressorTextStream's StreamingInputCall returns INTERNAL with grpc-go's
// compressor message before it reads a message of the stream.
type compressorTextStream struct{ testServer }

func (s *compressorTextStream) StreamingInputCall(grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	return status.Error(codes.Internal, "grpc: failed to set send compressor: upstream said so")
}

// TestStreamInternalCompressorTextKept: a streaming method returns that
// INTERNAL before it reads or sends a message, so its record has no
// message either way: the record keeps the INTERNAL the client got.
func TestStreamInternalCompressorTextKept(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &compressorTextStream{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, c := dial(t, addr)
	st, err := c.StreamingInputCall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CloseAndRecv(); status.Code(err) != codes.Internal {
		t.Fatalf("client got %v", err)
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	wantInternalRecords(t, sink.Records())
}

// wantInternalRecords fails t unless there is a record and every one
// says INTERNAL, the status the client got.
func wantInternalRecords(t *testing.T, recs []*recording.Record) {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("no record")
	}
	for _, r := range recs {
		if r.Status != int(codes.Internal) {
			t.Errorf("record %s: status %d %q; the client got INTERNAL from a method that ran", r.Path, r.Status, r.Error)
		}
	}
}
