package httpstats

//go:generate go run gen_combos.go

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// respWriter observes status and bytes; it never changes what the handler
// writes. It is handed to the handler dressed by wrapMask (combos.go, generated)
// in a type that has exactly the optional interfaces of the writer it wraps —
// any combination of http.Flusher, http.Hijacker, http.CloseNotifier,
// io.ReaderFrom, http.Pusher, io.StringWriter and the FlushError method that
// http.ResponseController prefers to Flush (for its error) — so that type
// assertions in handlers, and [http.ResponseController] (through Unwrap for
// what is not listed: deadlines, full duplex), behave as without it. The methods below that those types call are unexported, so that no
// optional interface is claimed by embedding.
//
// github.com/felixge/httpsnoop, which otelhttp uses, preserves interfaces the
// same way, and was not taken for three reasons: its Unwrap hands
// ResponseController the wrapped writer itself, so a hijack or a flush made
// through a controller past a writer that lacks the interface would go
// unobserved (rcShim observes them); its hooks are closures built for each
// request, several allocations where wrap makes none; and the record's
// rules (1xx headers are not the status, a hijack ends observation) would
// be spread over hooks instead of one type.
type respWriter struct {
	w http.ResponseWriter
	// ar is the record of the response, by which an inner handler of
	// the recorder, mounted twice, tells that the request is the one
	// this writer answers (see handler.outerRecord).
	ar      *recording.ActiveRecord
	written int64
	// status is an int16 (a status is 100 to 999), which shares a word
	// with hijacked, the flags and declared: the state keeps its size
	// class (see TestRequestStateSizeClass).
	status   int16
	hijacked bool
	// flags holds fWrote, fHeaderAsked, fWriteErr, the way of flush
	// (fFlush*), what Content-Length went out (fDecl*) and fFlushed,
	// packed so that declared fits the word (all eight bits taken).
	flags uint8
	// declared is the Content-Length the header was sent with, when
	// fDeclLen is set: read when the status was fixed (WriteHeader, or
	// the 200 of a first write or flush), as net/http sends the header
	// as it was then and ignores later changes of it.
	declared uint32
	// sendErr is the first failed flush or write (fWriteErr says
	// which): the response did not get through (the client is gone).
	// The record keeps the status and takes it as its error. After a
	// hijack, when no send failed before, it holds the *hijackWatch that
	// reads the status written on the connection (watchHijack).
	sendErr error
}

// The flags of a respWriter.
const (
	// fWrote: the header is sent (final status, not 1xx), or the
	// connection hijacked: no status is fixed after either.
	fWrote uint8 = 1 << iota
	// fHeaderAsked is set once the handler asked for the header map
	// (Header): only then can it have declared a Content-Length, which
	// the record checks against the bytes written (handler.fill), a
	// map lookup a handler that never touched its headers does not pay.
	fHeaderAsked
	// fWriteErr: sendErr is a write's, not a flush's.
	fWriteErr
	// fFlushKnown: flush's way is decided, at its first flush (w's type
	// does not change); fFlushError: that way is FlushError, its error
	// recorded, else Flush, as it is.
	fFlushKnown
	fFlushError
	// fDeclNone: the status was fixed with the header asked for and no
	// Content-Length (or one net/http drops, not a length); fDeclLen:
	// with the one in declared. Neither, with fHeaderAsked: the status
	// is not fixed yet (net/http sends the header as the handler leaves
	// it), or the length was over declared's range (4 GiB), and fill
	// reads the header map.
	fDeclNone
	fDeclLen
	// fFlushed: a flush got through, or HTTP/1's ReadFrom flushed
	// (readFrom): the header, at least, went out (see handler.panicked,
	// which counts a failed flush begun while the request was live, over
	// HTTP/2, as made too: flushed).
	fFlushed
)

func (rw *respWriter) wrote() bool { return rw.flags&fWrote != 0 }

// fix notes that the status is fixed, with the header as the handler's
// map has it now: net/http sends that header, whatever the handler does
// to the map later. The Content-Length is read (fixLength) only when the
// handler asked for the map; fix is inlined, so a handler that never did
// pays a flag test.
func (rw *respWriter) fix() {
	rw.flags |= fWrote
	if rw.flags&fHeaderAsked != 0 {
		rw.fixLength()
	}
}

