package httpstats

import (
	"context"
	"crypto/tls"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/traceparent"
	"github.com/goappstats/appstats/recording"
)

// NewTransport returns an [http.RoundTripper] that records every request made
// with a recorded context (req.Context() carries the record, as in a handler
// wrapped by [NewHandler]) as a call: service "http", method
// "GET host:port/normalized/path" (the port only when it is not 80 or 443,
// the path with identifier-like segments replaced by "{id}", see
// [NormalizePath]; otelexport's bridge names the calls of OpenTelemetry
// HTTP client spans the same way), the redacted URL as its request summary
// and url.full, and the status, sizes, error, and phases timed
// through [net/http/httptrace] — dns, connect, tls, send, wait (for the first
// response byte) and receive; a call on a connection already open
// (appstats.http.connection.reused "true") has no dns, connect or tls
// phase, even when net/http began a dial for it that another request got.
// A phase that happened but could not be timed
// is named in the call's attribute appstats.phases.unknown ("send,wait"
// when an HTTP/2 transport reported the request written only after the
// response had begun), never left out silently.
//
// The call ends when the response body reaches EOF or is closed, so reading
// the body is part of the call. Sizes are body bytes that crossed the wire:
// a HEAD response has none, whatever its Content-Length, and a request body
// of unknown length, or one that waits for "100 Continue", is counted as it
// is sent (none, when the server answered without asking for it). A 101
// Switching Protocols response's body is the switched connection, writable
// as net/http's is: its bytes (a proxied websocket's frames) are no HTTP
// body and are not counted, as [NewHandler] does not count them on the
// server's side; the call ends at its first failed read or its Close.
//
// The call's trace context (its own span ID) is injected into the outgoing
// request through the recorder's propagator, so a recorded downstream service
// joins the trace. Requests without a recorded context go straight to base.
// A request made inside a call recorded already ([recording.CallFromContext]:
// by another recording transport around this one, by hand with
// [recording.ContextWithCall], or as an OpenTelemetry CLIENT span bridged by
// package otelexport, as when otelhttp's transport wraps this one) is not
// recorded again: it goes to base with that call's trace context. A nil
// base means [http.DefaultTransport].
//
// The transport has no options: what it records is set by the recorder of
// each request (its redaction rules, limits and propagator). It has a
// CloseIdleConnections method, which calls base's when base has one, so
// that [http.Client.CloseIdleConnections] reaches base.
//
// The response to a recorded call has the caller's request as its Request,
// not the copy that went to base with the trace context in its header:
// over an [*http.Transport] base (with no Proxy function but
// [http.ProxyFromEnvironment]) and to an http or https URL, that copy,
// with its header map and the bytes of its traceparent, is reused by a
// later call once the call has ended, when net/http is known to be done
// with it (see [callState.giveBack]), unless the request has a
// (deprecated) Cancel channel, or the request's context carries an
// [httptrace.ClientTrace] of the caller's own, whose WroteHeaderField hook
// is handed the header's values, or the request was retried on another
// connection (its first attempt may have gone over HTTP/2, whose
// connection's HPACK table keeps the values). Any
// other call (another base, such as a wrapping RoundTripper or an
// x/net/http2 Transport; another Proxy function; another scheme, whose
// RoundTripper registered with [http.Transport.RegisterProtocol] is handed
// the request itself; the caller's own ClientTrace) allocates an entry of
// its own (the request's copy, its header map and their room): about 420
// bytes a call more than a reused one. A RoundTripper registered for http
// or https itself, which may be handed that copy, must not keep the
// request, or its header values, past its RoundTrip.
func NewTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &transport{base: base}
	if ht, ok := base.(*http.Transport); ok {
		t.http1 = ht
		env := http.ProxyFromEnvironment
		t.envProxy = *(*unsafe.Pointer)(unsafe.Pointer(&env))
	}
	return t
}

type transport struct {
	base http.RoundTripper
	// calls remembers the names and descriptions of the URLs called
	// again and again, for each recorder's redaction rules.
	calls convention.HTTPCalls[*recording.Redaction]
	// setupCost is what setting up a recorded call (from its start to
	// the base transport's round trip) was last measured to cost (see
	// measureEvery).
	setupCost atomic.Int64
	// http1 is base, when it is an *http.Transport: the header maps of
	// the requests sent through it are reused (headers), on the
	// conditions callState.giveBack checks.
	http1 *http.Transport
	// envProxy is the closure of http.ProxyFromEnvironment, the one Proxy
	// function (besides none) that keeps no request.
	envProxy unsafe.Pointer
	// headers holds the *headerEntry of header maps given back.
	headers sync.Pool
}

