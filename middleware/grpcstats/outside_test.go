package grpcstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// flakySrv is a TestService whose UnaryCall answers by the "key" of the
// incoming metadata: "fail2" fails with Unavailable on its first two
// attempts, "failall" on every attempt; any other key succeeds. It notes
// each attempt it sees.
type flakySrv struct {
	testgrpc.UnimplementedTestServiceServer
	mu    sync.Mutex
	tries map[string]int
	seen  []string
}

func (s *flakySrv) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	key := strings.Join(md.Get("key"), ",")
	s.mu.Lock()
	s.tries[key]++
	n := s.tries[key]
	s.seen = append(s.seen, fmt.Sprintf("%s#%d previous attempts %v", key, n, md.Get("grpc-previous-rpc-attempts")))
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(key, "fail2") && n <= 2:
		return nil, status.Error(codes.Unavailable, "try again "+fmt.Sprint(n))
	case strings.HasPrefix(key, "failall"):
		return nil, status.Error(codes.Unavailable, "always "+fmt.Sprint(n))
	}
	return &testgrpc.SimpleResponse{Username: fmt.Sprintf("%s#%d big=%d bin=%q", key, n, len(strings.Join(md.Get("big"), "")), md.Get("blob-bin"))}, nil
}

func (s *flakySrv) StreamingInputCall(st testgrpc.TestService_StreamingInputCallServer) error {
	n := 0
	for {
		_, err := st.Recv()
		if err == io.EOF {
			return st.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
		}
		if err != nil {
			return err
		}
		n++
	}
}

// grpcOutside serves flakySrv, the health service and reflection with
// srvOpts, and calls them with copts and the service config policy, in ctx:
// unary calls retried or not (with credentials, large and binary metadata,
// a forced codec and a compressor), a client stream cancelled mid-stream,
// health checks and a reflection stream. It returns a transcript of what
// the client saw, and of the attempts the server saw.
func grpcOutside(t *testing.T, ctx context.Context, srvOpts []grpc.ServerOption, copts []grpc.DialOption, policy string) []string {
	t.Helper()
	var out []string
	logf := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append([]grpc.ServerOption{grpc.WaitForHandlers(true)}, srvOpts...)...)
	fs := &flakySrv{tries: map[string]int{}}
	testgrpc.RegisterTestServiceServer(srv, fs)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	go srv.Serve(lis)
	defer srv.Stop()
	cc, err := grpc.NewClient(lis.Addr().String(), append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(policy)}, copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	tc := testgrpc.NewTestServiceClient(cc)
	errs := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		st, _ := status.FromError(err)
		return fmt.Sprintf("%T %v canceled=%v deadline=%v", err, st, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded))
	}
	for _, key := range []string{"ok", "fail2", "failall"} {
		var hdr, trl metadata.MD
		c := metadata.AppendToOutgoingContext(ctx, "key", key, "authorization", "Bearer hunter2a", "cookie", "sid=hunter2b")
		resp, err := tc.UnaryCall(c, &testgrpc.SimpleRequest{}, grpc.Header(&hdr), grpc.Trailer(&trl))
		logf("%s: %v %s hdr=%d trl=%d", key, resp.GetUsername(), errs(err), len(hdr), len(trl))
	}
	big := strings.Repeat("x", 64<<10)
	c := metadata.AppendToOutgoingContext(ctx, "key", "big", "big", big, "blob-bin", "\x00\xffhunter2c")
	resp, err := tc.UnaryCall(c, &testgrpc.SimpleRequest{})
	logf("big: %v %s", resp.GetUsername(), errs(err))
	// Codec and compressor.
	c = metadata.AppendToOutgoingContext(ctx, "key", "codec")
	resp, err = tc.UnaryCall(c, &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: make([]byte, 1000)}},
		grpc.ForceCodecV2(encoding.GetCodecV2("proto")), grpc.UseCompressor("gzip"))
	logf("codec: %v %s", resp.GetUsername(), errs(err))
	// Client stream cancelled mid-stream.
	cctx, cancel := context.WithCancel(ctx)
	st, err := tc.StreamingInputCall(cctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		logf("send %s", errs(st.Send(&testgrpc.StreamingInputCallRequest{})))
	}
	cancel()
	st.Send(&testgrpc.StreamingInputCallRequest{}) // nil or io.EOF, as the cancel has reached the stream or not
	// grpc-go's cancel reaches the stream in a goroutine of its own: a
	// CloseSend before that gets to the server, whose answer, when it
	// arrives first, RecvMsg returns before the context's error (OK, not
	// Canceled: 3 runs in 20,000 bare, with -race). Header waits for the
	// server's header, which it sends only with its answer, after the
	// client's end of the stream, or for the done context, and ends the
	// stream then: the stream ends Canceled, bare as wrapped.
	hdr, err := st.Header()
	logf("header after cancel %v %s", hdr, errs(err))
	r2, err := st.CloseAndRecv()
	logf("close after cancel %v %s", r2, errs(err))
	// Health and reflection.
	hc := healthpb.NewHealthClient(cc)
	hr, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
	logf("health %v %s", hr.GetStatus(), errs(err))
	hr, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	logf("health nope %v %s", hr.GetStatus(), errs(err))
	rc, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	rr, err := rc.Recv()
	logf("reflection %v %s", len(rr.GetListServicesResponse().GetService()), errs(err))
	rc.CloseSend()
	_, err = rc.Recv()
	logf("reflection end %s", errs(err))
	srv.GracefulStop()
	fs.mu.Lock()
	logf("server saw %v", fs.seen)
	fs.mu.Unlock()
	return out
}

