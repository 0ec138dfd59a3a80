// Package gorillastats records websocket connections served with
// github.com/gorilla/websocket message by message, as middleware/wsstats
// does for github.com/coder/websocket: each message a handler receives with
// [Conn.Receive] and handles becomes a record of its own (kind "message",
// route the connection's route and the message's type, the calls made
// while handling it), in the connection's trace; the connection's record
// keeps its connect and close events and counts messages and bytes, and is
// listed as running while the connection is open. See [recording.Stream].
//
// The package imports github.com/gorilla/websocket; an application that
// does not import gorillastats does not link it.
//
// Mount the handler behind the HTTP middleware (middleware/httpstats, or
// appstats.Middleware) as any other, and upgrade with [Upgrade]:
//
//	var upgrader websocket.Upgrader
//
//	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
//		c, err := gorillastats.Upgrade(&upgrader, w, r, nil)
//		if err != nil {
//			return
//		}
//		defer c.Close()
//		for {
//			ctx, msg, err := c.Receive(r.Context())
//			if err != nil {
//				return // the close is recorded
//			}
//			msg.End(handle(ctx, msg.Data)) // calls made with ctx are the message's
//		}
//	})
//
// [Conn] embeds *websocket.Conn, so the rest of its API is at hand. Its
// ReadMessage, NextReader, ReadJSON, WriteMessage, NextWriter, WriteJSON,
// WritePreparedMessage, WriteControl and Close are wrapped to count, and
// [Conn.Send] records a message written with a context. gorilla/websocket's
// rule holds: one goroutine reads and one writes at a time.
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
package gorillastats

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// An Option configures [Upgrade] and [NewConn].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	route  string
	typeOf func(int, []byte) string
}

// WithRoute sets the connection's route, the first part of its messages'
// routes. The default is r.Pattern, as net/http's ServeMux sets it
// ("GET /ws"), else the request's normalized path.
func WithRoute(route string) Option {
	return optionFunc(func(c *config) { c.route = route })
}

// WithMessageType sets how a message's type is named in its record's route
// ("GET /ws typing"): from its websocket message type
// ([websocket.TextMessage], [websocket.BinaryMessage]) and its data (nil
// when not known yet). It must return a short name from a small set — a
// field of a JSON envelope, say — never the data itself. The default names
// the websocket type: "text" or "binary".
func WithMessageType(f func(messageType int, data []byte) string) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.typeOf = f
		}
	})
}

func defaultType(typ int, _ []byte) string { return convention.WebSocketMessageType(typ) }

// Upgrade upgrades the request to a websocket connection with u, as
// [websocket.Upgrader.Upgrade] does, and returns it recorded as a stream of
// the record r's context carries (see [NewConn]). On failure the upgrader
// has answered the request, and the error is returned.
func Upgrade(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request, responseHeader http.Header, opts ...Option) (*Conn, error) {
	c, err := u.Upgrade(w, r, responseHeader)
	if err != nil {
		return nil, err
	}
	return NewConn(c, r, opts...), nil
}

// NewConn returns c, upgraded from the request r, recorded: the record r's
// context carries (the HTTP middleware's) becomes the connection's, with a
// "connect" event (see [recording.StartStream]), and status 101 Switching
// Protocols, which gorilla/websocket writes on the hijacked connection
// where the HTTP middleware does not see it. When r is not recorded, the
// Conn records nothing and costs next to nothing.
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
		// gorilla/websocket wrote its 101 on the hijacked connection,
		// where the HTTP middleware did not see it.
		Status: http.StatusSwitchingProtocols,
	})
	return &Conn{Conn: c, s: s, typeOf: cfg.typeOf}
}

// A Conn is a websocket connection whose messages are recorded.
type Conn struct {
	*websocket.Conn
	s      *recording.Stream
	typeOf func(int, []byte) string
	// pending is the reader of the last message NextReader returned,
	// until it is counted. Close, which may run beside a read, takes it
	// too: hence the atomic.
	pending atomic.Pointer[messageReader]
}

// A messageReader reads a message NextReader returned, counting its bytes.
// The message is counted on its stream once: at its end (io.EOF), or, left
// before, at the next read or at Close, with the bytes read from it.
type messageReader struct {
	r       io.Reader
	s       *recording.Stream
	n       atomic.Int64
	counted atomic.Bool
}

func (m *messageReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n.Add(int64(n))
	if err == io.EOF {
		m.count()
	}
	return n, err
}

func (m *messageReader) count() {
	if m.counted.CompareAndSwap(false, true) {
		m.s.Count(recording.Receive, m.n.Load())
	}
}

// countPending counts the message NextReader returned last, if it was
// left before its end, with the bytes read from it. The rest is left to
// gorilla/websocket, whose next read skips it — unread here, so that the
// next read blocks, decompresses and meets the read limit
// (SetReadLimit) as it does unwrapped.
func (c *Conn) countPending() {
	if m := c.pending.Swap(nil); m != nil {
		m.count()
	}
}

// Stream returns the connection's stream, or nil when it is not recorded.
func (c *Conn) Stream() *recording.Stream { return c.s }

// A Message is a message received with [Conn.Receive], being handled.
type Message struct {
	Type int // websocket.TextMessage or websocket.BinaryMessage
	Data []byte
	m    *recording.Message
}

// End ends the handling of the message, with err (if not nil) as its
// record's error. Calling End again has no effect.
func (m *Message) End(err error) { m.m.End(err) }

