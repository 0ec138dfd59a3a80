package grpcstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// earlyEndServer ends its server and bidirectional streams with an error:
// the server stream after as many messages as the request asks for, the
// bidirectional stream after its first request.
type earlyEndServer struct{ testServer }

const earlyMsg = "ended early"

func (s *earlyEndServer) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	for _, p := range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: payload(int(p.GetSize()))}); err != nil {
			return err
		}
	}
	return status.Error(codes.FailedPrecondition, earlyMsg)
}

func (s *earlyEndServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: payload(10)}); err != nil {
		return err
	}
	return status.Error(codes.FailedPrecondition, earlyMsg)
}

// streamEnds are the ways a client meets a stream the server ends with an
// error; each returns the status the client received.
var streamEnds = []struct {
	name, method string
	run          func(ctx context.Context, c testgrpc.TestServiceClient) error
}{
	{"server stream after messages", "/grpc.testing.TestService/StreamingOutputCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(10, 20)})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
	{"server stream without messages", "/grpc.testing.TestService/StreamingOutputCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
	{"server stream read after its header", "/grpc.testing.TestService/StreamingOutputCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
		if err != nil {
			return err
		}
		stream.Header()
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
	{"bidi stream, client waits", "/grpc.testing.TestService/FullDuplexCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&testgrpc.StreamingOutputCallRequest{}); err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
	{"bidi stream, client still sends", "/grpc.testing.TestService/FullDuplexCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		for range 1 << 20 { // until the server's status is in
			if err := stream.Send(&testgrpc.StreamingOutputCallRequest{Payload: payload(100)}); err != nil {
				if err != io.EOF {
					return err
				}
				break
			}
		}
		// As grpc-go documents: after Send's io.EOF, the status comes from
		// Recv.
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
	{"bidi stream, client sends in another goroutine", "/grpc.testing.TestService/FullDuplexCall", func(ctx context.Context, c testgrpc.TestServiceClient) error {
		stream, err := c.FullDuplexCall(ctx)
		if err != nil {
			return err
		}
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for range 1 << 20 {
				if stream.Send(&testgrpc.StreamingOutputCallRequest{Payload: payload(100)}) != nil {
					return
				}
			}
		}()
		defer func() { <-sent }()
		for {
			if _, err := stream.Recv(); err != nil {
				return err
			}
		}
	}},
}

// TestStreamEndedByServerError checks the records of server and
// bidirectional streams that the server ends with an error status, on both
// sides: whatever the client was doing when the status came (reading,
// sending, both at once), its call — with StreamClientInterceptor mounted,
// which the case of the client still sending needs — is recorded with the
// status it received
// (rpc.response.status_code FAILED_PRECONDITION, the error "Code: message"),
// as is the server's record. Bare, the client gets that status too.
func TestStreamEndedByServerError(t *testing.T) {
	for _, tc := range streamEnds {
		t.Run(tc.name, func(t *testing.T) {
			// Bare: the status the client receives.
			addr, stop := startServer(t, &earlyEndServer{})
			_, client := dial(t, addr)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bare := tc.run(ctx, client)
			stop()
			if status.Code(bare) != codes.FailedPrecondition {
				t.Fatalf("bare: %v, want FailedPrecondition", bare)
			}

			rec, sink := newRecorder(t)
			addr, stop = startServer(t, &earlyEndServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
			conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
				grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
			rctx, ar := rec.StartRecord(ctx, recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			err := tc.run(rctx, client)
			ar.Finish()
			conn.Close()
			stop()
			if status.Code(err) != status.Code(bare) || status.Convert(err).Message() != earlyMsg {
				t.Fatalf("wrapped: %v; bare: %v", err, bare)
			}
			closeRecorder(t, rec)
			recs := sink.Records()
			jobs, servers := byKind(recs, recording.KindBackground), byKind(recs, recording.KindGRPC)
			if len(jobs) != 1 || len(jobs[0].Calls) != 1 || len(servers) != 1 {
				t.Fatalf("records %+v, want the job with its call and the server's", recs)
			}
			c := jobs[0].Calls[0]
			if got := c.Attr(grpcstats.AttrStatusCode); got != "FAILED_PRECONDITION" {
				t.Errorf("client call: status %q, want FAILED_PRECONDITION", got)
			}
			if want := "FailedPrecondition: " + earlyMsg; c.Error != want {
				t.Errorf("client call: error %q, want %q", c.Error, want)
			}
			s := servers[0]
			if s.Path != tc.method || s.Status != int(codes.FailedPrecondition) || s.Error != earlyMsg ||
				s.Attr(grpcstats.AttrStatusCode) != "FAILED_PRECONDITION" {
				t.Errorf("server record: %s status %d (%s), error %q; want FAILED_PRECONDITION, %q",
					s.Path, s.Status, s.Attr(grpcstats.AttrStatusCode), s.Error, earlyMsg)
			}
		})
	}
}

// TestClientStreamEarlyStatusIntercepted is TestClientStreamEarlyStatus
// with StreamClientInterceptor: the call of the client stream has the
// status CloseAndRecv returned, not Unknown.
func TestClientStreamEarlyStatusIntercepted(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &earlyStatusServer{})
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	stream, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 1 << 20 { // until the server's status is in
		if stream.Send(&testgrpc.StreamingInputCallRequest{Payload: payload(100)}) != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	ar.Finish()
	conn.Close()
	stop()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("CloseAndRecv: %v, want InvalidArgument", err)
	}
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("records %+v, want the job with its call", recs)
	}
	c := recs[0].Calls[0]
	if c.Error != "InvalidArgument: early" || c.Attr(grpcstats.AttrStatusCode) != "INVALID_ARGUMENT" {
		t.Errorf("call's error %q, status %q; want InvalidArgument: early, INVALID_ARGUMENT", c.Error, c.Attr(grpcstats.AttrStatusCode))
	}
}

// TestStreamInterceptorUnrecorded checks that StreamClientInterceptor
// leaves a stream made without a recorded request unwrapped, and that
// streams through it behave as bare ones (grpc-go's interop cases are run
// through it in TestInterop).
func TestStreamInterceptorUnrecorded(t *testing.T) {
	addr, _ := startServer(t, &testServer{})
	var got grpc.ClientStream
	_, client := dial(t, addr, grpc.WithChainStreamInterceptor(
		func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			cs, err := streamer(ctx, desc, cc, method, opts...)
			got = cs
			return cs, err
		}, grpcstats.StreamClientInterceptor()))
	stream, err := client.StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(1)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if typ := fmt.Sprintf("%T", got); got == nil || !strings.HasPrefix(typ, "*grpc.") {
		t.Errorf("the stream of an unrecorded RPC is a %s, want grpc-go's own", typ)
	}
}

// okEarlyServer ends its bidirectional stream with OK after the first
// request, while its client may still send.
type okEarlyServer struct{ testServer }

func (s *okEarlyServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	_, err := stream.Recv()
	return err
}

// sendUntilEOF sends on stream until Send returns io.EOF, the sign that
// the server has ended the stream.
func sendUntilEOF(stream grpc.BidiStreamingClient[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	for range 1 << 20 {
		if err := stream.Send(&testgrpc.StreamingOutputCallRequest{Payload: payload(100)}); err != nil {
			return err
		}
	}
	return errors.New("Send never met the stream's end")
}

// TestStreamStatusNeverReceived checks the call of a bidirectional stream
// the server ends with an error while the client sends, when the client
// never learns the status: it stops at Send's io.EOF (grpc-go leaves the
// status to Recv), or cancels the stream then. grpc-go's stats end the
// attempt as a success (End without an error, an empty trailer), and the
// stream's context is not done; otelgrpc records such an RPC as OK. With
// StreamClientInterceptor, the call is recorded as failed with the status
// Unknown, not OK.
func TestStreamStatusNeverReceived(t *testing.T) {
	for _, cancelAfter := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancel=%v", cancelAfter), func(t *testing.T) {
			rec, sink := newRecorder(t)
			addr, stop := startServer(t, &earlyEndServer{})
			conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
				grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			sctx, cancel := context.WithCancel(ctx)
			stream, err := client.FullDuplexCall(sctx)
			if err != nil {
				t.Fatal(err)
			}
			sendErr := sendUntilEOF(stream)
			if cancelAfter {
				cancel()
				<-stream.Context().Done()
			}
			ar.Finish()
			cancel()
			conn.Close()
			stop()
			if sendErr != io.EOF {
				t.Fatalf("Send: %v, want io.EOF", sendErr)
			}
			closeRecorder(t, rec)
			recs := sink.Records()
			if len(recs) != 1 || len(recs[0].Calls) != 1 {
				t.Fatalf("records %+v, want the job with its call", recs)
			}
			c := recs[0].Calls[0]
			if !strings.HasPrefix(c.Error, "Unknown: ") || c.Attr(grpcstats.AttrStatusCode) != "UNKNOWN" {
				t.Errorf("call's error %q, status %q; want Unknown, UNKNOWN (the client never received the status)", c.Error, c.Attr(grpcstats.AttrStatusCode))
			}
		})
	}
}

// TestStreamOKWhileSending checks that a bidirectional stream the server
// ends with OK while its client sends in one goroutine and receives in
// another is recorded as a success: Send's io.EOF there hides no status.
func TestStreamOKWhileSending(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &okEarlyServer{})
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	const n = 20
	for range n {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
		stream, err := client.FullDuplexCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sent := make(chan error, 1)
		go func() { sent <- sendUntilEOF(stream) }()
		_, recvErr := stream.Recv()
		sendErr := <-sent
		ar.Finish()
		if recvErr != io.EOF || sendErr != io.EOF {
			t.Fatalf("Recv: %v, Send: %v; want io.EOF for both", recvErr, sendErr)
		}
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if len(r.Calls) != 1 {
			t.Fatalf("record %+v, want one call", r)
		}
		if c := r.Calls[0]; c.Error != "" || c.Attr(grpcstats.AttrStatusCode) != "OK" {
			t.Errorf("call's error %q, status %q; want a success", c.Error, c.Attr(grpcstats.AttrStatusCode))
		}
	}
}
