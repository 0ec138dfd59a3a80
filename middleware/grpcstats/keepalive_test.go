package grpcstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// connCounter is a stats handler that counts the connections its side
// began.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                       {}
func (c *connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (c *connCounter) HandleConn(_ context.Context, cs stats.ConnStats) {
	if _, ok := cs.(*stats.ConnBegin); ok {
		c.n.Add(1)
	}
}

// connRun is what one run of a connection-lifetime case saw: the outcome
// of each RPC as the application got it (RPC i made with rpcCtx(i)), the
// connections the client made and, wrapped, the records and their spans.
type connRun struct {
	errs  []error
	conns int64
	recs  []*recording.Record
	spans tracetest.SpanStubs
}

// runConns serves testServer with sopts, dials it with copts and runs do,
// bare (rec nil) or with both sides wrapped as the README mounts them,
// each RPC of do in a recorded request of its own ("/rpc/i"), exported
// as spans too. The server is stopped and the client closed before it
// returns; wrapped, no record may then be open.
func runConns(t *testing.T, wrapped bool, sopts []grpc.ServerOption, copts []grpc.DialOption, do func(rpcCtx func(i int) context.Context, c testgrpc.TestServiceClient, conn *grpc.ClientConn) []error) connRun {
	t.Helper()
	var (
		rec  *recording.Recorder
		sink *recordingtest.Sink
		mem  *tracetest.InMemoryExporter
		exp  *otelexport.Exporter
	)
	so, co := slices.Clone(sopts), slices.Clone(copts)
	if wrapped {
		sink = recordingtest.NewSink()
		mem = tracetest.NewInMemoryExporter()
		exp = otelexport.New(mem)
		// Error messages kept whole, to be compared with the
		// application's (GOAWAY's debug data is quoted).
		red := recording.DefaultRedaction()
		red.Errors = false
		rec = recording.New(recording.WithSinks(sink, exp), recording.WithBatch(64, time.Millisecond), recording.WithRedaction(red),
			recording.WithQueueSize(1<<14)) // room for every record of the unary load, finished at once
		so = append(so, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
		co = append(co, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
			grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	}
	conns := &connCounter{}
	co = append(co, grpc.WithStatsHandler(conns))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(append(so, grpc.WaitForHandlers(true))...)
	testgrpc.RegisterTestServiceServer(s, &testServer{})
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	conn, client := dial(t, lis.Addr().String(), co...)

	var mu sync.Mutex
	var ars []*recording.ActiveRecord
	rpcCtx := func(i int) context.Context {
		if rec == nil {
			return context.Background()
		}
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: fmt.Sprintf("/rpc/%d", i)})
		mu.Lock()
		ars = append(ars, ar)
		mu.Unlock()
		return ctx
	}
	run := connRun{errs: do(rpcCtx, client, conn)}
	conn.Close()
	s.Stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	for _, ar := range ars {
		ar.Finish()
	}
	run.conns = conns.n.Load()
	if rec == nil {
		return run
	}
	if active, unlisted := rec.Active(0, 0); len(active)+unlisted != 0 {
		t.Errorf("%d records still open after the server stopped", len(active)+unlisted)
	}
	closeRecorder(t, rec)
	if err := exp.ForceFlush(context.Background()); err != nil {
		t.Fatalf("exporter ForceFlush: %v", err)
	}
	run.spans = mem.GetSpans() // before Close, which empties mem
	if err := exp.Close(context.Background()); err != nil {
		t.Fatalf("exporter Close: %v", err)
	}
	run.recs = sink.Records()
	return run
}

// sameOutcomes asserts that the application got the same outcome of each
// RPC wrapped as bare: the same code and the same message, but for
// Unavailable, whose message holds the socket's error (which differs from
// run to run): there, the GOAWAY's debug data, when given, must be the
// same.
func sameOutcomes(t *testing.T, bare, wrapped []error, goaway string) {
	t.Helper()
	if len(bare) != len(wrapped) {
		t.Fatalf("wrapped, %d RPCs; bare, %d", len(wrapped), len(bare))
	}
	for i := range bare {
		b, w := status.Convert(bare[i]), status.Convert(wrapped[i])
		switch {
		case b.Code() != w.Code():
		case b.Code() != codes.Unavailable && b.Message() != w.Message():
		case b.Code() == codes.Unavailable && goaway != "" && (!strings.Contains(b.Message(), goaway) || !strings.Contains(w.Message(), goaway)):
		default:
			continue
		}
		t.Errorf("RPC %d: wrapped, the application got %v; bare, %v", i, wrapped[i], bare[i])
	}
}

// otelGRPCError reports whether OpenTelemetry's semantic conventions for
// gRPC make a span with the status code an error: any code but OK on a
// client; on a server, UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
// INTERNAL, UNAVAILABLE and DATA_LOSS.
func otelGRPCError(code codes.Code, server bool) bool {
	if !server {
		return code != codes.OK
	}
	switch code {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return false
}

// checkConnRecords asserts that each RPC's last call has the status its
// application got, that every server record's status is one of want (by
// method), and that every gRPC span's status is as OpenTelemetry's gRPC
// conventions say for its record's or call's code.
func checkConnRecords(t *testing.T, run connRun, serverWant map[string][]codes.Code) {
	t.Helper()
	byPath := map[string]*recording.Record{}
	for _, r := range run.recs {
		byPath[r.Path] = r
	}
	for i, err := range run.errs {
		r := byPath[fmt.Sprintf("/rpc/%d", i)]
		if r == nil {
			t.Errorf("RPC %d: no record", i)
			continue
		}
		var last *recording.Call
		for j := range r.Calls {
			if r.Calls[j].Service == "grpc" {
				last = &r.Calls[j]
			}
		}
		st := status.Convert(err)
		if last == nil {
			t.Errorf("RPC %d (%v): no call", i, err)
			continue
		}
		if got := last.Attr(grpcstats.AttrStatusCode); got != codeName(st.Code()) {
			t.Errorf("RPC %d: call status %s (%q); the application got %v", i, got, last.Error, err)
		}
		if st.Code() != codes.OK && last.Error != st.Code().String()+": "+st.Message() {
			t.Errorf("RPC %d: call error %q; the application got %v", i, last.Error, err)
		}
	}
	nServer := 0
	for _, r := range run.recs {
		if r.Kind != recording.KindGRPC {
			continue
		}
		nServer++
		if !slices.Contains(serverWant[r.Path], codes.Code(r.Status)) {
			t.Errorf("server record of %s: status %d (%q), want one of %v", r.Path, r.Status, r.Error, serverWant[r.Path])
		}
	}
	if nServer == 0 {
		t.Errorf("no server record")
	}
	nSpans := 0
	for _, s := range run.spans {
		var code string
		for _, a := range s.Attributes {
			if string(a.Key) == grpcstats.AttrStatusCode {
				code = a.Value.AsString()
			}
		}
		if code == "" {
			continue
		}
		nSpans++
		c := codes.OK
		for k := codes.OK; k <= codes.Unauthenticated; k++ {
			if convention.GRPCStatusName(int(k)) == code {
				c = k
			}
		}
		server := s.SpanKind == trace.SpanKindServer
		if want := otelGRPCError(c, server); (s.Status.Code == otelcodes.Error) != want {
			t.Errorf("%v span %q with status code %s: span status %v, want error %v", s.SpanKind, s.Name, code, s.Status, want)
		}
	}
	if nSpans == 0 {
		t.Errorf("no gRPC span")
	}
}

// blockedStream opens a bidirectional stream, exchanges a message on it
// and waits for its end: the error Recv returns.
func blockedStream(ctx context.Context, c testgrpc.TestServiceClient, opened chan<- struct{}) error {
	defer close(opened)
	st, err := c.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	if err := st.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: params(10)}); err != nil {
		return err
	}
	if _, err := st.Recv(); err != nil {
		return err
	}
	opened <- struct{}{}
	_, err = st.Recv()
	return err
}

