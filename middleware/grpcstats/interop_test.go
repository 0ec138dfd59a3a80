package grpcstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// caseLogger is the gRPC logger of the tests: errors go to stderr, and a
// fatal error — how grpc-go's interop cases report a failure — ends the
// goroutine that ran the case, noting the message, instead of the process.
type caseLogger struct {
	grpclog.LoggerV2
	mu  sync.Mutex
	msg string
}

var interopLog = &caseLogger{LoggerV2: grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr)}

func (l *caseLogger) Fatal(args ...any)                 { l.fail(fmt.Sprint(args...)) }
func (l *caseLogger) Fatalln(args ...any)               { l.fail(fmt.Sprintln(args...)) }
func (l *caseLogger) Fatalf(format string, args ...any) { l.fail(fmt.Sprintf(format, args...)) }

func (l *caseLogger) fail(msg string) {
	l.mu.Lock()
	if l.msg == "" {
		l.msg = strings.TrimSpace(msg)
	}
	l.mu.Unlock()
	runtime.Goexit()
}

// run runs one case in a goroutine of its own and returns "pass" or the
// failure it reported.
func (l *caseLogger) run(f func()) string {
	l.mu.Lock()
	l.msg = ""
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msg == "" {
		return "pass"
	}
	return "fail: " + l.msg
}

// interopCase is one of grpc-go's interop test cases, named as in the gRPC
// interop test descriptions.
type interopCase struct {
	name string
	run  func(ctx context.Context, cc *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption)
}

var interopCases = []interopCase{
	{"empty_unary", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoEmptyUnaryCall(ctx, tc, args...)
	}},
	{"large_unary", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoLargeUnaryCall(ctx, tc, args...)
	}},
	{"client_streaming", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoClientStreaming(ctx, tc, args...)
	}},
	{"server_streaming", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoServerStreaming(ctx, tc, args...)
	}},
	{"ping_pong", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoPingPong(ctx, tc, args...)
	}},
	{"empty_stream", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoEmptyStream(ctx, tc, args...)
	}},
	{"timeout_on_sleeping_server", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoTimeoutOnSleepingServer(ctx, tc, args...)
	}},
	{"cancel_after_begin", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoCancelAfterBegin(ctx, tc, args...)
	}},
	{"cancel_after_first_response", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoCancelAfterFirstResponse(ctx, tc, args...)
	}},
	{"custom_metadata", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoCustomMetadata(ctx, tc, args...)
	}},
	{"status_code_and_message", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoStatusCodeAndMessage(ctx, tc, args...)
	}},
	{"special_status_message", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, args ...grpc.CallOption) {
		interop.DoSpecialStatusMessage(ctx, tc, args...)
	}},
	{"unimplemented_service", func(ctx context.Context, cc *grpc.ClientConn, _ testgrpc.TestServiceClient, _ ...grpc.CallOption) {
		interop.DoUnimplementedService(ctx, testgrpc.NewUnimplementedServiceClient(cc))
	}},
	{"unimplemented_method", func(ctx context.Context, cc *grpc.ClientConn, _ testgrpc.TestServiceClient, _ ...grpc.CallOption) {
		interop.DoUnimplementedMethod(ctx, cc)
	}},
	// Fails bare as wrapped, "got empty server ID": grpc-go's interop
	// test server leaves the server ID empty.
	{"pick_first_unary", func(ctx context.Context, _ *grpc.ClientConn, tc testgrpc.TestServiceClient, _ ...grpc.CallOption) {
		interop.DoPickFirstUnary(ctx, tc) // takes no call options
	}},
}

// runInterop runs every interop case against grpc-go's interop test server,
// in process over loopback, with the given server and client options, each
// case in a context made by start. It returns each case's outcome once the
// server has stopped and its method handlers have returned: the server
// records an RPC in its handler's goroutine, which may end after the
// client has its answer (an unknown service's record ends at the trailer
// gRPC writes for it).
func runInterop(t *testing.T, sopts []grpc.ServerOption, copts []grpc.DialOption, start func(name string) (context.Context, func())) map[string]string {
	t.Helper()
	return runInteropWith(t, sopts, copts, nil, start)
}

