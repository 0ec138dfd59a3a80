package grpcstats_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

type caseKey struct{}

// caseHeader is the metadata key that names the interop case an RPC
// belongs to, so that the server's records can be told apart by case.
const caseHeader = "x-appstats-interop-case"

// appOutcomes is a pair of client interceptors, mounted outermost, that
// note the status each RPC of an interop case ended with as the
// application saw it: a unary RPC's error, a stream's first error from
// RecvMsg (io.EOF: OK), or the error that kept it from being made (gRPC
// may then not have started its RPC, which has no call).
type appOutcomes struct {
	mu    sync.Mutex
	codes map[string][]string // case → status names
}

func (o *appOutcomes) note(ctx context.Context, code codes.Code) {
	name, _ := ctx.Value(caseKey{}).(string)
	o.mu.Lock()
	o.codes[name] = append(o.codes[name], convention.GRPCStatusName(int(code)))
	o.mu.Unlock()
}

func (o *appOutcomes) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	o.note(ctx, status.Code(err))
	return err
}

func (o *appOutcomes) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		o.note(ctx, status.Code(err))
		return cs, err
	}
	return &outcomeStream{ClientStream: cs, o: o, ctx: ctx, single: !desc.ServerStreams}, nil
}

type outcomeStream struct {
	grpc.ClientStream
	o      *appOutcomes
	ctx    context.Context
	single bool // one response: its RecvMsg ends the RPC (nil: OK)
	once   sync.Once
}

func (s *outcomeStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil || s.single {
		s.once.Do(func() {
			code := status.Code(err)
			if err == io.EOF {
				code = codes.OK
			}
			s.o.note(s.ctx, code)
		})
	}
	return err
}

// interopCaseName names the interop case of a server-side RPC from its
// metadata (a record's headers or the incoming metadata): two cases
// replace the outgoing metadata, and so the case's name, with their own.
func interopCaseName(md map[string][]string) string {
	switch {
	case len(md[caseHeader]) == 1:
		return md[caseHeader][0]
	case len(md["x-grpc-test-echo-initial"]) == 1:
		return "custom_metadata"
	case len(md["key1"]) == 1:
		return "cancel_after_begin"
	}
	return ""
}

// handlerOutcomes is a pair of server interceptors, mounted outermost,
// that note the status each server handler returned, by case.
type handlerOutcomes struct {
	mu    sync.Mutex
	codes map[string][]string // case → status names
}

func (o *handlerOutcomes) note(ctx context.Context, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	name := interopCaseName(md)
	o.mu.Lock()
	o.codes[name] = append(o.codes[name], convention.GRPCStatusName(int(status.Code(err))))
	o.mu.Unlock()
}

func (o *handlerOutcomes) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	o.note(ctx, err)
	return resp, err
}

func (o *handlerOutcomes) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	o.note(ss.Context(), err)
	return err
}