const (
	fullDuplex = "/grpc.testing.TestService/FullDuplexCall"
	unaryCall  = "/grpc.testing.TestService/UnaryCall"
)

// TestMaxConnectionAgeStreams: a server whose connections live 100 ms,
// with a grace of 1 s, sends GOAWAY under two streams: one that ends
// within the grace (OK) and one still open at its end, which the server
// then cuts (Unavailable on the client; its method's Recv sees its
// context cancelled). Wrapped, the application gets what it gets bare,
// each stream's call has the status the application got, the server's
// records what the method returned, and the spans' status is as
// OpenTelemetry's gRPC conventions say.
func TestMaxConnectionAgeStreams(t *testing.T) {
	sopts := []grpc.ServerOption{grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 100 * time.Millisecond, MaxConnectionAgeGrace: time.Second})}
	do := func(rpcCtx func(int) context.Context, c testgrpc.TestServiceClient, conn *grpc.ClientConn) []error {
		errs := make([]error, 2)
		opened := make(chan struct{}, 1)
		ctx0, ctx1 := rpcCtx(0), rpcCtx(1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			errs[0] = blockedStream(ctx0, c, opened)
		}()
		<-opened
		st, err := c.FullDuplexCall(ctx1)
		if err != nil {
			errs[1] = err
			<-done
			return errs
		}
		// The GOAWAY takes the connection out of READY: both streams
		// are in flight on a connection past its age.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn.WaitForStateChange(ctx, connectivity.Ready)
		cancel()
		errs[1] = func() error {
			if err := st.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: params(10)}); err != nil {
				return err
			}
			if _, err := st.Recv(); err != nil {
				return err
			}
			if err := st.CloseSend(); err != nil {
				return err
			}
			if _, err := st.Recv(); err != io.EOF {
				return err
			}
			return nil
		}()
		<-done
		return errs
	}
	bare := runConns(t, false, sopts, nil, do)
	wrapped := runConns(t, true, sopts, nil, do)
	sameOutcomes(t, bare.errs, wrapped.errs, "")
	if c0, c1 := status.Code(bare.errs[0]), status.Code(bare.errs[1]); c0 != codes.Unavailable || c1 != codes.OK {
		t.Fatalf("bare: the streams ended %v, %v; want Unavailable (cut at the grace's end), OK", bare.errs[0], bare.errs[1])
	}
	checkConnRecords(t, wrapped, map[string][]codes.Code{fullDuplex: {codes.OK, codes.Canceled}})
}

