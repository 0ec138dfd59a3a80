package grpcstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// testServer implements the interop TestService. With next set, EmptyCall
// calls next's EmptyCall with its own context (server A calling server B).
type testServer struct {
	testgrpc.UnimplementedTestServiceServer
	next testgrpc.TestServiceClient

	mu           sync.Mutex
	traceparents []string // the traceparent of every RPC received

	// blocked, if not nil, is told when UnaryCall blocks for blockBody.
	blocked chan struct{}
}

const blockBody = "block until the deadline"

// serverSaw starts the message of the status the server returns for
// blockBody, so that a client can tell the server's status from its own.
const serverSaw = "the server saw: "

func (s *testServer) saw(ctx context.Context) {
	tp := ""
	if vs := metadata.ValueFromIncomingContext(ctx, "traceparent"); len(vs) > 0 {
		tp = vs[0]
	}
	s.mu.Lock()
	s.traceparents = append(s.traceparents, tp)
	s.mu.Unlock()
}

func (s *testServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.traceparents)
}

func (s *testServer) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	s.saw(ctx)
	if s.next != nil {
		if _, err := s.next.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
			return nil, err
		}
	}
	return &testgrpc.Empty{}, nil
}

func (s *testServer) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	s.saw(ctx)
	if st := req.GetResponseStatus(); st.GetCode() != 0 {
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	if string(req.GetPayload().GetBody()) == blockBody {
		if s.blocked != nil {
			select {
			case s.blocked <- struct{}{}:
			default:
			}
		}
		<-ctx.Done()
		st := status.FromContextError(ctx.Err())
		return nil, status.Error(st.Code(), serverSaw+st.Message())
	}
	return &testgrpc.SimpleResponse{Payload: &testgrpc.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

func (s *testServer) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.saw(stream.Context())
	for _, p := range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *testServer) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	s.saw(stream.Context())
	var n int32
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: n})
		}
		if err != nil {
			return err
		}
		n += int32(len(req.GetPayload().GetBody()))
	}
}

func (s *testServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	s.saw(stream.Context())
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range req.GetResponseParameters() {
			if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
				return err
			}
		}
	}
}

// startServer serves impl on a loopback port with opts and returns its
// address. The server is stopped gracefully by the returned function, which
// waits until every handler (and so every record) has finished.
func startServer(t testing.TB, impl testgrpc.TestServiceServer, opts ...grpc.ServerOption) (addr string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(s, impl)
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			s.GracefulStop()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// dial returns a client of addr with opts.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) (*grpc.ClientConn, testgrpc.TestServiceClient) {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, testgrpc.NewTestServiceClient(conn)
}