// runInteropWith is runInterop with call options given to every case that
// takes them (all but pick_first_unary).
func runInteropWith(t *testing.T, sopts []grpc.ServerOption, copts []grpc.DialOption, args []grpc.CallOption, start func(name string) (context.Context, func())) map[string]string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append([]grpc.ServerOption{grpc.WaitForHandlers(true)}, sopts...)...)
	testgrpc.RegisterTestServiceServer(srv, interop.NewTestServer())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	defer func() {
		srv.Stop()
		<-served
	}()
	cc, err := grpc.NewClient(lis.Addr().String(), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	tc := testgrpc.NewTestServiceClient(cc)
	out := map[string]string{}
	for _, c := range interopCases {
		ctx, finish := start(c.name)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out[c.name] = interopLog.run(func() { c.run(ctx, cc, tc, args...) })
		cancel()
		finish()
	}
	return out
}

// startedRPCs is a stats handler that counts the RPCs gRPC starts (tags)
// in each recorded request, by the request's path.
type startedRPCs struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *startedRPCs) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	if a := recording.FromContext(ctx); a != nil {
		h.mu.Lock()
		h.n[a.Record().Path]++
		h.mu.Unlock()
	}
	return ctx
}

func (h *startedRPCs) HandleRPC(context.Context, stats.RPCStats) {}

func (h *startedRPCs) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (h *startedRPCs) HandleConn(context.Context, stats.ConnStats) {}

// TestInterop runs grpc-go's interop cases bare and with both stats handlers
// installed (the client's RPCs made in recorded requests, through
// UnaryClientInterceptor and StreamClientInterceptor): every case must
// end as it does bare, and the RPCs must be recorded on both sides.
func TestInterop(t *testing.T) {
	bare := runInterop(t, nil, nil, func(string) (context.Context, func()) { return context.Background(), func() {} })

	rec, sink := newRecorder(t)
	started := &startedRPCs{n: map[string]int{}}
	wrapped := runInterop(t,
		[]grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))},
		[]grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler()), grpc.WithStatsHandler(started),
			grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()), grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor())},
		func(name string) (context.Context, func()) {
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/" + name})
			return ctx, ar.Finish
		})
	closeRecorder(t, rec)

	passed := func(m map[string]string) (n int) {
		for _, v := range m {
			if v == "pass" {
				n++
			}
		}
		return n
	}
	same := 0
	for _, c := range interopCases {
		if bare[c.name] == wrapped[c.name] {
			same++
		} else {
			t.Errorf("%s: wrapped %s; bare %s", c.name, wrapped[c.name], bare[c.name])
		}
	}
	t.Logf("interop cases passed: bare %d/%d, wrapped %d/%d; identical outcomes %d/%d (bare failures: %v)",
		passed(bare), len(interopCases), passed(wrapped), len(interopCases), same, len(interopCases), failures(bare))
	if passed(bare) < len(interopCases)-1 {
		t.Errorf("bare runs failed more than pick_first_unary: %v", failures(bare))
	}

	// Each case's record holds a call for each RPC gRPC started in it (a
	// case whose deadline passes before gRPC starts the RPC, as
	// timeout_on_sleeping_server's 1 ms may, starts none: gRPC gives the
	// stats handlers no event of it), and the server recorded each RPC,
	// with the status message the client got for an unknown service.
	servers, clients := map[string]int{}, map[string]int{}
	var unknown *recording.Record
	for _, r := range sink.Records() {
		switch r.Kind {
		case recording.KindGRPC:
			servers[r.Path]++
			if r.Path == "/grpc.testing.UnimplementedService/UnimplementedCall" {
				unknown = r
			}
		case recording.KindBackground:
			for _, c := range r.Calls {
				if c.Service == "grpc" {
					clients[r.Path]++
				}
			}
		}
	}
	for _, c := range interopCases {
		calls, rpcs := clients["/"+c.name], started.n["/"+c.name]
		if calls != rpcs {
			t.Errorf("%s: %d client calls recorded, %d RPCs started", c.name, calls, rpcs)
		}
		if rpcs == 0 && c.name != "timeout_on_sleeping_server" {
			t.Errorf("%s: no RPC started", c.name)
		}
	}
	if servers["/grpc.testing.TestService/UnaryCall"] == 0 || servers["/grpc.testing.TestService/FullDuplexCall"] == 0 {
		t.Errorf("server records: %v", servers)
	}
	if unknown == nil || unknown.Error != "unknown service grpc.testing.UnimplementedService" {
		t.Errorf("record of the unimplemented service: %+v", unknown)
	}
}

func failures(m map[string]string) []string {
	var out []string
	for _, c := range interopCases {
		if v := m[c.name]; v != "pass" {
			out = append(out, c.name+": "+v)
		}
	}
	return out
}
