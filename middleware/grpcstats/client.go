package grpcstats

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// NewClientHandler returns a [stats.Handler] that records every RPC made
// with a context carrying a recorded request ([recording.FromContext]) as a
// call of that request: service "grpc", method the full method
// ("/pkg.Service/Method", always with its leading slash; otelexport's bridge
// names the calls of otelgrpc spans the same way). Mount it with
// grpc.NewClient(target, grpc.WithStatsHandler(h)).
//
// A call has the request and response sizes (the messages' wire lengths:
// compressed, with gRPC framing), the status as the rpc.response.status_code
// attribute ("OK", "NOT_FOUND"), an error "Code: message" when the status
// is not OK, message
// counts for streaming RPCs, the host and port of the target's authority
// as server.address and server.port, the address of the connection's
// other end (the server's IP address and port, or a Unix socket's name) as
// network.peer.address and network.peer.port, and two phases: "wait", from the
// start to the first sign of a response (headers, message or trailers), and
// "receive", from then until the RPC ends. It ends when the RPC does (the stream's
// stats.End), not when the method call returns a stream. A retried RPC gives
// one call per attempt. An RPC that the server ends with an error while
// (or before) the client sends is one grpc-go's stats report as a success
// (the client's Send meets io.EOF; Recv, CloseAndRecv or the unary call
// returns the status, which no stats event carries): a unary RPC refused
// before its request was written (by a tap handler, or for a deadline past
// on arrival), or a stream. Mount [StreamClientInterceptor] and
// [UnaryClientInterceptor] too, and the call is recorded with the status
// the client receives. Without them, a unary RPC or a client stream ended
// so is recorded as failed, with status Unknown, as it ends without its
// response, and a bidirectional or server stream as a success, as it may
// succeed without a message.
//
// The call's trace context is injected into the outgoing metadata through
// the request's recorder's propagator (W3C traceparent by default), so a
// recorded server downstream joins the trace with this call as parent; its
// sampled flag is the request's (see [recording.Record.Unsampled]). An RPC
// made for a request that is not recorded, but whose caller's trace context
// the server wrapper kept ([recording.Recorder.ContextWithTrace]), passes
// that context on unchanged.
//
// An RPC made inside a call recorded already ([recording.CallFromContext]:
// otelgrpc's client handler mounted before this one, its span bridged into
// the record by package otelexport, or a context of
// [recording.ContextWithCall]) is not recorded again: one RPC is one call,
// and that call's trace context goes out. The other way round, while the
// stats handlers tag the RPC, its context from this handler on says it is
// inside the call, so that otelexport's bridge skips the span of an
// otelgrpc handler mounted after this one (with otelexport.NewIDGenerator,
// that span takes the call's span ID, so the traceparent otelgrpc writes
// names the call too). Once the RPC has begun, its context (a stream's
// Context, the one per-RPC credentials get) is inside no call, as bare.
//
// An RPC made without a recorded request costs a context lookup per stats
// event and no allocation.
func NewClientHandler(opts ...Option) stats.Handler {
	return &clientHandler{cfg: newConfig(opts)}
}

type clientHandler struct {
	cfg config

	// peers holds the peer address of each open connection, as
	// network.peer.address and network.peer.port, formatted once per
	// connection (TagConn) rather than once per RPC; a connection's entry
	// goes at its ConnEnd. Keys are the connections' remote addresses
	// (*net.TCPAddr, *net.UnixAddr: pointers, which gRPC passes on to
	// every RPC's OutHeader as they are).
	peers sync.Map // net.Addr → *peerAddr
}

// peerAddr is a connection's peer: network.peer.address and, for an IP
// peer, network.peer.port.
type peerAddr struct{ host, port string }

type peerConnKey struct{}

// cachedAddr reports whether a is an address the handler's peers may key:
// a pointer, compared and hashed without panic.
func cachedAddr(a net.Addr) bool {
	switch a.(type) {
	case *net.TCPAddr, *net.UnixAddr:
		return true
	}
	return false
}

func newPeerAddr(a net.Addr) *peerAddr {
	if _, unix := a.(*net.UnixAddr); unix {
		return &peerAddr{host: a.String()}
	}
	host, port := convention.SplitHostPort(a.String())
	return &peerAddr{host: host, port: port}
}

// peer returns the peer of an RPC whose connection's remote address is a,
// or nil for no address.
func (h *clientHandler) peer(a net.Addr) *peerAddr {
	if a == nil {
		return nil
	}
	if cachedAddr(a) {
		if p, ok := h.peers.Load(a); ok {
			return p.(*peerAddr)
		}
	}
	if p := newPeerAddr(a); p.host != "" {
		return p
	}
	return nil
}