// chain starts a service B (with the server options bOpts) and a service
// A, recorded by rec, whose EmptyCall calls B's through a recording client;
// it returns a client of A (dialed with aOpts), B's implementation (which
// notes the traceparents it is sent), and stop, which closes the
// connections and stops both servers.
func chain(t testing.TB, rec *recording.Recorder, bOpts []grpc.ServerOption, aOpts ...grpc.DialOption) (testgrpc.TestServiceClient, *testServer, func()) {
	t.Helper()
	bsrv := &testServer{}
	baddr, stopB := startServer(t, bsrv, bOpts...)
	bconn, bclient := dial(t, baddr, grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	aaddr, stopA := startServer(t, &testServer{next: bclient}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	aconn, aclient := dial(t, aaddr, aOpts...)
	return aclient, bsrv, func() {
		aconn.Close()
		stopA()
		bconn.Close()
		stopB()
	}
}

func newRecorder(t testing.TB, opts ...recording.Option) (*recording.Recorder, *recordingtest.Sink) {
	t.Helper()
	c := recordingtest.NewSink()
	rec := recording.New(append([]recording.Option{recording.WithSinks(c), recording.WithBatch(64, time.Millisecond)}, opts...)...)
	t.Cleanup(func() { rec.Close(context.Background()) })
	return rec, c
}

func closeRecorder(t testing.TB, rec *recording.Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func wire(msgs ...proto.Message) int64 {
	var n int64
	for _, m := range msgs {
		n += int64(proto.Size(m)) + 5 // gRPC framing: flag byte and length
	}
	return n
}

func byKind(recs []*recording.Record, k recording.Kind) []*recording.Record {
	var out []*recording.Record
	for _, r := range recs {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

func payload(n int) *testgrpc.Payload { return &testgrpc.Payload{Body: make([]byte, n)} }

func params(sizes ...int32) []*testgrpc.ResponseParameters {
	var ps []*testgrpc.ResponseParameters
	for _, s := range sizes {
		ps = append(ps, &testgrpc.ResponseParameters{Size: s})
	}
	return ps
}

// exchange is what one RPC of a test case sent and received.
type exchange struct {
	sent, recv []proto.Message
	err        error
}

func TestRPCs(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		typ        string
		deadline   bool // the client's deadline passes while the server's handler blocks
		run        func(ctx context.Context, c testgrpc.TestServiceClient) exchange
		codes      []codes.Code // acceptable server status codes; the first is the client's
		serverErr  string       // the server record's Error
		clientErr  string       // the client call's Error
		sent, recv int          // messages sent and received by the client
	}{
		{
			name:   "unary",
			method: "/grpc.testing.TestService/UnaryCall",
			typ:    grpcstats.TypeUnary,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				req := &testgrpc.SimpleRequest{ResponseSize: 300, Payload: payload(20)}
				resp, err := c.UnaryCall(ctx, req)
				return exchange{sent: []proto.Message{req}, recv: []proto.Message{resp}, err: err}
			},
			codes: []codes.Code{codes.OK},
			sent:  1, recv: 1,
		},
		{
			name:   "server stream",
			method: "/grpc.testing.TestService/StreamingOutputCall",
			typ:    grpcstats.TypeServerStream,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				req := &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(10, 200, 3000)}
				x := exchange{sent: []proto.Message{req}}
				stream, err := c.StreamingOutputCall(ctx, req)
				if err != nil {
					x.err = err
					return x
				}
				for {
					resp, err := stream.Recv()
					if err == io.EOF {
						return x
					}
					if err != nil {
						x.err = err
						return x
					}
					x.recv = append(x.recv, resp)
				}
			},
			codes: []codes.Code{codes.OK},
			sent:  1, recv: 3,
		},
		{
			name:   "client stream",
			method: "/grpc.testing.TestService/StreamingInputCall",
			typ:    grpcstats.TypeClientStream,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				var x exchange
				stream, err := c.StreamingInputCall(ctx)
				if err != nil {
					x.err = err
					return x
				}
				for _, n := range []int{1, 10, 100, 1000} {
					req := &testgrpc.StreamingInputCallRequest{Payload: payload(n)}
					if err := stream.Send(req); err != nil {
						x.err = err
						return x
					}
					x.sent = append(x.sent, req)
				}
				resp, err := stream.CloseAndRecv()
				x.recv, x.err = []proto.Message{resp}, err
				return x
			},
			codes: []codes.Code{codes.OK},
			sent:  4, recv: 1,
		},
		{
			name:   "bidi stream",
			method: "/grpc.testing.TestService/FullDuplexCall",
			typ:    grpcstats.TypeBidiStream,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				var x exchange
				stream, err := c.FullDuplexCall(ctx)
				if err != nil {
					x.err = err
					return x
				}
				for _, sizes := range [][]int32{{5}, {50, 500}} {
					req := &testgrpc.StreamingOutputCallRequest{ResponseParameters: params(sizes...), Payload: payload(7)}
					if err := stream.Send(req); err != nil {
						x.err = err
						return x
					}
					x.sent = append(x.sent, req)
					for range sizes {
						resp, err := stream.Recv()
						if err != nil {
							x.err = err
							return x
						}
						x.recv = append(x.recv, resp)
					}
				}
				if err := stream.CloseSend(); err != nil {
					x.err = err
					return x
				}
				if _, err := stream.Recv(); err != io.EOF {
					x.err = fmt.Errorf("after CloseSend: got %v, want io.EOF", err)
				}
				return x
			},
			codes: []codes.Code{codes.OK},
			sent:  2, recv: 3,
		},
		{
			name:   "error status",
			method: "/grpc.testing.TestService/UnaryCall",
			typ:    grpcstats.TypeUnary,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				req := &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.NotFound), Message: "no such user"}}
				_, err := c.UnaryCall(ctx, req)
				return exchange{sent: []proto.Message{req}, err: err}
			},
			codes:     []codes.Code{codes.NotFound},
			serverErr: "no such user",
			clientErr: "NotFound: no such user",
			sent:      1,
		},
		{
			name:   "deadline exceeded",
			method: "/grpc.testing.TestService/UnaryCall",
			typ:    grpcstats.TypeUnary,
			// The client's deadline passes once the server's handler
			// has the request (see deadlineAfter), however loaded the
			// machine: the request always reaches the server.
			deadline: true,
			run: func(ctx context.Context, c testgrpc.TestServiceClient) exchange {
				req := &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(blockBody)}}
				_, err := c.UnaryCall(ctx, req)
				return exchange{sent: []proto.Message{req}, err: err}
			},
			// The server's handler sees its stream closed under it
			// (Canceled) by the client at its deadline; DeadlineExceeded
			// would be right too, and decide what the client may have
			// received (responses).
			codes:     []codes.Code{codes.DeadlineExceeded, codes.Canceled},
			clientErr: "DeadlineExceeded: ", // the message depends on which side saw the deadline first
			sent:      1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			srv := &testServer{}
			if tt.deadline {
				srv.blocked = make(chan struct{}, 1)
			}
			addr, stop := startServer(t, srv, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
			conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()))

			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
			if tt.deadline {
				var cancel context.CancelFunc
				ctx, cancel = deadlineAfter(ctx, srv.blocked)
				defer cancel()
			}
			x := tt.run(ctx, client)
			ar.Finish()
			if got := status.Code(x.err); got != tt.codes[0] {
				t.Fatalf("RPC error = %v, want code %v", x.err, tt.codes[0])
			}
			conn.Close()
			stop()
			closeRecorder(t, rec)

			recs := sink.Records()
			servers, jobs := byKind(recs, recording.KindGRPC), byKind(recs, recording.KindBackground)
			if len(servers) != 1 || len(jobs) != 1 {
				t.Fatalf("got %d server and %d client records, want 1 and 1", len(servers), len(jobs))
			}
			sr, job := servers[0], jobs[0]

			// The server's record.
			if sr.Method != "POST" || sr.Path != tt.method || sr.Route != tt.method {
				t.Errorf("server record Method, Path, Route = %q, %q, %q; want POST, %q, %[4]q", sr.Method, sr.Path, sr.Route, tt.method)
			}
			if !slices.Contains(tt.codes, codes.Code(sr.Status)) {
				t.Errorf("server record Status = %d, want one of %v", sr.Status, tt.codes)
			}
			if tt.codes[0] == codes.OK && sr.Error != "" || tt.serverErr != "" && sr.Error != tt.serverErr {
				t.Errorf("server record Error = %q, want %q", sr.Error, tt.serverErr)
			}
			if tt.codes[0] != codes.OK && sr.Error == "" {
				t.Errorf("server record of a failed RPC has no Error")
			}
			if want := wire(x.sent...); sr.RequestBytes != want {
				t.Errorf("server RequestBytes = %d, want %d", sr.RequestBytes, want)
			}
			if want := wire(x.recv...); sr.ResponseBytes != want {
				t.Errorf("server ResponseBytes = %d, want %d", sr.ResponseBytes, want)
			}
			host, port, _ := net.SplitHostPort(addr)
			for key, want := range map[string]string{
				grpcstats.AttrSystemName:       "grpc",
				grpcstats.AttrMethod:           tt.method[1:],
				grpcstats.AttrMethodOriginal:   "",
				grpcstats.AttrStatusCode:       codeName(codes.Code(sr.Status)),
				grpcstats.AttrStreamType:       tt.typ,
				grpcstats.AttrMessagesReceived: fmt.Sprint(tt.sent),
				grpcstats.AttrMessagesSent:     fmt.Sprint(tt.recv),
				grpcstats.AttrServerAddress:    host,
				grpcstats.AttrServerPort:       port,
				"rpc.system":                   "", // deprecated keys are not written
				"rpc.service":                  "",
				"rpc.grpc.status_code":         "",
			} {
				if got := sr.Attr(key); got != want {
					t.Errorf("server record attr %s = %q, want %q", key, got, want)
				}
			}
			if host, _, err := net.SplitHostPort(sr.Remote); err != nil || host != "127.0.0.1" {
				t.Errorf("server record Remote = %q, want 127.0.0.1:port", sr.Remote)
			}
			if sr.Duration <= 0 || sr.Overhead <= 0 {
				t.Errorf("server record Duration = %v, Overhead = %v; want both > 0", sr.Duration, sr.Overhead)
			}
			if len(sr.Headers["traceparent"]) != 1 {
				t.Errorf("server record Headers = %v, want one traceparent", sr.Headers)
			}

			// The client's call.
			if len(job.Calls) != 1 {
				t.Fatalf("client record has %d calls, want 1", len(job.Calls))
			}
			c := job.Calls[0]
			if c.Service != "grpc" || c.Method != tt.method {
				t.Errorf("call = %s %s, want grpc %s", c.Service, c.Method, tt.method)
			}
			if c.Running {
				t.Errorf("call still running when its request finished")
			}
			if !strings.HasPrefix(c.Error, tt.clientErr) || (tt.clientErr == "") != (c.Error == "") {
				t.Errorf("call Error = %q, want %q…", c.Error, tt.clientErr)
			}
			if got, want := c.Attr(grpcstats.AttrStatusCode), codeName(tt.codes[0]); got != want {
				t.Errorf("call status code = %q, want %q", got, want)
			}
			if host, port, _ := net.SplitHostPort(addr); c.Attr(grpcstats.AttrServerAddress) != host || c.Attr(grpcstats.AttrServerPort) != port {
				t.Errorf("call server.address %q, server.port %q; want %q, %q (from %q)",
					c.Attr(grpcstats.AttrServerAddress), c.Attr(grpcstats.AttrServerPort), host, port, addr)
			}
			if want := wire(x.sent...); c.RequestSize != want {
				t.Errorf("call RequestSize = %d, want %d", c.RequestSize, want)
			}
			if want := wire(x.recv...); c.ResponseSize != want {
				t.Errorf("call ResponseSize = %d, want %d", c.ResponseSize, want)
			}
			wantSent, wantRecv := "", ""
			if tt.typ != grpcstats.TypeUnary {
				wantSent, wantRecv = fmt.Sprint(tt.sent), fmt.Sprint(tt.recv)
			}
			if got := c.Attr(grpcstats.AttrMessagesSent); got != wantSent {
				t.Errorf("call messages sent = %q, want %q", got, wantSent)
			}
			if got := c.Attr(grpcstats.AttrMessagesReceived); got != wantRecv {
				t.Errorf("call messages received = %q, want %q", got, wantRecv)
			}
			checkPhases(t, c, responses(t, sr, c))
			checkStack(t, c.Stack)

			// The trace joins them: the server's parent is the client's call.
			if sr.TraceID != job.TraceID || sr.ParentSpanID != c.SpanID || !c.SpanID.IsValid() {
				t.Errorf("server trace %v parent %v; want trace %v parent %v", sr.TraceID, sr.ParentSpanID, job.TraceID, c.SpanID)
			}
		})
	}
}