// TestInteropMatrix runs grpc-go's interop cases with the server wrapped
// and the client bare, the client wrapped and the server bare, and both,
// each plain, with gzip, and with message size limits that make some cases
// fail (the server's limit on what it receives, the client's on what it
// receives); each run's outcomes must be the bare run's, case by case. In
// each wrapped run, no record is left open, every call's status is one the
// application got, and every server record's status is the client's (but
// for the cases the client cancels, whose server sees the cancellation,
// or ends as its handler returned: cancel_after_begin's client sends its
// end of stream just after cancelling, and a server that reads the end of
// stream before the cancellation returns OK);
// the -bin metadata of custom_metadata is echoed as bare and recorded as
// its size.
func TestInteropMatrix(t *testing.T) {
	variants := []struct {
		name  string
		sopts []grpc.ServerOption
		args  []grpc.CallOption
		// serverSaw is the status the server records of a case, where
		// it is not what the client got.
		serverSaw map[string][]string
	}{
		{name: "plain"},
		// cancel_after_begin's stream, cancelled before gRPC's server
		// has set up its compressor, ends in grpc-go's stats as INTERNAL
		// "grpc: failed to set send compressor: …" (a status gRPC sends
		// no one); the record says CANCELLED.
		{name: "gzip", args: []grpc.CallOption{grpc.UseCompressor(gzip.Name)}},
		// Limits that only large_unary's messages pass (a request of
		// 271,828 bytes, a response of 314,159): a stream's message
		// refused mid-stream ends it as timing has it (the client's
		// Send may meet the end or not), bare as wrapped.
		{name: "server limit", sopts: []grpc.ServerOption{grpc.MaxRecvMsgSize(100 << 10)}},
		{name: "client limit", args: []grpc.CallOption{grpc.MaxCallRecvMsgSize(100 << 10)},
			// The server sent its response: it ends OK.
			serverSaw: map[string][]string{"large_unary": {"OK"}}},
	}
	// The cases the client cancels or lets time out: the server records
	// what it saw of them (Canceled or DeadlineExceeded), or nothing.
	clientEnded := map[string]bool{"timeout_on_sleeping_server": true, "cancel_after_begin": true, "cancel_after_first_response": true}
	start := func(name string) (context.Context, func()) {
		ctx := context.WithValue(context.Background(), caseKey{}, name)
		return metadata.AppendToOutgoingContext(ctx, caseHeader, name), func() {}
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			bare := runInteropWith(t, v.sopts, nil, v.args, start)
			if strings.HasSuffix(v.name, "limit") && bare["large_unary"] == "pass" {
				t.Fatalf("the limit fails no case: %v", bare)
			}
			for _, mode := range []string{"server", "client", "both"} {
				t.Run(mode, func(t *testing.T) {
					rec, sink := newRecorder(t)
					outcomes := &appOutcomes{codes: map[string][]string{}}
					handlers := &handlerOutcomes{codes: map[string][]string{}}
					sopts := append(slices.Clone(v.sopts), grpc.ChainUnaryInterceptor(handlers.unary), grpc.ChainStreamInterceptor(handlers.stream))
					copts := []grpc.DialOption{grpc.WithChainUnaryInterceptor(outcomes.unary), grpc.WithChainStreamInterceptor(outcomes.stream)}
					st := start
					if mode != "client" {
						sopts = append(sopts, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
					}
					if mode != "server" {
						copts = append(copts, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
							grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
							grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
						st = func(name string) (context.Context, func()) {
							ctx, _ := start(name)
							ctx, ar := rec.StartRecord(ctx, recording.RequestInfo{Kind: recording.KindBackground, Path: "/" + name})
							return ctx, ar.Finish
						}
					}
					wrapped := runInteropWith(t, sopts, copts, v.args, st)
					for _, c := range interopCases {
						if bare[c.name] != wrapped[c.name] {
							t.Errorf("%s: wrapped %.300s; bare %.300s", c.name, wrapped[c.name], bare[c.name])
						}
					}
					if active, unlisted := rec.Active(0, 0); len(active)+unlisted != 0 {
						t.Errorf("%d records still open after the server stopped", len(active)+unlisted)
					}
					closeRecorder(t, rec)
					checkInteropRecords(t, mode, sink.Records(), outcomes, handlers, clientEnded, v.serverSaw)
				})
			}
		})
	}
}

// checkInteropRecords compares the records of a wrapped interop run with
// the statuses the application got.
func checkInteropRecords(t *testing.T, mode string, recs []*recording.Record, outcomes *appOutcomes, handlers *handlerOutcomes, clientEnded map[string]bool, serverSaw map[string][]string) {
	t.Helper()
	calls, servers := map[string][]string{}, map[string][]string{}
	var binSeen bool
	for _, r := range recs {
		switch r.Kind {
		case recording.KindBackground:
			for _, c := range r.Calls {
				if c.Service == "grpc" {
					calls[r.Path[1:]] = append(calls[r.Path[1:]], c.Attr(grpcstats.AttrStatusCode))
				}
			}
		case recording.KindGRPC:
			name := interopCaseName(r.Headers)
			servers[name] = append(servers[name], convention.GRPCStatusName(r.Status))
			if vs := r.Headers["x-grpc-test-echo-trailing-bin"]; name == "custom_metadata" && len(vs) == 1 {
				if vs[0] != "(binary, 6 bytes)" {
					t.Errorf("custom_metadata: the -bin header recorded as %q, want its size", vs[0])
				}
				binSeen = true
			}
		}
	}
	for _, c := range interopCases {
		app := slices.Sorted(slices.Values(outcomes.codes[c.name]))
		if mode != "server" {
			got := slices.Sorted(slices.Values(calls[c.name]))
			// A stream that could not be made may have no call: gRPC
			// did not start its RPC.
			if !slices.Equal(got, app) && !(clientEnded[c.name] && len(got) == 0) {
				t.Errorf("%s: calls recorded %v; the application got %v", c.name, got, app)
			}
		}
		if mode != "client" {
			got := slices.Sorted(slices.Values(servers[c.name]))
			if saw, ok := serverSaw[c.name]; ok {
				app = saw
			}
			if clientEnded[c.name] {
				handled := handlers.codes[c.name]
				for _, s := range got {
					if s != "CANCELLED" && s != "DEADLINE_EXCEEDED" && !slices.Contains(handled, s) {
						t.Errorf("%s: server recorded %v; the client ended it, and its handlers returned %v", c.name, got, handled)
					}
				}
			} else if !slices.Equal(got, app) {
				t.Errorf("%s: server recorded %v; the application got %v", c.name, got, app)
			}
		}
	}
	if mode != "client" && !binSeen {
		t.Errorf("custom_metadata: no server record with the -bin header")
	}
}