// headerEntry is the copy of a request that goes to the base transport
// (req), and its header's copy (h, req's Header), with room for the
// fields a propagator sets in it: the values' slices (vals) and the
// traceparent's bytes (tp, see [headerEntry.inject]). It is the
// [recording.Carrier] through which the propagator writes them. The
// header's copy is shallow, as the rest of the request's copy is: its map
// is its own, but its values are the caller's slices, cut to their length
// (an append to one, by a base transport that misbehaves, makes a new
// array rather than writing past the caller's value), and a field the
// propagator sets takes a slice of its own, in vals while room is left
// there.
//
// An entry taken from a transport's pool goes back there, to be reused,
// request copy and all, once the call has ended and net/http is done with
// it (see [callState.giveBack]); one made for a single request (pool nil)
// is never reused. It lives apart from the call's state, which net/http's
// hooks, the request's context and the response body's caller may reach
// after the call ended, and which is therefore never reused: the part of
// a call that is reused is the part that only net/http's write and read
// of the request reach, and only while the call lasts.
type headerEntry struct {
	req  http.Request
	h    http.Header
	vals [spareFields]string
	tp   [recording.TraceparentLen]byte
	used uint8 // vals taken, entryReturnable and entryTraceparent; in tp's padding
	// tid is the trace ID whose digits tp holds, once inject wrote them:
	// the next call of the same request that takes the entry (a fanout's
	// calls, one after another) rewrites only the span ID and flags.
	tid  recording.TraceID
	pool *sync.Pool // the transport's headers, where it goes back; nil for one never reused
}

