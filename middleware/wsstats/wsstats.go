// Package wsstats records websocket connections served with
// github.com/coder/websocket message by message: each message a handler
// receives and handles becomes a record of its own (kind "message", route
// the connection's route and the message's type, the calls made while
// handling it), in the connection's trace; the connection's record keeps
// its connect and close events and counts messages and bytes, and is
// listed as running while the connection is open. See [recording.Stream].
//
// The package imports github.com/coder/websocket; an application that does
// not import wsstats does not link it. For gorilla/websocket, see
// middleware/gorillastats.
//
// Mount the handler behind the HTTP middleware (middleware/httpstats, or
// appstats.Middleware) as any other, and accept with [Accept] instead of
// websocket.Accept:
//
//	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
//		c, err := wsstats.Accept(w, r, nil)
//		if err != nil {
//			return
//		}
//		defer c.CloseNow()
//		for {
//			ctx, msg, err := c.Receive(r.Context())
//			if err != nil {
//				return // the close is recorded
//			}
//			msg.End(handle(ctx, msg.Data)) // calls made with ctx are the message's
//		}
//	})
//
// [Conn] embeds *websocket.Conn, so the rest of its API is at hand; Write,
// Writer, Read, Reader, CloseRead, Close and CloseNow are wrapped to count
// and record.
//
// # OpenTelemetry
//
// Exported with package otelexport, the connection is a SERVER span, each
// message received and handled a CONSUMER span ("process GET /ws") and
// each message the connection's own goroutine sends a PRODUCER span
// ("send GET /ws"), children of the connection's span, as OpenTelemetry's
// messaging conventions make them (websocket has no conventions of its
// own). A message sent for another record — a reply made while handling a
// message, a push from another request — is a call of that record,
// exported as a PRODUCER span too ("send GET /ws", the call "websocket
// send text" on the dashboard, with appstats.message.type "text",
// messaging.system, messaging.operation.type "send" and
// messaging.destination.name the connection's route), so that every send
// reads the same way in a trace viewer such as Jaeger.
package wsstats

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// An Option configures [Accept] and [NewConn].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	route  string
	typeOf func(websocket.MessageType, []byte) string
}

// WithRoute sets the connection's route, the first part of its messages'
// routes. The default is r.Pattern, as net/http's ServeMux sets it
// ("GET /ws"), else the request's normalized path.
func WithRoute(route string) Option {
	return optionFunc(func(c *config) { c.route = route })
}

// WithMessageType sets how a message's type is named in its record's route
// ("GET /ws typing"): from its websocket type and its data (nil for a
// message written with [Conn.Writer], whose data is not known yet). It must
// return a short name from a small set — a field of a JSON envelope, say —
// never the data itself. The default names the websocket type: "text" or
// "binary".
func WithMessageType(f func(typ websocket.MessageType, data []byte) string) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.typeOf = f
		}
	})
}

func defaultType(typ websocket.MessageType, _ []byte) string {
	return convention.WebSocketMessageType(int(typ))
}

// Accept accepts a websocket handshake as [websocket.Accept] does and
// returns the connection, recorded as a stream of the record r's context
// carries (see [NewConn]). On failure websocket.Accept has written the
// response, and the error is returned.
func Accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions, options ...Option) (*Conn, error) {
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return NewConn(c, r, options...), nil
}

// NewConn returns c, accepted from the request r, recorded: the record r's
// context carries (the HTTP middleware's) becomes the connection's, with a
// "connect" event (see [recording.StartStream]). When r is not recorded,
// the Conn records nothing and costs next to nothing.
func NewConn(c *websocket.Conn, r *http.Request, opts ...Option) *Conn {
	cfg := config{route: r.Pattern, typeOf: defaultType}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	s := recording.StartStream(r.Context(), recording.StreamInfo{
		System: convention.SystemWebSocket,
		Route:  cfg.route,
		Detail: convention.WebSocketConnect(c.Subprotocol()),
	})
	return &Conn{Conn: c, s: s, typeOf: cfg.typeOf}
}