type clientKey struct{}

// clientRPC is the state of one recorded call, and the call's context:
// inside the call ([recording.ContextWithCall]), so that instrumentation
// that tags the RPC after this handler (otelgrpc's stats handler, whose
// span otelexport's bridge would record) does not record it again. Once
// the RPC has begun (every handler has tagged it), its context is no longer
// inside the call (see Value): a stream's is the application's
// (ClientStream.Context), which makes calls of its own with it, and the
// transport's (per-RPC credentials) may make calls too.
type clientRPC struct {
	recording.CallContext
	inner     context.Context // the context CallContext is made over
	c         *recording.ActiveCall
	method    string
	summary   func(fullMethod string, msg any) string
	streaming atomic.Bool
	begun     atomic.Bool // Begin has come: Value answers from inner
	// clientOnly: a client stream, which succeeds with one response
	// message (see finish).
	clientOnly atomic.Bool

	// guessed: the call ended with a status the client did not receive
	// (OK, or Unknown for a client stream without its response), which
	// the status its stream's RecvMsg returns replaces (see received).
	guessed atomic.Bool
	// unknown: the call, guessed, has been marked failed with the status
	// Unknown (see hidden).
	unknown atomic.Bool
	// link: the stream's interceptor's link, if StreamClientInterceptor
	// wraps the stream.
	link *streamLink

	firstResp         atomic.Int64 // 1 + nanoseconds from the call's start to the first response event; 0 before
	sent, recv        atomic.Int64
	sentBytes, rcvdBy atomic.Int64
	reqDone, respDone atomic.Bool
	done              atomic.Bool

	tp [recording.TraceparentLen]byte // the outgoing traceparent's bytes, see inject
}

// Value returns the call's state for clientKey and defers to the call's
// context node for every other key, or, once the RPC has begun, to the
// context under it.
func (s *clientRPC) Value(key any) any {
	if key == (clientKey{}) {
		return s
	}
	if s.begun.Load() {
		return s.inner.Value(key)
	}
	return s.CallContext.Value(key)
}

// TagRPC starts a call when ctx carries a recorded request and returns a
// context whose outgoing metadata carries the call's trace context.
func (h *clientHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if recording.FromContext(ctx) == nil { // the cheapest question first
		if tc, p, ok := recording.Passthrough(ctx); ok {
			// A request that is not recorded: its caller's trace context
			// (and baggage) pass through unchanged.
			return inject(ctx, p, tc, nil)
		}
		return ctx
	}
	// What the context says of recording, asked once: the record, the
	// call it is inside and the new call's parent.
	scope := recording.ScopeOf(ctx)
	a := scope.Record()
	if outer := scope.Call(); outer != nil && outer.Record() == a {
		// The RPC is a call recorded already, by instrumentation that
		// ran before this handler (otelgrpc's client handler mounted
		// first, its span bridged by otelexport; a context of
		// recording.ContextWithCall): one RPC is one call. Its trace
		// context goes out, so the server's parent is that call.
		return inject(ctx, a.Recorder().Propagator(), outer.TraceContext(), nil)
	}
	c := a.StartChild(scope.Parent(), convention.ServiceGRPC, convention.GRPCCallName("", info.FullMethodName))
	if c == nil { // over the record's call limit, or the request has ended
		return inject(ctx, a.Recorder().Propagator(), a.TraceContext(), nil)
	}
	t0 := time.Now()
	s := &clientRPC{c: c, method: info.FullMethodName, summary: h.cfg.summary}
	s.inner = inject(ctx, a.Recorder().Propagator(), c.TraceContext(), &s.tp)
	s.CallContext.Init(s.inner, c)
	a.AddOverhead(time.Since(t0))
	return s
}