// entry returns a header map to fill, given back by an ended call or new,
// or nil when base is not an *http.Transport whose Proxy function keeps no
// request, when the request's scheme is neither http nor https, or when
// ctx is not the call's own traceCtx: a caller's ClientTrace composed with
// the call's may keep what its WroteHeaderField hook is given, the
// traceparent's slice and bytes, which a reused entry would overwrite. A
// scheme of another name goes to a RoundTripper registered with
// [http.Transport.RegisterProtocol], which is handed the request itself
// and may keep its values, and may send it on through an *http.Transport
// whose hooks report it written as the base's own would
// (TestKeptTraceparentNeverChanges); any other scheme fails.
func (t *transport) entry(ctx context.Context, st *callState, scheme string) *headerEntry {
	ht := t.http1
	if ht == nil || ctx != context.Context(&st.ctx) || (scheme != "http" && scheme != "https") {
		return nil
	}
	if p := ht.Proxy; p != nil && *(*unsafe.Pointer)(unsafe.Pointer(&p)) != t.envProxy {
		return nil
	}
	if e, _ := t.headers.Get().(*headerEntry); e != nil {
		return e
	}
	return &headerEntry{h: make(http.Header, 1), pool: &t.headers}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// What the request's context says of recording, asked once: the
	// record, the call it is inside and the new call's parent.
	reqCtx := req.Context()
	scope := recording.ScopeOf(reqCtx)
	a := scope.Record()
	if a == nil || req.URL == nil { // no URL: base's error, unrecorded
		if tc, p, ok := recording.Passthrough(reqCtx); ok {
			// A request that is not recorded: its caller's trace context
			// (and baggage) pass through unchanged.
			return t.base.RoundTrip(withTrace(req, tc, p))
		}
		return t.base.RoundTrip(req)
	}
	if outer := scope.Call(); outer != nil && outer.Record() == a {
		// The request is a call recorded already, by instrumentation around
		// this transport (otelhttp's span, bridged by otelexport; another
		// recording transport): one request is one call. Its trace context
		// goes out, so the downstream's parent is that call.
		return t.base.RoundTrip(withTrace(req, outer.TraceContext(), propagatorOf(a.Recorder())))
	}
	rec := a.Recorder()
	name, hc := t.calls.Get(req.Method, req.URL, rec.Redaction())
	c := a.StartChild(scope.Parent(), convention.ServiceHTTP, name)
	if c == nil { // over MaxCalls, or after the request ended
		return t.base.RoundTrip(withTrace(req, a.TraceContext(), propagatorOf(rec)))
	}
	c.SetRequest(hc.Request)
	hasBody := req.Body != nil && req.Body != http.NoBody
	// The body is counted as it is sent when its length is unknown, and when
	// the request waits for "100 Continue": a server that answers otherwise
	// (417, say) is never sent the body.
	count := hasBody && (req.ContentLength <= 0 || expectsContinue(req.Header))
	var attrs [4]recording.Attr
	c.Update(&recording.CallUpdate{
		Reserve: true, // its attributes and phases in one allocation
		Attrs:   convention.AppendHTTPAttrs(attrs[:0], hc),
		// A body counted as it is sent is sized at the call's end.
		RequestSize: max(req.ContentLength, 0), HasRequestSize: !count,
	})

	// Carved with the other calls' states of the request (several to an
	// allocation), which the record lets go of when it ends.
	st := recording.Alloc[callState](a)
	pt := &st.pt
	traceHooks.set(&st.hooks, &st.ctx.trace, pt)
	// The call rides on the context, so OTel instrumentation under this
	// transport (see otelexport.NewSpanProcessor) does not record it again.
	ctx := withCallTrace(&st.ctx, reqCtx, c)
	st.out = traceInto(req, ctx, c.TraceContext(), rec.Propagator(), t.entry(ctx, st, req.URL.Scheme))
	out := &st.out.req
	if count {
		// The body's counts, in the call's room for what few calls have
		// (made here, before any hook can fire: a dial's hooks find it).
		sb := &st.rare().sent
		sb.first.rc = req.Body
		sb.last.Store(&sb.first)
		out.Body = &sb.first
		if req.GetBody != nil {
			// A retry rewinds the body through GetBody: count the new one.
			out.GetBody = func() (io.ReadCloser, error) {
				rc, err := req.GetBody()
				if err != nil {
					return rc, err
				}
				cb := &countingBody{rc: rc}
				sb.last.Store(cb)
				return cb, nil
			}
		}
	}
	// The overhead counts from the call's start. It is measured, as the
	// handler's setup is, on one call in measureEvery, picked by the
	// call's random span ID (and until one is measured); the others are
	// charged the last measurement, which saves a clock read a call.
	if d := t.setupCost.Load(); d != 0 && c.SpanID()[len(recording.SpanID{})-1]%measureEvery != 0 {
		a.AddOverhead(time.Duration(d))
	} else {
		d := c.Since()
		t.setupCost.Store(int64(d))
		a.AddOverhead(d)
	}

	// A base that panics ends the call (see convention.EndIfPanicked).
	ended := false
	defer convention.EndIfPanicked(c, &ended)
	resp, err := t.base.RoundTrip(out)
	ended = true
	if err != nil {
		var room endRoom
		d := c.Since()
		u := pt.end(&room, d)
		st.sentSize(&u)
		c.EndWith(&u, d, err)
		return resp, err
	}
	// The caller's request, not the copy, whose header map may be reused
	// once the call has ended.
	resp.Request = req
	if resp.ProtoMajor != 1 || resp.StatusCode == http.StatusSwitchingProtocols {
		// HTTP/2 writes the request on a goroutine of its own, whose hooks
		// this state does not count; a connection switched to another
		// protocol is the caller's.
		st.out.used &^= entryReturnable
	}
	if resp.StatusCode >= 500 {
		c.SetError(resp.Status)
	}
	// The status, and whether the connection was one already open (its
	// GotConn came before the response), in one update: the call's end
	// sets only its phases then (see phases.endLocked).
	reused, given := st.pt.takeReused()
	status := [2]recording.Attr{
		{Key: convention.KeyHTTPResponseStatusCode, Value: statusCodeText(resp.StatusCode)},
		{Key: convention.KeyHTTPConnectionReused, Value: strconv.FormatBool(reused)},
	}
	n := len(status)
	if !given {
		n-- // a base transport that reports no connection: no reuse to say
	}
	c.Update(&recording.CallUpdate{Attrs: status[:n]})
	st.rc, st.length = resp.Body, resp.ContentLength
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		// No body crossed the wire, whatever Content-Length says (it is the
		// length of the GET response, for HEAD).
		st.length = 0
		st.finish(nil)
		return resp, nil
	}
	resp.Body = st
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if w, ok := st.rc.(io.Writer); ok {
			resp.Body = &trackedRWBody{callState: st, w: w}
		}
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the base transport,
// if it has the method, as [http.Client.CloseIdleConnections] does for its
// own transport: a client whose transport is the recording one closes the
// same connections as without it.
func (t *transport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// statusCodeText returns strconv.Itoa(code), without an allocation for
// the usual codes.
func statusCodeText(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusCreated:
		return "201"
	case http.StatusAccepted:
		return "202"
	case http.StatusNoContent:
		return "204"
	case http.StatusPartialContent:
		return "206"
	case http.StatusMovedPermanently:
		return "301"
	case http.StatusFound:
		return "302"
	case http.StatusSeeOther:
		return "303"
	case http.StatusNotModified:
		return "304"
	case http.StatusTemporaryRedirect:
		return "307"
	case http.StatusPermanentRedirect:
		return "308"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusConflict:
		return "409"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusInternalServerError:
		return "500"
	case http.StatusBadGateway:
		return "502"
	case http.StatusServiceUnavailable:
		return "503"
	case http.StatusGatewayTimeout:
		return "504"
	}
	return strconv.Itoa(code)
}

