package httpstats

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// NewHandler returns next wrapped so that every request the recorder's
// sampling and filters admit becomes a [recording.Record]: method, path,
// route, redacted query and headers, status, request and response bytes,
// duration, and every call made with the request's context (r.Context(), and
// contexts derived from it, also in other goroutines). Which requests are
// recorded is decided by rec alone ([recording.WithInclude],
// [recording.WithExclude]); leave the dashboard's own requests out with an
// exclusion such as recording.Filter{PathPrefix: "/stats/"}.
//
// The route is the [WithRouteFunc] hook's answer, else r.Pattern as set by
// [http.ServeMux] (both read after next returns), else, for a request no
// router matched, one route per method and status class such as
// "GET (unmatched 4xx)" (see Routes in the package documentation). ServeMux
// sets Pattern on the request it is given, so a middleware between this one
// and the mux that replaces the request (with r.WithContext, say) hides it:
// mount this middleware next to the mux, or give [WithRouteFunc] a way to
// find the route. W3C trace context is taken from the request through the
// recorder's propagator.
//
// Request and response bytes are body bytes that crossed the wire: none for
// the body a handler writes to a HEAD response (the server drops it), none
// for the request body of an "Expect: 100-continue" request the handler
// answered without reading it (the client never sent it; over HTTP/1 — the
// HTTP/2 server hides the Expect header from handlers, so there the
// Content-Length is counted), the bytes read for a body of unknown length.
// (Compression mounted outside this middleware changes what crosses the
// wire after it counted: see "With other middleware" in the package
// documentation.)
//
// A panicking handler is recorded with status 500 and the panic value, and
// the panic continues, as net/http expects. Flushing, hijacking, server push,
// ReadFrom and [http.ResponseController] work through the wrapped
// ResponseWriter.
//
// Mounted twice with one recorder — around a router and again around a
// handler under it — a request is recorded once, by the outer one, which
// sees the whole request; the inner passes it through unchanged, and gives
// the record the route and user its own hooks find (r.Pattern,
// [WithRouteFunc], [WithUser]), the innermost handler's first; its other
// options ([WithHeaders], [WithInstance]) are the outer's. This holds for
// a request the outer recorded, or one made from it that shares its header
// map (r.WithContext, as http.StripPrefix, chi's router and otelhttp do):
// one it did not record, sampled out or filtered, the inner decides on
// again, and a new request made with its context (a sub-request a handler
// serves in process, with httptest.NewRequestWithContext, say, or r.Clone)
// is a request of its own, recorded. Through middleware that gives the
// request a context of its own (chi's router, otelhttp), the inner passes
// the request through when the writer it is given is the outer's, or
// unwraps to it (otelhttp's does); through [http.TimeoutHandler], whose
// writer does not (its handler may outlive the outer's record), or a
// wrapper without Unwrap, each records the request. Handlers of two
// recorders each record it: mount one. (A context derived last with
// [context.WithCancel] is of the type of the one net/http gives a request:
// the inner tells the server's by the nodes under it, net/http's own, at
// the cost of a few loads, and searches any other for an outer record.)
//
// A nil rec gives a handler that records nothing.
func NewHandler(rec *recording.Recorder, next http.Handler, opts ...Option) http.Handler {
	return &handler{rec: rec, next: next, cfg: newConfig(opts)}
}

// NewMiddleware returns [NewHandler] in the func(http.Handler) http.Handler
// form routers such as chi use. The options are resolved once, here.
func NewMiddleware(rec *recording.Recorder, opts ...Option) func(http.Handler) http.Handler {
	cfg := newConfig(opts)
	return func(next http.Handler) http.Handler {
		return &handler{rec: rec, next: next, cfg: cfg}
	}
}

type handler struct {
	rec     *recording.Recorder
	next    http.Handler
	cfg     config
	writers writerTypes
	// setupCost is what starting to record a request was last measured
	// to cost (see measureEvery).
	setupCost atomic.Int64
}

// measureEvery is how often the handler reads the clock to measure what
// starting to record a request cost, which is charged to the record's
// overhead: on one request in measureEvery, picked by the record's random
// span ID; the others are charged the last measurement, which saves a
// clock read (~25–50 ns on a virtual machine) on most requests. It is a
// power of two.
const measureEvery = 8

