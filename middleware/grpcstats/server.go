package grpcstats

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// Attribute keys set on records and calls. rpc.system.name, rpc.method,
// rpc.method_original, rpc.response.status_code, server.address,
// server.port, network.peer.address and network.peer.port follow the
// OpenTelemetry semantic conventions for gRPC
// (semconv v1.43.0); the stream type and the message counts have no
// convention and are appstats' own. Server records carry the rpc.*
// attributes, the server's address and port (its local address), the
// stream type and the message counts; client calls carry the status code,
// the server's address and port (from the target's authority), the peer's
// (network.peer.address and network.peer.port: the connection's other end)
// and, for streaming RPCs, the message counts.
const (
	AttrSystemName       = convention.KeyRPCSystemName         // "rpc.system.name": always "grpc"
	AttrMethod           = convention.KeyRPCMethod             // "rpc.method": the full method without its leading slash, "pkg.Service/Method"; "_OTHER" for a method the server does not have
	AttrMethodOriginal   = convention.KeyRPCMethodOriginal     // "rpc.method_original": the method called, when rpc.method is "_OTHER"
	AttrStatusCode       = convention.KeyRPCResponseStatusCode // "rpc.response.status_code": the status code's name, "OK", "NOT_FOUND", …
	AttrStreamType       = convention.KeyRPCGRPCType           // "appstats.rpc.grpc.type": "unary", "client_stream", "server_stream" or "bidi_stream"
	AttrMessagesReceived = convention.KeyRPCMessagesReceived   // "appstats.rpc.messages_received": messages received by the recording side
	AttrMessagesSent     = convention.KeyRPCMessagesSent       // "appstats.rpc.messages_sent": messages sent by the recording side
	AttrServerAddress    = convention.KeyServerAddress         // "server.address": the host of the client's target authority, or the server's local address
	AttrServerPort       = convention.KeyServerPort            // "server.port": its port
	// "network.peer.address", "network.peer.port": a client call's peer,
	// the address of the connection's other end (the server's IP address,
	// or a Unix socket's name, with no port).
	AttrNetworkPeerAddress = convention.KeyNetworkPeerAddress
	AttrNetworkPeerPort    = convention.KeyNetworkPeerPort
)

// The values of [AttrStreamType].
const (
	TypeUnary        = "unary"
	TypeClientStream = "client_stream"
	TypeServerStream = "server_stream"
	TypeBidiStream   = "bidi_stream"
)

func streamType(client, server bool) string {
	switch {
	case client && server:
		return TypeBidiStream
	case client:
		return TypeClientStream
	case server:
		return TypeServerStream
	}
	return TypeUnary
}