func propagatorOf(rec *recording.Recorder) recording.Propagator {
	if rec == nil {
		return recording.W3CPropagator{}
	}
	return rec.Propagator()
}

// withTrace returns a copy of req carrying tc in its headers.
func withTrace(req *http.Request, tc recording.TraceContext, p recording.Propagator) *http.Request {
	return &traceInto(req, req.Context(), tc, p, nil).req // never reused
}

// The bits of headerEntry.used above the count of vals taken.
const (
	// entryReturnable: the entry may be given back when the call ends
	// (see callState.giveBack); set for an entry of a transport's pool,
	// cleared for a response that is not HTTP/1's.
	entryReturnable uint8 = 1 << 6
	// usedCount is the bits of used that count the vals taken.
	usedCount uint8 = entryReturnable - 1
	// entryTraceparent: the map holds one field, the W3C propagator's
	// traceparent, in vals[0] over tp's bytes (set by inject when that
	// field took the first val; its map's length says whether any other
	// was set). Given back so, an entry keeps that field, whose bytes the
	// next call that sends it and nothing else rewrites in place, with no
	// map write (see traceInto) and no clear at giveBack.
	entryTraceparent uint8 = 1 << 7
)

// spareFields is how many fields a propagator can set without an
// allocation: traceparent. A second (tracestate, when the request came
// with one; an OpenTelemetry propagator's baggage) takes a slice of its
// own: a second room would cost every call's header entry 16 bytes, and
// a size class.
const spareFields = 1

// traceInto makes e's request a copy of req with context ctx, and with tc
// written by p into a copy of its header, e's map, and returns e; a new
// entry, never reused, when e is nil. A RoundTripper must not modify the
// request it is given: the copy is shallow but for the header.
//
// An entry given back with its map holding the traceparent alone
// (entryTraceparent) serves a request with no header of its own whose
// trace context the W3C propagator writes, with no tracestate, as it is:
// the traceparent's bytes are rewritten in place. Any other request
// empties it first.
func traceInto(req *http.Request, ctx context.Context, tc recording.TraceContext, p recording.Propagator, e *headerEntry) *headerEntry {
	if e == nil {
		e = &headerEntry{h: make(http.Header, len(req.Header)+1)}
	}
	// WithContext is inlined: its copy does not escape, and e takes it.
	e.req = *req.WithContext(ctx)
	if e.used&entryTraceparent != 0 {
		if _, ok := p.(recording.W3CPropagator); ok && len(req.Header) == 0 && tc.State == "" && tc.IsValid() {
			if e.tid == tc.TraceID {
				spanInto(&e.tp, tc)
			} else {
				recording.AppendTraceparent(e.tp[:0], tc)
				e.tid = tc.TraceID
			}
			e.used = entryReturnable | entryTraceparent | 1
			e.req.Header = e.h
			return e
		}
		e.empty()
	}
	e.copyHeader(req.Header)
	e.inject(ctx, tc, p)
	return e
}

// callState is what a recorded round trip keeps past RoundTrip's return,
// in one value, carved with the request's other calls' states from the
// record's chunks ([recording.Alloc]): the context that carries the
// call's trace, the phases and the hooks that fill them (which may fire
// after the call ended: a dial net/http began for the call finishes for
// another request), and the response body's wrapper: a callState is the
// body RoundTrip returns, which ends the call when it is read to the end
// or closed, and which its caller may close or read again long after.
// All of these may be reached after the call ended, so a callState is
// never reused. The outgoing request's copy is not in it: it lies in the
// request's header entry, which a transport reuses once net/http is done
// with it ([callState.giveBack]), so that a call carves about half the
// fresh memory it did (328 bytes rather than 632;
// TestCallStateSizeClass). Its phases come first: they find the state
// they are part of by their own address (see [phases.state]), as a call's
// context does by its offset ([traceCtx.state]).
type callState struct {
	pt    phases
	out   *headerEntry // the outgoing request; nil once given back
	ctx   traceCtx
	hooks hookSet

	rc     io.ReadCloser // the response's body
	length int64         // its Content-Length
	n      atomic.Int64  // the bytes read of it
}

// sentBody counts the bytes of a request body sent: first, and the last
// attempt's, when a retry rewound it through GetBody. last is nil for a
// body not counted (sized by its ContentLength).
type sentBody struct {
	last  atomic.Pointer[countingBody]
	first countingBody
}

// sentSize sets u's request size to the bytes of the request's body sent,
// when the body is counted as it is sent.
func (st *callState) sentSize(u *recording.CallUpdate) {
	if r := st.pt.rare.Load(); r != nil {
		if cb := r.sent.last.Load(); cb != nil {
			u.RequestSize, u.HasRequestSize = cb.n.Load(), true
		}
	}
}

