package grpcstats_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
)

// compressorEnds is a server stats handler that counts the RPCs whose
// End reports grpc-go's failure to set up the response's compressor.
type compressorEnds struct{ n atomic.Int64 }

func (h *compressorEnds) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (h *compressorEnds) HandleRPC(_ context.Context, rs stats.RPCStats) {
	if end, ok := rs.(*stats.End); ok && strings.HasPrefix(status.Convert(end.Error).Message(), "grpc: failed to set send compressor") {
		h.n.Add(1)
	}
}
func (h *compressorEnds) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (h *compressorEnds) HandleConn(context.Context, stats.ConnStats) {}

// TestCompressedStreamCancelledEarly: a client cancels a gzip-compressed
// stream as soon as it has made it (interop's cancel_after_begin, with
// gzip). When the cancellation reaches the server before gRPC has set up
// the stream's response compressor, grpc-go ends the RPC, in its stats,
// with INTERNAL "grpc: failed to set send compressor: transport: set send
// compressor called after headers sent or stream done" — a status it
// writes to no one, the stream being done — and runs no method. The
// record says what happened: the client cancelled it (CANCELLED), not
// that the server failed (INTERNAL, an error of the server's in
// OpenTelemetry's conventions).
func TestCompressedStreamCancelledEarly(t *testing.T) {
	rec, sink := newRecorder(t)
	ends := &compressorEnds{}
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(ends), grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, c := dial(t, addr)
	const want, tries = 3, 500
	for i := 0; i < tries && ends.n.Load() < want; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := c.StreamingInputCall(ctx, grpc.UseCompressor(gzip.Name))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		// Canceled, or OK when the stream's end outran the
		// cancellation.
		if _, err := st.CloseAndRecv(); err != nil && status.Code(err) != codes.Canceled {
			t.Fatalf("the application got %v, want Canceled", err)
		}
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	n := ends.n.Load()
	if n == 0 {
		t.Skipf("in %d tries, no cancellation reached the server before gRPC set up the compressor", tries)
	}
	canceled := 0
	for _, r := range sink.Records() {
		if strings.Contains(r.Error, "failed to set send compressor") {
			t.Errorf("record %s: status %d %q; the client cancelled it", r.Path, r.Status, r.Error)
		}
		if r.Status == int(codes.Canceled) {
			canceled++
		}
	}
	if canceled < int(n) {
		t.Errorf("%d records CANCELLED; grpc-go reported %d RPCs ended by the compressor's failure", canceled, n)
	}
	t.Logf("%d records, %d CANCELLED; %d ended by the compressor's failure", len(sink.Records()), canceled, n)
}
