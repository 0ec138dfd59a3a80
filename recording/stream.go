package recording

import (
	"context"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/internal/convention"
)

// Long-lived connections. A websocket or a server-sent event stream is one
// request that lives for minutes: recorded as it is, it would be one record
// that grows to MaxCalls and is seen only when the connection closes. A
// Stream splits it: each message handled on the connection becomes a record
// of its own, of kind KindMessage, holding the calls made while handling
// it, in the connection's trace; the connection's record keeps its connect
// and close events and counts the messages and bytes, and is visible while
// open through Recorder.Active.

// Direction says which way a message went on a [Stream].
type Direction uint8

// The directions of a message.
const (
	Receive Direction = iota // a message the server received and handled
	Send                     // a message the server sent
)

// String returns "receive" or "send".
func (d Direction) String() string {
	if d == Send {
		return "send"
	}
	return "receive"
}

// method is the [Record.Method] of a message record.
func (d Direction) method() string {
	if d == Send {
		return "SEND"
	}
	return "RECEIVE"
}

// StreamInfo describes a long-lived connection to [StartStream].
type StreamInfo struct {
	// System names the protocol, such as "websocket" or "sse": the
	// messaging.system attribute of the connection's and the messages'
	// records, and the service of the calls that send to the connection.
	// Empty means "stream".
	System string
	// Route is the connection's route, such as the r.Pattern of
	// [net/http.ServeMux] ("GET /ws"). A message's route is Route, a space
	// and the message's type ("GET /ws typing"). Empty means the record's
	// path, normalized as httpstats normalizes paths.
	Route string
	// Detail describes the connection in its "connect" event, e.g. the
	// negotiated subprotocol.
	Detail string
	// Status is the HTTP status the connection was answered with, for a
	// server wrapper that could not see it written: gorilla/websocket
	// writes its 101 Switching Protocols on the hijacked connection,
	// where package httpstats sees nothing. The connection's record, if
	// it finishes with no status (0), gets this one (a snapshot of it,
	// [Recorder.Active], has none, as any record in the making). 0
	// leaves the record's status to its server wrapper.
	Status int
}

// A Stream is a long-lived connection — a websocket, a server-sent event
// stream — whose messages are recorded one by one. Its methods are safe for
// concurrent use; a nil *Stream (the connection is not recorded) counts
// nothing and records nothing, and its StartMessage returns its context
// unchanged.
//
// Package middleware/wsstats (coder/websocket), middleware/gorillastats
// (gorilla/websocket) and middleware/ssestats (server-sent events) use it;
// other protocols can use it directly.
type Stream struct {
	a      *ActiveRecord // the connection's record
	system string
	route  string
	status int // StreamInfo.Status
	// What messages take of the connection's record, copied when the
	// stream starts: the record's memory may be reused once it finishes
	// (see [Borrower]), and messages may outlive it.
	id       ID
	path     string
	instance string

	received, sent    atomic.Int64 // messages
	bytesIn, bytesOut atomic.Int64
	closed            atomic.Bool
	// closing is held by Close while it records the close event, and by
	// the connection's record's finish: a Close that won closed is done
	// recording before the record ends (else its event came too late).
	closing sync.Mutex

	// head stands for the connection's record in its link
	// (ActiveRecord.link): a Message of s that is no message.
	head Message
}

// StartStream makes the record ctx carries — the request that opened a
// long-lived connection — the record of a [Stream], and records a "connect"
// event on it. From then on, the messages handled on the connection are
// recorded as records of their own ([Stream.StartMessage]), and the
// connection's record, when it finishes, carries the stream's message
// counts and bytes (attributes: its RequestBytes and ResponseBytes are
// the HTTP message's bodies, as its server wrapper counted them — a
// server-sent event stream's events, and none of a websocket's frames)
// and a "close" event. While the connection is open,
// [Recorder.Active] shows its record as running.
//
// StartStream returns nil when ctx carries no record, or one that has
// ended, is itself a message, or is a stream already.
func StartStream(ctx context.Context, info StreamInfo) *Stream {
	a := FromContext(ctx)
	if a == nil {
		return nil
	}
	cfg := &a.rec.cfg
	s := &Stream{a: a, system: info.System, route: info.Route, status: info.Status}
	s.head.s, s.head.a = s, a
	if s.system == "" {
		s.system = "stream"
	}
	capString(&s.system, cfg.maxName)
	// a's record is read with a.mu held and a not ended: once ended, it
	// belongs to the sinks.
	a.mu.Lock()
	ok := !a.ended && a.link.Load() == nil && a.r.Kind != KindMessage
	if ok {
		s.id, s.path, s.instance = a.r.ID, a.r.Path, a.r.Instance
		if s.route == "" {
			s.route = convention.NormalizePath(s.path)
		}
		capString(&s.route, cfg.maxName)
		a.link.Store(&s.head)
	}
	a.mu.Unlock()
	if !ok {
		return nil
	}
	a.event("connect", info.Detail, nil)
	return s
}

