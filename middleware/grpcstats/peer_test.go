package grpcstats_test

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/otlptest"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

// TestClientCallPeer: a client call records its peer, the address of the
// connection's other end, as network.peer.address and network.peer.port
// (with server.address and server.port, the target's), and its exported
// CLIENT span carries them, the port as an integer, as the OpenTelemetry
// conventions for RPC client spans ask.
func TestClientCallPeer(t *testing.T) {
	rcv := &otlptest.Receiver{}
	collector := httptest.NewServer(rcv)
	defer collector.Close()
	as, err := appstats.Open(appstats.Config{InMemory: true, OTLPEndpoint: collector.URL, ServiceName: "peer"})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	baddr, stopB := startServer(t, &testServer{})
	_, bport, _ := net.SplitHostPort(baddr)
	// Dialed by name: server.address is the target's host, the peer the
	// address connected to.
	ch := grpcstats.NewClientHandler()
	bconn, bclient := dial(t, "localhost:"+bport, grpc.WithStatsHandler(ch),
		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
	aaddr, stopA := startServer(t, &callerServer{next: bclient}, grpc.StatsHandler(grpcstats.NewServerHandler(as.Recorder())))
	aconn, aclient := dial(t, aaddr)
	if _, err := aclient.EmptyCall(context.Background(), &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	if n := grpcstats.OpenPeers(ch); n != 1 {
		t.Errorf("the handler holds %d connections' peers, want 1", n)
	}
	aconn.Close()
	stopA()
	bconn.Close()
	stopB()
	// Closing a connection ends its transports (ConnEnd) before Close
	// returns: the handler forgets their peers.
	if n := grpcstats.OpenPeers(ch); n != 0 {
		t.Errorf("the handler holds %d connections' peers after Close, want 0", n)
	}
	if err := as.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantPort, _ := strconv.Atoi(bport)
	var clients int
	for _, sp := range rcv.Spans() {
		if sp.GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
			continue
		}
		clients++
		attrs := map[string]*commonpb.AnyValue{}
		for _, kv := range sp.GetAttributes() {
			attrs[kv.GetKey()] = kv.GetValue()
		}
		peerIP := attrs["network.peer.address"].GetStringValue()
		if ip := net.ParseIP(peerIP); ip == nil || !ip.IsLoopback() {
			t.Errorf("%s: network.peer.address %q, want the loopback address connected to", sp.GetName(), peerIP)
		}
		if got := attrs["network.peer.port"].GetIntValue(); got != int64(wantPort) {
			t.Errorf("%s: network.peer.port %v, want %d (an integer)", sp.GetName(), attrs["network.peer.port"], wantPort)
		}
		if got := attrs["server.address"].GetStringValue(); got != "localhost" {
			t.Errorf("%s: server.address %q, want localhost", sp.GetName(), got)
		}
	}
	if clients != 2 {
		t.Errorf("%d CLIENT spans, want 2 (the unary call and the stream)", clients)
	}
}

// TestClientCallPeerUnix: a call over a Unix socket records the socket's
// name as network.peer.address, and no port.
func TestClientCallPeerUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Skip(err)
	}
	s := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(s, &testServer{})
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	rec, sink := newRecorder(t)
	conn, client := dial(t, "unix://"+path, grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "unix"})
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	conn.Close()
	s.GracefulStop()
	<-served
	closeRecorder(t, rec)
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("got %d records, want 1 with 1 call", len(recs))
	}
	c := recs[0].Calls[0]
	if got := c.Attr(grpcstats.AttrNetworkPeerAddress); got != path {
		t.Errorf("network.peer.address %q, want %q", got, path)
	}
	for _, a := range c.Attrs {
		if a.Key == grpcstats.AttrNetworkPeerPort {
			t.Errorf("network.peer.port %q for a Unix socket", a.Value)
		}
	}
}