// requestState is what the handler keeps for a recorded request, allocated
// with the record (recording.StartRecordWith).
type requestState struct {
	rw   respWriter
	body countingBody
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	if h.rec == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	if ctx := r.Context(); typeWord(&ctx) == recordCtxTab {
		// Told by the context's first node alone (recordCtxTab), a
		// load and a compare for a request no middleware recorded: a
		// look-up of the record through the whole context would walk
		// the server's four nodes, ~150 instructions a request.
		if a := recording.FromContext(ctx); a.Recorder() == h.rec && a.SameHeader(r.Header) {
			// Mounted twice: the request is recorded already, by
			// the outer, which sees all of it (see NewHandler). A
			// new request made with its context (a sub-request
			// served in process) has a header map of its own, and
			// is recorded.
			h.passThrough(a, w, r)
			return
		}
	} else if t := typeWord(&ctx); t != backgroundTab && (t != serverCtxTab || !serverMade(&ctx)) {
		// A context that is neither the record's nor one that carries
		// none — the one net/http gives a request (its first nodes
		// cancelCtxs over the server's values: serverMade),
		// context.Background (httptest.NewRequest's) —: middleware
		// between made it (chi's router, otelhttp, a WithCancel),
		// perhaps over an outer's record, which only a walk through it
		// finds.
		if a := h.outerRecord(ctx, w, r); a != nil {
			h.passThrough(a, w, r)
			return
		}
	}
	var ctx context.Context
	var tc recording.TraceContext
	// Given by address: a RequestInfo by value is copied into the call's
	// arguments. Set field by field: a composite literal is built aside
	// and copied in.
	var info recording.RequestInfo
	p := h.rec.Propagator()
	if _, w3c := p.(recording.W3CPropagator); w3c {
		// The default propagator, called directly rather than through
		// the interface, tc by address (a TraceContext returned is
		// copied twice); it leaves ctx as it is. Without a valid
		// traceparent (most requests to a service at the edge) tc stays
		// zero, and so do the info's trace fields: nothing to copy. With
		// one, both IDs are valid: Unsampled is !tc.Sampled.
		ctx = r.Context()
		if (recording.W3CPropagator{}).ExtractHeader(recording.HeaderCarrier(r.Header), &tc) {
			info.TraceID, info.ParentSpanID, info.TraceState = tc.TraceID, tc.SpanID, tc.State
			info.Unsampled, info.RandomTraceID = !tc.Sampled, tc.Random
		}
	} else {
		// Unsampled is tc.IsValid() && !tc.Sampled, asked of the IDs
		// themselves (IsValid's receiver is a copy of tc).
		ctx, tc = p.Extract(r.Context(), recording.HeaderCarrier(r.Header))
		info.TraceID, info.ParentSpanID, info.TraceState = tc.TraceID, tc.SpanID, tc.State
		info.Unsampled = !tc.Sampled && tc.TraceID.IsValid() && tc.SpanID.IsValid()
		info.RandomTraceID = tc.Random
	}
	pctx := ctx // what the propagator read: the caller's trace context, baggage
	info.Kind = recording.KindHTTP
	info.Method, info.Path, info.Header = r.Method, r.URL.Path, r.Header
	info.Start, info.Instance = t0, h.cfg.instance
	ctx, ar, st := recording.StartRecordFrom[requestState](h.rec, ctx, &info)
	if ar == nil {
		if tc.IsValid() || pctx != r.Context() {
			// Not recorded, but the caller's trace (sampled or not) and
			// baggage still pass through.
			r = r.WithContext(h.rec.ContextWithTrace(pctx, tc))
		}
		h.next.ServeHTTP(w, r)
		return
	}
	rw := &st.rw
	rw.w, rw.ar = w, ar
	// The request copy is an object of its own: kept in the state, it
	// would keep the request's header map alive as long as the record's
	// context or a queued record keeps the state (see "The request
	// path's eleventh round" in docs/BENCHMARKS-history.md).
	r2 := r.WithContext(ctx)
	var body *countingBody
	// http.NoBody is the body of every request without one that net/http
	// serves: told by its interface word alone (noBodyTab), which costs
	// less than looking up Expect in the header map, asked after it.
	if r.Body != nil && typeWord(&r.Body) != noBodyTab && (r.ContentLength < 0 || expectsContinue(r.Header)) {
		body = &st.body
		body.rc = r.Body
		r2.Body = body
	}
	if ar.Record().SpanID[len(recording.SpanID{})-1]%measureEvery == 0 { // the record's span: TraceContext's, without building it or copying the ID
		d := time.Since(t0)
		h.setupCost.Store(int64(d))
		ar.AddOverhead(d)
	} else {
		ar.AddOverhead(time.Duration(h.setupCost.Load()))
	}

	// The state lives with the ActiveRecord, which the finished record may
	// keep alive while it is queued (a call still running at the end):
	// it must not keep the response writer — and through it the
	// request with its headers — alive once the request is served. One
	// deferred function empties it and records a panic.
	// phase is where the request is: serving (the handler runs),
	// finishing (it returned, the record is being filled and finished)
	// or served. One variable, not two flags: the closure is built on
	// every request, each variable it shares one word more.
	phase := serving
	defer func() {
		// What it uses is few: the closure is built on every request.
		if phase == served {
			// Neither the handler nor a hook panicked: no recover,
			// a call into the runtime.
			*st = requestState{}
			return
		}
		v := recover()
		if v != nil && phase == serving {
			v = h.panicked(v, ar, r, r2, st)
		}
		// finishing: a hook of finish (route, user) panicked, and finish
		// ended the record all the same.
		*st = requestState{}
		if v != nil {
			panic(v)
		}
	}()
	ww := h.writers.wrapFirst(rw)
	if ww == nil {
		ww = h.writers.wrap(rw)
	}
	h.next.ServeHTTP(ww, r2)
	phase = finishing
	if typeWord(&r2.Body) == maxBytesTab {
		// The handler put an http.MaxBytesReader in r.Body (a load and
		// a compare for one that did not).
		rw.bodyLimitHit(r2.Body)
	}
	if t := h.writers.timeoutTab.Load(); t != nil && unsafe.Pointer(t) == typeWord(&rw.w) {
		// Inside a TimeoutHandler, which answers 503 if its time ran
		// out before the handler returned (a load and a branch for a
		// handler no TimeoutHandler wraps).
		rw.timedOut(r2.Context())
		// TimeoutHandler sends its header map as the handler left it,
		// when the handler returns: the length fixed at the status is
		// not the one sent.
		rw.flags &^= fDeclNone | fDeclLen
	}
	elapsed := time.Since(t0) // one monotonic clock read
	if h.cfg.routeFunc == nil && h.cfg.userFunc == nil {
		// finish's way without hooks, without the call to finish.
		h.copyHeaders(ar, r)
		h.fill(ar, r, r2, rw, body)
		ar.FinishAfter(elapsed)
	} else if hv := h.finish(ar, r, r2, rw, body, elapsed); hv != nil {
		panic(hv)
	}
	phase = served
}