// Record returns the connection's record.
func (s *Stream) Record() *ActiveRecord {
	if s == nil {
		return nil
	}
	return s.a
}

// Close records the end of the connection: a "close" event on its record,
// with detail saying how it ended (e.g. "1000 normal closure", or an
// error). Only the first Close records an event; a stream still open when
// its record finishes gets a "close" event then. Messages counted after
// Close still count.
func (s *Stream) Close(detail string) {
	if s == nil || s.closed.Load() {
		return
	}
	s.closing.Lock()
	defer s.closing.Unlock()
	if !s.closed.CompareAndSwap(false, true) {
		return
	}
	s.a.event("close", detail, nil)
}

// Count counts a message on the stream that has no record of its own and is
// no call of another record: one read or written by code that does not
// record it. size is its length in bytes.
func (s *Stream) Count(dir Direction, size int64) {
	if s == nil {
		return
	}
	if dir == Send {
		s.sent.Add(1)
		s.bytesOut.Add(max(size, 0))
	} else {
		s.received.Add(1)
		s.bytesIn.Add(max(size, 0))
	}
}

// fold adds the stream's counts to rec, a finished or snapshot record of its
// connection, as attributes.
// The bytes are not added to RequestBytes and ResponseBytes, which count
// the HTTP message's bodies as the server wrapper saw them: a server-sent
// event stream's events are its response's body, counted already as the
// handler wrote them (package httpstats), and a websocket's frames, after
// the upgrade, are no part of the HTTP message.
func (s *Stream) fold(rec *Record) {
	in, out := s.bytesIn.Load(), s.bytesOut.Load()
	rec.Attrs = append(rec.Attrs,
		Attr{Key: convention.KeyMessagingSystem, Value: s.system},
		Attr{Key: convention.KeyStreamMessagesReceived, Value: strconv.FormatInt(s.received.Load(), 10)},
		Attr{Key: convention.KeyStreamMessagesSent, Value: strconv.FormatInt(s.sent.Load(), 10)},
		Attr{Key: convention.KeyStreamBytesReceived, Value: strconv.FormatInt(in, 10)},
		Attr{Key: convention.KeyStreamBytesSent, Value: strconv.FormatInt(out, 10)},
	)
}

// A Message is one message handled on a [Stream], in progress: returned by
// [Stream.StartMessage] and [Stream.StartSend], ended by [Message.End],
// which counts it on its stream. Depending on how it started it has a
// record of its own, is a call of another record, or is only counted. A nil
// *Message ignores every method.
type Message struct {
	s     *Stream
	dir   Direction
	typ   string
	route string        // the route of its own record
	a     *ActiveRecord // the message's own record, or nil
	call  *ActiveCall   // the call recording it in another record, or nil
	// parent is the message of the same stream this one is part of (a
	// write while producing an event): its size goes to parent, which
	// counts it.
	parent *Message
	size   atomic.Int64
	ended  atomic.Bool
}