// A Conn is a websocket connection whose messages are recorded. Like
// *websocket.Conn, all its methods may be called concurrently except Reader,
// Read and Receive.
type Conn struct {
	*websocket.Conn
	s      *recording.Stream
	typeOf func(websocket.MessageType, []byte) string
	// readCtx is the context CloseRead returned, once it was called: it
	// ends when CloseRead's goroutine has met the connection's end.
	readCtx atomic.Pointer[context.Context]
	// pending is the reader of the last message Reader returned, until
	// it is counted; Close and CloseNow, which may run beside a read,
	// take it too.
	pending atomic.Pointer[messageReader]
}

// A messageReader reads a message Reader returned, counting its bytes. The
// message is counted on its stream once: at its end (io.EOF) or a failed
// read, or, left before, at the connection's close, with the bytes read.
type messageReader struct {
	r       io.Reader
	s       *recording.Stream
	n       atomic.Int64
	counted atomic.Bool
}

func (m *messageReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n.Add(int64(n))
	if err != nil {
		m.count()
	}
	return n, err
}

func (m *messageReader) count() {
	if m.counted.CompareAndSwap(false, true) {
		m.s.Count(recording.Receive, m.n.Load())
	}
}

// unfinished reports whether the message Reader returned last is still
// being read: coder/websocket refuses the next Reader then, and the
// connection stays open.
func (c *Conn) unfinished() bool {
	m := c.pending.Load()
	return m != nil && !m.counted.Load()
}

// countPending counts the message being read, as far as it was read.
func (c *Conn) countPending() {
	if m := c.pending.Swap(nil); m != nil {
		m.count()
	}
}

// closedInCloseRead is the close event of a connection whose end
// CloseRead's goroutine met: coder/websocket does not tell which end.
const closedInCloseRead = "closed while CloseRead read: by the client, a data message or a failed read"

// CloseRead is [websocket.Conn.CloseRead]. The end its goroutine meets
// (the client's close handshake, a data message, which it answers by
// closing with StatusPolicyViolation, or a failed read) is recorded as the
// connection's "close" event when the returned context ends, as "closed
// while CloseRead read" — coder/websocket does not say which it was —
// unless the server closed the connection first ([Conn.Close],
// [Conn.CloseNow]).
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	rctx := c.Conn.CloseRead(ctx)
	if c.s != nil && c.readCtx.Load() == nil && c.readCtx.CompareAndSwap(nil, &rctx) {
		context.AfterFunc(rctx, func() { c.s.Close(closedInCloseRead) })
	}
	return rctx
}

// readEnded reports whether CloseRead's goroutine has met the
// connection's end: a close made then is not the server's own.
func (c *Conn) readEnded() bool {
	p := c.readCtx.Load()
	return p != nil && (*p).Err() != nil
}

// Stream returns the connection's stream, or nil when it is not recorded.
func (c *Conn) Stream() *recording.Stream { return c.s }

// A Message is a message received with [Conn.Receive], being handled.
type Message struct {
	Type websocket.MessageType
	Data []byte
	m    *recording.Message
}

// End ends the handling of the message, with err (if not nil) as its
// record's error. Calling End again has no effect.
func (m *Message) End(err error) { m.m.End(err) }

