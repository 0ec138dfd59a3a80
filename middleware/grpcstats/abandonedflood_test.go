package grpcstats_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestAbandonedFlood replays, in a synctest bubble, a client resetting
// streams of a method the server does not have as fast as it can (an HTTP/2
// rapid reset): each RPC's context is done after its header, and gRPC
// sends neither a trailer nor an End. The bare server forgets such a
// stream at once; the handler keeps its record, with its metadata, while
// it waits for a trailer that may still come (see NewServerHandler). The
// records waiting so must be bounded: past the bound, the handler waits
// briefly, so that a flood cannot hold a second's worth of records. Every
// record is still written, as Canceled.
func TestAbandonedFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5000
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink), recording.WithBatch(64, time.Millisecond), recording.WithQueueSize(2*n))
		h := grpcstats.NewServerHandler(rec)
		remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
		conn := h.TagConn(context.Background(), &stats.ConnTagInfo{RemoteAddr: remote, LocalAddr: remote})
		md := metadata.Pairs("big", strings.Repeat("b", 3000))
		for range n {
			ctx, cancel := context.WithCancel(metadata.NewIncomingContext(conn, md))
			ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: "/no.Such/Method"})
			h.HandleRPC(ctx, &stats.InHeader{FullMethod: "/no.Such/Method", RemoteAddr: remote, Header: md})
			cancel() // the client's RST_STREAM
		}
		synctest.Wait()
		time.Sleep(100 * time.Millisecond) // a tenth of the second the handler waits for a trailer
		synctest.Wait()
		active, unlisted := rec.Active(0, 0)
		if waiting := len(active) + unlisted; waiting > grpcstats.MaxAbandonedWaits {
			t.Errorf("%d records of reset RPCs held 100 ms after the flood, want at most %d", waiting, grpcstats.MaxAbandonedWaits)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs := sink.Records()
		if len(recs) != n {
			t.Fatalf("%d records, want %d", len(recs), n)
		}
		for _, r := range recs {
			if r.Status != int(codes.Canceled) {
				t.Fatalf("record of a reset RPC: status %d, want Canceled", r.Status)
			}
		}
	})
}