// HandleRPC accumulates the call's statistics and ends it at the end of the
// RPC.
func (h *clientHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	s, _ := ctx.Value(clientKey{}).(*clientRPC)
	if s == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.Begin:
		s.begun.Store(true)
		if rs.IsClientStream || rs.IsServerStream {
			s.streaming.Store(true)
		}
		if rs.IsClientStream && !rs.IsServerStream {
			s.clientOnly.Store(true)
		}
		if rs.IsClientStream || rs.IsServerStream {
			// The stream's wrapper (StreamClientInterceptor), if any,
			// tells this attempt the status its client receives.
			if l, _ := s.CallContext.Value(streamLinkKey{}).(*streamLink); l != nil {
				s.link = l
				l.rpc.Store(s)
			}
		}
	case *stats.OutPayload:
		s.sent.Add(1)
		s.sentBytes.Add(int64(rs.WireLength))
		if s.summary != nil && s.reqDone.CompareAndSwap(false, true) {
			s.c.SetRequest(s.summary(s.method, rs.Payload))
		}
	case *stats.OutHeader:
		var attrs [4]recording.Attr
		as := attrs[:0]
		if rs.Authority != "" {
			host, port := convention.SplitHostPort(rs.Authority)
			as = append(as, recording.Attr{Key: AttrServerAddress, Value: host})
			if port != "" {
				as = append(as, recording.Attr{Key: AttrServerPort, Value: port})
			}
		}
		if p := h.peer(rs.RemoteAddr); p != nil {
			as = append(as, recording.Attr{Key: AttrNetworkPeerAddress, Value: p.host})
			if p.port != "" {
				as = append(as, recording.Attr{Key: AttrNetworkPeerPort, Value: p.port})
			}
		}
		s.c.SetAttrs(as...)
	case *stats.InHeader:
		s.responded(time.Now())
	case *stats.InTrailer:
		s.responded(time.Now())
	case *stats.InPayload:
		s.responded(rs.RecvTime)
		s.recv.Add(1)
		s.rcvdBy.Add(int64(rs.WireLength))
		if s.summary != nil && s.respDone.CompareAndSwap(false, true) {
			s.c.SetResponse(s.summary(s.method, rs.Payload))
		}
	case *stats.End:
		end := rs.EndTime
		if end.IsZero() {
			end = time.Now()
		}
		s.finish(end, rs.Error)
	}
}

func (s *clientRPC) responded(t time.Time) {
	if s.firstResp.Load() == 0 {
		if t.IsZero() {
			t = time.Now()
		}
		s.firstResp.CompareAndSwap(0, 1+max(int64(t.Sub(s.c.StartTime())), 0))
	}
}

// noResponse is the error of a unary RPC or a client stream that ended
// without its response and without a status the stats report.
const noResponse = "the server ended the RPC without a response; its status is not reported to stats handlers"

// notReceived is the error of a stream that ended while its client sent,
// with a status the client did not receive (its SendMsg met io.EOF, and
// no RecvMsg returned the status before the record ended).
const notReceived = "the server ended the stream while the client sent; the client did not receive its status (RecvMsg returns it)"

func (s *clientRPC) finish(end time.Time, err error) {
	if !s.done.CompareAndSwap(false, true) {
		return
	}
	t0 := time.Now()
	c := s.c
	code := codes.OK
	if err != nil {
		st := status.Convert(err)
		code = st.Code()
		c.SetError(code.String() + ": " + st.Message())
		if !s.streaming.Load() {
			s.linkUnary() // the latest failed attempt, whose status is the RPC's
		}
	} else if (s.clientOnly.Load() || !s.streaming.Load()) && s.recv.Load() == 0 {
		// A unary RPC or a client stream the server ended with an
		// error before or while the client sent (a unary RPC refused
		// before its request was written: a tap handler's or a
		// server's early status, such as a deadline already past):
		// grpc-go's stats end the attempt as a success (its Send met
		// io.EOF), though the client's Recv returns the server's
		// status, which no stats event carries. Without its one
		// response message, the RPC did not succeed.
		code = codes.Unknown
		c.SetError(code.String() + ": " + noResponse)
		s.guessed.Store(true)
		if !s.streaming.Load() {
			s.linkUnary()
		}
	} else if s.streaming.Load() {
		// A stream that the server ended with an error while its client
		// sent: grpc-go's stats end it as a success too (see received).
		s.guessed.Store(true)
		if s.link != nil && s.link.reading.Load() == 0 {
			// No RecvMsg or Header of the stream is running, so the end
			// came from a SendMsg that met io.EOF: the only end without
			// an error whose status the client has not received (an OK
			// end comes from the RecvMsg that returns io.EOF, or from
			// Header). Unless RecvMsg returns the status later, the
			// outcome is unknown, not a success.
			code = codes.Unknown
			c.SetError(code.String() + ": " + notReceived)
			s.unknown.Store(true)
		}
	}
	// The rest is set, and the call ended, under one lock of the record.
	var attrs [3]recording.Attr
	var phases [2]recording.Phase
	u := recording.CallUpdate{
		Attrs:          append(attrs[:0], recording.Attr{Key: AttrStatusCode, Value: convention.GRPCStatusName(int(code))}),
		RequestSize:    s.sentBytes.Load(),
		ResponseSize:   s.rcvdBy.Load(),
		HasRequestSize: true, HasResponseSize: true,
	}
	if s.streaming.Load() {
		u.Attrs = append(u.Attrs,
			recording.Attr{Key: AttrMessagesSent, Value: strconv.FormatInt(s.sent.Load(), 10)},
			recording.Attr{Key: AttrMessagesReceived, Value: strconv.FormatInt(s.recv.Load(), 10)})
	}
	d := end.Sub(c.StartTime()) // the phases' times are offsets from the call's start
	if first := s.firstResp.Load(); first != 0 {
		ft := min(time.Duration(first-1), d)
		u.Phases = append(phases[:0], recording.Phase{Name: "wait", Duration: ft}, recording.Phase{Name: "receive", Start: ft, Duration: d - ft})
	} else {
		u.Phases = append(phases[:0], recording.Phase{Name: "wait", Duration: d})
	}
	c.Record().AddOverhead(time.Since(t0))
	c.EndWith(&u, d, nil)
}