// deadlineAfter returns a context whose deadline passes when event
// fires: its Done closes then, and its Err is context.DeadlineExceeded,
// as a deadline's. Its Deadline, which gRPC sends the server, is an hour
// away, so that the server's own deadline never passes first. A test
// waits so on an event, not on a clock, which a loaded machine may run
// past before the request is delivered.
func deadlineAfter(parent context.Context, event <-chan struct{}) (context.Context, context.CancelFunc) {
	parent, cancel := context.WithTimeout(parent, time.Hour)
	c := &eventDeadline{Context: parent, done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		select {
		case <-event:
		case <-stop:
		}
		close(c.done)
	}()
	var once sync.Once
	return c, func() { once.Do(func() { close(stop); cancel() }) }
}

// eventDeadline is deadlineAfter's context.
type eventDeadline struct {
	context.Context
	done chan struct{}
}

func (c *eventDeadline) Done() <-chan struct{} { return c.done }

func (c *eventDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// checkStack checks that a call's stack was captured without gRPC's own
// frames. (The recorder also hides this module's middleware packages, tests
// included, so the test's own frames are not there to look for.)
func checkStack(t *testing.T, stack []recording.Frame) {
	t.Helper()
	if len(stack) == 0 {
		t.Errorf("call has no stack")
	}
	for _, f := range stack {
		if strings.HasPrefix(f.Function, "google.golang.org/grpc") {
			t.Errorf("call stack has gRPC's frame %s", f.Function)
		}
	}
}

// A response tells whether a response (headers, a message or the status)
// reached the client before its call ended.
type response int

const (
	responded    response = iota // it did: the phases are wait, receive
	notResponded                 // it did not: wait alone
	mayRespond                   // the server's status and the call's end raced: either
)

// responses returns what the client may have received of the server's
// response, from the server's record sr and the client's call c. An RPC
// that runs out of time ends in one of these orderings, and each is
// recorded right:
//   - the server's handler sees its deadline pass, and the status it returns
//     reaches the client before anything else ends the call: the client
//     reports the server's status (serverSaw), received after a wait;
//   - the server's handler sees its deadline pass and returns its status,
//     but the client's deadline ends the call, or gRPC's server resets the
//     stream at its own deadline, before that status arrives or while it
//     does: the call ends with an error of the client's, its phases wait
//     alone, or wait and receive when the status arrived as the call ended;
//   - the stream is closed under the server's handler (reset by the client
//     at its deadline, or by gRPC's server at its own) before the handler
//     returns: the server records Canceled and sends nothing back, and the
//     call only waited.
func responses(t *testing.T, sr *recording.Record, c recording.Call) response {
	t.Helper()
	code := codes.Code(sr.Status)
	switch {
	case code != codes.DeadlineExceeded && code != codes.Canceled:
		return responded // the server returned its status
	case strings.Contains(c.Error, serverSaw):
		if code != codes.DeadlineExceeded {
			t.Errorf("client got the server's status %q, but the server recorded %v", c.Error, code)
		}
		return responded
	case code == codes.DeadlineExceeded:
		return mayRespond
	default:
		return notResponded
	}
}

// checkPhases checks that a call's phases are wait (then receive, when a
// response came) and tile the call.
func checkPhases(t *testing.T, c recording.Call, resp response) {
	t.Helper()
	var names []string
	for _, p := range c.Phases {
		names = append(names, p.Name)
	}
	want := []string{"wait", "receive"}
	if resp == notResponded || resp == mayRespond && len(names) == 1 {
		want = want[:1]
	}
	if !slices.Equal(names, want) {
		t.Fatalf("call phases %v, want %v", names, want)
	}
	responded := len(want) == 2
	if c.Phases[0].Start != c.Start {
		t.Errorf("wait starts at %v, call at %v", c.Phases[0].Start, c.Start)
	}
	last := c.Phases[len(c.Phases)-1]
	if end := last.Start + last.Duration; end != c.End() {
		t.Errorf("phases end at %v, call at %v", end, c.End())
	}
	if responded && c.Phases[1].Start != c.Phases[0].Start+c.Phases[0].Duration {
		t.Errorf("receive does not follow wait: %+v", c.Phases)
	}
}

// TestNested checks attribution across two servers: A's handler calls B with
// its own context, concurrently for several requests. Each A record holds
// exactly its own call to B, and each B record continues the trace of the A
// request that called it, with that call as parent.
func TestNested(t *testing.T) {
	rec, sink := newRecorder(t)
	// An unrecorded client of A: A starts each trace.
	aclient, bsrv, stop := chain(t, rec, []grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))})

	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := aclient.EmptyCall(context.Background(), &testgrpc.Empty{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	stop()
	closeRecorder(t, rec)

	var as, bs []*recording.Record
	for _, r := range sink.Records() {
		switch {
		case r.Kind != recording.KindGRPC || r.Path != "/grpc.testing.TestService/EmptyCall":
			t.Errorf("unexpected record %v %s", r.Kind, r.Path)
		case r.ParentSpanID.IsValid():
			bs = append(bs, r)
		default:
			as = append(as, r)
		}
	}
	if len(as) != n || len(bs) != n {
		t.Fatalf("got %d A records and %d B records, want %d each", len(as), len(bs), n)
	}
	type link struct {
		trace recording.TraceID
		span  recording.SpanID
	}
	calls := make(map[link]bool)
	callStart := make(map[link]time.Time)
	traces := make(map[recording.TraceID]bool)
	for _, a := range as {
		if len(a.Calls) != 1 {
			t.Fatalf("A record has %d calls, want 1", len(a.Calls))
		}
		c := a.Calls[0]
		if c.Service != "grpc" || c.Method != "/grpc.testing.TestService/EmptyCall" || c.Error != "" || c.Running {
			t.Errorf("A's call = %+v", c)
		}
		if traces[a.TraceID] {
			t.Errorf("two A records share trace %v", a.TraceID)
		}
		traces[a.TraceID] = true
		calls[link{a.TraceID, c.SpanID}] = true
		callStart[link{a.TraceID, c.SpanID}] = a.Start.Add(c.Start)
	}
	for _, b := range bs {
		l := link{b.TraceID, b.ParentSpanID}
		if !calls[l] {
			t.Errorf("B record's trace %v / parent %v matches no A call", b.TraceID, b.ParentSpanID)
		}
		if start, ok := callStart[l]; ok && b.Start.Before(start) {
			t.Errorf("B's record starts at %v, before A's call to it at %v", b.Start, start)
		}
		delete(calls, l)
		if len(b.Calls) != 0 {
			t.Errorf("B record has %d calls, want 0", len(b.Calls))
		}
	}
	if got := len(bsrv.seen()); got != n {
		t.Errorf("B saw %d RPCs, want %d", got, n)
	}
}

// TestIncomingTraceparent checks that a server record continues the trace
// of a traceparent sent by any client.
func TestIncomingTraceparent(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, client := dial(t, addr)
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", tp)
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	want, _ := recording.ParseTraceparent(tp)
	if r := recs[0]; r.TraceID != want.TraceID || r.ParentSpanID != want.SpanID {
		t.Errorf("record trace %v parent %v, want %v %v", r.TraceID, r.ParentSpanID, want.TraceID, want.SpanID)
	}
}

// TestNotRecorded checks that with sampling off nothing is recorded, and that
// a client call made without a recorded request adds no metadata.
func TestNotRecorded(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithSampleRate(0))
	aclient, bsrv, stop := chain(t, rec, []grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))},
		grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	for range 5 {
		if _, err := aclient.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	closeRecorder(t, rec)
	if recs := sink.Records(); len(recs) != 0 {
		t.Errorf("got %d records with sampling 0, want none", len(recs))
	}
	if st := rec.Stats(); st.SampledOut != 10 {
		t.Errorf("SampledOut = %d, want 10", st.SampledOut)
	}
	seen := bsrv.seen()
	if len(seen) != 5 {
		t.Fatalf("B saw %d RPCs, want 5", len(seen))
	}
	for _, tp := range seen {
		if tp != "" {
			t.Errorf("B got traceparent %q from an unrecorded request", tp)
		}
	}
}