// NewServerHandler returns a [stats.Handler] that records every RPC a gRPC
// server handles as a [recording.Record] of kind [recording.KindGRPC], subject
// to rec's sampling, filters and limits. Mount it with
// grpc.NewServer(grpc.StatsHandler(h)). Leave RPCs out with rec's filters:
// recording.Filter{PathPrefix: "/grpc.health.v1.Health/"} for a service,
// recording.Filter{Path: "/pkg.Service/Method"} for one method.
//
// The record's context is the RPC's context: calls the method
// implementation makes with its ctx (and with contexts derived from it, in any
// goroutine) are recorded into it. W3C trace context (or whatever rec's
// propagator reads) is taken from the incoming metadata.
//
// A record has Method "POST", Path and Route set to the full method
// ("/pkg.Service/Method"; the Route of a call to a service or method the
// server does not know is "(unknown gRPC method)", so that made-up names
// share one route), Status set to the numeric gRPC status code, Error to
// the status message when the code is not OK, RequestBytes and ResponseBytes
// to the messages' wire lengths (compressed, with gRPC framing), Remote to the
// peer's address, Headers to the incoming metadata (redacted by the recorder;
// binary values replaced by their size), and the Attrs rpc.system.name,
// rpc.method, rpc.response.status_code, server.address and server.port,
// the stream type and the message counts (see [AttrMethod] and the other
// Attr… constants). A record whose caller did not sample the trace is
// [recording.Record.Unsampled] (see [recording.WithCallerSampling]); an RPC
// the recorder does not record passes its caller's trace context on to the
// calls its method makes, unchanged.
//
// gRPC rejects an RPC of a service or method the server does not have before
// any method runs. Its record has rpc.method "_OTHER" and the method called
// in rpc.method_original (a client chooses such names, without limit),
// Status Unimplemented and, as Error, the
// message gRPC sends the client: "unknown service pkg.Service", or "unknown
// method Method for service pkg.Service" for a service the handler has seen
// RPCs of (a stats handler cannot ask its server which services it has, so
// until an RPC of a service has run, an unknown method of it is recorded as
// an unknown service). Its RequestBytes are 0: gRPC discards the request
// message unread, and gives a stats handler no count of it.
// When the client cancels such an RPC (or goes away) before gRPC has
// answered it, gRPC answers nothing: the record ends a second later, as
// Canceled (or DeadlineExceeded), at the time the RPC's context was done.
// At most 1,024 records wait so at once; past that (a client resetting
// streams of unknown methods as fast as it can, an HTTP/2 rapid reset),
// a record waits 10 ms, so that such a flood cannot make the handler hold
// a second's worth of records and their metadata. gRPC cancels the RPC's
// context as it writes its status, and tells the handler of the trailer
// just after, in the same goroutine; during such a flood, an RPC whose
// goroutine is held up more than 10 ms between the two (a loaded server)
// is recorded as its context's end, Canceled, not as the Unimplemented
// gRPC sent. The record cannot wait for that trailer, nor be amended when
// it comes: gRPC gives a stats handler no sign that no trailer will come
// (a reset RPC gets none), and the wait's end hands the record on to the
// sinks. An RPC
// of a method the server has, cancelled before its method runs, is
// recorded as its method's when it begins within that wait (its End
// finishes its record); one that gRPC begins only after the wait keeps
// the record the wait wrote, without its method's calls.
//
// An RPC whose stream the client resets (or whose connection closes)
// before gRPC has set up its response's compressor — a compressed
// request cancelled as soon as it is made — ends in grpc-go's stats with
// INTERNAL "grpc: failed to set send compressor: …", a status gRPC sends
// no one, its method never run: its record has Canceled (or
// DeadlineExceeded), as its context ended, not that INTERNAL. A method
// that itself returns an INTERNAL with that message (a proxy passing on
// an upstream's status) keeps it in its record, as the client got it.
//
// A nil rec gives a handler that records nothing.
func NewServerHandler(rec *recording.Recorder, opts ...Option) stats.Handler {
	return &serverHandler{rec: rec, cfg: newConfig(opts)}
}

type serverHandler struct {
	rec *recording.Recorder
	cfg config

	// services are the services the server has, as far as this handler has
	// seen RPCs of them begin: gRPC's status message for an unknown method
	// depends on whether its service is one of them.
	services  sync.Map // service name → struct{}
	nServices atomic.Int64
	// methods are the full methods the handler has seen RPCs of begin:
	// the server has them. An RPC of any other may be one gRPC rejects,
	// which the handler watches for the client's cancelling it first
	// (see serverRPC.abandoned).
	methods  sync.Map // full method → struct{}
	nMethods atomic.Int64
	// waits counts the records whose RPC's context was done before it
	// began, waiting for a trailer (see serverRPC.abandoned).
	waits atomic.Int64
}

// maxServices bounds the services a handler remembers, maxMethods the
// methods; a server with an unknown-service handler begins RPCs of any name
// a client sends.
const (
	maxServices = 1024
	maxMethods  = 4096
)

// sawService notes that svc is a service of the server.
func (h *serverHandler) sawService(svc string) {
	if _, ok := h.services.Load(svc); ok || h.nServices.Load() >= maxServices {
		return
	}
	if _, loaded := h.services.LoadOrStore(svc, struct{}{}); !loaded {
		h.nServices.Add(1)
	}
}

// sawMethod notes that the server has the full method, and its service.
func (h *serverHandler) sawMethod(fullMethod string) {
	if svc, _ := convention.SplitGRPCMethod(fullMethod); svc != "" {
		h.sawService(svc)
	}
	if h.nMethods.Load() >= maxMethods {
		return
	}
	if _, loaded := h.methods.LoadOrStore(fullMethod, struct{}{}); !loaded {
		h.nMethods.Add(1)
	}
}

// knownMethod reports whether the handler has seen an RPC of fullMethod
// begin.
func (h *serverHandler) knownMethod(fullMethod string) bool {
	_, ok := h.methods.Load(fullMethod)
	return ok
}

// unknownError returns the error gRPC answers an RPC of a method the server
// does not have with: "unknown service pkg.Svc", or "unknown method M for
// service pkg.Svc" when the service is one the handler has seen (a service
// whose RPCs have not begun yet is taken for unknown).
func (h *serverHandler) unknownError(fullMethod string) error {
	svc, m := convention.SplitGRPCMethod(fullMethod)
	if _, ok := h.services.Load(svc); ok {
		return status.Errorf(codes.Unimplemented, "unknown method %v for service %v", m, svc)
	}
	return status.Errorf(codes.Unimplemented, "unknown service %v", svc)
}

