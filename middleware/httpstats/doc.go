// Package httpstats records net/http traffic: [NewHandler] (or
// [NewMiddleware], in the func(http.Handler) http.Handler form) turns each
// incoming request into a [recording.Record], and [NewTransport] turns each
// outgoing request made with a recorded request's context into a call of that
// record.
//
//	rec := recording.New(
//		recording.WithSinks(st),
//		recording.WithExclude(recording.Filter{PathPrefix: "/stats/"}), // the dashboard
//	)
//	defer rec.Close(ctx)
//	client := &http.Client{Transport: httpstats.NewTransport(nil)}
//	http.ListenAndServe(addr, httpstats.NewHandler(rec, mux))
//
// Outgoing calls must use the request's context
// (http.NewRequestWithContext(r.Context(), …)) to be attributed to it.
//
// Which requests are recorded is the recorder's decision: its sample rate and
// its filters ([recording.WithInclude], [recording.WithExclude]), which
// every server wrapper shares.
//
// # Routes
//
// Records group by route: what a [WithRouteFunc] hook returns for routers
// other than [http.ServeMux], or r.Pattern as ServeMux sets it (Go 1.22
// patterns such as "GET /users/{id}"). A route comes from the router, never
// from the path a client sent, so that a client cannot make routes without
// end: the requests no router matched — 404s, 405s, ServeMux's redirects,
// and every request of a handler that is not a router and has no
// WithRouteFunc — share one route per method and status class,
//
//	GET (unmatched 4xx)
//	POST (unmatched 2xx)
//
// with any method but the standard nine written "_OTHER". Leave them out of
// the records with a recorder filter such as
// recording.Filter{Route: "GET (unmatched 4xx)"}. The recorder cuts a
// route longer than its name cap (recording.WithMaxName, 256 bytes by
// default), and the stores cap how many distinct routes they keep per time
// window (see store.DefaultMaxKeys).
//
// # Call names
//
// The RoundTripper of [NewTransport] names an outgoing request by its
// method, host, port and normalized path: "GET api.example.com/users/{id}", or
// "GET 127.0.0.1:8080/users/{id}" (the port is left out when it is 80 or
// 443, an IPv6 host is written in brackets), so that requests to one
// endpoint group as one RPC on the dashboard. otelexport's bridge gives an
// otelhttp client span of the same request the same name.
//
// # What the wrapped ResponseWriter keeps
//
// The middleware observes and never alters a response. The ResponseWriter a
// handler is given has exactly the optional interfaces of the one the
// middleware was given — any combination of [http.Flusher], [http.Hijacker],
// [http.CloseNotifier], [io.ReaderFrom], [http.Pusher], [io.StringWriter]
// and the FlushError method by which [http.ResponseController] learns that a
// flush failed, whether it is the server's own or one already wrapped by
// other middleware — and Unwrap, so ResponseController reaches the rest
// (deadlines, full duplex). Flushes, hijacks, ReadFrom and WriteString made through it are
// observed: status, body bytes and the hijack are recorded. A flush or a
// write that fails — the client is gone, the response did not get through
// — marks the record's error ("response failed: flush: …", "response
// failed: write: …") and keeps the status the handler wrote (but for
// [http.TimeoutHandler]'s timeout: see below); the handler
// sees the flush or write as it would unwrapped (a Flush of net/http's
// writers is their FlushError, whose error Flush drops). The record goes by
// what the writer answered: over HTTP/2, net/http may answer a write or a
// flush whose bytes reached the client with an error, when the client
// closes the connection or resets the stream just after them (it then
// picks either outcome at random); the record then has the error, and
// the bytes of the write it failed are not counted. Over HTTP/1 a write
// that failed counts the bytes net/http took into its buffers before the
// connection refused the rest (about 4 KiB of a large write), which the
// client did not get either; and a response written to a client already
// gone that fits those buffers (a body under 2 KiB) fails no write at
// all — net/http sends it after the handler returned and drops that
// error — so its record has the status, the bytes and no error, though
// the client got nothing (TestHTTP1WriteToGoneClient). Learning it would
// take a flush the handler did not make, which changes the response
// (chunked instead of a Content-Length). A body net/http
// drops after a 204 or 304 is no failure, nor is a client leaving an event
// stream (Content-Type text/event-stream), which is how one ends. A body
// that does not match the Content-Length the handler declared (read from
// the response's header when the status is fixed — WriteHeader, or the
// first write or flush — as net/http sends the header as it was then, or
// when the handler returns if it wrote nothing, or inside
// [http.TimeoutHandler], which buffers the response and sends the header
// map as the handler left it; and only if the handler asked for its header
// map: a length set on the writer by middleware outside, before the
// handler ran, is not looked for; other middleware between that buffers
// the response and copies the header at its end cannot be told apart) is
// a failed response as
// the client sees it, and the record's error says so, the handler's writes
// unchanged: one cut short ("response failed: body cut short: 5 of the 10
// bytes its Content-Length declared": net/http ends the response there,
// and the client reads an unexpected EOF), or, over HTTP/2, one longer
// ("response failed: body longer than its Content-Length: …", which the
// client refuses; HTTP/1 refuses the write instead, with
// [http.ErrContentLength], the record's "response failed: write: …"). A
// HEAD response, and a 204's or 304's, have no body to check. A panicking
// handler is recorded with status 500 and the panic value, and the panic
// continues. A status net/http refuses (WriteHeader panics at a code below
// 100 or above 999, and sends nothing) is never recorded as the status. A
// gRPC server mounted as a handler (grpc-go's Server.ServeHTTP, HTTP/2)
// answers every call with HTTP 200 and puts the outcome in its grpc-status
// trailer: the record gets rpc.response.status_code ("OK", "NOT_FOUND"),
// and a code other than OK marks it failed, with the grpc-message trailer
// (else the code's name) as its error. (grpcstats' server handler records
// more of a gRPC call: its method, stream type and messages.)
//
// # With other middleware
//
// The record is the response as it went through this middleware. Middleware
// outside it that answers after the handler returned — a recoverer's 500
// after a panic (chi's Recoverer, gorilla/handlers' RecoveryHandler), chi's
// Timeout's 504 after a handler that wrote nothing — is not seen: the
// record says the 200 net/http would have sent, or, after a panic, 500 with
// appstats.http.no_response though the recoverer answered. Mount this
// middleware outside such middleware to record what the client got (a
// recoverer inside it takes the panic, so the record then has its 500 and
// not the panic value). Middleware that only wraps the writer (compression,
// access logs) may be on either side.
//
// Mounted outside [http.TimeoutHandler], the record is what the client got:
// its 503 and body at the timeout, when the record ends; the calls the
// handler still makes after it are late ([recording.Stats] LateCalls), not
// recorded. Mounted inside, the record follows the handler to its end, with
// every call. A handler that returns after the timeout — having written
// after it (the write fails with [http.ErrHandlerTimeout]), having written
// all its response before it, or nothing (one that waited on its context's
// Done) — is recorded 503 with the error "response failed: write: http:
// Handler timeout" and no response bytes, as the client got: TimeoutHandler,
// woken by its deadline, sends its 503 and drops what the handler wrote.
// The record knows it when this middleware is mounted right inside
// TimeoutHandler, given its writer (through another middleware's writer it
// does not, and says what the handler wrote) and its context, done at the
// deadline when the handler returns. What no record can know is a deadline
// that passes after the handler returned to this middleware and before it
// returned to TimeoutHandler (while the record is finished: microseconds):
// the client gets the 503, the record says what the handler wrote. Nor
// can it know the other way round: a handler whose goroutine is done
// before TimeoutHandler waits on it, with the context already done by
// then (a handler that returned right at the deadline, or a client that
// left), leaves TimeoutHandler two ready cases, of which Go's select
// takes either: the client may get the handler's response while the
// record says 503. Mount this middleware outside TimeoutHandler to record
// exactly what the client got.
//
// The response bytes are those the handler wrote through the wrapped
// writer: with compression (gzhttp, chi's Compress) mounted inside this
// middleware, the compressed bytes that crossed the wire; mounted outside,
// the bytes before compression.
//
// One thing no wrapper keeps by itself: [http.MaxBytesReader], given a
// body past its limit, asks net/http's own writer, through a method
// net/http does not export, to close an HTTP/1 connection after the answer
// (adding "Connection: close" to a header not yet sent). Given the wrapped
// writer it cannot ask. A MaxBytesReader the handler puts in r.Body
// (r.Body = http.MaxBytesReader(w, r.Body, n), as chi's RequestSize does)
// is looked at when the handler returns, and the middleware tells
// net/http's writer then: the connection is closed as without it, and the
// header says so (net/http adds "Connection: close" after the handler's
// fields, where bare it is among them) unless it went out before the
// handler returned (a flush, a body past net/http's 2 KiB buffer). One kept elsewhere — in a variable
// of the handler's, wrapped further (a gzip.Reader or an io.LimitReader
// over it, an io.NopCloser in r.Body), or in a request of its own, as
// [http.MaxBytesHandler] mounted inside makes — is not seen, and cannot be
// without wrapping every request body (MaxBytesReader asks its writer by
// a type assertion, which no wrapper can answer): the status and body are
// the handler's as bare, but net/http reads the rest of the body, and,
// when it is short (under 256 KiB), keeps the connection, without
// "Connection: close", where bare closes it and the client's next request
// opens a new one (TestMaxBytesReaderElsewhere). Put the reader in
// r.Body, or mount MaxBytesHandler outside this middleware, where it is
// given the server's writer, to keep that.
//
// # Attributes
//
// Besides its fields, a record has the attributes url.scheme,
// network.protocol.version ("1.1", "2") and user_agent.original (the
// OpenTelemetry semantic conventions' names), appstats.route.unmatched when
// no router matched the request (its route is then appstats' own, and
// exporters give it no http.route), appstats.http.hijacked for a hijacked
// connection (whose status is the one written before the hijack, as
// coder/websocket's Accept writes its 101, else the status line the
// handler wrote, before it returned, through the bufio.ReadWriter the
// hijack gave it, as [net/http/httputil.ReverseProxy] writes its backend's
// 101, in one write or in pieces, each passed on at once, or copied in by
// its ReadFrom (io.Copy from a string, a file, a backend's connection:
// the reads until the status is known are passed on one at a time, the
// rest by the connection's own ReadFrom, splice or sendfile) — watched
// only where the hijack is net/http's own, not through another writer's
// Hijack whose bufio.ReadWriter may send its bytes through a tap of its
// own — else 0; a write of it that failed (or a failed first ReadFrom
// through that bufio.Writer), as any failed write, marks the record's
// error, "response failed: write: …", the status kept —
// gorilla/websocket writes on the connection itself, where
// middleware/gorillastats gives the record its 101; the record ends when
// the handler returns, and the bytes after the upgrade are no HTTP body,
// not counted), and appstats.http.no_response for a handler that panicked
// before any of its response went out — it wrote nothing, or set a status
// and, without flushing, wrote no more of a body than net/http's server
// holds back (2 KiB over HTTP/1, 4 KiB over HTTP/2: it sends the header
// with the bytes past that, and drops them at a panic) — (recorded as a
// 500 with no response bytes, though none was sent). A handler that
// panicked after part of its body left that buffer keeps its status, and
// its response bytes are those that left it: the client got the header
// and those, and net/http dropped the rest, still in its buffer (read
// from the buffer at the panic). Past a writer that
// is not net/http's own (a middleware's between, [http.TimeoutHandler]'s),
// any body written is taken as sent.
// [NewTransport]'s calls have http.request.method, server.address,
// server.port, url.full, http.response.status_code,
// appstats.http.connection.reused (only for a call given a connection, as
// httptrace's GotConn reports; a call whose proxy or dial failed, or whose
// base RoundTripper reports no GotConn, has none), and error.type for a request
// that failed. A call whose base RoundTripper panics ends with the error
// "panicked" (error.type "panic"), and the panic goes on unchanged.
//
// # Trace context
//
// The recorder's propagator ([recording.W3CPropagator] by default) reads
// traceparent from incoming requests, so a record joins its caller's trace,
// and [NewTransport] writes one carrying the call's span into outgoing
// requests, with the caller's sampled flag (see
// [recording.WithCallerSampling]). A request the recorder does not record
// passes its caller's trace context (and, with an OpenTelemetry propagator,
// its baggage) on to the requests the transport makes for it, unchanged.
package httpstats