// TestUnknownMethod checks that an RPC gRPC rejects before any handler runs
// is still recorded, as Unimplemented with the status message the client
// gets, and with the one route of unknown methods rather than the made-up
// name; a registered method that answers Unimplemented keeps its own
// route.
func TestUnknownMethod(t *testing.T) {
	rec, sink := newRecorder(t)
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, client := dial(t, addr)
	// An RPC of the service first: the handler learns the server has it.
	if _, err := client.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	long := "/evil.Svc/" + strings.Repeat("x", 2000)
	routes := map[string]string{
		"/no.Such/Service":                       "(unknown gRPC method)",
		"/grpc.testing.TestService/NoSuchMethod": "(unknown gRPC method)",
		long:                                     "(unknown gRPC method)",
		"/grpc.testing.TestService/UnimplementedCall": "/grpc.testing.TestService/UnimplementedCall",
	}
	got := map[string]string{} // full method → the client's status message
	for method := range routes {
		err := conn.Invoke(context.Background(), method, &testgrpc.Empty{}, &testgrpc.Empty{})
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("%.40s: err = %v, want Unimplemented", method, err)
		}
		got[method] = status.Convert(err).Message()
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	for _, r := range recs {
		method := r.Path
		if strings.HasPrefix(method, "/evil.Svc/") {
			method = long // the recorded path may be cut
		}
		msg, ok := got[method]
		if !ok {
			continue // EmptyCall
		}
		if r.Status != int(codes.Unimplemented) || (method != long && r.Error != msg) || r.Attr(grpcstats.AttrStatusCode) != "UNIMPLEMENTED" {
			t.Errorf("%.40s: Status %d, Error %.60q, status attr %q; want 12, %.60q, UNIMPLEMENTED", r.Path, r.Status, r.Error, r.Attr(grpcstats.AttrStatusCode), msg)
		}
		if want := routes[method]; r.Route != want {
			t.Errorf("%.40s: route %.60q, want %q", r.Path, r.Route, want)
		}
		// A method the server does not have is _OTHER, with the name the
		// client sent (cut as the recorder cuts attributes); one it has
		// (that answers Unimplemented itself) is named.
		wantMethod, wantOriginal := "_OTHER", method[1:]
		if method == "/grpc.testing.TestService/UnimplementedCall" {
			wantMethod, wantOriginal = method[1:], ""
		}
		gotOriginal := r.Attr(grpcstats.AttrMethodOriginal)
		okOriginal := gotOriginal == wantOriginal
		if method == long {
			kept, _, cut := strings.Cut(gotOriginal, "…[truncated ")
			okOriginal = cut && kept != "" && strings.HasPrefix(wantOriginal, kept)
		}
		if r.Attr(grpcstats.AttrMethod) != wantMethod || !okOriginal {
			t.Errorf("%.40s: rpc.method %q, rpc.method_original %.60q; want %q, %.60q", r.Path,
				r.Attr(grpcstats.AttrMethod), gotOriginal, wantMethod, wantOriginal)
		}
	}
}

