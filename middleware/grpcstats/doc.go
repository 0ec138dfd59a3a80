// Package grpcstats records gRPC servers and clients with appstats, through
// gRPC's stats handlers ([google.golang.org/grpc/stats.Handler]): every RPC a
// server handles becomes a [recording.Record], and every RPC a client makes
// for a recorded request becomes a [recording.Call] of that request.
//
// # Server
//
// Mount [NewServerHandler] on the server:
//
//	rec := recording.New(recording.WithSinks(store))
//	srv := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
//
// Each RPC is subject to the recorder's sampling, filters and limits, like an
// HTTP request; a filter's path is the full method ("/pkg.Service/Method")
// and its headers are the incoming metadata (lowercase keys). To leave health
// checks and reflection out:
//
//	rec := recording.New(recording.WithSinks(store), recording.WithExclude(
//		recording.Filter{PathPrefix: "/grpc.health.v1.Health/"},
//		recording.Filter{PathPrefix: "/grpc.reflection."},
//	))
//
// The record has Kind [recording.KindGRPC], Method "POST", Path and Route
// the full method, Status the numeric gRPC status code, Error the status
// message when the code is not OK, the messages' wire sizes, the peer's
// address, the incoming metadata as Headers (redacted by the recorder; binary
// values replaced by their size) and the attributes of the OpenTelemetry
// semantic conventions for gRPC ([AttrSystemName], [AttrMethod] — the full
// method, or "_OTHER" with [AttrMethodOriginal] for a method the server does
// not have — [AttrStatusCode] by name, "NOT_FOUND", [AttrServerAddress] and
// [AttrServerPort]) with appstats' own ([AttrStreamType] and the message
// counts). The trace context of the caller is read from the metadata with
// the recorder's propagator (W3C traceparent by default), so the record
// joins the caller's trace; a caller that did not sample the trace makes an
// unsampled record ([recording.WithCallerSampling]), and an RPC that is not
// recorded passes its caller's trace context on to the calls its method
// makes. An RPC the client cancels before gRPC has set up its response's
// compressor, which grpc-go's stats end with an INTERNAL status sent to no
// one ("grpc: failed to set send compressor: …"), is recorded as Canceled,
// as it ended (see [NewServerHandler]).
//
// # Client
//
// Mount [NewClientHandler] on the client connection:
//
//	conn, err := grpc.NewClient(target,
//		grpc.WithStatsHandler(grpcstats.NewClientHandler()),
//		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()),
//		grpc.WithChainStreamInterceptor(grpcstats.StreamClientInterceptor()))
//
// The interceptors are for the RPCs whose status grpc-go's stats do not
// report: a stream that the server ends with an error while its client
// sends is reported as a success, and so is a unary RPC that the server
// answers with an error before the client has written its request. The
// interceptors give the call the status the client receives instead (see
// [StreamClientInterceptor] and [UnaryClientInterceptor]); without them,
// such a unary RPC or client stream is recorded with the status Unknown.
//
// One client handler serves any number of recorders: the record a call
// belongs to comes from the RPC's context. A call has service "grpc" and the
// full method as its method, its sizes, status code (rpc.response.status_code,
// "OK", "NOT_FOUND") and error, server.address and server.port (the
// target's), network.peer.address and network.peer.port (the address
// connected to), message
// counts for streams, and the phases "wait" (until the first response) and
// "receive". Its trace context is sent in the outgoing metadata, so a
// recorded server downstream records the call's span as its parent.
//
// # Attempts
//
// A call is one attempt of an RPC, as a stats handler sees it (and as
// otelgrpc's spans are): an RPC that grpc-go retries, under a service
// config's retryPolicy or transparently (an attempt the server refused
// unprocessed), is a call per attempt, each with its own duration, sizes,
// status and span ID. Each attempt sends its own span ID in its
// traceparent, so a recorded server's record of an attempt is the child of
// that attempt's call; each call is exported as a CLIENT span, with no span
// for the RPC as a whole. The wait between attempts (the retry's backoff)
// is in no call. The status the application gets is the last call's,
// but for an RPC whose deadline passes (or whose context is cancelled)
// during a backoff: the application gets DEADLINE_EXCEEDED (or CANCELLED),
// the last call keeps its attempt's status. An RPC that fails before its
// first attempt (its context done already, no name resolution before its
// deadline, invalid metadata) makes no call. An RPC that waits for a
// connection (grpc.WaitForReady, or one being made) is one call whose
// "wait" phase holds the wait; if its deadline passes first, the call ends
// DEADLINE_EXCEEDED. grpc-go does not implement a service config's
// hedgingPolicy: such an RPC runs one attempt at a time, as without it.
//
// A unary RPC (or a client stream) that the server ends with an error
// before the client has written its request (a tap handler's refusal, a
// deadline already past when the RPC arrives) is one whose status grpc-go's
// stats do not report: its call is recorded as failed, with the status
// Unknown, as it ended without its response, or with the status the RPC
// returned under [UnaryClientInterceptor].
//
// # Attribution
//
// As everywhere in appstats, a call belongs to the request whose context it
// was made with. A gRPC method implementation that passes its ctx (or a
// context derived from it, in any goroutine) to outgoing calls — gRPC, HTTP
// through the appstats transport, SQL, [recording.Do] — has them recorded
// in its RPC's record. An RPC made with a context that carries no recorded
// request is not recorded by the client handler, which then costs a context
// lookup per stats event and no allocation; no metadata is added to it.
//
// A streaming RPC's record ends when the stream does: when the method
// returns on the server, and at the stream's end (the last message received,
// an error, or cancellation) on the client, not when the client obtains the
// stream.
//
// # Message bodies
//
// Messages are not recorded, only their sizes. [WithMessageSummary] records
// a summary of each call's first request and response messages on the
// client; it is the caller's job to keep secrets and personal data out of it.
package grpcstats