// linkUnary makes the call, a failed attempt of a unary RPC, the one its
// RPC's UnaryClientInterceptor, if any, tells the status the client gets
// (see received). Only failed attempts look for the link: a success needs
// nothing more.
func (s *clientRPC) linkUnary() {
	if l, _ := s.CallContext.Value(unaryLinkKey{}).(*unaryLink); l != nil && l.method == s.method {
		l.rpc.Store(s)
	}
}

// received records err, the status a stream's RecvMsg returned to its
// client, as the call's, if the call ended without one: grpc-go's stats
// end a stream as a success when its client's SendMsg meets the end of a
// stream that the server ended with an error (SendMsg returns io.EOF; the
// status is RecvMsg's to return). The call has ended by then (RecvMsg
// returns an error once the attempt has ended), and may be amended until
// its record ends.
func (s *clientRPC) received(err error) {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK || !s.done.Load() || !s.guessed.CompareAndSwap(true, false) {
		return
	}
	code := st.Code()
	s.c.SetError(code.String() + ": " + st.Message())
	s.c.SetAttr(AttrStatusCode, convention.GRPCStatusName(int(code)))
}

// hidden marks the call, ended as a success with a status its client has
// not received, as failed with the status Unknown: its stream's RecvMsg
// returned a message after the end, so the end came from a SendMsg that
// met io.EOF while that RecvMsg ran (an OK end comes from the RecvMsg
// that returns io.EOF). The status a later RecvMsg returns replaces it.
func (s *clientRPC) hidden() {
	if !s.done.Load() || !s.guessed.Load() || s.clientOnly.Load() || !s.unknown.CompareAndSwap(false, true) {
		return
	}
	s.c.SetError(codes.Unknown.String() + ": " + notReceived)
	s.c.SetAttr(AttrStatusCode, convention.GRPCStatusName(int(codes.Unknown)))
}

// StreamClientInterceptor returns a stream interceptor that tells the
// client handler ([NewClientHandler]) the status each recorded stream's
// client receives. Mount it next to the handler:
//
//	conn, err := grpc.NewClient(target,
//		grpc.WithStatsHandler(grpcstats.NewClientHandler()),
//		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
//
// grpc-go's stats report a stream that the server ends with an error
// while the client sends as a success: the client's Send returns io.EOF,
// and the status is left for its Recv (CloseAndRecv for a client stream)
// to return, which no stats event carries (grpc-go's stats End has no
// error and an empty trailer, and the stream's context is not done;
// otelgrpc records such an RPC as OK). With the interceptor, the call of
// such a stream is recorded with the status Recv returned (its error and
// rpc.response.status_code), provided Recv is called before the request's
// record ends; if the client never receives the status (it stops at
// Send's io.EOF, or cancels the stream), the call is recorded as failed
// with the status Unknown, not as a success. Without the interceptor, such
// a bidirectional or server stream is recorded as a success, and such a
// client stream as failed with the status Unknown.
//
// A stream made without a recorded request passes through unwrapped, at
// the cost of a context lookup.
//
// Not inlined: the closure it returns would be named after the function
// that mounts it ("main.main.StreamClientInterceptor.func1"), and recorded
// call stacks, which leave out the frames of appstats' packages by their
// functions' names, would start in it.
//
//go:noinline
func StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if recording.FromContext(ctx) == nil {
			return streamer(ctx, desc, cc, method, opts...)
		}
		l := &streamLink{Context: ctx}
		cs, err := streamer(l, desc, cc, method, opts...)
		if err != nil {
			return cs, err
		}
		return &statusStream{ClientStream: cs, link: l}, nil
	}
}