// copyHeader makes e's request header a copy of h (an empty header when
// h is nil), in e's map, empty. An entry of a transport's pool may be
// given back (entryReturnable).
func (e *headerEntry) copyHeader(h http.Header) {
	if e.pool != nil {
		e.used = entryReturnable
	}
	c := e.h
	if len(h) > 0 { // a range over an empty map still starts an iterator
		for k, vv := range h {
			c[k] = vv[:len(vv):len(vv)] // nil stays nil, as Clone keeps it
		}
	}
	e.req.Header = c
}

// inject writes tc into the header's copy through p. The W3C propagator's
// traceparent is formatted into the entry's bytes, which the value shares
// rather than a string of its own: they are written before the value is
// made, and not changed while anything can read the value, so the value
// is as immutable as a string must be. They are rewritten (here, or in
// place by traceInto for an entry kept with its traceparent) only when
// the entry serves another call, and an entry is reused only once
// net/http is done with the header, and never when a caller's ClientTrace
// was given the header's values (see [transport.entry] and
// [callState.giveBack]).
func (e *headerEntry) inject(ctx context.Context, tc recording.TraceContext, p recording.Propagator) {
	if _, ok := p.(recording.W3CPropagator); !ok || !tc.IsValid() {
		p.Inject(ctx, tc, e)
		return
	}
	b := recording.AppendTraceparent(e.tp[:0], tc)
	e.tid = tc.TraceID
	if e.used&usedCount == 0 {
		e.used |= entryTraceparent // it takes vals[0]
	}
	e.setCanonical("Traceparent", unsafe.String(unsafe.SliceData(b), len(b)))
	if tc.State != "" {
		e.setCanonical("Tracestate", tc.State)
	}
}

// Get returns the first value of key.
func (e *headerEntry) Get(key string) string { return recording.HeaderCarrier(e.req.Header).Get(key) }

// Keys returns the header's keys.
func (e *headerEntry) Keys() []string { return recording.HeaderCarrier(e.req.Header).Keys() }

// Set replaces the values of key with value, in a free slot of the
// request's array while one is left.
func (e *headerEntry) Set(key, value string) {
	e.setCanonical(convention.CanonicalHeaderKey(key), value)
}

// setCanonical is Set with a key in its canonical form.
func (e *headerEntry) setCanonical(key, value string) {
	i := int(e.used & usedCount)
	if i >= len(e.vals) {
		e.req.Header[key] = []string{value}
		return
	}
	e.vals[i] = value
	e.req.Header[key] = e.vals[i : i+1 : i+1]
	e.used++
}

func (st *callState) Read(p []byte) (int, error) {
	n, err := st.rc.Read(p)
	st.n.Add(int64(n))
	if err == io.EOF {
		st.finish(nil)
	} else if err != nil {
		st.finish(err)
	}
	return n, err
}

func (st *callState) Close() error {
	err := st.rc.Close()
	st.finish(nil)
	return err
}

// finish ends the call, the first time only; a finish that comes while
// another runs waits for it, so that a Close that returns has ended the
// call, and one that comes after it returns without the lock. The
// phases' lock is held throughout: their hooks, which take it alone, wait
// too.
func (st *callState) finish(err error) {
	p := &st.pt
	if p.finished.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended() {
		return
	}
	var room endRoom
	c := st.ctx.Call()
	d := c.Since()
	u := p.endLocked(&room, d)
	st.sentSize(&u)
	size := st.n.Load()
	if size == 0 && st.length > 0 {
		size = st.length
	}
	u.ResponseSize, u.HasResponseSize = size, true
	c.EndWith(&u, d, err)
	st.giveBack()
	p.finished.Store(true)
}