// fixLength notes the Content-Length the header is sent with (see fix).
func (rw *respWriter) fixLength() {
	cl := rw.w.Header()["Content-Length"]
	if len(cl) == 0 {
		rw.flags |= fDeclNone
		return
	}
	n, err := strconv.ParseInt(cl[0], 10, 64)
	switch {
	case err != nil || n < 0:
		rw.flags |= fDeclNone // net/http drops it
	case n <= math.MaxUint32:
		rw.declared = uint32(n)
		rw.flags |= fDeclLen
	}
}

// flushed notes the outcome of a flush (one made after a hijack is no
// flush of the response). A flush the writer below does not support
// ([http.ErrNotSupported]: that of [http.TimeoutHandler], a wrapper
// without Flush) sent nothing and failed nothing: the response goes out
// when the handler returns. A flush that failed may have sent the header
// all the same: over HTTP/2, a client given the header that resets the
// stream before FlushError returns (closing the body at once) makes it
// report "http2: stream closed" — the client has the status
// (TestPanicAfterFailedFlush). live tells whether the request's context
// was not yet done when the flush began: HTTP/2's reset cancels the
// context before it closes the stream, so a flush begun after it reached
// no client (TestPanicAfterFlushToGoneClientNoResponse). Such a failure,
// of a live request, is kept as a flushMaybeSent, which handler.panicked
// counts as a flush made over HTTP/2 only: HTTP/1's failed flush is a
// write to the connection that failed.
func (rw *respWriter) flushed(err error, live bool) {
	if err == nil {
		rw.flags |= fFlushed
		return
	}
	if rw.sendErr == nil && !rw.hijacked && !errors.Is(err, http.ErrNotSupported) {
		if live {
			err = flushMaybeSent{err}
		}
		rw.sendErr = err
	}
}

// flushMaybeSent is the error of a flush that failed, begun while the
// request's context was not done (see flushed): its header may have
// reached the client.
type flushMaybeSent struct{ error }

func (e flushMaybeSent) Unwrap() error { return e.error }

// flushMaybeMade reports whether the response's first failed send was a
// flushMaybeSent.
func (rw *respWriter) flushMaybeMade() bool {
	_, ok := rw.sendErr.(flushMaybeSent)
	return ok
}

// timedOut is asked of a response whose handler returned, its request's
// context ctx, when rw.w is [http.TimeoutHandler]'s writer (see
// writerTypes.timeoutTab): with ctx done — TimeoutHandler's deadline
// passed, or the client left — TimeoutHandler, woken by it while the
// handler ran, answers 503 (with its body, at the deadline) and drops what
// the handler wrote, whether the handler wrote all of it in time or
// nothing, and whether or not it learned of the timeout. The error is
// TimeoutHandler's own, asked of its writer with an empty write (which
// answers it once the 503 is sent, and otherwise writes nothing the client
// gets), else the one it is about to set: [http.ErrHandlerTimeout] at the
// deadline, else the context's. No other writer is written to: an empty
// write to a compressing writer may start its stream. (A writer of other
// middleware between TimeoutHandler and this one hides it: see "With
// other middleware" in the package documentation.)
func (rw *respWriter) timedOut(ctx context.Context) {
	err := ctx.Err()
	if err == nil || rw.hijacked {
		return
	}
	if _, werr := rw.w.Write(nil); werr != nil {
		err = werr
	} else if err == context.DeadlineExceeded {
		err = http.ErrHandlerTimeout
	}
	if rw.sendErr == nil {
		rw.sendErr = err
		rw.flags |= fWriteErr
	}
	// None of what the handler wrote went out.
	rw.status, rw.written = http.StatusServiceUnavailable, 0
	rw.flags |= fWrote
}

// writeFailed notes a failed write of the body, unless the response got
// through all the same: a body where none is allowed (204, 304) is
// dropped, not sent. A write past the declared Content-Length fails, and
// counts: net/http sends none of it, and the body is cut short when what
// came before fell short of the length. (ReadFrom's error may be its
// source's: the body is cut short, which is a failed response too.)
// [http.ErrHandlerTimeout] is the answer of [http.TimeoutHandler]'s writer
// once its time is up, by when it has sent the client its 503: that is the
// status, whatever the handler wrote before.
func (rw *respWriter) writeFailed(err error) {
	if rw.sendErr == nil && !rw.hijacked && err != http.ErrBodyNotAllowed {
		rw.sendErr = err
		rw.flags |= fWriteErr
		if err == http.ErrHandlerTimeout {
			rw.status = http.StatusServiceUnavailable
			rw.flags |= fWrote
		}
	}
}

