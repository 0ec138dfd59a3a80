package grpcstats_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// TestAttempts checks what the package documentation says of retried RPCs
// (its "Attempts" section): a call per attempt, each with its own span ID,
// which the server's record of that attempt has as its parent; a deadline
// that passes during a backoff leaves the last call with its attempt's
// status while the application gets DEADLINE_EXCEEDED; an RPC whose
// context is done before its first attempt makes no call.
func TestAttempts(t *testing.T) {
	rec, sink := newRecorder(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)), grpc.WaitForHandlers(true))
	testgrpc.RegisterTestServiceServer(srv, &flakySrv{tries: map[string]int{}})
	go srv.Serve(lis)
	// retryPolicy's backoff is short; slow's, for the deadline case, long.
	slowPolicy := strings.ReplaceAll(retryPolicy, "0.01s", "10s")
	conn, client := dial(t, lis.Addr().String(), grpc.WithStatsHandler(grpcstats.NewClientHandler()), grpc.WithDefaultServiceConfig(retryPolicy))
	ends := attemptEnds{make(chan struct{}, 1)} // after grpcstats's handler: it has seen the attempt end
	slowConn, slow := dial(t, lis.Addr().String(), grpc.WithStatsHandler(grpcstats.NewClientHandler()), grpc.WithDefaultServiceConfig(slowPolicy),
		grpc.WithStatsHandler(ends))

	job := func(path string, f func(ctx context.Context)) {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: path})
		f(ctx)
		ar.Finish()
	}
	job("retried", func(ctx context.Context) {
		if _, err := client.UnaryCall(metadata.AppendToOutgoingContext(ctx, "key", "fail2"), &testgrpc.SimpleRequest{}); err != nil {
			t.Errorf("fail2: %v, want success at the third attempt", err)
		}
	})
	job("deadline", func(ctx context.Context) {
		// The deadline passes while the RPC waits for its second attempt:
		// once the first attempt has ended, not at a fixed time (a loaded
		// machine took more than a 300 ms deadline to end the first
		// attempt, which then ended DEADLINE_EXCEEDED).
		dctx := &passingDeadline{Context: ctx, deadline: time.Now().Add(time.Hour), done: make(chan struct{})}
		go func() {
			select {
			case <-ends.ended:
			case <-time.After(time.Minute): // a guard against a hang: the check below fails
			}
			close(dctx.done)
		}()
		_, err := slow.UnaryCall(metadata.AppendToOutgoingContext(dctx, "key", "failall"), &testgrpc.SimpleRequest{})
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("failall with a deadline: %v, want DeadlineExceeded", err)
		}
	})
	job("cancelled", func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.Canceled {
			t.Errorf("cancelled: %v, want Canceled", err)
		}
	})
	conn.Close()
	slowConn.Close()
	srv.GracefulStop()
	closeRecorder(t, rec)

	jobs := map[string]*recording.Record{}
	parents := map[string]int{} // a server record's parent span → its status
	for _, r := range sink.Records() {
		if r.Kind == recording.KindBackground {
			jobs[r.Path] = r
		} else {
			parents[r.ParentSpanID.String()] = r.Status
		}
	}
	r := jobs["retried"]
	if r == nil || len(r.Calls) != 3 {
		t.Fatalf("retried RPC: record %+v, want 3 calls", r)
	}
	for i, want := range []string{"UNAVAILABLE", "UNAVAILABLE", "OK"} {
		c := r.Calls[i]
		if got := c.Attr(grpcstats.AttrStatusCode); got != want {
			t.Errorf("attempt %d: status %s, want %s", i+1, got, want)
		}
		st, ok := parents[c.SpanID.String()]
		if !ok || codeName(codes.Code(st)) != want {
			t.Errorf("attempt %d: the server's record under its span %s: found %v, status %d; want %s", i+1, c.SpanID, ok, st, want)
		}
	}
	if r.Calls[0].SpanID == r.Calls[1].SpanID || r.Calls[1].SpanID == r.Calls[2].SpanID {
		t.Errorf("attempts share a span ID: %s %s %s", r.Calls[0].SpanID, r.Calls[1].SpanID, r.Calls[2].SpanID)
	}
	if r := jobs["deadline"]; r == nil || len(r.Calls) != 1 || r.Calls[0].Attr(grpcstats.AttrStatusCode) != "UNAVAILABLE" {
		t.Errorf("deadline in the backoff: record %+v, want one call, UNAVAILABLE", r)
	}
	if r := jobs["cancelled"]; r == nil || len(r.Calls) != 0 {
		t.Errorf("RPC cancelled before its first attempt: record %+v, want no call", r)
	}
}

// attemptEnds is a client stats handler that signals ended when an attempt
// ends.
type attemptEnds struct{ ended chan struct{} }

func (a attemptEnds) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (a attemptEnds) HandleRPC(_ context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.End); ok {
		select {
		case a.ended <- struct{}{}:
		default:
		}
	}
}

func (a attemptEnds) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (a attemptEnds) HandleConn(context.Context, stats.ConnStats) {}

// passingDeadline is a context with a deadline that passes when done is
// closed, not by the clock: Err is then context.DeadlineExceeded, as for a
// deadline run out. Its values are its Context's (which must not be
// cancellable: its Done and Err are not used).
type passingDeadline struct {
	context.Context
	deadline time.Time
	done     chan struct{}
}

func (c *passingDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *passingDeadline) Done() <-chan struct{} { return c.done }

func (c *passingDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