// giveBack gives the entry of the call's request (the request's copy and
// its header map) back to its transport, to be reused, when nothing can
// read it any more; with p.mu held, once the call has ended. Nothing does
// when the entry came from a base that is an *http.Transport (the Proxy
// function http.ProxyFromEnvironment or none, which read the request only
// while it is sent) and the response was HTTP/1's (entryReturnable), and
// the request was given one connection only (GotConn), not retried (an
// attempt over HTTP/2 that net/http then retried over HTTP/1 left the
// header's strings in the HTTP/2 connection's HPACK encoder: see stuck),
// and had the request written on it (WroteRequest): the transport's write
// loop reads the request while it writes it, and reports the write as its
// last access to it (WroteRequest is Request.write's last deferred call),
// and its read loop, once the body was read or closed, cancels only a
// context of its own (a child of the call's, in the call's state, which
// is never reused) and drops the request's pointer from a map of
// Transport.CancelRequest's (keyed by the pointer only: a later call's
// copy at the same address may lose its entry there, which nothing looks
// up, as the copy is never the caller's). The caller never sees the
// entry: the response's Request is the caller's. A request written late
// (the server answered before it had the request's body: golang/go#51907),
// one with a Cancel channel, or a call whose RoundTrip returned an error,
// keeps its entry; a call whose body's read failed gives it back, as its
// request was written. What late hooks, the request's context and the
// body's caller reach is the call's state, which is never reused.
func (st *callState) giveBack() {
	p, e := &st.pt, st.out
	if e == nil || e.used&entryReturnable == 0 || p.seen&(1<<gotConn) == 0 || p.unwritten != 0 {
		return
	}
	if len(e.h) > 8 { // a map of more than one group: let it go
		return
	}
	//lint:ignore SA1019 callers still set the deprecated field, which net/http still watches
	if e.req.Cancel != nil {
		// net/http watches a request's deprecated Cancel channel from a
		// goroutine of its own (awaitLegacyCancel), which reads the field
		// when it first runs: maybe after the call ended.
		return
	}
	st.out = nil
	// Nothing of the ended call is kept by the pool: its context (the
	// call's state, the record), body and URL.
	e.req = http.Request{}
	if e.used&entryTraceparent != 0 && len(e.h) == 1 {
		// The map holds the traceparent alone, in e's own vals and bytes:
		// kept for the next call that sends only it.
		e.used = entryTraceparent
	} else {
		e.empty()
	}
	e.pool.Put(e)
}

// spanInto writes tc's span ID and flags into b, a traceparent of tc's
// trace ID, in the places [recording.AppendTraceparent] writes them, with
// the same writer (TestSpanIntoAsAppendTraceparent).
func spanInto(b *[recording.TraceparentLen]byte, tc recording.TraceContext) {
	traceparent.SpanInto(b, tc.SpanID, tc.Sampled, tc.Random)
}

// empty empties e's map and vals, for a request to fill.
func (e *headerEntry) empty() {
	clear(e.h)
	e.vals = [spareFields]string{}
	e.used = 0
}

// trackedRWBody keeps the io.Writer of a 101 Switching Protocols body.
// The bytes read from it or written to it are not counted: they are no
// HTTP body (the websocket frames a proxy passes on, say), as the
// middleware does not count them on the server's side either. The call
// ends at the first failed read or at Close.
type trackedRWBody struct {
	*callState
	w io.Writer
}

func (b *trackedRWBody) Write(p []byte) (int, error) { return b.w.Write(p) }

func (b *trackedRWBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(nil)
	} else if err != nil {
		b.finish(err)
	}
	return n, err
}

// phases collects httptrace events, which may arrive from other goroutines
// (the dialer runs apart from the request), and turns them into call phases.
// A phases is the first field of a [callState], and is used only there:
// the call its times are of is its state's context's, whose start, which
// never changes (and its slot is never reused), is what the times are
// offsets from.
type phases struct {
	mu sync.Mutex
	// at is when each event of a call's own connection came, since the
	// call's start; rare, the room of a dial's events (dns, connect, tls)
	// and of the net package's hooks, made by the first of them or by the
	// dialer's look-up of those hooks (see [callState.rare]), or for a
	// request body counted as it is sent: most calls get a connection
	// already open, dial nothing, and send no such body, so the call's
	// state has no room for them (TestCallStateSizeClass).
	at   [numEvents - gotConn]time.Duration
	rare atomic.Pointer[rareRoom]
	// seen is the events that came, by bit, and endedBit: the phases
	// were handed over (end), and, for a call that got a response, the
	// call was ended (callState.finish); and reusedBit: the connection's
	// reuse was set with the status (takeReused).
	seen   uint16
	reused bool
	// unwritten is 1 while the request was given a connection (GotConn)
	// that it was not yet written on (WroteRequest), 0 before and after, or
	// stuck (see callState.giveBack).
	unwritten int8
	// finished is set once callState.finish has ended the call, for the
	// finishes that come after it (a Close after the Read that reached
	// EOF) to return without the lock. It lies in the padding after
	// unwritten.
	finished atomic.Bool
}

// endedBit is the bit of phases.seen that says the phases were handed
// over, above the events' bits.
const endedBit uint16 = 1 << 15

// reusedBit is the bit of phases.seen that says the connection's reuse
// was set on the call with its status (takeReused), not to be set again
// at its end.
const reusedBit uint16 = 1 << 14

// takeReused returns whether the call's connection was one already open,
// and whether it was given one at all (GotConn came), for the call's
// attributes at its response, and notes that its end need not set it.
func (p *phases) takeReused() (reused, given bool) {
	p.mu.Lock()
	p.seen |= reusedBit
	reused, given = p.reused, p.seen&(1<<gotConn) != 0
	p.mu.Unlock()
	return reused, given
}