// codeName is the rpc.response.status_code of a code: "NOT_FOUND".
func codeName(c codes.Code) string {
	if c == codes.Canceled {
		return "CANCELLED"
	}
	var b strings.Builder
	lower := false // the previous letter was lowercase
	for _, r := range c.String() {
		if lower && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		lower = unicode.IsLower(r)
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// TestMessageSummaryAndExactMethodFilter checks WithMessageSummary, and that
// a recorder filter on a full method (Filter.Path) leaves that method's
// server records out while the client still records its calls.
func TestMessageSummaryAndExactMethodFilter(t *testing.T) {
	rec, sink := newRecorder(t, recording.WithExclude(recording.Filter{Path: "/grpc.testing.TestService/EmptyCall"}))
	summary := grpcstats.WithMessageSummary(func(m string, msg any) string {
		return fmt.Sprintf("%s %T", m[len("/grpc.testing.TestService/"):], msg)
	})
	srv := &testServer{}
	addr, stop := startServer(t, srv, grpc.StatsHandler(grpcstats.NewServerHandler(rec, nil)))
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler(summary)))

	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: 1}); err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	conn.Close()
	stop()
	closeRecorder(t, rec)

	recs := sink.Records()
	servers, jobs := byKind(recs, recording.KindGRPC), byKind(recs, recording.KindBackground)
	if len(servers) != 1 || servers[0].Path != "/grpc.testing.TestService/UnaryCall" {
		t.Fatalf("server records = %d, want only UnaryCall", len(servers))
	}
	if st := rec.Stats(); st.Filtered != 1 {
		t.Errorf("Filtered = %d, want 1 (EmptyCall)", st.Filtered)
	}
	if len(jobs) != 1 || len(jobs[0].Calls) != 2 {
		t.Fatalf("want 1 client record with 2 calls")
	}
	if c := jobs[0].Calls[0]; c.Method != "/grpc.testing.TestService/EmptyCall" || c.Request != "EmptyCall *grpc_testing.Empty" {
		t.Errorf("first call %q with Request %q", c.Method, c.Request)
	}
	c := jobs[0].Calls[1]
	if c.Method != "/grpc.testing.TestService/UnaryCall" {
		t.Errorf("call method %q", c.Method)
	}
	if want := "UnaryCall *grpc_testing.SimpleRequest"; c.Request != want {
		t.Errorf("call Request = %q, want %q", c.Request, want)
	}
	if want := "UnaryCall *grpc_testing.SimpleResponse"; c.Response != want {
		t.Errorf("call Response = %q, want %q", c.Response, want)
	}
	// The excluded server RPC still received the caller's trace context.
	if seen := srv.seen(); len(seen) != 2 || seen[0] == "" || seen[1] == "" {
		t.Errorf("traceparents seen = %q; want one per call", seen)
	}
}