// passThrough serves a request an outer handler of h's recorder records
// (mounted twice), unrecorded, and gives the outer's record a the route
// and user h's hooks find, which the outer keeps: h is nearer the router,
// and the innermost handler, which returns first, has the last word. A
// route or user found empty leaves the record's as it is.
func (h *handler) passThrough(a *recording.ActiveRecord, w http.ResponseWriter, r *http.Request) {
	h.next.ServeHTTP(w, r)
	rec := a.Record()
	if rec.Route == "" {
		route := ""
		if h.cfg.routeFunc != nil {
			route = h.cfg.routeFunc(r)
		}
		if route == "" {
			route = r.Pattern
		}
		rec.Route = route
	}
	if rec.User == "" && h.cfg.userFunc != nil {
		rec.User = h.cfg.userFunc(r)
	}
}

// outerRecord returns the record of an outer handler of h's recorder that
// records the request r, whose context ctx middleware between made (see
// NewHandler), or nil: the record ctx carries, of h's recorder, of a
// request that shares r's header map (as r.WithContext makes), when w is
// the outer's writer or wraps it (through Unwrap, as otelhttp's does). A
// writer that does not lead there may outlive the outer's record — that
// of [http.TimeoutHandler], whose handler runs in a goroutine of its own
// and may still run when TimeoutHandler has answered — and the request is
// then recorded by h, on its own, as is a request of a writer whose
// wrappers do not unwrap.
//
// The writer is asked first: through a writer that does not lead to the
// outer's, the outer's record may have ended, and is not to be read
// (SameHeader is for a goroutine the request waits for).
func (h *handler) outerRecord(ctx context.Context, w http.ResponseWriter, r *http.Request) *recording.ActiveRecord {
	a := recording.FromContext(ctx)
	if a == nil || a.Recorder() != h.rec {
		return nil
	}
	for range maxUnwrap {
		switch x := w.(type) {
		case rcShim:
			if x.ar == a && a.SameHeader(r.Header) {
				return a
			}
			return nil
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// maxUnwrap bounds the writers outerRecord unwraps to find an outer's.
const maxUnwrap = 16

// The phases of a request ServeHTTP serves.
const (
	serving = iota
	finishing
	served
)

// recordCtxTab is the first word of a context [recording.NewContext] made
// (the context a recorded request is served with) as a context.Context:
// the itab of its one node type (see typeWord).
var recordCtxTab = func() unsafe.Pointer {
	ctx := recording.NewContext(context.Background(), nil)
	return typeWord(&ctx)
}()

// serverCtxTab is the first word of a *context.cancelCtx as a
// context.Context: the context net/http's servers (HTTP/1 and HTTP/2) give
// each request, which carries no record; a request whose context is
// another's is asked for one (see handler.outerRecord).
var serverCtxTab = func() unsafe.Pointer {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return typeWord(&ctx)
}()

// serverMade reports whether ctx, a context whose first node is a
// *context.cancelCtx (serverCtxTab), is one net/http's servers give a
// request, which carries no record: a chain of cancelCtxs (HTTP/1's
// connection's and request's, HTTP/2's stream's) over a value node of
// [http.LocalAddrContextKey] or [http.ServerContextKey], which the servers
// add over a BaseContext's or ConnContext's values (or over
// context.Background). A cancelCtx over anything else — middleware's
// context.WithCancel over the record's context, or over a value of its
// own — is to be searched for an outer's record (handler.outerRecord).
// Told by the nodes' type words and a value node's key, read through the
// context package's layout (a node's parent its first field, a value
// node's key its second; checked once, ctxLayout): 15 instructions a
// request served by net/http (callgrind), where the search walks the
// whole context (~150).
func serverMade(ctx *context.Context) bool {
	if !ctxLayout {
		return false
	}
	// Through the cancelCtxs (net/http makes two, HTTP/1's connection's
	// and request's; a handler outside may add its own): a chain that
	// ends, each node's parent made before it.
	p := ctxParent(ctx)
	t := typeWord(p)
	for t == serverCtxTab {
		p = ctxParent(p)
		t = typeWord(p)
	}
	if t == valueCtxTab {
		k := ctxKey(p)
		return k == localAddrKey || k == serverKey
	}
	return t == backgroundTab
}

// ctxParent returns the parent of *ctx, a *context.cancelCtx or
// *context.valueCtx, whose first field it is (both embed their parent
// first).
func ctxParent(ctx *context.Context) *context.Context {
	return (*context.Context)((*[2]unsafe.Pointer)(unsafe.Pointer(ctx))[1])
}

// ctxKey returns the data word of the key of *ctx, a *context.valueCtx
// (struct{ Context; key, val any }): for a key of a pointer type, such as
// net/http's, the pointer. (One word compared, not two: comparing an
// interface's two words calls runtime.memequal, ~20 instructions. A key of
// another type that holds the same pointer could be made only with
// package unsafe.)
func ctxKey(ctx *context.Context) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Add((*[2]unsafe.Pointer)(unsafe.Pointer(ctx))[1], unsafe.Sizeof(*ctx)))[1]
}

// valueCtxTab is the first word of a *context.valueCtx as a
// context.Context (see serverMade).
var valueCtxTab = func() unsafe.Pointer {
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, nil)
	return typeWord(&ctx)
}()

