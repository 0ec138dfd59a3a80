package grpcstats_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestBegunAfterDoneContext replays, in a synctest bubble, the first RPC
// of a method the handler has not seen, whose client cancels it between
// its header and its Begin: the handler waits for a trailer that would
// say the server does not have the method (see NewServerHandler). The RPC
// begins, though, and its method runs longer than that wait (a second,
// or 10 ms while a flood of resets of unknown methods holds more than
// MaxAbandonedWaits records), then ends. An RPC that began gets an End:
// its record must be the method's, written once at that End, with the
// call its method made. An RPC that begins only after the wait is over
// keeps the record the wait wrote, once, and nothing stays in flight.
func TestBegunAfterDoneContext(t *testing.T) {
	const m = "/real.Service/Work"
	for _, flood := range []int{0, grpcstats.MaxAbandonedWaits + 10} {
		for _, tt := range []struct {
			name     string
			before   time.Duration // from the cancel to Begin
			run      time.Duration // the method's run, from Begin to End
			wantMine bool          // the record is the method's, written at End
		}{
			{"runs past the wait", 0, 1500 * time.Millisecond, true},
			{"runs 50ms", 0, 50 * time.Millisecond, true},
			{"begins after the wait", 1500 * time.Millisecond, 50 * time.Millisecond, false},
		} {
			t.Run(fmt.Sprintf("flood %d/%s", flood, tt.name), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					sink := recordingtest.NewSink()
					rec := recording.New(recording.WithSinks(sink), recording.WithBatch(64, time.Millisecond), recording.WithQueueSize(10000))
					h := grpcstats.NewServerHandler(rec)
					remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
					conn := h.TagConn(context.Background(), &stats.ConnTagInfo{RemoteAddr: remote, LocalAddr: remote})
					md := metadata.Pairs("a", "b")
					for range flood {
						ctx, cancel := context.WithCancel(metadata.NewIncomingContext(conn, md))
						ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: "/no.Such/Method"})
						h.HandleRPC(ctx, &stats.InHeader{FullMethod: "/no.Such/Method", RemoteAddr: remote, Header: md})
						cancel()
					}
					synctest.Wait()
					ctx, cancel := context.WithCancel(metadata.NewIncomingContext(conn, md))
					ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: m})
					h.HandleRPC(ctx, &stats.InHeader{FullMethod: m, RemoteAddr: remote, Header: md})
					cancel() // the client's RST_STREAM, before the server's Begin
					synctest.Wait()
					time.Sleep(tt.before)
					begin := time.Now()
					h.HandleRPC(ctx, &stats.Begin{BeginTime: begin})
					time.Sleep(tt.run) // the method runs
					recording.StartCall(ctx, "db", "SELECT").End(nil)
					h.HandleRPC(ctx, &stats.End{BeginTime: begin, EndTime: time.Now(), Error: status.FromContextError(context.Canceled).Err()})
					time.Sleep(2 * time.Second)
					synctest.Wait()
					if active, unlisted := rec.Active(0, 0); len(active)+unlisted != 0 {
						t.Errorf("%d records in flight after every RPC ended", len(active)+unlisted)
					}
					if err := rec.Close(context.Background()); err != nil {
						t.Fatal(err)
					}
					var mine []*recording.Record
					for _, r := range sink.Records() {
						if r.Path == m {
							mine = append(mine, r)
						}
					}
					if len(mine) != 1 {
						t.Fatalf("%d records of the RPC of %s, want 1", len(mine), m)
					}
					r := mine[0]
					if r.Status != int(codes.Canceled) {
						t.Errorf("status %d, want Canceled", r.Status)
					}
					if tt.wantMine {
						if r.Route != m || r.Attr(grpcstats.AttrMethod) != "real.Service/Work" || r.Attr(grpcstats.AttrStreamType) != grpcstats.TypeUnary || len(r.Calls) != 1 {
							t.Errorf("record of a begun RPC: route %q, rpc.method %q, type %q, %d calls; want its method's, unary, with its call",
								r.Route, r.Attr(grpcstats.AttrMethod), r.Attr(grpcstats.AttrStreamType), len(r.Calls))
						}
					} else if r.Route != convention.RouteUnknownGRPC || r.Attr(grpcstats.AttrMethod) != convention.Other || r.Attr(grpcstats.AttrMethodOriginal) != "real.Service/Work" {
						t.Errorf("record of an RPC begun after the wait: route %q, rpc.method %q, original %q; want the wait's",
							r.Route, r.Attr(grpcstats.AttrMethod), r.Attr(grpcstats.AttrMethodOriginal))
					}
				})
			})
		}
	}
}