// TestReplaceTraceparent checks that a traceparent already in the outgoing
// metadata is replaced by the call's, not sent twice.
func TestReplaceTraceparent(t *testing.T) {
	rec, sink := newRecorder(t)
	srv := &testServer{}
	addr, stop := startServer(t, srv)
	conn, client := dial(t, addr, grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	var got []string
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}, grpc.Header(&metadata.MD{})); err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	conn.Close()
	stop()
	closeRecorder(t, rec)
	got = srv.seen()
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("want 1 record with 1 call")
	}
	want := recording.FormatTraceparent(recording.TraceContext{TraceID: recs[0].TraceID, SpanID: recs[0].Calls[0].SpanID, Sampled: true, Random: recs[0].RandomTraceID})
	if len(got) != 1 || got[0] != want {
		t.Errorf("server saw traceparent %q, want %q", got, want)
	}
}

// TestRecorderFilters checks that the recorder's filters see the full method
// as the path and the incoming metadata as headers, and that the recorder
// redacts secret metadata.
func TestRecorderFilters(t *testing.T) {
	rec, sink := newRecorder(t,
		recording.WithInclude(recording.Filter{PathPrefix: "/grpc.testing.TestService/", Header: "x-debug"}),
		recording.WithExclude(recording.Filter{Header: "x-debug", Value: "skip"}),
	)
	addr, stop := startServer(t, &testServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	conn, client := dial(t, addr)
	for _, kv := range [][]string{
		{"x-debug", "1", "authorization", "Bearer s3cret", "blob-bin", "\x00\x01\x02"}, // recorded
		{"x-debug", "skip"}, // excluded
		{"x-other", "1"},    // not included
	} {
		ctx := metadata.AppendToOutgoingContext(context.Background(), kv...)
		if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	stop()
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	h := recs[0].Headers
	if got := h["x-debug"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("x-debug header = %q, want [1]", got)
	}
	if got := h["authorization"]; len(got) != 1 || got[0] != recording.Redacted {
		t.Errorf("authorization header = %q, want it redacted", got)
	}
	if got := h["blob-bin"]; len(got) != 1 || got[0] != "(binary, 3 bytes)" {
		t.Errorf("blob-bin header = %q, want its size only", got)
	}
	if st := rec.Stats(); st.Filtered != 2 {
		t.Errorf("Filtered = %d, want 2", st.Filtered)
	}
}

// TestCallerTraceContextPassesOn sends A an RPC whose caller did not sample
// the trace (flags 00): recorded, A's call to B sends flags 00 with the
// call as parent; not recorded, the caller's traceparent passes to B as it
// came.
func TestCallerTraceContextPassesOn(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
	for _, recorded := range []bool{true, false} {
		var opts []recording.Option
		if !recorded {
			opts = append(opts, recording.WithSampleRate(0))
		}
		rec, sink := newRecorder(t, opts...)
		aclient, bsrv, stop := chain(t, rec, nil)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", tp)
		if _, err := aclient.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
			t.Fatal(err)
		}
		stop()
		closeRecorder(t, rec)
		seen := bsrv.seen()
		if len(seen) != 1 {
			t.Fatalf("B saw %d RPCs", len(seen))
		}
		want := tp
		if recorded {
			recs := sink.Records()
			if len(recs) != 1 || len(recs[0].Calls) != 1 || !recs[0].Unsampled {
				t.Fatalf("records %+v, want one unsampled with one call", recs)
			}
			want = recording.FormatTraceparent(recording.TraceContext{TraceID: recs[0].TraceID, SpanID: recs[0].Calls[0].SpanID})
		}
		if seen[0] != want {
			t.Errorf("recorded %v: B got traceparent %q, want %q", recorded, seen[0], want)
		}
	}
}