// localAddrKey and serverKey are the data words of
// [http.LocalAddrContextKey] and [http.ServerContextKey] as keys of a value
// node, their pointers (see serverMade, ctxKey).
var localAddrKey, serverKey = dataWord(http.LocalAddrContextKey), dataWord(http.ServerContextKey)

func dataWord(v any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] }

// ctxLayout reports whether the context package's nodes are laid out as
// serverMade reads them (true of every Go release since context's own
// nodes embed their parent): checked on contexts made for the purpose,
// once — their types first, through package reflect (ctxLayoutOf), and
// only then their memory, read as serverMade reads it. Were it false,
// every request with a cancelCtx first would be searched for an outer's
// record (handler.outerRecord): correct, and ~150 instructions dearer.
var ctxLayout = func() bool {
	base := context.WithValue(context.Background(), http.LocalAddrContextKey, 1)
	c1, cancel1 := context.WithCancel(base)
	defer cancel1()
	c2, cancel2 := context.WithCancelCause(c1)
	defer cancel2(nil)
	if typeWord(&c1) != serverCtxTab || typeWord(&c2) != serverCtxTab || typeWord(&base) != valueCtxTab {
		return false
	}
	// c1 and c2 are of the type serverCtxTab stands for, base of
	// valueCtxTab's (their type words are those): the types serverMade
	// reads nodes of.
	if !ctxLayoutOf(reflect.TypeOf(c1), reflect.TypeOf(base)) {
		return false
	}
	p := ctxParent(&c2)
	return *p == c1 && *ctxParent(p) == base && *ctxParent(&base) == context.Background() && ctxKey(&base) == localAddrKey
}()