func (rw *respWriter) Header() http.Header {
	if rw.flags&(fHeaderAsked|fWrote) == fWrote {
		// Asked for the first time after the status was fixed: the
		// header went out without a Content-Length of the handler's.
		rw.flags |= fDeclNone
	}
	rw.flags |= fHeaderAsked
	return rw.w.Header()
}

// WriteHeader passes code on, then records it as the status unless it is
// informational (more headers follow) or a status was sent already. The
// writer takes it first: net/http panics at an invalid code (below 100,
// above 999) and sends nothing, so such a code is never the status.
func (rw *respWriter) WriteHeader(code int) {
	rw.w.WriteHeader(code)
	if rw.flags&fWrote == 0 && !rw.hijacked && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		rw.status = int16(code) // 100 to 999: WriteHeader panicked at any other
		rw.fix()
	}
}

// sent notes that the response header is out: writing a body, or flushing,
// sends status 200 when the handler set none.
//
// sent is not inlined (fix's call to fixLength makes it too costly): Write
// and writeString, the hot paths, have it written out.
func (rw *respWriter) sent() {
	if rw.flags&fWrote == 0 { // a hijack sets fWrote too
		rw.status = http.StatusOK
		rw.fix()
	}
}

func (rw *respWriter) Write(b []byte) (int, error) {
	if f := rw.flags; f&fWrote == 0 { // sent, written out
		rw.status, rw.flags = http.StatusOK, f|fWrote
		if f&fHeaderAsked != 0 {
			rw.fixLength()
		}
	}
	n, err := rw.w.Write(b)
	rw.written += int64(n)
	if err != nil {
		rw.writeFailed(err)
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer, through a
// shim that observes flushes and hijacks made that way.
func (rw *respWriter) Unwrap() http.ResponseWriter { return rcShim{rw} }

type rcShim struct{ *respWriter }

func (s rcShim) Unwrap() http.ResponseWriter { return s.w }
func (s rcShim) FlushError() error {
	live := s.ar.ContextErr() == nil
	err := http.NewResponseController(s.w).Flush()
	if err == nil {
		s.sent()
	}
	s.flushed(err, live)
	return err
}
func (s rcShim) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(s.w).Hijack()
	if err == nil {
		s.hijacked = true
		s.flags |= fWrote // no status is fixed after a hijack
		if hijacksNetHTTP(s.w) {
			s.watchHijack(c, brw)
		}
	}
	return c, brw, err
}

// The observing halves of the optional interfaces; wrap's types call them
// only when rw.w has the interface.

// flush is Flush, which reports no error. For net/http's own writers,
// whose Flush is their FlushError with the error dropped, flush calls
// FlushError, so that a failed flush is recorded; any other writer's Flush
// is called as it is (it may differ from its FlushError). Which it is is
// decided at the first flush of the writer, not at each: a stream may
// flush thousands of times.
func (rw *respWriter) flush() {
	rw.sent()
	if rw.flags&fFlushKnown == 0 {
		rw.flags |= fFlushKnown
		if _, ok := rw.w.(flushErrorer); ok && flushIsFlushError(rw.w) {
			rw.flags |= fFlushError
		}
	}
	if rw.flags&fFlushError != 0 {
		live := rw.ar.ContextErr() == nil
		rw.flushed(rw.w.(flushErrorer).FlushError(), live)
		return
	}
	rw.w.(http.Flusher).Flush()
	rw.flags |= fFlushed
}

// flushIsFlushError reports whether w is one of net/http's writers,
// HTTP/1's or HTTP/2's, whose Flush calls FlushError and drops its error.
// (TestFlushFailureRecorded fails should a Go release rename them.)
func flushIsFlushError(w http.ResponseWriter) bool {
	switch reflect.TypeOf(w).String() {
	case "*http.response", "*http.http2responseWriter":
		return true
	}
	return false
}

func (rw *respWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := rw.w.(http.Hijacker).Hijack()
	if err == nil {
		rw.hijacked = true
		rw.flags |= fWrote // no status is fixed after a hijack
		if hijacksNetHTTP(rw.w) {
			rw.watchHijack(c, brw)
		}
	}
	return c, brw, err
}

// hijacksNetHTTP reports whether w is net/http's own HTTP/1 response
// writer, whose Hijack returns a bufio.ReadWriter writing straight to the
// connection it returns: only then may watchHijack put its watch between
// the two. Another writer's Hijack (middleware below appstats) may route
// the ReadWriter's bytes through a tap of its own, which the watch would
// bypass; its hijacked responses are recorded with status 0, as before.
// w is followed down its Unwrap chain as http.ResponseController's
// Hijack follows it, to the first writer with a Hijack method. Called on
// a successful hijack only.
func hijacksNetHTTP(w http.ResponseWriter) bool {
	for range 64 { // a bound against an Unwrap that returns itself
		if reflect.TypeOf(w).String() == "*http.response" {
			return true
		}
		if _, ok := w.(http.Hijacker); ok {
			return false
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		if w = u.Unwrap(); w == nil {
			return false
		}
	}
	return false
}

// watchHijack watches, for a status line, the first bytes written
// through brw, the bufio.ReadWriter of the connection c a hijack
// returned: a handler that hijacks before any status (as
// httputil.ReverseProxy does to switch protocols) writes its response
// there itself — the backend's "HTTP/1.1 101 Switching Protocols" — and
// the record takes that status, which the client got (handler.fill). The
// writer is brw's own, its buffer kept (bufio.Writer.Reset, on a writer
// with nothing buffered: net/http's hijack returns a new one), only its
// destination made a hijackWatch in front of c; c itself is untouched, so
// a handler that writes on c directly (gorilla/websocket does) is not
// watched, nor the bytes after the upgrade, which are no part of the HTTP
// response. The watch is kept in sendErr, which a hijacked writer never
// sets again (flushed, writeFailed): not when a send had failed before
// the hijack, nor for a writer with bytes buffered, left as it is. Nor
// when a status went out before the hijack (coder/websocket's 101, the
// record's status): the bytes written after it are the upgraded
// protocol's (WebSocket frames through brw), whose failed write is no
// failed HTTP response.
func (rw *respWriter) watchHijack(c net.Conn, brw *bufio.ReadWriter) {
	if rw.status != 0 || rw.sendErr != nil || c == nil || brw == nil || brw.Writer == nil || brw.Writer.Buffered() != 0 {
		return
	}
	hw := &hijackWatch{c: c}
	brw.Writer.Reset(hw)
	rw.sendErr = hw
}

// hijackStatus returns the status written through a hijacked
// connection's bufio.ReadWriter (see watchHijack) by the time the handler
// returned, or 0, and clears the watch from sendErr. A write of the
// status line that failed (the connection was closed, the client gone)
// takes the watch's place in sendErr, a write's error: the record keeps
// the status and has the error, as a response's failed write without a
// hijack.
func (rw *respWriter) hijackStatus() int {
	hw, ok := rw.sendErr.(*hijackWatch)
	if !ok {
		return 0
	}
	rw.sendErr = nil
	if err := hw.err.Load(); err != nil {
		rw.sendErr = *err
		rw.flags |= fWriteErr
	}
	return int(max(hw.status.Load(), 0))
}

// statusLen is the length of the start of a status line that says its
// code: "HTTP/1.1 101 " or "HTTP/1.1 101\r".
const statusLen = 13

// A hijackWatch is the destination of a hijacked connection's
// bufio.Writer (see respWriter.watchHijack): it reads the status line of
// the first bytes written, and passes every byte on to the connection
// unchanged, at once. It is kept in respWriter.sendErr, hence its Error
// method, never reported.
type hijackWatch struct {
	c net.Conn
	// status is the code of the status line the first bytes written
	// began with, -1 when they began with none, 0 before statusLen bytes
	// were written. Atomic: the
	// handler may hand the connection to a goroutine that writes after
	// it returned, while the record is filled.
	status atomic.Int32
	// line holds a copy of the first n bytes written, while status is 0:
	// a status line written in pieces (each flushed, so the writes are
	// as many) is read once statusLen bytes came. Only the writer
	// touches them.
	line [statusLen]byte
	n    uint8
	// err is the first write that failed while status was 0 (that of
	// the status line, or of the bytes before it was known), or the
	// failed ReadFrom that set it to -1.
	err atomic.Pointer[error]
}

func (hw *hijackWatch) Write(p []byte) (int, error) {
	if hw.status.Load() != 0 {
		return hw.c.Write(p)
	}
	n, err := hw.c.Write(p)
	if err != nil {
		hw.err.CompareAndSwap(nil, &err)
	}
	hw.watch(p)
	return n, err
}

// watch adds p, written while status was 0, to the start of the line, and
// sets status once statusLen bytes came, or once they cannot begin a
// status line.
func (hw *hijackWatch) watch(p []byte) {
	if hw.n == 0 && len(p) >= statusLen {
		hw.status.Store(int32(statusLine(p)))
		return
	}
	hw.n += uint8(copy(hw.line[hw.n:], p))
	if hw.n == statusLen {
		hw.status.Store(int32(statusLine(hw.line[:])))
		return
	}
	const proto = "HTTP/1."
	if k := min(int(hw.n), len(proto)); string(hw.line[:k]) != proto[:k] {
		hw.status.Store(-1)
	}
}

// ReadFrom keeps the connection's own ReadFrom (TCP's splice, sendfile)
// for a bufio.Writer's ReadFrom, which calls its destination's when it
// has nothing buffered. While no status is known it first reads r itself,
// a read at a time, each passed on at once through Write, which reads the
// status line (a handler that copies its raw response from a string, a
// file or a backend's connection); the rest goes to the connection's
// ReadFrom. Its failure, when status was 0 as it began, is err, as a
// Write's (the error may be r's: the bytes were cut short, a failed
// response too, as respWriter's ReadFrom says).
func (hw *hijackWatch) ReadFrom(r io.Reader) (n int64, err error) {
	if hw.status.Load() != 0 {
		return hw.readFrom(r)
	}
	n, err = hw.readStatus(r)
	if err == nil {
		var m int64
		m, err = hw.readFrom(r)
		n += m
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		hw.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// watchReadSize is the size of the reads ReadFrom makes itself, before a
// status is known: a status line and its headers, most often, in one.
const watchReadSize = 512

// readStatus reads r and passes each read on through Write, until the
// status is known, or r is done (io.EOF, returned) or fails. A read that
// returns nothing and no error is made again, as io.Copy does.
func (hw *hijackWatch) readStatus(r io.Reader) (n int64, err error) {
	buf := make([]byte, watchReadSize)
	for hw.status.Load() == 0 {
		k, rerr := r.Read(buf)
		if k > 0 {
			w, werr := hw.Write(buf[:k])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if rerr != nil {
			return n, rerr
		}
	}
	return n, nil
}

// readFrom copies r to the connection, by its own ReadFrom when it has one.
func (hw *hijackWatch) readFrom(r io.Reader) (int64, error) {
	if rf, ok := hw.c.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{hw.c}, r)
}

func (hw *hijackWatch) Error() string { return "hijacked connection watched" }

// statusLine returns the status code of an HTTP/1 status line p begins
// with ("HTTP/1.1 101 Switching Protocols"), or -1.
func statusLine(p []byte) int {
	if len(p) < statusLen || string(p[:7]) != "HTTP/1." || p[8] != ' ' || p[12] != ' ' && p[12] != '\r' {
		return -1
	}
	code := 0
	for _, b := range p[9:12] {
		if b < '0' || b > '9' {
			return -1
		}
		code = code*10 + int(b-'0')
	}
	if code < 100 {
		return -1
	}
	return code
}

func (rw *respWriter) closeNotify() <-chan bool {
	//lint:ignore SA1019 kept for handlers that still use it, where the server's writer has it.
	return rw.w.(http.CloseNotifier).CloseNotify()
}

func (rw *respWriter) readFrom(r io.Reader) (int64, error) {
	rw.sent()
	n, err := rw.w.(io.ReaderFrom).ReadFrom(r)
	rw.written += n
	if n >= sniffLen && rw.flags&fFlushed == 0 && reflect.TypeOf(rw.w).String() == "*http.response" && connReadsFrom(rw.w) {
		// HTTP/1's ReadFrom, on a connection that has ReadFrom (TCP's),
		// flushes the header and the body after copying its first
		// sniffLen bytes: taken as sent (see heldBack). Over TLS, whose
		// connection has no ReadFrom, or a listener's wrapper without
		// it, ReadFrom writes as Write does, into the buffer net/http
		// holds back: a panic within the held-back size sent nothing.
		rw.flags |= fFlushed
	}
	if err != nil {
		rw.writeFailed(err)
	}
	return n, err
}

// connReadsFrom reports whether the connection under w, net/http's HTTP/1
// writer (*http.response), has ReadFrom, which w's ReadFrom asks before it
// flushes (it asks its conn's rwc, a net.Conn, for io.ReaderFrom): TCP's
// has it; TLS's, and that of a listener's wrapper that embeds a net.Conn,
// do not. net/http does not export the connection: it is read with
// reflect, its type only (no value is taken out of the unexported
// fields). Should a Go release rename the fields, the answer is true,
// ReadFrom's way before (TestPanicHeldBackBody fails then). Asked once a
// response at most, when its ReadFrom copied sniffLen bytes.
func connReadsFrom(w http.ResponseWriter) bool {
	v := reflect.ValueOf(w)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return true
	}
	c := v.Elem().FieldByName("conn")
	if c.Kind() != reflect.Pointer || c.IsNil() || c.Elem().Kind() != reflect.Struct {
		return true
	}
	rwc := c.Elem().FieldByName("rwc")
	if rwc.Kind() != reflect.Interface || rwc.IsNil() {
		return true
	}
	return rwc.Elem().Type().Implements(reflect.TypeFor[io.ReaderFrom]())
}

// bodyLimitHit tells the writer under rw that the request's body was
// too large, when body, an [http.MaxBytesReader] the handler put in
// r.Body, was made with rw's writer and hit its limit. MaxBytesReader tells
// net/http's HTTP/1 writer so through an unexported method
// (requestTooLarge), which no wrapper can have: the writer then closes the
// connection after the response, with "Connection: close" in its header
// if not yet sent — the client is not to send the rest of a body over the
// limit on it. Here it is told after the handler returned, by a
// MaxBytesReader of its own over rw.w, read past a limit of 0: the
// connection is closed as without the middleware, and the header says so
// unless the handler had sent it by then (a flush, a body past net/http's
// buffer). A MaxBytesReader the handler kept elsewhere than r.Body is not
// seen. The reader's fields are read with reflect, their types and one
// pointer; a Go release that renames them makes this do nothing
// (TestMaxBytesReaderClosesConnection fails then).
func (rw *respWriter) bodyLimitHit(body io.ReadCloser) {
	v := reflect.ValueOf(body)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	v = v.Elem()
	if v.Kind() != reflect.Struct {
		return
	}
	e, w := v.FieldByName("err"), v.FieldByName("w")
	if e.Kind() != reflect.Interface || e.IsNil() || e.Elem().Type() != reflect.TypeFor[*http.MaxBytesError]() ||
		w.Kind() != reflect.Interface || w.IsNil() {
		return
	}
	if w = w.Elem(); w.Kind() != reflect.Struct || w.NumField() != 1 || w.Field(0).Type() != reflect.TypeFor[*respWriter]() || w.Field(0).UnsafePointer() != unsafe.Pointer(rw) {
		return // another writer's: told, or not, as without the middleware
	}
	var b [1]byte
	_, _ = http.MaxBytesReader(rw.w, io.NopCloser(oneByte{}), 0).Read(b[:])
}

// oneByte is a reader of one byte after another.
type oneByte struct{}

func (oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = 'x'
	return 1, nil
}

// sniffLen is the bytes net/http's HTTP/1 ReadFrom copies before it
// flushes (its sniffLen, the bytes Content-Type sniffing reads).
const sniffLen = 512

func (rw *respWriter) push(target string, opts *http.PushOptions) error {
	return rw.w.(http.Pusher).Push(target, opts)
}

// flushErrorer is the method http.ResponseController calls to flush, when a
// writer has it, rather than Flush: it reports the error.
type flushErrorer interface{ FlushError() error }

func (rw *respWriter) flushError() error {
	rw.sent()
	live := rw.ar.ContextErr() == nil
	err := rw.w.(flushErrorer).FlushError()
	rw.flushed(err, live)
	return err
}

// writeString keeps io.WriteString from copying the string, where the
// underlying writer can take it as it is.
func (rw *respWriter) writeString(s string) (int, error) {
	if f := rw.flags; f&fWrote == 0 { // sent, written out
		rw.status, rw.flags = http.StatusOK, f|fWrote
		if f&fHeaderAsked != 0 {
			rw.fixLength()
		}
	}
	n, err := rw.w.(io.StringWriter).WriteString(s)
	rw.written += int64(n)
	if err != nil {
		rw.writeFailed(err)
	}
	return n, err
}

// writerTypes remembers the optional interfaces of the writer types a
// handler has wrapped: a server hands its handlers writers of one type or
// two (HTTP/1 and HTTP/2), and finding a type's seven interfaces costs
// seven itab lookups per request, where comparing a type costs one load.
type writerTypes struct {
	seen [4]atomic.Pointer[writerType]
	next atomic.Uint32 // the entry a new type takes
	// timeoutTab is the interface word (see typeWord) of
	// [http.TimeoutHandler]'s writer, net/http's *http.timeoutWriter,
	// once wrap has seen one (told by its type's name: net/http does not
	// export it), nil before: ServeHTTP asks a response written to it
	// whether TimeoutHandler answered 503 (respWriter.timedOut) with one
	// load and a compare.
	timeoutTab atomic.Pointer[byte]
}

// A writerType is the optional interfaces, m, of the writers whose
// interface word is tab (see typeWord), and the interface word of
// wrapMask's answers for m.
type writerType struct {
	tab  unsafe.Pointer
	m    uint
	itab unsafe.Pointer // of wrapMask's answers for m (see dress)
}

// typeWord returns the first word of *w, a value of an interface type that
// has methods (http.ResponseWriter, io.ReadCloser): its itab, which stands
// for its dynamic type (one itab per dynamic type of the one interface
// type; were there two for a type, writerTypes would give the type two
// entries, each with the same interfaces, and a NoBody not told by it
// would be taken for a body, asked whether it is counted). Comparing it
// costs one load, where comparing reflect.TypeOf's answers, or two
// interfaces, goes through the runtime.
func typeWord[I any](w *I) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(w))
}

// wrap returns rw dressed with exactly the optional interfaces of the
// writer it wraps (see wrapMask): ServeHTTP asks wrapFirst first, then
// wrap when it answers nil.
func (wt *writerTypes) wrap(rw *respWriter) http.ResponseWriter {
	t := typeWord(&rw.w)
	for i := range wt.seen {
		if e := wt.seen[i].Load(); e != nil && e.tab == t {
			return dress(e.itab, rw)
		}
	}
	m := optionalMask(rw.w)
	w := wrapMask(rw, m)
	if reflect.TypeOf(rw.w).String() == "*http.timeoutWriter" {
		wt.timeoutTab.Store((*byte)(t))
	}
	// The entries are taken in turn from 0 on (a type seen twice by
	// writers wrapped at once takes two, each with the same interfaces).
	wt.seen[(wt.next.Add(1)-1)%uint32(len(wt.seen))].Store(&writerType{tab: t, m: m, itab: typeWord(&w)})
	return w
}

// wrapFirst is wrap for a writer of the type entry 0 holds, and nil for
// any other. A server's writers are mostly of one type, the first one
// seen, which takes entry 0: this check, and the interface made from the
// entry's itab (see dress), are small enough to be inlined in ServeHTTP,
// without wrap's call and its loop.
func (wt *writerTypes) wrapFirst(rw *respWriter) http.ResponseWriter {
	if e := wt.seen[0].Load(); e != nil && e.tab == typeWord(&rw.w) {
		return dress(e.itab, rw)
	}
	return nil
}

// dress returns rw as the http.ResponseWriter whose itab is itab, that of
// one of wrapMask's types: wrapMask(rw, m) when itab is the itab of
// wrapMask's answers for m, without its switch. Each of wrapMask's types
// is a struct of one *respWriter, stored in an interface as the pointer
// itself (TestDress checks every mask).
func dress(itab unsafe.Pointer, rw *respWriter) (w http.ResponseWriter) {
	words := (*[2]unsafe.Pointer)(unsafe.Pointer(&w))
	words[0], words[1] = itab, unsafe.Pointer(rw)
	return w
}