// StartMessage starts handling a message of type typ (its kind in the
// application's protocol, such as "typing", or "text" and "binary" — a
// short, low-cardinality name) that went dir on s, size bytes long (-1 if
// not yet known; see [Message.SetSize]). Unless the recorder is paused or
// its sample rate leaves the message out, the message gets a record of its
// own, of kind [KindMessage]: method "RECEIVE" or "SEND", the connection's
// path and instance, route the stream's route and typ, in the connection's
// trace as a child of the connection's span, with an attribute naming the
// connection's record ("appstats.stream.record.id"). The returned context
// carries that record:
// the calls made with it while handling the message are the message's.
//
// When the message is not recorded, the returned context carries no record
// — the calls made with it are not recorded, and do not grow the
// connection's record — but still passes the connection's trace on. End
// the message with [Message.End], which counts it on s either way. A nil
// s returns ctx and nil; otherwise a nil ctx panics at once, as
// [context.WithValue]'s nil parent does, before anything is started.
func (s *Stream) StartMessage(ctx context.Context, dir Direction, typ string, size int64) (context.Context, *Message) {
	if s == nil {
		return ctx, nil
	}
	if ctx == nil {
		// Before the message's record is started: it would stay
		// listed as running.
		panic(nilParent)
	}
	m := &Message{s: s, dir: dir, typ: typ}
	m.size.Store(size)
	if ma := s.a.rec.startMessage(s, m); ma != nil {
		m.a = ma
		return NewContext(ctx, ma), m
	}
	return ContextWithTrace(NewContext(ctx, nil), s.a.TraceContext()), m
}

// StartSend starts sending a message of type typ, size bytes long, on s,
// made with ctx: the one way of recording a write to a stream, which
// wrappers call for every message they send. What ctx carries decides how
// the message is recorded:
//
//   - the stream's own connection record (the connection's goroutine
//     writes): the message gets a record of its own, as StartMessage(ctx,
//     Send, typ, size) gives it;
//   - the record of a message of s being sent (an event produced under
//     [Stream.StartMessage] with [Send]): a call of that record, whose size
//     grows by this one's, and which alone is counted; exported as an
//     INTERNAL span, the message's own record being the send's PRODUCER
//     span;
//   - any other record (a request that broadcasts to connections, or a
//     message being handled — a reply to a message received on s, or a
//     message of another stream passed on): a call of that record, service
//     the stream's system, method "send " and typ, counted on s, with the
//     attributes of OpenTelemetry's messaging conventions
//     (messaging.system, messaging.operation.type "send",
//     messaging.destination.name the stream's route) and exported as a
//     PRODUCER span;
//   - no record: the message is only counted.
//
// End it with [Message.End] once written.
func (s *Stream) StartSend(ctx context.Context, typ string, size int64) *Message {
	if s == nil {
		return nil
	}
	a := FromContext(ctx)
	if a == s.a {
		_, m := s.StartMessage(ctx, Send, typ, size)
		return m
	}
	m := &Message{s: s, dir: Send, typ: typ}
	m.size.Store(size)
	if a == nil {
		return m
	}
	m.call = a.StartCall(s.system, "send "+typ)
	if p := a.message(); p != nil && p.s == s && p.dir == Send {
		// The write of a message of s being sent, whose own record
		// is the send (a PRODUCER span): an INTERNAL span under it,
		// not a second PRODUCER of the one message (a backend
		// counting sends would count it twice).
		m.parent = p
		attrs := [...]Attr{{Key: convention.KeySpanKind, Value: convention.SpanKindInternal}}
		m.call.Update(&CallUpdate{Reserve: true, Attrs: attrs[:], RequestSize: size, HasRequestSize: size >= 0})
		return m
	}
	// A message sent: a PRODUCER span, as OpenTelemetry's messaging
	// conventions make a send, with their attributes (those of the
	// message records, StartMessage's). In a room of the record's slabs
	// (Reserve): a broadcast sends many.
	attrs := [...]Attr{
		{Key: convention.KeySpanKind, Value: convention.SpanKindProducer},
		{Key: convention.KeyMessagingSystem, Value: s.system},
		{Key: convention.KeyMessagingOperationType, Value: convention.MessagingSend},
		{Key: convention.KeyMessagingDestinationName, Value: s.route},
	}
	m.call.Update(&CallUpdate{Reserve: true, Attrs: attrs[:], RequestSize: size, HasRequestSize: size >= 0})
	return m
}

// SetSize sets the message's size in bytes, for one whose size was not
// known when it started.
func (m *Message) SetSize(n int64) {
	if m != nil {
		m.size.Store(n)
		m.call.SetRequestSize(n)
	}
}

// addSize adds n bytes (none if n < 0) to the message's size, an unknown
// size counting as 0.
func (m *Message) addSize(n int64) {
	for n > 0 {
		old := m.size.Load()
		if m.size.CompareAndSwap(old, max(old, 0)+n) {
			return
		}
	}
}