// ctxLayoutOf reports whether cancelT and valueT, the types of a
// context.WithCancel's and a context.WithValue's contexts, are laid out as
// ctxParent and ctxKey read them: pointers to structs whose first field
// is a context.Context at offset 0 (the parent), valueT's second its key,
// an interface, at offset unsafe.Sizeof of a context.Context. Told from
// the types alone, no memory read.
func ctxLayoutOf(cancelT, valueT reflect.Type) bool {
	ctxT := reflect.TypeFor[context.Context]()
	parentFirst := func(t reflect.Type) bool {
		if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().NumField() == 0 {
			return false
		}
		f := t.Elem().Field(0)
		return f.Type == ctxT && f.Offset == 0
	}
	if !parentFirst(cancelT) || !parentFirst(valueT) || valueT.Elem().NumField() < 2 {
		return false
	}
	k := valueT.Elem().Field(1)
	return k.Name == "key" && k.Type.Kind() == reflect.Interface && k.Offset == unsafe.Sizeof(context.Context(nil))
}

// backgroundTab is the first word of context.Background() as a
// context.Context (see serverCtxTab).
var backgroundTab = func() unsafe.Pointer {
	ctx := context.Background()
	return typeWord(&ctx)
}()

// noBodyTab is the first word of http.NoBody as an io.ReadCloser, its
// itab: NoBody's type has one value, so a body whose first word it is, is
// NoBody (see typeWord).
var noBodyTab = func() unsafe.Pointer {
	var b io.ReadCloser = http.NoBody
	return typeWord(&b)
}()

// maxBytesTab is the first word of an [http.MaxBytesReader] as an
// io.ReadCloser, its itab (see typeWord): ServeHTTP asks a request whose
// body it is whether the limit was hit (respWriter.bodyLimitHit).
var maxBytesTab = func() unsafe.Pointer {
	b := http.MaxBytesReader(nil, http.NoBody, 0)
	return typeWord(&b)
}()

// route returns the route of a finished request: the [WithRouteFunc]
// hook's answer, else the pattern [http.ServeMux] matched, else the route
// all unmatched requests of the method and status class share (never the
// raw path, which the client chooses), and whether a router gave it. The
// recorder cuts a long one ([recording.WithMaxName]).
func (h *handler) route(r *http.Request, status int) (route string, matched bool) {
	if h.cfg.routeFunc != nil {
		route = h.cfg.routeFunc(r)
	}
	if route == "" {
		route = r.Pattern
	}
	if route == "" {
		return convention.UnmatchedRoute(r.Method, status), false
	}
	return route, true
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}

// finish fills in and finishes the record of a request whose handler
// returned elapsed after the request's start. A route or user hook that
// panics does not leave the record unfinished (listed in flight, never
// written): it is finished with the panic, which finish returns for the
// caller to panic with again.
func (h *handler) finish(ar *recording.ActiveRecord, r, r2 *http.Request, rw *respWriter, body *countingBody, elapsed time.Duration) (hookPanic any) {
	h.copyHeaders(ar, r)
	if h.cfg.routeFunc == nil && h.cfg.userFunc == nil {
		// No hook: nothing of the user's runs here, nothing to recover
		// from (and no deferred function to pay for).
		h.fill(ar, r, r2, rw, body)
		ar.FinishAfter(elapsed)
		return nil
	}
	rec := ar.Record()
	defer func() {
		if v := recover(); v != nil {
			if rec.Panic == "" {
				rec.Panic = recording.PanicString(v)
			}
			ar.FinishAfter(elapsed)
			hookPanic = v
		}
	}()
	h.fill(ar, r, r2, rw, body)
	ar.FinishAfter(elapsed)
	return nil
}

// copyHeaders copies the request's headers into the record, when the
// handler records them ([recording.ActiveRecord.SetHeaders]): before
// fill, which reads the user agent from the copy. Inlined into its two
// callers, ServeHTTP and finish.
func (h *handler) copyHeaders(ar *recording.ActiveRecord, r *http.Request) {
	if h.cfg.headers {
		ar.SetHeaders(r.Header)
	}
}