// retryPolicy retries TestService's RPCs failed with Unavailable, four
// attempts in all. (grpc-go does not implement hedgingPolicy: it runs one
// attempt, bare as wrapped.)
const retryPolicy = `{"methodConfig":[{"name":[{"service":"grpc.testing.TestService"}],"retryPolicy":{"maxAttempts":4,"initialBackoff":"0.01s","maxBackoff":"0.01s","backoffMultiplier":1,"retryableStatusCodes":["UNAVAILABLE"]}}]}`

// TestOutsideAsBare runs grpcOutside with a retry policy, bare and with
// the stats handlers (and otelgrpc's client handler on the same client in
// both): the client must see the same results and errors, and the server
// the same RPCs. Each attempt of a retried RPC is a call of the client's
// record, with its own status, and a record of the server; credentials and
// binary metadata are not recorded, and a large metadata value is clipped.
func TestOutsideAsBare(t *testing.T) {
	want := grpcOutside(t, context.Background(), nil, []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler())}, retryPolicy)
	rec, sink := newRecorder(t)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/client"})
	got := grpcOutside(t, ctx, []grpc.ServerOption{grpc.StatsHandler(grpcstats.NewServerHandler(rec))},
		[]grpc.DialOption{grpc.WithStatsHandler(grpcstats.NewClientHandler()), grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
			grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()), grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor())}, retryPolicy)
	ar.Finish()
	closeRecorder(t, rec)
	testservers.SameTranscript(t, got, want)

	var client *recording.Record
	servers := map[string][]string{} // key → status of each attempt the server recorded
	for _, r := range sink.Records() {
		if strings.Contains(fmt.Sprint(r), "hunter2") {
			t.Errorf("a secret in the record of %s: %+v", r.Path, r)
		}
		if r.Kind == recording.KindBackground {
			client = r
			continue
		}
		for k, vs := range r.Headers {
			for _, v := range vs {
				if len(v) >= 64<<10 {
					t.Errorf("%s: metadata %s kept whole, %d bytes", r.Path, k, len(v))
				}
			}
		}
		if len(r.Headers["key"]) == 0 {
			continue
		}
		key := r.Headers["key"][0]
		servers[key] = append(servers[key], fmt.Sprint(r.Status))
		if key == "ok" || key == "fail2" || key == "failall" {
			if got := r.Headers["authorization"]; len(got) != 1 || got[0] != recording.Redacted {
				t.Errorf("%s: authorization recorded as %q", key, got)
			}
			if got := r.Headers["cookie"]; len(got) != 1 || got[0] != recording.Redacted {
				t.Errorf("%s: cookie recorded as %q", key, got)
			}
		}
		if key == "big" {
			if got := r.Headers["blob-bin"]; len(got) != 1 || got[0] != "(binary, 10 bytes)" {
				t.Errorf("binary metadata recorded as %q", got)
			}
		}
	}
	if fmt.Sprint(servers["fail2"]) != "[14 14 0]" || fmt.Sprint(servers["failall"]) != "[14 14 14 14]" || fmt.Sprint(servers["ok"]) != "[0]" {
		t.Errorf("server records of the attempts: %v", servers)
	}
	if client == nil {
		t.Fatal("no client record")
	}
	var unary []string
	for _, c := range client.Calls {
		if c.Method == "/grpc.testing.TestService/UnaryCall" {
			unary = append(unary, c.Attr(grpcstats.AttrStatusCode))
		}
	}
	// ok; fail2's three attempts; failall's four; big; codec.
	want2 := "[OK UNAVAILABLE UNAVAILABLE OK UNAVAILABLE UNAVAILABLE UNAVAILABLE UNAVAILABLE OK OK]"
	if fmt.Sprint(unary) != want2 {
		t.Errorf("client calls of UnaryCall: %v, want %s", unary, want2)
	}
}