type serverKey struct{}

// serverRPC is the state of one recorded RPC. It is the RPC's context
// itself, which saves an allocation per RPC.
type serverRPC struct {
	context.Context
	ar     *recording.ActiveRecord
	method string
	conn   *connInfo // nil when TagConn had no addresses

	// Set by the goroutine that runs TagRPC, Begin and End.
	typ  string
	stop func() bool // stops abandoned's watch, when it was set up: the handler had not seen an RPC of the method begin

	// state holds stateBegun once the RPC has begun and stateDone once
	// its record is finished, in one word, so that abandoned's timer and
	// a Begin that comes after the RPC's context was done decide at once,
	// with one compare-and-swap, whether the RPC began (its End finishes
	// its record) or not (the timer does).
	state             atomic.Uint32
	inMsgs, outMsgs   atomic.Int64
	inBytes, outBytes atomic.Int64
	// trailed is set by the RPC's OutTrailer: gRPC wrote its status to
	// the client (see endError).
	trailed atomic.Bool
}

// Value returns the RPC's state for serverKey and defers to the parent for
// every other key.
func (s *serverRPC) Value(key any) any {
	if key == (serverKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// TagRPC starts the RPC's record, if it is sampled, and returns a context
// carrying it.
func (h *serverHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if h.rec == nil {
		return ctx
	}
	t0 := time.Now()
	md, _ := metadata.FromIncomingContext(ctx) // a copy: ours to keep
	in := ctx
	ctx, tc := h.rec.Propagator().Extract(ctx, MetadataCarrier(md))
	rctx, ar := h.rec.StartRecord(ctx, recording.RequestInfo{
		Kind:          recording.KindGRPC,
		Method:        "POST",
		Path:          info.FullMethodName,
		Header:        md,
		TraceID:       tc.TraceID,
		ParentSpanID:  tc.SpanID,
		TraceState:    tc.State,
		Unsampled:     tc.IsValid() && !tc.Sampled,
		RandomTraceID: tc.Random,
		Start:         t0,
	})
	if ar == nil {
		if tc.IsValid() || ctx != in {
			// Not recorded, but the caller's trace (sampled or not) and
			// baggage still pass through to the calls the method makes.
			return h.rec.ContextWithTrace(ctx, tc)
		}
		return ctx
	}
	r := ar.Record()
	r.Route = info.FullMethodName
	r.Headers = textMetadata(md)
	conn, _ := ctx.Value(connKey{}).(*connInfo)
	if conn != nil {
		r.Remote = conn.remote
	}
	s := &serverRPC{Context: rctx, ar: ar, method: info.FullMethodName, typ: TypeUnary, conn: conn}
	ar.AddOverhead(time.Since(t0))
	return s
}

// abandoned finishes the record of an RPC whose context is done before it
// began, if nothing else has [trailerWait] later. gRPC answers an RPC of a
// method the server does not have with a status, and the handler finishes
// its record at that status's trailer (see HandleRPC); but when the client
// has cancelled the RPC (or gone away) first, gRPC sends no status, and
// the handler gets no trailer nor End: without abandoned, the record would
// stay in flight for ever. The wait is for the trailer of the usual case,
// which gRPC sends just after it has cancelled the RPC's context.
//
// It is set up, with context.AfterFunc, at the InHeader event that follows
// TagRPC (once the record's fields it sets are written), only for the RPCs
// of methods the handler has not seen begin, and stopped once the RPC
// begins (an RPC that begins always gets an End) or is answered. An RPC
// that begins once its context is done, before the wait is over, is left
// to its End too, however long its method runs (see HandleRPC's Begin).
// Otherwise abandoned writes the record if it finishes it first (see
// finish), as Canceled (or DeadlineExceeded), at the time the context was
// done: a trailer later than the wait (or a Begin: the record of an RPC
// that began so late does not have the calls its method makes) finds the
// record written.
//
// At most maxAbandonedWaits records wait trailerWait at once; the others
// wait shortTrailerWait. A client resetting streams of unknown methods as
// fast as it can (an HTTP/2 rapid reset) would otherwise make the handler
// hold a second's worth of records, with their metadata, where the bare
// server holds none; gRPC's trailer follows the done context at once, in
// the goroutine that cancelled it.
func (s *serverRPC) abandoned(h *serverHandler) {
	end := time.Now()
	err := status.FromContextError(s.Context.Err()).Err()
	wait := trailerWait
	if h.waits.Add(1) > maxAbandonedWaits {
		wait = shortTrailerWait
	}
	time.AfterFunc(wait, func() {
		h.waits.Add(-1)
		// An RPC that has begun gets an End, which finishes its record
		// however long its method runs: the timer leaves it alone.
		if s.state.CompareAndSwap(0, stateDone) {
			s.ar.Record().Route = convention.RouteUnknownGRPC
			s.record(end, err)
		}
	})
}

// The bits of serverRPC.state.
const (
	stateBegun = 1 << iota // the RPC has begun: an End comes
	stateDone              // the record is finished (or being so)
)

// begun reports whether the RPC has begun.
func (s *serverRPC) begun() bool { return s.state.Load()&stateBegun != 0 }

// trailerWait is how long abandoned waits for an RPC's trailer, while
// fewer than maxAbandonedWaits records wait; shortTrailerWait, past that.
const (
	trailerWait       = time.Second
	shortTrailerWait  = 10 * time.Millisecond
	maxAbandonedWaits = 1024
)

// HandleRPC accumulates the RPC's statistics and finishes its record at
// the end.
func (h *serverHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	s, _ := ctx.Value(serverKey{}).(*serverRPC)
	if s == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.InHeader:
		if r := s.ar.Record(); r.Remote == "" && rs.RemoteAddr != nil {
			r.Remote = rs.RemoteAddr.String()
		}
		if s.stop == nil && !h.knownMethod(s.method) {
			s.stop = context.AfterFunc(s.Context, func() { s.abandoned(h) })
		}
	case *stats.Begin:
		if s.stop != nil {
			// A method the handler had not seen begin: noted at Begin,
			// before the method runs and so before the client can have
			// its answer, so that an RPC the client makes next, of an
			// unknown method of this service, is recorded as such.
			h.sawMethod(s.method)
			if !s.stop() {
				// The RPC's context was done before it began, and
				// abandoned's timer waits to finish its record. Unless
				// the timer has finished it already (the RPC began
				// after the wait: its End finds the record done), the
				// RPC is marked begun, with the compare-and-swap the
				// timer makes to finish it, and the timer leaves it to
				// its End. The stream type is set only then: the timer
				// reads it only when it has won.
				if s.state.CompareAndSwap(0, stateBegun) {
					s.typ = streamType(rs.IsClientStream, rs.IsServerStream)
				}
				return
			}
		}
		s.typ = streamType(rs.IsClientStream, rs.IsServerStream)
		s.state.Or(stateBegun)
	case *stats.InPayload:
		s.inMsgs.Add(1)
		s.inBytes.Add(int64(rs.WireLength))
	case *stats.OutPayload:
		s.outMsgs.Add(1)
		s.outBytes.Add(int64(rs.WireLength))
	case *stats.OutTrailer:
		s.trailed.Store(true)
		// gRPC rejects an unknown service or method after TagRPC without
		// Begin or End; the trailer is the last event such an RPC gets.
		if !s.begun() {
			if s.stop != nil {
				s.stop()
			}
			if s.state.CompareAndSwap(0, stateDone) {
				s.ar.Record().Route = convention.RouteUnknownGRPC
				s.record(time.Now(), h.unknownError(s.method))
			}
		}
	case *stats.End:
		end := rs.EndTime
		if end.IsZero() {
			end = time.Now()
		}
		err := rs.Error
		if err != nil {
			err = s.endError(err)
		}
		s.finish(end, err)
	}
}

// compressorUnset starts the message of the status grpc-go ends an RPC
// with, in its stats, when the RPC's stream is done (the client reset it,
// or the connection closed) before gRPC has set up the response's
// compressor, for a request compressed (or a server with a compressor of
// its own): INTERNAL "grpc: failed to set send compressor: transport: set
// send compressor called after headers sent or stream done". No method
// has run, and the status goes to no one: gRPC returns it without writing
// it, so the RPC gets no OutTrailer.
const compressorUnset = "grpc: failed to set send compressor: "

// endError returns the status an RPC ended with, err as its End reports
// it, but for an RPC whose stream was done before gRPC set it up (see
// compressorUnset): it ended as its context did, Canceled (or
// DeadlineExceeded), not with the INTERNAL error of the server's that
// grpc-go reports and sends no one. err is not nil.
//
// What tells the two apart is the trailer, not the message: a method may
// itself return an INTERNAL with that message (a proxy passing on an
// upstream's status), which gRPC writes to the client, with an OutTrailer
// before the End; the status of gRPC's own failure is written to no one.
// The RPC's context cannot tell them apart (gRPC cancels it as it writes
// any status), nor can its messages (a streaming method may fail before
// it reads one).
func (s *serverRPC) endError(err error) error {
	if s.trailed.Load() {
		return err
	}
	if st, ok := status.FromError(err); !ok || st.Code() != codes.Internal || !strings.HasPrefix(st.Message(), compressorUnset) {
		return err
	}
	if cerr := s.Context.Err(); cerr != nil {
		return status.FromContextError(cerr).Err()
	}
	// The stream is marked done just before its context is cancelled,
	// in the goroutine that reset it.
	return status.FromContextError(context.Canceled).Err()
}

// finish finishes the record, the first time only.
func (s *serverRPC) finish(end time.Time, err error) {
	if s.state.Or(stateDone)&stateDone == 0 {
		s.record(end, err)
	}
}

// record sets the record's outcome and finishes it; the caller has set
// stateDone.
func (s *serverRPC) record(end time.Time, err error) {
	// The work up to FinishAt, which counts its own cost, is cheaper than
	// reading the clock twice to measure it: it is not added to Overhead.
	r := s.ar.Record()
	st := status.Convert(err) // OK for a nil err
	code := st.Code()
	r.Status = int(code)
	if code != codes.OK {
		r.Error = st.Message()
		if r.Error == "" {
			r.Error = code.String()
		}
	}
	r.RequestBytes = s.inBytes.Load()
	r.ResponseBytes = s.outBytes.Load()
	r.Attrs = slices.Grow(r.Attrs, 9)
	r.Attrs = append(r.Attrs, recording.Attr{Key: AttrSystemName, Value: convention.RPCSystemGRPC})
	if s.begun() {
		r.Attrs = append(r.Attrs, recording.Attr{Key: AttrMethod, Value: convention.GRPCSpanName(s.method)})
	} else {
		// A method the server does not have: its name is the client's
		// choice, kept apart from the known ones.
		r.Attrs = append(r.Attrs,
			recording.Attr{Key: AttrMethod, Value: convention.Other},
			recording.Attr{Key: AttrMethodOriginal, Value: convention.GRPCSpanName(s.method)})
	}
	r.Attrs = append(r.Attrs,
		recording.Attr{Key: AttrStatusCode, Value: convention.GRPCStatusName(int(code))},
		recording.Attr{Key: AttrStreamType, Value: s.typ},
		recording.Attr{Key: AttrMessagesReceived, Value: strconv.FormatInt(s.inMsgs.Load(), 10)},
		recording.Attr{Key: AttrMessagesSent, Value: strconv.FormatInt(s.outMsgs.Load(), 10)},
	)
	if c := s.conn; c != nil && c.localHost != "" {
		r.Attrs = append(r.Attrs, recording.Attr{Key: AttrServerAddress, Value: c.localHost})
		if c.localPort != "" {
			r.Attrs = append(r.Attrs, recording.Attr{Key: AttrServerPort, Value: c.localPort})
		}
	}
	s.ar.FinishAt(end)
}

// textMetadata replaces, in place, the values of binary metadata ("-bin"
// keys, raw bytes once decoded by gRPC) by a note of their size, so records
// stay text.
func textMetadata(md metadata.MD) metadata.MD {
	for k, vs := range md {
		if strings.HasSuffix(k, "-bin") {
			for i, v := range vs {
				vs[i] = "(binary, " + strconv.Itoa(len(v)) + " bytes)"
			}
		}
	}
	return md
}

type connKey struct{}

// connInfo is what a connection's RPCs record of it.
type connInfo struct {
	remote               string // the peer's address
	localHost, localPort string // the server's own address: server.address, server.port
}

// TagConn returns a context carrying the peer's address and the server's,
// formatted once per connection rather than once per RPC.
func (h *serverHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if h.rec == nil || info == nil || (info.RemoteAddr == nil && info.LocalAddr == nil) {
		return ctx
	}
	c := &connInfo{}
	if info.RemoteAddr != nil {
		c.remote = info.RemoteAddr.String()
	}
	if info.LocalAddr != nil {
		c.localHost, c.localPort = convention.SplitHostPort(info.LocalAddr.String())
	}
	return context.WithValue(ctx, connKey{}, c)
}

// HandleConn does nothing: connections are not recorded.
func (h *serverHandler) HandleConn(context.Context, stats.ConnStats) {}