// stuck is phases.unwritten once the request was given a second
// connection (GotConn), or written more times than it was given one: it
// never changes after, and the header map is never given back. A request
// given a second connection was retried (net/http retries a request on a
// new connection when the first failed in some ways), and the first
// attempt may have handed the header's values to what keeps them past
// the call: when it went over HTTP/2 (whose transport reports each
// attempt's connection, as net/http's does for HTTP/1), the connection's
// HPACK encoder keeps them in its dynamic table, as strings and as map
// keys, while the connection lives, even when the retry was answered
// over HTTP/1 (a stream refused on a connection that takes no new one is
// retried on a new connection, which may speak HTTP/1). Retries are rare:
// their calls allocate a header map of their own.
const stuck = math.MinInt8

// ended reports whether the phases were handed over.
func (p *phases) ended() bool { return p.seen&endedBit != 0 }

// An event is an httptrace event the phases are timed by: first those of
// a dial, then those of every call.
type event uint8

const (
	dnsStart event = iota
	dnsDone
	connStart
	connDone
	tlsStart
	tlsDone
	gotConn
	wrote
	firstByte
	numEvents
)

// rareRoom is where a call keeps what few calls have. A call that dials
// (or is given a dial's events) keeps there when each event of the dial
// came, since the call's start (dial, under the phases' lock), and the net
// package's trace of the call's hooks, which the dialer looks up in the
// request's context ([traceCtx.Value]), set before the room is published
// and never changed after. A call whose request body is counted as it is
// sent keeps the counts there (sent, set by RoundTrip before the base
// transport is called).
type rareRoom struct {
	dial [gotConn]time.Duration
	net  netTrace
	sent sentBody
}

// state returns the call's state p is the phases of: a phases is its
// callState's first field.
func (p *phases) state() *callState { return (*callState)(unsafe.Pointer(p)) }

// A phases must be its callState's first field for state's conversion:
// this constant does not compile otherwise (a uintptr cannot be negative).
const _ = -unsafe.Offsetof(callState{}.pt)

// rare returns the call's room for what few calls have, made by the
// first to ask: RoundTrip for a body it counts, a dial's first event
// (with the phases' lock held), or the dialer's look-up of the net
// package's trace (without it), which may race with the event.
func (st *callState) rare() *rareRoom {
	if r := st.pt.rare.Load(); r != nil {
		return r
	}
	r := new(rareRoom)
	setNet(&r.net, &st.hooks, &st.ctx.trace, &st.pt)
	if st.pt.rare.CompareAndSwap(nil, r) {
		return r
	}
	return st.pt.rare.Load()
}

// set notes that e came now, unless it came before.
func (p *phases) set(e event) {
	d := p.state().ctx.Call().Since()
	p.mu.Lock()
	if e < gotConn {
		p.dialLocked(e, d)
	} else {
		p.ownLocked(e, d)
	}
	p.mu.Unlock()
}

// setLocked notes that e came d after the start, unless it came before,
// with p.mu held. A dial's event that comes after the phases were handed
// over is not noted: it would make room that nothing reads.
func (p *phases) setLocked(e event, d time.Duration) {
	if e < gotConn {
		p.dialLocked(e, d)
		return
	}
	p.ownLocked(e, d)
}

// ownLocked is setLocked for an event of every call (gotConn and after),
// small enough to be inlined where every call takes it.
func (p *phases) ownLocked(e event, d time.Duration) {
	if p.seen&(1<<e) == 0 {
		p.at[e-gotConn] = d
		p.seen |= 1 << e
	}
}

// dialLocked is setLocked for a dial's event, noted in the call's rare
// room.
func (p *phases) dialLocked(e event, d time.Duration) {
	if p.seen&(1<<e) != 0 || p.ended() {
		return
	}
	p.state().rare().dial[e] = d
	p.seen |= 1 << e
}

// when returns when e came, since the call's start; e must have come.
func (p *phases) when(e event) time.Duration {
	if e >= gotConn {
		return p.at[e-gotConn]
	}
	return p.rare.Load().dial[e]
}