// Record returns the message's own record, or nil when it has none.
func (m *Message) Record() *ActiveRecord {
	if m == nil {
		return nil
	}
	return m.a
}

// End ends the message: it is counted on its stream, and its record or call
// ends, with err (if not nil) as its error. Calling End again has no effect.
func (m *Message) End(err error) {
	if m == nil || !m.ended.CompareAndSwap(false, true) {
		return
	}
	size := m.size.Load()
	switch {
	case m.parent != nil:
		m.parent.addSize(size)
	default:
		m.s.Count(m.dir, size)
	}
	if m.call != nil {
		m.call.End(err)
	}
	if a := m.a; a != nil {
		end := time.Now()
		r := a.r // a has not finished: its record is still a's
		if err != nil && r.Error == "" {
			r.Error = err.Error()
		}
		if size >= 0 {
			if m.dir == Send {
				r.ResponseBytes = size
			} else {
				r.RequestBytes = size
			}
		}
		a.FinishAt(end)
	}
}

// attrs are the attributes of the message's record.
func (m *Message) attrs() []Attr {
	op := "process" // a message received is handled: OpenTelemetry's "process"
	if m.dir == Send {
		op = "send"
	}
	return []Attr{
		{Key: convention.KeyMessagingSystem, Value: m.s.system},
		{Key: convention.KeyMessagingOperationType, Value: op},
		{Key: convention.KeyMessagingDestinationName, Value: m.s.route}, // the route without the type
		{Key: convention.KeyStreamRecordID, Value: m.s.id.String()},
	}
}

// startMessage starts the record of message m on stream s, or returns nil
// when the recorder is closed or paused, the sample rate leaves m out, or
// the connection's record has ended. Filters are not consulted: the
// connection passed them.
func (r *Recorder) startMessage(s *Stream, m *Message) *ActiveRecord {
	if r.closed.Load() {
		return nil
	}
	if r.paused.Load() {
		r.pausedOut.Add(1)
		return nil
	}
	if !r.sampled() {
		r.sampledOut.Add(1)
		return nil
	}
	conn := s.a
	conn.mu.Lock()
	ended := conn.ended
	conn.mu.Unlock()
	if ended {
		return nil
	}
	typ := m.typ
	if typ == "" {
		typ = "message"
	}
	a := &ActiveRecord{rec: r}
	r.startRecord(a, &RequestInfo{
		Kind:          KindMessage,
		Method:        m.dir.method(),
		Path:          s.path,
		TraceID:       conn.trace,
		ParentSpanID:  conn.span,
		TraceState:    conn.state,
		Unsampled:     conn.unsampled, // the caller's decision for the trace
		RandomTraceID: conn.random,
		Instance:      s.instance,
	})
	m.route = s.route + " " + typ
	capString(&m.route, r.cfg.maxName)
	a.r.Route = m.route
	a.link.Store(m)
	r.inflight.add(a)
	return a
}

// event records a custom event on a, made inside parent (nil: of the
// request itself): see [Event].
func (a *ActiveRecord) event(label, detail string, parent *ActiveCall) {
	c := a.startCallAt("event", label, true, -1, 0, parent)
	if c == nil {
		return
	}
	c.SetRequest(detail)
	c.end(c.start, nil) // an event is a point in time
}

// CountReader returns r, the body of a message being received on s, so that
// the message and its bytes are counted on s once r has been read to its
// end (io.EOF). A nil s returns r.
func (s *Stream) CountReader(r io.Reader) io.Reader {
	if s == nil {
		return r
	}
	return &countingReader{r: r, s: s}
}

type countingReader struct {
	r       io.Reader
	s       *Stream
	n       int64
	counted bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err == io.EOF && !r.counted {
		r.counted = true
		r.s.Count(Receive, r.n)
	}
	return n, err
}

// Writer returns w, the writer of m's body, so that the bytes written to it
// are m's size and closing it ends m, with Close's error. A nil m returns w.
func (m *Message) Writer(w io.WriteCloser) io.WriteCloser {
	if m == nil {
		return w
	}
	return &messageWriter{w: w, m: m}
}

type messageWriter struct {
	w io.WriteCloser
	m *Message
	n int64
}

func (w *messageWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *messageWriter) Close() error {
	err := w.w.Close()
	w.m.SetSize(w.n)
	w.m.End(err)
	return err
}