// UnaryClientInterceptor returns a unary interceptor that tells the client
// handler ([NewClientHandler]) the status each recorded unary RPC's client
// receives, for the one case grpc-go's stats do not report it: a unary RPC
// that the server answers with an error before the client has written its
// request (a tap handler's refusal, a deadline already past when the RPC
// arrives), which the handler alone records as failed with the status
// Unknown. Mount it next to the handler:
//
//	conn, err := grpc.NewClient(target,
//		grpc.WithStatsHandler(grpcstats.NewClientHandler()),
//		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
//		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
//
// With it, such a call is recorded with the status the RPC returned (its
// error and rpc.response.status_code), unless the RPC's context was done
// by then (the status may be the context's, not the server's: the call
// stays Unknown). Of a retried RPC, only the last failed attempt may be
// amended so. An RPC made without a recorded request passes through, at
// the cost of a context lookup; a recorded one costs an allocation.
//
// Not inlined: the closure it returns would be named after the function
// that mounts it ("main.main.UnaryClientInterceptor.func1"), and recorded
// call stacks, which leave out the frames of appstats' packages by their
// functions' names, would start in it.
//
//go:noinline
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if recording.FromContext(ctx) == nil {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		l := &unaryLink{Context: ctx, method: method}
		err := invoker(l, method, req, reply, cc, opts...)
		if err != nil && ctx.Err() == nil {
			if rpc := l.rpc.Load(); rpc != nil {
				rpc.received(err)
			}
		}
		return err
	}
}

type unaryLinkKey struct{}

// unaryLink is the context a unary RPC's interceptor gives the RPC, through
// which the client handler's latest failed attempt of it is found. Its own
// key and the method keep an RPC made with a context under another's
// (a stream's Context, say) from taking that RPC's link.
type unaryLink struct {
	context.Context
	method string
	rpc    atomic.Pointer[clientRPC]
}

// Value returns the link for unaryLinkKey and defers to the parent for
// every other key.
func (l *unaryLink) Value(key any) any {
	if key == (unaryLinkKey{}) {
		return l
	}
	return l.Context.Value(key)
}

type streamLinkKey struct{}

// streamLink is the context a stream's interceptor gives the stream, through
// which the client handler's latest attempt of it is found.
type streamLink struct {
	context.Context
	rpc atomic.Pointer[clientRPC]
	// reading counts the stream's RecvMsg and Header calls running (at
	// most one of each at a time, as grpc-go allows).
	reading atomic.Int32
}

// Value returns the link for streamLinkKey and defers to the parent for
// every other key.
func (l *streamLink) Value(key any) any {
	if key == (streamLinkKey{}) {
		return l
	}
	return l.Context.Value(key)
}

// statusStream is a client stream that passes the status its RecvMsg
// returns on to its call.
type statusStream struct {
	grpc.ClientStream
	link *streamLink
}

// RecvMsg receives a message; the status it returns at the stream's end,
// other than OK, goes to the call.
func (s *statusStream) RecvMsg(m any) error {
	s.link.reading.Add(1)
	err := s.ClientStream.RecvMsg(m)
	s.link.reading.Add(-1)
	if err != io.EOF {
		if rpc := s.link.rpc.Load(); rpc != nil {
			if err == nil {
				rpc.hidden()
			} else {
				rpc.received(err)
			}
		}
	}
	return err
}

// Header returns the stream's header; it ends the stream, as a success,
// when the server ended it with OK and no header (see clientRPC.finish).
func (s *statusStream) Header() (metadata.MD, error) {
	s.link.reading.Add(1)
	defer s.link.reading.Add(-1)
	return s.ClientStream.Header()
}

// TagConn notes the connection's peer address, which its RPCs' calls
// record as network.peer.address and network.peer.port.
func (h *clientHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if info == nil || info.RemoteAddr == nil || !cachedAddr(info.RemoteAddr) {
		return ctx
	}
	p := newPeerAddr(info.RemoteAddr)
	if p.host == "" {
		return ctx
	}
	h.peers.Store(info.RemoteAddr, p)
	return context.WithValue(ctx, peerConnKey{}, info.RemoteAddr)
}

// HandleConn forgets a connection's peer address at its end: connections
// are not recorded.
func (h *clientHandler) HandleConn(ctx context.Context, cs stats.ConnStats) {
	if _, end := cs.(*stats.ConnEnd); end {
		if a, _ := ctx.Value(peerConnKey{}).(net.Addr); a != nil {
			h.peers.Delete(a)
		}
	}
}
