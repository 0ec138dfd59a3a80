package grpcstats_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// earlyStatusServer ends a client stream with an error after its first
// message, while the client still sends.
type earlyStatusServer struct{ testServer }

func (s *earlyStatusServer) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	stream.Recv()
	return status.Error(codes.InvalidArgument, "early")
}

// TestClientStreamEarlyStatus checks the call of a client stream the
// server ends with an error while the client sends: the client's Send
// meets io.EOF, and CloseAndRecv returns the server's status. grpc-go's
// stats then report the attempt's end as a success (its End carries no
// error); the call is recorded as failed all the same — a client stream
// that ends without its one response message did not succeed — though
// with the status unknown.
func TestClientStreamEarlyStatus(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &earlyStatusServer{})
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	stream, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sendErr := error(nil)
	for range 1 << 20 { // until the server's status is in
		if sendErr = stream.Send(&testgrpc.StreamingInputCallRequest{Payload: payload(100)}); sendErr != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	ar.Finish()
	conn.Close()
	stop()
	if sendErr != io.EOF || status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Send: %v; CloseAndRecv: %v; want io.EOF and InvalidArgument", sendErr, err)
	}
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("records %+v, want the job with its call", recs)
	}
	c := recs[0].Calls[0]
	if c.Error == "" || c.Attr(grpcstats.AttrStatusCode) == "OK" {
		t.Errorf("call recorded as a success: error %q, status %q", c.Error, c.Attr(grpcstats.AttrStatusCode))
	}
	// Unknown, as grpc-go's stats hide the status; the status itself,
	// should a release of grpc-go report it.
	unknown := strings.HasPrefix(c.Error, "Unknown: ") && c.Attr(grpcstats.AttrStatusCode) == "UNKNOWN"
	reported := c.Error == "InvalidArgument: early" && c.Attr(grpcstats.AttrStatusCode) == "INVALID_ARGUMENT"
	if !unknown && !reported {
		t.Errorf("call's error %q, status %q; want the status unknown, or InvalidArgument", c.Error, c.Attr(grpcstats.AttrStatusCode))
	}
}