// hooks sets t's hooks to record into p, and n's as
// [httptrace.WithClientTrace] would set those of the net package's trace
// for t. Each closure captures one variable, p after as many words as a
// hookSet (hooks.go) lays out before p from that closure's code: the
// closures of a hookSet share one p, after all their code
// (TestHookClosuresCaptureOnlyP). The closures are in hookFields' order.
func (p *phases) hooks(t *httptrace.ClientTrace, n *netTrace) {
	q0 := after[[9]uintptr]{p: p}
	q1 := after[[8]uintptr]{p: p}
	q2 := after[[7]uintptr]{p: p}
	q3 := after[[6]uintptr]{p: p}
	q4 := after[[5]uintptr]{p: p}
	q5 := after[[4]uintptr]{p: p}
	q6 := after[[3]uintptr]{p: p}
	q7 := after[[2]uintptr]{p: p}
	q8 := after[[1]uintptr]{p: p}
	q9 := after[[0]uintptr]{p: p}
	*t = httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { q0.p.set(dnsStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { q1.p.set(dnsDone) },
		ConnectStart:      func(string, string) { q2.p.set(connStart) },
		ConnectDone:       func(string, string, error) { q3.p.set(connDone) },
		TLSHandshakeStart: func() { q4.p.set(tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { q5.p.set(tlsDone) },
		GotConn: func(info httptrace.GotConnInfo) {
			p := q6.p
			d := p.state().ctx.Call().Since()
			p.mu.Lock()
			// A second connection is a retry (see stuck).
			first := p.seen&(1<<gotConn) == 0
			p.ownLocked(gotConn, d)
			p.reused = info.Reused
			if first && p.unwritten == 0 {
				p.unwritten = 1
			} else {
				p.unwritten = stuck
			}
			p.mu.Unlock()
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			p := q7.p
			d := p.state().ctx.Call().Since()
			p.mu.Lock()
			p.ownLocked(wrote, d)
			if p.unwritten != stuck {
				p.unwritten--
			}
			p.mu.Unlock()
		},
		GotFirstResponseByte: func() { q8.p.set(firstByte) },
	}
	*n = netTrace{
		DNSStart:     func(string) { q0.p.set(dnsStart) },
		DNSDone:      func([]any, bool, error) { q9.p.set(dnsDone) },
		ConnectStart: t.ConnectStart,
		ConnectDone:  t.ConnectDone,
	}
}

// An endRoom is where a call's last attributes and its phases are made,
// on the stack of the function that ends it.
type endRoom struct {
	attrs  [2]recording.Attr
	phases [6]recording.Phase
}

// end returns the phases and the connection's reuse (unless it was set
// with the call's status: takeReused), to record once the call is over,
// d after its start (with [recording.ActiveCall.EndWith]), made in r: the
// first time only, as hooks may fire late. A phase's times
// are the events' offsets from the call's start, as the monotonic clock
// read them.
func (p *phases) end(r *endRoom, d time.Duration) recording.CallUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endLocked(r, d)
}

// endLocked is end with p.mu held.
func (p *phases) endLocked(r *endRoom, d time.Duration) recording.CallUpdate {
	if p.ended() {
		return recording.CallUpdate{}
	}
	p.seen |= endedBit
	seen, reused := p.seen, p.reused
	attrs := r.attrs[:0]
	// Not set with the status (an error, or a panic), and given a
	// connection: a call that never was (its proxy or dial failed) says
	// nothing of one.
	if seen&reusedBit == 0 && seen&(1<<gotConn) != 0 {
		attrs = append(attrs, recording.Attr{Key: convention.KeyHTTPConnectionReused, Value: strconv.FormatBool(reused)})
	}
	ph := r.phases[:0]
	came := func(e event) bool { return seen&(1<<e) != 0 }
	add := func(name string, from, to time.Duration) {
		ph = append(ph, recording.Phase{Name: name, Start: from, Duration: to - from})
	}
	span := func(name string, from, to event) {
		if came(from) && came(to) {
			add(name, p.when(from), p.when(to))
		}
	}
	if !reused {
		// A call given a connection already open dialed none of its own:
		// dial events it saw are of a dial net/http started for it and
		// then gave to another request, when a connection came free first.
		span("dns", dnsStart, dnsDone)
		span("connect", connStart, connDone)
		span("tls", tlsStart, tlsDone)
	}
	switch {
	case came(wrote) && (!came(firstByte) || p.when(wrote) <= p.when(firstByte)):
		var sendFrom time.Duration // the call's start
		if came(gotConn) {
			sendFrom = p.when(gotConn)
		}
		add("send", sendFrom, p.when(wrote))
		if came(firstByte) {
			add("wait", p.when(wrote), p.when(firstByte))
		}
	case came(firstByte):
		// The response came before the request was reported written: HTTP/2
		// writes a request on a goroutine of its own, whose WroteRequest
		// event may come after the first response byte, or after the whole
		// response was read. When the request went out is not known; say
		// so rather than leave the phases out, or time them by a late event.
		attrs = append(attrs, recording.Attr{Key: convention.KeyPhasesUnknown, Value: "send,wait"})
	}
	if came(firstByte) {
		add("receive", p.when(firstByte), d)
	}
	return recording.CallUpdate{Attrs: attrs, Phases: ph}
}