// Receive reads the next message, as [websocket.Conn.Read] does, and starts
// its record ([recording.Stream.StartMessage]): handle it with the returned
// context, derived from ctx, so that the calls made while handling it are
// the message's, and end it with [Message.End]. The record starts when the
// message has been read: it times the handling, not the wait.
//
// coder/websocket (v1.8.15, the newest) hands a message cut off by the
// connection's end where a frame ends — after a first fragment, or a
// fragment's header — over as whole, and the failed read comes next: it is
// received and recorded as whole, with the bytes that came.
//
// An error ends the connection (coder/websocket closes it on any error,
// ctx's expiry included) and is recorded as its "close" event: the client's
// close code and reason, or the error.
func (c *Conn) Receive(ctx context.Context) (context.Context, *Message, error) {
	unfinished := c.unfinished()
	typ, data, err := c.Conn.Read(ctx)
	if err != nil {
		c.readFailed(err, unfinished)
		return ctx, nil, err
	}
	mctx, m := c.s.StartMessage(ctx, recording.Receive, c.typeOf(typ, data), int64(len(data)))
	return mctx, &Message{Type: typ, Data: data, m: m}, nil
}

// Read is [websocket.Conn.Read]: the message is counted on the connection's
// record but has no record of its own (use [Conn.Receive] for that).
func (c *Conn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	unfinished := c.unfinished()
	typ, data, err := c.Conn.Read(ctx)
	if err != nil {
		c.readFailed(err, unfinished)
		return typ, data, err
	}
	c.s.Count(recording.Receive, int64(len(data)))
	return typ, data, nil
}

// Reader is [websocket.Conn.Reader]: the message is counted, with the bytes
// read from it, once it has been read to its end (or a read failed), or
// else when the connection closes. A Reader call that coder/websocket
// refuses because the previous message was not read to its end leaves the
// connection open, and is recorded as no close.
func (c *Conn) Reader(ctx context.Context) (websocket.MessageType, io.Reader, error) {
	unfinished := c.unfinished()
	typ, r, err := c.Conn.Reader(ctx)
	if err != nil {
		c.readFailed(err, unfinished)
		return typ, r, err
	}
	if c.s == nil {
		return typ, r, nil
	}
	m := &messageReader{r: r, s: c.s}
	c.pending.Store(m)
	return typ, m, nil
}

// readFailed records the end of the connection that a failed read means.
// A read that began with the previous message unfinished failed before
// reading (coder/websocket refuses it, or a read beside it holds the
// connection), and the connection stays open.
func (c *Conn) readFailed(err error, unfinished bool) {
	if c.s == nil || unfinished {
		return
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		c.s.Close(convention.CloseDetail("client", int(ce.Code), ce.Reason))
		return
	}
	c.s.Close("read failed: " + err.Error())
}

// Write is [websocket.Conn.Write], recorded as [recording.Stream.StartSend]
// says from what ctx carries: made from the connection's own handler, a
// message record of its own; from another recorded request (a broadcast), a
// call of that request; always counted on the connection.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	m := c.s.StartSend(ctx, c.typeOf(typ, p), int64(len(p)))
	err := c.Conn.Write(ctx, typ, p)
	m.End(err)
	return err
}

// Writer is [websocket.Conn.Writer], recorded as [Conn.Write] is once the
// returned writer is closed, with the bytes written to it.
func (c *Conn) Writer(ctx context.Context, typ websocket.MessageType) (io.WriteCloser, error) {
	w, err := c.Conn.Writer(ctx, typ)
	if err != nil || c.s == nil {
		return w, err
	}
	return c.s.StartSend(ctx, c.typeOf(typ, nil), -1).Writer(w), nil
}

// Close is [websocket.Conn.Close], recording the close, with its code and
// reason, as the connection's "close" event.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	c.countPending()
	if c.readEnded() {
		c.s.Close(closedInCloseRead)
	}
	c.s.Close(convention.CloseDetail("server", int(code), reason))
	return c.Conn.Close(code, reason)
}

// CloseNow is [websocket.Conn.CloseNow], recording the close as the
// connection's "close" event (unless it was recorded before, by Close or a
// failed read).
func (c *Conn) CloseNow() error {
	c.countPending()
	if c.readEnded() {
		// The handler saw CloseRead's context end: the connection's end
		// came first (the function CloseRead set on it may not have run).
		c.s.Close(closedInCloseRead)
	}
	c.s.Close("closed by the server without a close handshake")
	return c.Conn.CloseNow()
}
