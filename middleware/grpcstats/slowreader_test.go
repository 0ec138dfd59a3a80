package grpcstats_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// TestSlowReaderAndLimits runs grpc-go's interop test server wrapped by
// the server stats handler, called by a client with the client stats
// handler, plain and with gzip: a server stream of 16 × 512 KiB read
// slowly (the server blocks on flow control between reads), the same
// cancelled by the client after two messages, and unary responses at the
// client's receive limit and one byte past it. Each side's record agrees
// with what that side saw: the client's call has the status its
// application got and the bytes it received; the server's record the
// status it ended with and the bytes it sent — the same bytes as the
// client's call, where the RPC went through.
func TestSlowReaderAndLimits(t *testing.T) {
	const limit = 1 << 20
	// A response of exactly limit bytes: its payload body's length less
	// the proto framing around it.
	at := int32(limit)
	for proto.Size(&testgrpc.SimpleResponse{Payload: payload(int(at))}) > limit {
		at--
	}
	if proto.Size(&testgrpc.SimpleResponse{Payload: payload(int(at))}) != limit {
		t.Fatalf("no response of exactly %d bytes", limit)
	}
	for _, variant := range []struct {
		name string
		args []grpc.CallOption
	}{
		{"plain", nil},
		{"gzip", []grpc.CallOption{grpc.UseCompressor(gzip.Name)}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithMaxStack(0))
			addr, stop := startServer(t, interop.NewTestServer(), grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
			_, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
				grpc.WithDefaultCallOptions(append([]grpc.CallOption{grpc.MaxCallRecvMsgSize(limit)}, variant.args...)...))
			type outcome struct {
				code codes.Code
				recv int // messages received
			}
			got := map[string]outcome{}
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Method: "TEST", Path: "/client"})
			if ar == nil {
				t.Fatal("not sampled")
			}
			stream := func(name string, cancelAfter int) {
				sctx, cancel := context.WithCancel(ctx)
				defer cancel()
				st, err := client.StreamingOutputCall(sctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(repeat(512<<10, 16)...)})
				if err != nil {
					got[name] = outcome{status.Code(err), 0}
					return
				}
				n := 0
				for {
					if n == cancelAfter {
						cancel()
					}
					_, err := st.Recv()
					if err != nil {
						code := status.Code(err)
						if errors.Is(err, io.EOF) {
							code = codes.OK
						}
						got[name] = outcome{code, n}
						return
					}
					n++
					if n <= 4 {
						// Let the server fill the flow-control window and
						// block before the next read.
						time.Sleep(20 * time.Millisecond)
					}
				}
			}
			stream("slow", -1)
			stream("cancelled", 2)
			for name, size := range map[string]int32{"at limit": at, "past limit": at + 1} {
				_, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: size})
				got[name] = outcome{status.Code(err), 1}
			}
			ar.Finish()
			stop()
			want := map[string]outcome{
				"slow":       {codes.OK, 16},
				"cancelled":  {codes.Canceled, 2}, // or a few more, not 16
				"at limit":   {codes.OK, 1},
				"past limit": {codes.ResourceExhausted, 1},
			}
			for name, w := range want {
				g := got[name]
				if name == "cancelled" && g.code == w.code && g.recv >= w.recv && g.recv < 16 {
					// Messages gRPC had received before the cancel may
					// still be read after it.
					g.recv = w.recv
				}
				if g != w {
					t.Errorf("%s: the application got %v after %d messages, want %v after %d", name, g.code, g.recv, w.code, w.recv)
				}
			}
			ctx2, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sink.Wait(ctx2, 5)
			closeRecorder(t, rec)
			recs := sink.Records()
			var clientRec *recording.Record
			var servers []*recording.Record
			for _, r := range recs {
				if r.Path == "/client" {
					clientRec = r
				} else {
					servers = append(servers, r)
				}
			}
			if clientRec == nil || len(clientRec.Calls) != 4 || len(servers) != 4 {
				t.Fatalf("client record %v, %d server records; want one with 4 calls, and 4", clientRec != nil, len(servers))
			}
			// The calls and the server records in the order made.
			names := []string{"slow", "cancelled", "unary", "unary"}
			for i, c := range clientRec.Calls {
				code := c.Attr(convention.KeyRPCResponseStatusCode)
				name := names[i]
				if name == "unary" {
					// The map's order: tell by the status.
					name = "at limit"
					if code != "OK" {
						name = "past limit"
					}
				}
				if wc := convention.GRPCStatusName(int(want[name].code)); code != wc || (code == "OK") != (c.Error == "") {
					t.Errorf("%s: client call status %q, error %q; the application got %s", name, code, c.Error, wc)
				}
				if c.Running {
					t.Errorf("%s: client call still running", name)
				}
				var srv *recording.Record
				for _, r := range servers {
					if r.TraceID == clientRec.TraceID && r.ParentSpanID == c.SpanID {
						srv = r
					}
				}
				if srv == nil {
					t.Errorf("%s: no server record under the call", name)
					continue
				}
				sc := srv.Attr(convention.KeyRPCResponseStatusCode)
				wantServer := map[string]string{"slow": "OK", "cancelled": "CANCELLED", "at limit": "OK", "past limit": "OK"}[name]
				if sc != wantServer || (sc == "OK") != (srv.Error == "") {
					t.Errorf("%s: server record status %q, error %q; want %s", name, sc, srv.Error, wantServer)
				}
				if name == "slow" || name == "at limit" {
					if srv.ResponseBytes != c.ResponseSize || c.ResponseSize == 0 {
						t.Errorf("%s: the server recorded %d bytes sent, the client's call %d received", name, srv.ResponseBytes, c.ResponseSize)
					}
				}
				if name == "slow" && variant.name == "plain" && c.ResponseSize != 16*wire(&testgrpc.StreamingOutputCallResponse{Payload: payload(512 << 10)}) {
					t.Errorf("slow: client call received %d bytes, want %d", c.ResponseSize, 16*wire(&testgrpc.StreamingOutputCallResponse{Payload: payload(512 << 10)}))
				}
			}
		})
	}
}

func repeat(n int32, times int) []int32 {
	s := make([]int32, times)
	for i := range s {
		s[i] = n
	}
	return s
}