// fill fills in the record of a request whose handler returned, for
// finish to finish it. The route and user hooks run here. Its callers
// have copied the request's headers into the record first (copyHeaders),
// so that the user agent is found in the copy; copied, as code outside
// this handler may still change r.Header. (Called by the callers rather
// than here: fill's arguments are then not kept across the call.)
func (h *handler) fill(ar *recording.ActiveRecord, r, r2 *http.Request, rw *respWriter, body *countingBody) {
	rec := ar.Record()
	// The attributes, each appended as it is known to the record's room
	// for them ([recording.ActiveRecord.AttrRoom], inlined), kept in this
	// function's variables in between and set in the record once: the
	// request's (url.scheme, network.protocol.version,
	// user_agent.original), then hijacked and unmatched when they apply.
	attrs := ar.AttrRoom()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, recording.Attr{Key: convention.KeyURLScheme, Value: scheme})
	if v := convention.HTTPProtocolVersion(r.ProtoMajor, r.ProtoMinor); v != "" {
		attrs = append(attrs, recording.Attr{Key: convention.KeyNetworkProtocolVersion, Value: v})
	}
	// The user agent: read from the record's copy of the headers when it
	// has one ([recording.ActiveRecord.KeptUserAgent], inlined, for the
	// common case; else [recording.ActiveRecord.KeptHeader]), which saves
	// a look-up in the request's header map. r.Header's keys are
	// canonical: indexing it is r.UserAgent() without canonicalizing the
	// name. (Here rather than in a function of its own, which the
	// compiler would not inline: its call cost ~15 instructions.)
	ua, ok := ar.KeptUserAgent()
	if !ok {
		ua, ok = ar.KeptHeader("User-Agent")
	}
	if !ok {
		if vs := r.Header["User-Agent"]; len(vs) > 0 {
			ua = vs[0]
		}
	}
	if ua != "" {
		attrs = append(attrs, recording.Attr{Key: convention.KeyUserAgentOriginal, Value: ua})
	}
	switch {
	case rw.hijacked:
		// The status written before hijacking (coder/websocket's 101),
		// else the one the handler wrote through the hijack's
		// bufio.ReadWriter (httputil.ReverseProxy's 101), else 0.
		rec.Status = int(rw.status)
		if hs := rw.hijackStatus(); rec.Status == 0 {
			rec.Status = hs
		}
		attrs = append(attrs, recording.Attr{Key: convention.KeyHTTPHijacked, Value: "true"})
	case rw.status == 0:
		rec.Status = http.StatusOK // net/http sends 200 for a handler that wrote nothing
	default:
		rec.Status = int(rw.status)
	}
	// A client leaving an event stream (Content-Type text/event-stream)
	// is how such a response ends, not a failure.
	if rw.sendErr != nil && rec.Error == "" && !eventStream(rw.w.Header()) {
		op := "flush: "
		if rw.flags&fWriteErr != 0 {
			op = "write: "
		}
		rec.Error = "response failed: " + op + rw.sendErr.Error()
	} else if rw.flags&fHeaderAsked != 0 && rw.flags&fDeclNone == 0 && rw.sendErr == nil && !rw.hijacked && r.Method != http.MethodHead && rec.Panic == "" && bodyAllowed(rec.Status) {
		// A body that does not match the Content-Length the handler
		// declared: HTTP/1 closes the connection after a short one,
		// HTTP/2 ends the stream, and the client reads an unexpected
		// EOF; HTTP/2 sends one longer than declared (HTTP/1 refuses
		// the write: sendErr), which the client refuses. The length is
		// the one sent, read when the status was fixed (respWriter.fix);
		// with none fixed, net/http sends the header as the handler
		// left it, which the map has now.
		msg := ""
		if rw.flags&fDeclLen != 0 {
			msg = lengthMismatch(int64(rw.declared), rw.written)
		} else if cl := rw.w.Header()["Content-Length"]; len(cl) > 0 {
			if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
				msg = lengthMismatch(n, rw.written)
			}
		}
		if msg != "" && rec.Error == "" {
			rec.Error = msg
		}
	}
	if r.ProtoMajor == 2 {
		// A gRPC server served through ServeHTTP (grpc-go's
		// Server.ServeHTTP): the call's outcome is its grpc-status
		// trailer, under an HTTP 200.
		attrs = grpcOutcome(rec, rw.w.Header(), attrs)
	}
	rec.ResponseBytes = rw.written
	if r.Method == http.MethodHead {
		rec.ResponseBytes = 0 // the server drops what a handler writes to a HEAD response
	}
	rec.RequestBytes = requestBytes(r, body)
	// The route. With a route hook, the attributes above are in the
	// record before it runs: a hook that panics leaves them in the record
	// finish ends all the same, and one that adds attributes of its own
	// (through the record) adds them after these. Without one, h.route's
	// call is saved: r.Pattern, else the route of unmatched requests.
	if rec.Route != "" {
		// An inner handler's (mounted twice: see passThrough).
		rec.Attrs = attrs
	} else if h.cfg.routeFunc != nil {
		rec.Attrs = attrs
		route, matched := h.route(r2, rec.Status)
		rec.Route = route
		if !matched {
			// The route is appstats' own, not the router's: exporters
			// give it no http.route.
			ar.AddAttr(convention.KeyRouteUnmatched, "true")
		}
	} else {
		route := r2.Pattern
		if route == "" {
			route = convention.UnmatchedRoute(r2.Method, rec.Status)
			attrs = append(attrs, recording.Attr{Key: convention.KeyRouteUnmatched, Value: "true"})
		}
		rec.Route = route
		rec.Attrs = attrs
	}
	// Redacted by the recorder's writer, off the request path, before any
	// sink sees it (recording.Redaction.Query).
	rec.Query = r.URL.RawQuery
	rec.Remote = r.RemoteAddr
	if h.cfg.userFunc != nil && rec.User == "" { // else an inner handler's (see passThrough)
		rec.User = h.cfg.userFunc(r2)
	}
}