// Receive reads the next message, as [websocket.Conn.ReadMessage] does, and
// starts its record ([recording.Stream.StartMessage]): handle it with the
// returned context, derived from ctx, so that the calls made while handling
// it are the message's, and end it with [Message.End]. The record starts
// when the message has been read: it times the handling, not the wait. ctx
// does not bound the read (gorilla/websocket reads with deadlines: see
// SetReadDeadline).
//
// A read error ends the connection and is recorded as its "close" event:
// the client's close code and reason, or the error.
func (c *Conn) Receive(ctx context.Context) (context.Context, *Message, error) {
	c.countPending()
	typ, data, err := c.Conn.ReadMessage()
	if err != nil {
		c.readFailed(err)
		return ctx, nil, err
	}
	mctx, m := c.s.StartMessage(ctx, recording.Receive, c.typeOf(typ, data), int64(len(data)))
	return mctx, &Message{Type: typ, Data: data, m: m}, nil
}

// ReadMessage is [websocket.Conn.ReadMessage]: the message is counted on
// the connection's record but has no record of its own (use [Conn.Receive]
// for that).
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	c.countPending()
	typ, data, err := c.Conn.ReadMessage()
	if err != nil {
		c.readFailed(err)
		return typ, data, err
	}
	c.s.Count(recording.Receive, int64(len(data)))
	return typ, data, nil
}

// NextReader is [websocket.Conn.NextReader]: the message is counted, with
// its bytes, once it has been read to its end; a message left before its
// end (gorilla/websocket's next read skips the rest) is counted at the
// next read, or at Close, with the bytes read from it.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	c.countPending()
	typ, r, err := c.Conn.NextReader()
	if err != nil {
		c.readFailed(err)
		return typ, r, err
	}
	if c.s == nil {
		return typ, r, nil
	}
	m := &messageReader{r: r, s: c.s}
	c.pending.Store(m)
	return typ, m, nil
}

// ReadJSON is [websocket.Conn.ReadJSON], counting the message as
// [Conn.NextReader] does: with the bytes its decoder read. As gorilla's,
// it returns once the value is decoded, leaving the rest of the message
// (trailing space, further fragments) to the next read, which skips it; a
// failure in that rest is the next read's to return.
func (c *Conn) ReadJSON(v any) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	err = json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		// One value is expected in the message.
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readFailed records the end of the connection that a failed read means.
func (c *Conn) readFailed(err error) {
	if c.s == nil {
		return
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		c.s.Close(convention.CloseDetail("client", ce.Code, ce.Text))
		return
	}
	c.s.Close("read failed: " + err.Error())
}

// Send writes a message as [websocket.Conn.WriteMessage] does, recorded as
// [recording.Stream.StartSend] says from what ctx carries: made from the
// connection's own handler, a message record of its own; from another
// recorded request (a broadcast), a call of that request; always counted on
// the connection. ctx does not bound the write (see SetWriteDeadline).
func (c *Conn) Send(ctx context.Context, messageType int, data []byte) error {
	m := c.s.StartSend(ctx, c.typeOf(messageType, data), int64(len(data)))
	err := c.Conn.WriteMessage(messageType, data)
	m.End(err)
	return err
}

// WriteMessage is [websocket.Conn.WriteMessage]: the message is counted on
// the connection's record but not recorded (use [Conn.Send] for that).
// Control messages are passed on as they are.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	if messageType == websocket.CloseMessage {
		c.closing(data)
	}
	err := c.Conn.WriteMessage(messageType, data)
	if err == nil && isData(messageType) {
		c.s.Count(recording.Send, int64(len(data)))
	}
	return err
}

// NextWriter is [websocket.Conn.NextWriter]: the message is counted, with
// the bytes written to it, once the writer is closed.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	w, err := c.Conn.NextWriter(messageType)
	if err != nil || c.s == nil || !isData(messageType) {
		return w, err
	}
	// With no record in the context, the message is only counted.
	return c.s.StartSend(context.Background(), c.typeOf(messageType, nil), -1).Writer(w), nil
}

// WriteJSON is [websocket.Conn.WriteJSON], counting the message as
// [Conn.NextWriter] does.
func (c *Conn) WriteJSON(v any) error {
	w, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	err1 := json.NewEncoder(w).Encode(v)
	err2 := w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// WritePreparedMessage is [websocket.Conn.WritePreparedMessage]: the
// message is counted (its size is not known here).
func (c *Conn) WritePreparedMessage(pm *websocket.PreparedMessage) error {
	err := c.Conn.WritePreparedMessage(pm)
	if err == nil {
		c.s.Count(recording.Send, -1)
	}
	return err
}

// WriteControl is [websocket.Conn.WriteControl]; a close message is
// recorded, with its code and reason, as the connection's "close" event.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	if messageType == websocket.CloseMessage {
		c.closing(data)
	}
	return c.Conn.WriteControl(messageType, data, deadline)
}

// Close is [websocket.Conn.Close], which closes the network connection
// without a close message; it is recorded as the connection's "close" event
// unless one was recorded before (a close message, or a failed read). A
// message read with NextReader or ReadJSON and not to its end is counted
// then, with the bytes read from it.
func (c *Conn) Close() error {
	c.countPending()
	c.s.Close("closed by the server without a close handshake")
	return c.Conn.Close()
}

// closing records a close message the server sends, whose payload is data.
func (c *Conn) closing(data []byte) {
	code, reason := websocket.CloseNoStatusReceived, ""
	if len(data) >= 2 {
		code, reason = int(data[0])<<8|int(data[1]), string(data[2:])
	}
	c.s.Close(convention.CloseDetail("server", code, reason))
}

func isData(messageType int) bool {
	return messageType == websocket.TextMessage || messageType == websocket.BinaryMessage
}