// TestMaxConnectionAgeUnary: under a load of unary RPCs (four clients at
// once), a server whose connections live 20 ms sends GOAWAY again and
// again; the client moves to new connections (grpc-go retries
// transparently an RPC that a GOAWAY left unprocessed: a call per
// attempt). Every RPC succeeds, wrapped as bare; each RPC's last call is
// OK, and so is each server record, as are their spans.
func TestMaxConnectionAgeUnary(t *testing.T) {
	const workers, perWorker, minConns = 4, 200, 3
	sopts := []grpc.ServerOption{grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 20 * time.Millisecond, MaxConnectionAgeGrace: 10 * time.Second})}
	do := func(rpcCtx func(int) context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) []error {
		errs := make([]error, workers*perWorker)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w * perWorker; i < (w+1)*perWorker; i++ {
					_, errs[i] = c.UnaryCall(rpcCtx(i), &testgrpc.SimpleRequest{Payload: payload(100), ResponseSize: 100})
				}
			})
		}
		wg.Wait()
		return errs
	}
	bare := runConns(t, false, sopts, nil, do)
	wrapped := runConns(t, true, sopts, nil, do)
	sameOutcomes(t, bare.errs, wrapped.errs, "")
	for i, err := range bare.errs {
		if err != nil {
			t.Fatalf("bare: RPC %d: %v", i, err)
		}
	}
	if bare.conns < minConns || wrapped.conns < minConns {
		t.Fatalf("connections made: bare %d, wrapped %d; the test needs %d or more to see GOAWAYs under load", bare.conns, wrapped.conns, minConns)
	}
	t.Logf("connections: bare %d, wrapped %d", bare.conns, wrapped.conns)
	checkConnRecords(t, wrapped, map[string][]codes.Code{unaryCall: {codes.OK}})
}

// TestTooManyPings: a client whose keepalive pings every 10 s (the least
// grpc-go allows) a server whose policy wants a minute between pings: the
// server counts a strike for each ping after the first and, past two,
// sends GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes the
// connection, cutting a stream open on it (Unavailable on the client; its
// method sees its context cancelled). A unary RPC made after is OK, on a
// new connection. Wrapped, the application gets what it gets bare, the
// calls and records say so, and the spans' status is as OpenTelemetry's
// gRPC conventions say. The bare and wrapped runs go at once: each takes
// some 40 s.
func TestTooManyPings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: takes 40 s, four keepalive pings 10 s apart")
	}
	sopts := []grpc.ServerOption{grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Minute})}
	copts := []grpc.DialOption{grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second})}
	do := func(rpcCtx func(int) context.Context, c testgrpc.TestServiceClient, _ *grpc.ClientConn) []error {
		errs := make([]error, 2)
		errs[0] = blockedStream(rpcCtx(0), c, make(chan struct{}, 1))
		_, errs[1] = c.UnaryCall(rpcCtx(1), &testgrpc.SimpleRequest{ResponseSize: 10})
		return errs
	}
	var bare, wrapped connRun
	var wg sync.WaitGroup
	wg.Go(func() { bare = runConns(t, false, sopts, copts, do) })
	wg.Go(func() { wrapped = runConns(t, true, sopts, copts, do) })
	wg.Wait()
	if t.Failed() {
		return
	}
	sameOutcomes(t, bare.errs, wrapped.errs, `debug data: "too_many_pings"`)
	if c0, c1 := status.Code(bare.errs[0]), status.Code(bare.errs[1]); c0 != codes.Unavailable || c1 != codes.OK {
		t.Fatalf("bare: the RPCs ended %v, %v; want Unavailable (too_many_pings), OK", bare.errs[0], bare.errs[1])
	}
	checkConnRecords(t, wrapped, map[string][]codes.Code{fullDuplex: {codes.Canceled}, unaryCall: {codes.OK}})
}