// heldBack returns how many bytes of a body w holds back, sending
// neither them nor the header, until the handler returns or flushes, or
// writes more: for net/http's own writers, the size of the buffer a
// response's body is written into, HTTP/1's bufferBeforeChunkingSize
// (2 KiB; the header goes to the connection with the bytes that overflow
// it) and HTTP/2's handlerChunkWriteSize (4 KiB). A panicking handler's
// buffer is dropped (HTTP/1 flushes the connection's own buffer only,
// which holds nothing of the response before that overflow; HTTP/2
// resets the stream), so a body no longer than that sent nothing. Any
// other writer (a wrapper between, [http.TimeoutHandler]'s) holds back
// nothing as far as the record knows: 0, and a body written counts as
// sent. (HTTP/1's ReadFrom flushes after copying 512 bytes, on a
// connection that has ReadFrom: see respWriter.readFrom.)
func heldBack(w http.ResponseWriter) int64 {
	switch reflect.TypeOf(w).String() {
	case "*http.response":
		return 2 << 10
	case "*http.http2responseWriter":
		return 4 << 10
	}
	return 0
}

// heldBytes returns the bytes of the body that w, net/http's own HTTP/1
// or HTTP/2 writer, holds in its buffer (see heldBack), unsent: at a
// panic they are dropped. It is read with reflect (the buffer's count, a
// bufio.Writer's n, through net/http's unexported fields; no value is
// taken out of them), once a panicking request. -1 for any other writer,
// or should a Go release rename the fields (the record then takes the
// body written as sent, past heldBack's size; TestPanicPartialBodyBytes
// fails).
func heldBytes(w http.ResponseWriter) int64 {
	v := reflect.ValueOf(w)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return -1
	}
	v = v.Elem()
	var bw reflect.Value
	switch v.Type().String() {
	case "http.response":
		bw = v.FieldByName("w")
	case "http.http2responseWriter":
		rws := v.FieldByName("rws")
		if rws.Kind() != reflect.Pointer || rws.IsNil() || rws.Elem().Kind() != reflect.Struct {
			return -1
		}
		bw = rws.Elem().FieldByName("bw")
	default:
		return -1
	}
	if !bw.IsValid() || bw.Type() != reflect.TypeFor[*bufio.Writer]() || bw.IsNil() {
		return -1
	}
	n := bw.Elem().FieldByName("n")
	if n.Kind() != reflect.Int {
		return -1
	}
	return n.Int()
}

// panicked records the panic v of the handler of a request that st,
// r2 and ar are the state, the request and the record of, finishes the
// record, and returns what to panic with: v, or the panic of a route or
// user hook.
func (h *handler) panicked(v any, ar *recording.ActiveRecord, r, r2 *http.Request, st *requestState) any {
	rec := ar.Record()
	rec.Panic = recording.PanicString(v)
	if errors.Is(asError(v), http.ErrAbortHandler) {
		rec.Error = "handler aborted"
	}
	rw := &st.rw
	// A flush was made: one got through, or (HTTP/2) one failed that
	// began while the request was live, which may have sent the header
	// (see respWriter.flushed).
	flushed := rw.flags&fFlushed != 0 || r.ProtoMajor == 2 && rw.flushMaybeMade()
	held := int64(-1)
	if !rw.hijacked && rw.wrote() {
		held = heldBytes(rw.w)
	}
	switch {
	case held > 0 && (flushed || rw.written > held):
		// Some of the body left net/http's buffer, with the header:
		// what is still in it is dropped, and never reached the
		// client.
		rw.written = max(rw.written-held, 0)
	case held >= 0 && !flushed && rw.written <= held:
		held = -2 // all of it is held back: as below
	}
	if !rw.hijacked && (!rw.wrote() || held == -2 || held == -1 && !flushed && rw.written <= heldBack(rw.w)) {
		// Recorded as the 500 the client sees as a failure; no
		// response is sent, though (net/http drops the connection, or
		// resets the stream): the handler wrote nothing, or set a
		// status and wrote no more of a body than net/http holds back
		// (heldBack: it sends the header with the body's first bytes
		// past that, or at a flush, and drops what it holds at a
		// panic), and did not flush.
		rw.status = http.StatusInternalServerError
		rw.written = 0
		ar.AddAttrs(recording.Attr{Key: convention.KeyHTTPNoResponse, Value: "true"})
	}
	var body *countingBody
	if st.body.rc != nil { // ServeHTTP counts the request's body
		body = &st.body
	}
	if hv := h.finish(ar, r, r2, rw, body, time.Since(ar.Start())); hv != nil {
		return hv
	}
	return v
}

// requestBytes returns the bytes of r's body that crossed the wire: its
// Content-Length, as the client sends the body unasked — unless the client
// waits for "100 Continue", which the server sends when the handler starts
// reading: then the body came only if the handler read some of it. A body of
// unknown length is counted as the handler reads it.
func requestBytes(r *http.Request, body *countingBody) int64 {
	switch {
	case body == nil:
		return max(r.ContentLength, 0)
	case r.ContentLength < 0:
		return body.n.Load()
	case body.n.Load() > 0:
		return r.ContentLength
	}
	return 0
}

// expectsContinue reports whether a request's header asks for "100 Continue"
// before the body is sent. (The HTTP/2 server takes the Expect header out of
// the request it hands over, so there the body is taken as sent.)
func expectsContinue(h http.Header) bool {
	for _, v := range h["Expect"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "100-continue") {
				return true
			}
		}
	}
	return false
}

// countingBody counts the bytes a handler reads from a request body of
// unknown length.
type countingBody struct {
	rc io.ReadCloser
	n  atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// bodyAllowed reports whether a response of the status has a body, and
// with it a Content-Length that says the body's length: not 1xx, 204 or
// 304 (whose Content-Length is the length of the representation a GET
// would get, as for a HEAD request).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// lengthMismatch returns the record's error for a response body of
// written bytes whose Content-Length declared decl bytes (a length: net/http
// drops a Content-Length that is not one, and sends the body as it comes),
// or "" when they agree.
func lengthMismatch(decl, written int64) string {
	if decl == written {
		return ""
	}
	d := strconv.FormatInt(decl, 10)
	if written < decl {
		return "response failed: body cut short: " + strconv.FormatInt(written, 10) + " of the " + d + " bytes its Content-Length declared"
	}
	return "response failed: body longer than its Content-Length: " + strconv.FormatInt(written, 10) + " bytes written, " + d + " declared"
}

// eventStream reports whether h describes a Server-Sent Events response,
// whose client leaving is its normal end.
func eventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "text/event-stream")
}

// grpcOutcome records the outcome of a gRPC call a handler served (a gRPC
// server mounted as an http.Handler), from the grpc-status and
// grpc-message trailers it set in h: the status as rpc.response.status_code
// appended to attrs, and a code other than OK as the record's error (the
// message, else the code's name), as grpcstats records it. A response
// without grpc-status changes nothing.
func grpcOutcome(rec *recording.Record, h http.Header, attrs []recording.Attr) []recording.Attr {
	vs := h["Grpc-Status"]
	if len(vs) == 0 {
		vs = h[http.TrailerPrefix+"Grpc-Status"]
	}
	if len(vs) == 0 {
		return attrs
	}
	code, err := strconv.Atoi(vs[0])
	if err != nil || code < 0 {
		return attrs
	}
	attrs = append(attrs, recording.Attr{Key: convention.KeyRPCResponseStatusCode, Value: convention.GRPCStatusName(code)})
	if code != 0 && rec.Error == "" {
		msg := h.Get("Grpc-Message")
		if msg == "" {
			msg = h.Get(http.TrailerPrefix + "Grpc-Message")
		}
		if m, err := url.PathUnescape(msg); err == nil {
			msg = m // gRPC percent-encodes the message
		}
		if msg == "" {
			msg = convention.GRPCStatusName(code)
		}
		rec.Error = msg
	}
	return attrs
}
