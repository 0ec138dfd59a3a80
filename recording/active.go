package recording

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

type ctxKey struct{}

// nilParent is what a function of this package that makes a context node
// over a nil context panics with at once, as [context.WithValue] does,
// rather than return a node whose Value, Done or Deadline panics later.
const nilParent = "cannot create context from nil parent"

// scopeKey finds the innermost recording scope of a context in one walk: a
// *recordCtx (a request), a *callCtx (inside a call, as its own operation)
// or a *parentCtx or *doCtx (inside a call, as a part of it).
type scopeKey struct{}

// NewContext returns a copy of ctx that carries a. Calls started with the
// returned context, or any context derived from it, are recorded into a. A
// nil a hides any record ctx carries: calls made with the returned context
// are not recorded. A nil ctx panics at once, as [context.WithValue]'s nil
// parent does.
func NewContext(ctx context.Context, a *ActiveRecord) context.Context {
	if ctx == nil {
		panic(nilParent)
	}
	if a != nil && a.ctx.Context == nil {
		// The context node lives inside the record: no allocation.
		a.ctx = recordCtx{Context: ctx, a: a}
		return &a.ctx
	}
	return &recordCtx{Context: ctx, a: a}
}

// recordCtx is a context.Context node carrying an ActiveRecord, like the one
// context.WithValue makes.
type recordCtx struct {
	context.Context
	a *ActiveRecord
}

func (c *recordCtx) Value(key any) any {
	// A switch on the key's type compares type words alone; the keys
	// are empty structs, so the type is the key.
	switch key.(type) {
	case ctxKey:
		return c.a
	case scopeKey:
		return c
	}
	return c.Context.Value(key)
}

func (c *recordCtx) String() string { return "recording.NewContext" }

// FromContext returns the record being made for ctx's request, or nil.
func FromContext(ctx context.Context) *ActiveRecord {
	if ctx == nil {
		return nil
	}
	a, _ := ctx.Value(ctxKey{}).(*ActiveRecord)
	return a
}

// callCtx is the context node of [ContextWithCall]: inside call c, as the
// operation c records. Its Context is the context it was made over, or,
// when that is a [NewContext] node, the context under that node
// ([pastRecord]).
type callCtx struct {
	context.Context
	c *ActiveCall
}

// pastRecord returns the context a callCtx made over ctx forwards to: the
// context under ctx when ctx is a [NewContext] node (a recordCtx) that
// need not be kept, and ctx otherwise. A recordCtx answers two keys, ctxKey
// and scopeKey, which a callCtx answers itself, and forwards every other
// key, Deadline, Done and Err to the context under it: a callCtx over it
// and one over the context under it answer every question alike, and the
// second spares each question that passes a call's context (net/http asks
// the context of every outgoing request for its nearest cancel context,
// twice for Done, and for its own keys) a dynamic call. The record's own
// node is kept until its answer to [HasClientTrace] is kept on the record,
// so that a call's node asked first still finds the node whose answer
// [lookUpClientTrace] keeps; a call's node made after that gives the kept
// answer through [keptUnder].
func pastRecord(ctx context.Context) context.Context {
	if r, ok := ctx.(*recordCtx); ok && r != nil && r.Context != nil {
		if a := r.a; a == nil || r != &a.ctx || a.traceOnCtx.Load() != traceUnknown {
			return r.Context
		}
	}
	return ctx
}

// Value returns the record of the call's request for [FromContext], the
// call for the wrappers and hooks of this package, and ctx's values for
// every other key: the context is ctx's, inside the call.
func (c *callCtx) Value(key any) any {
	// A switch on the key's type compares type words alone; the keys
	// are empty structs, so the type is the key.
	switch key.(type) {
	case ctxKey:
		return c.c.a
	case scopeKey:
		return c
	}
	return c.Context.Value(key)
}

// String names the context node, as the context package's own do, for
// fmt and debugging: "recording.ContextWithCall".
func (c *callCtx) String() string { return "recording.ContextWithCall" }

// parentCtx is the context node of [ContextWithParent] and [Do]: inside
// call c, as work that c is made of.
type parentCtx struct {
	context.Context
	c *ActiveCall
}

func (c *parentCtx) Value(key any) any {
	// A switch on the key's type compares type words alone; the keys
	// are empty structs, so the type is the key.
	switch key.(type) {
	case ctxKey:
		return c.c.a
	case scopeKey:
		return c
	}
	return c.Context.Value(key)
}

func (c *parentCtx) String() string { return "recording.ContextWithParent" }

// doCtx is the context node of [Do]: the call c itself, inside which it
// is what ContextWithParent(c.ctx, c) returns, without a node of its own
// (a parentCtx in the slot took three words).
type doCtx ActiveCall

func (c *doCtx) Deadline() (deadline time.Time, ok bool) { return c.ctx.Deadline() }
func (c *doCtx) Done() <-chan struct{}                   { return c.ctx.Done() }
func (c *doCtx) Err() error                              { return c.ctx.Err() }

func (c *doCtx) Value(key any) any {
	// A switch on the key's type compares type words alone; the keys
	// are empty structs, so the type is the key.
	switch key.(type) {
	case ctxKey:
		return c.a
	case scopeKey:
		return c
	}
	return c.ctx.Value(key)
}

func (c *doCtx) String() string { return "recording.ContextWithParent" }

// A Scope is what a context says of recording, found in one walk up it by
// [ScopeOf]: the context, the record it carries and its innermost call
// mark. A wrapper that would ask [FromContext], [CallFromContext] and
// [ParentFromContext] of one context (middleware/httpstats' transport does,
// for each call) asks ScopeOf once and the Scope's methods instead: their
// answers are those of the three functions for the context the Scope was
// found in, which make the same walk and the same tests. The zero Scope is
// that of a context with no record.
type Scope struct {
	ctx  context.Context
	a    *ActiveRecord
	mark *ActiveCall
	own  bool
}

// ScopeOf returns what ctx says of recording, in one walk up it.
func ScopeOf(ctx context.Context) Scope {
	a, mark, own := scopeOf(ctx)
	return Scope{ctx: ctx, a: a, mark: mark, own: own}
}

// Record returns what [FromContext] returns for the context s was found in.
func (s Scope) Record() *ActiveRecord { return s.a }

// Call returns what [CallFromContext] returns for the context s was found
// in.
func (s Scope) Call() *ActiveCall {
	if s.own {
		return s.mark
	}
	return s.a.callIn(s.ctx, s.mark)
}

// Parent returns what [ParentFromContext] returns for the context s was
// found in.
func (s Scope) Parent() *ActiveCall { return s.a.parentIn(s.ctx, s.mark) }

// scopeOf returns the record ctx carries and the call its innermost call
// mark names (nil when the innermost scope is the request itself), and
// whether that mark is a [ContextWithCall] one: one walk up the context.
// A context with no record node answers nil, as does a record node of
// NewContext(ctx, nil), for ctxKey too: FromContext(ctx) is scopeOf's a.
func scopeOf(ctx context.Context) (a *ActiveRecord, mark *ActiveCall, own bool) {
	if ctx == nil {
		return nil, nil, false
	}
	switch s := ctx.Value(scopeKey{}).(type) {
	case *recordCtx:
		return s.a, nil, false
	case *callCtx:
		return s.c.a, s.c, true
	case *parentCtx:
		return s.c.a, s.c, false
	case *doCtx:
		return s.a, (*ActiveCall)(s), false
	}
	return nil, nil, false
}

// ContextWithCall returns a copy of ctx that says it is inside the recorded
// call c, as the operation c records. Wrappers that record a call (an HTTP
// transport, a gRPC interceptor, a database/sql driver, or code that uses
// [StartCall] by hand) should pass such a context to the code that performs
// the call, so that other instrumentation running underneath —
// OpenTelemetry spans bridged into records by package otelexport, or
// middleware/httpstats' transport — knows the call is already recorded and
// does not record it twice. Calls that are recorded under it all the same
// (the socket a transport dials, say) are children of c: their
// [Call.ParentSpanID] is c's span. The returned context belongs to c's
// record. A nil c returns ctx unchanged; otherwise a nil ctx panics at
// once, as [context.WithValue]'s nil parent does.
//
// To record the calls some work makes as children of c — the HTTP requests
// a report builder makes, say — use [ContextWithParent] instead, which does
// not stop wrappers from recording them.
func ContextWithCall(ctx context.Context, c *ActiveCall) context.Context {
	if c == nil {
		return ctx
	}
	if ctx == nil {
		panic(nilParent)
	}
	return &callCtx{Context: pastRecord(ctx), c: c}
}

// ContextWithParent returns a copy of ctx that says it is inside the
// recorded call c, as work c is made of: calls started with the returned
// context (by [StartCall], [Do], or any wrapper) are recorded as usual, as
// children of c — their [Call.ParentSpanID] is c's span — so that the
// dashboard draws them under c and counts their time once. [Do] passes such
// a context to its function. The returned context belongs to c's record. A
// nil c returns ctx unchanged; otherwise a nil ctx panics at once, as
// [context.WithValue]'s nil parent does.
//
//	c := recording.StartCall(ctx, "report", "Build")
//	err := build(recording.ContextWithParent(ctx, c)) // its HTTP calls nest under report.Build
//	c.End(err)
func ContextWithParent(ctx context.Context, c *ActiveCall) context.Context {
	if c == nil {
		return ctx
	}
	if ctx == nil {
		panic(nilParent)
	}
	return &parentCtx{Context: ctx, c: c}
}

// CallFromContext returns the recorded call ctx is inside of as that call's
// own operation, or nil: the call of the innermost [ContextWithCall], or one
// that a [CallFinder] of ctx's record finds inside the innermost
// [ContextWithParent] (or the request). A context under [ContextWithParent]
// alone is inside no such call: the calls made there are calls of their
// own.
func CallFromContext(ctx context.Context) *ActiveCall {
	a, mark, own := scopeOf(ctx)
	if own {
		return mark
	}
	return a.callIn(ctx, mark)
}

// callIn returns the call that a CallFinder of a finds in ctx, whose
// innermost call mark is mark (not a ContextWithCall one), inside mark,
// or nil.
func (a *ActiveRecord) callIn(ctx context.Context, mark *ActiveCall) *ActiveCall {
	if a == nil {
		return nil
	}
	if fs := a.finders.Load(); fs != nil {
		for _, f := range *fs {
			if c := f.FindCall(ctx); c != nil && c.a == a && (mark == nil || c.within(mark)) {
				return c
			}
		}
	}
	return nil
}

// ParentFromContext returns the recorded call that a call started with ctx
// would be a child of, or nil: the call of the innermost [ContextWithCall]
// or [ContextWithParent], or a call inside it that a [ParentFinder] of ctx's
// record finds (an OpenTelemetry span bridged by package otelexport). It is
// how [StartCall] and [Do] find a call's parent; wrappers that start calls
// with [ActiveRecord.StartChildAt] use it too.
func ParentFromContext(ctx context.Context) *ActiveCall {
	a, mark, _ := scopeOf(ctx)
	return a.parentIn(ctx, mark)
}

// parentIn returns the parent of a call of a started with ctx, whose
// innermost call mark is mark: mark, or a call inside it that a
// ParentFinder finds.
func (a *ActiveRecord) parentIn(ctx context.Context, mark *ActiveCall) *ActiveCall {
	if a == nil {
		return nil
	}
	fs := a.finders.Load()
	if fs == nil {
		return mark
	}
	for _, f := range *fs {
		pf, ok := f.(ParentFinder)
		if !ok {
			continue
		}
		if c := pf.FindParent(ctx); c != nil && c.a == a && c != mark && (mark == nil || c.within(mark)) {
			return c
		}
	}
	return mark
}

// keptParentSpan returns the span of c's nearest ancestor that Discard did
// not remove, or zero: the parent of c in a record, when c's own parent was
// removed. c.a.mu must be held.
func (c *ActiveCall) keptParentSpan() SpanID {
	p := c.parent
	for p != nil && p.discarded() {
		p = p.parent
	}
	if p == nil {
		return SpanID{}
	}
	return p.span
}

// maxDepth bounds the walk up a call's parents.
const maxDepth = 256

// within reports whether c is p or a call made inside p, at any depth. A
// call's parent is set before the call is published and never changes, so
// the walk needs no lock.
func (c *ActiveCall) within(p *ActiveCall) bool {
	for i := 0; c != nil && i < maxDepth; i++ {
		if c == p {
			return true
		}
		c = c.parent
	}
	return false
}

// A CallFinder finds the recorded call a context is inside of, for
// instrumentation that records calls but cannot mark the contexts under them
// with [ContextWithCall] — package otelexport's bridge, whose calls are
// OpenTelemetry spans that the context carries. FindCall returns nil for a
// context inside none of its calls; it may be called from any goroutine.
type CallFinder interface {
	FindCall(ctx context.Context) *ActiveCall
}

// A ParentFinder is a [CallFinder] that also finds the call a context is
// inside of as a part of it, the way [ContextWithParent] says so: package
// otelexport's bridge returns the call of the span the context carries,
// whatever its kind, so that calls started under an INTERNAL span are its
// children. FindParent returns nil for a context inside none of its calls;
// it may be called from any goroutine.
type ParentFinder interface {
	CallFinder
	FindParent(ctx context.Context) *ActiveCall
}

// AddCallFinder makes [CallFromContext] ask f about contexts of a's request
// that carry no call of [ContextWithCall], and, if f is a [ParentFinder],
// makes [ParentFromContext] (and so [StartCall]) ask it for their parents.
// Adding a finder a has already (the same pointer, or an equal comparable
// value) has no effect.
func (a *ActiveRecord) AddCallFinder(f CallFinder) {
	if a == nil || f == nil {
		return
	}
	comparable := reflect.TypeOf(f).Comparable()
	for {
		old := a.finders.Load()
		var fs []CallFinder
		if old != nil {
			if comparable && slices.Contains(*old, f) {
				return
			}
			fs = append(fs, *old...)
		}
		fs = append(fs, f)
		if a.finders.CompareAndSwap(old, &fs) {
			return
		}
	}
}

// An ActiveRecord is a record in the making: the request has started and has
// not ended. Calls are added to it through its context from any goroutine.
//
// A nil *ActiveRecord is valid and records nothing.
type ActiveRecord struct {
	rec   *Recorder
	start time.Time
	// r is the record being made, handed to the sinks by FinishAt: from
	// the recorder's pool when its sinks borrow records (see [Borrower]).
	// Nothing reads it after FinishAt; trace and span are kept apart for
	// the calls that ask later.
	r         *Record
	trace     TraceID
	span      SpanID
	unsampled bool                // Record.Unsampled, for the calls that ask after FinishAt
	random    bool                // Record.RandomTraceID, likewise; in unsampled's padding
	pcsBefore int32               // frames of stacks in the buffers a outgrew (growPCsLocked), under mu; in unsampled's padding
	ctx       recordCtx           // set once, by the first NewContext
	hdr       map[string][]string // request headers, for route-time filters
	state     string              // incoming tracestate

	mu sync.Mutex
	// Calls have slots in chunks, filled in the order the calls start:
	// the calls of the record are those of the used slots of its chunks,
	// in order, but those discarded. Each slot points to its call, in the
	// record's array of calls (r.spare.calls, see callLocked).
	chunks [][]ActiveCall
	// inline holds the first chunks' slice headers: two, which keeps an
	// ActiveRecord with a wrapper's state (middleware/httpstats') within
	// the 384-byte size class (its TestRequestStateSizeClass); four would
	// take it to 448. A record needs a third chunk only past three times the calls
	// its first holds (twelve when it starts at four), and then allocates
	// its list of chunks (append's), beside chunks that take far more.
	inline  [2][]ActiveCall
	used    int32     // slots used in the last chunk
	spans   uint32    // span IDs made for calls (see callSpanLocked)
	lastPCs []uintptr // the raw stack of the last call started that has one, which the next one may share
	live    int32     // calls kept: started, not discarded
	dropped int32     // calls over MaxCalls (at most math.MaxInt32), in live's word
	// slab is the chunk of a wrapper's values that [Alloc] carves from,
	// under mu; nil once the record has ended.
	slab  *slab
	ended bool
	// Rooms for calls' attributes and phases ([ActiveCall.Reserve]) are
	// carved from slabs: nextRoom is the next free room of the last slab,
	// roomsLeft how many are free from it on, roomsMade how many rooms a's
	// calls took (wrapping past 65,535: a slab is then sized by less).
	// The two counts lie in ended's padding.
	roomsLeft uint8
	roomsMade uint16
	// slot is a's place in the recorder's in-flight table: index+1, -1
	// unlisted, 0 none. It is no field of mu's: the goroutines that start
	// and finish a use it. (Beside ended, it takes no room of its own.)
	slot     int32
	nextRoom *callRoom // see roomsLeft
	// callCost is what starting a call was last measured to cost; the
	// calls in between measurements are charged that (see startCallAt).
	callCost atomic.Int64

	overhead atomic.Int64
	finders  atomic.Pointer[[]CallFinder] // see AddCallFinder
	// finished is set by the first FinishAt: a second one (a caller
	// finishing twice) must not queue the record again, which may by then
	// be another request's (see Borrower).
	finished atomic.Bool
	// traceOnCtx is whether ctx carries an httptrace.ClientTrace, once
	// asked (see HasClientTrace): traceUnknown, traceNone or traceFound.
	// It lies in finished's padding.
	traceOnCtx atomic.Uint32

	// link ties a to a long-lived connection: for the connection's own
	// record, its stream's head (set by StartStream, under mu); for a
	// message's record, the message (set before a is listed). One pointer
	// for both keeps a record within its allocation size class.
	link atomic.Pointer[Message]
}

// Calls take slots from chunks that the record allocates as it needs
// them: the first one holds as many calls as the last record that made
// calls made (at least minChunk, at most maxFirstChunk), each next one
// twice as many as the one before, up to maxChunk. The calls themselves
// are made in the record's array of calls (see callLocked), which FinishAt
// makes the record's Calls as it lies, and which is reused with the record
// when its sinks borrow records (see Borrower). A request that makes no
// call allocates none; a service whose requests make ten calls each
// allocates one chunk of slots a request, and its array of calls when its
// records are kept (by memstore, say), not reused.
const (
	minChunk      = 4
	maxFirstChunk = 32
	maxChunk      = 256
)

// slotSize is the size of a call's slot (callSlotBytes on 64-bit
// platforms), callSize that of a call (224 bytes).
const (
	slotSize = int(unsafe.Sizeof(ActiveCall{}))
	callSize = int(unsafe.Sizeof(Call{}))
)

// callsPast2688 is how many calls a fresh array of calls takes in place of
// one that would fall in the 2,688-byte size class (above 2,304 bytes,
// with the allocator's header of an object with pointers over 512 bytes):
// as many as the 3,072-byte class holds. The allocator's spans of the
// 2,688-byte class hold three objects (8 KB), those of the 3,072-byte
// class eight (24 KB): a service whose requests make eleven calls would
// refill its cache of spans every third request, not every eighth, which
// cost more instructions a call (~+30 under callgrind) than the 384 bytes
// saved (see docs/BENCHMARKS-history.md, "Cheaper recorded calls, thirteenth
// round": that was of chunks of slots that held their calls).
const callsPast2688 = (3072 - mallocHeader) / callSize

// mallocHeader is the header the allocator puts before an object with
// pointers of more than 512 bytes, on 64-bit platforms.
const mallocHeader = 8

// measureEvery is how often starting a call reads the clock a second time
// to measure its own cost, which is charged to the record's overhead: the
// first call of a record and every measureEvery-th after it. The calls in
// between are charged the last measurement, which saves a clock read
// (~25–50 ns on a virtual machine) on most calls.
const measureEvery = 8

// Record returns the record being made, for the goroutine that started it to
// fill in request fields (Status, Route, sizes, Attrs, …) before
// [ActiveRecord.Finish]. Its Calls are assembled by Finish; they must not be
// set here. Finish cuts the strings set here to the recorder's byte caps
// ([WithMaxName], [WithMaxText], [WithMaxAttrs], [WithMaxHeaders]). It is not
// safe to use from other goroutines, nor after Finish: the record then
// belongs to the sinks, and its memory may be reused for another request
// (see [Borrower]).
func (a *ActiveRecord) Record() *Record {
	if a == nil {
		return nil
	}
	return a.r
}

// AddAttrs appends attributes to the record's [Record.Attrs]; the first
// four take no allocation. Like [ActiveRecord.Record], it is for the
// goroutine that started the record, before [ActiveRecord.Finish]; a call
// after Finish (from a goroutine that outlived the handler) is ignored:
// the record belongs to the sinks, its memory perhaps to another request.
func (a *ActiveRecord) AddAttrs(attrs ...Attr) {
	if a == nil || len(attrs) == 0 || a.finished.Load() {
		return
	}
	r := a.r
	if r.Attrs == nil && len(attrs) <= len(spare{}.attrs) {
		// The first ones, into the record's room for them, one by one:
		// append's copy of attributes, which hold pointers, goes
		// through typedslicecopy and its bulk write barrier (~60
		// instructions for four), where a store is one check.
		dst := r.spare.attrs[:len(attrs)]
		for i := range dst {
			dst[i] = attrs[i]
		}
		r.Attrs = dst
		return
	}
	// More than the room holds, when Attrs is nil: an array of their
	// own, the room left unused.
	r.Attrs = append(r.Attrs, attrs...)
}

// AddAttr appends one attribute to the record's [Record.Attrs], as
// AddAttrs(Attr{Key: key, Value: value}) does: into the record's room for
// the first four, without an allocation. It is small enough for the
// compiler to inline, so a wrapper adding a few attributes one at a time
// writes each straight into the record, not into an array of its own
// copied by AddAttrs. Like [ActiveRecord.Record], it is for the goroutine
// that started the record, before [ActiveRecord.Finish]; a call after
// Finish is ignored.
func (a *ActiveRecord) AddAttr(key, value string) {
	if a == nil || a.finished.Load() {
		return
	}
	r := a.r
	attrs := r.Attrs
	if attrs == nil {
		attrs = r.spare.attrs[:0]
	}
	r.Attrs = append(attrs, Attr{Key: key, Value: value})
}

// SetServerSpan notes the span ID of a SERVER span (the first that fits
// wins) that an instrumentation mounted inside the wrapper (otelhttp's
// handler, seen by otelexport's bridge) started for the same request:
// finish adds it to the record's [Record.Attrs] as appstats.span.parent,
// for exporters to make it the parent of the record's span. The span fits
// when the record is an HTTP record ([KindHTTP]) whose [Record.ParentSpanID]
// is parent, whose [Record.Path] is path, and whose [Record.Method], by the
// conventions' name for it (a known method in upper case, "_OTHER" for
// another, "GET" for none), is method: the fields set when the record
// started, compared by the record itself, so no code of the caller's runs
// while it holds its lock. Unlike [ActiveRecord.AddAttr] it is safe from
// any goroutine, such as one that a timeout handler between the wrapper
// and the instrumentation runs the handler in. An invalid ID is not
// noted; a set after [ActiveRecord.FinishAt] (once the record has ended,
// when its memory may be another request's, see [Borrower]) has no
// effect.
func (a *ActiveRecord) SetServerSpan(id, parent SpanID, method, path string) {
	if a == nil || !id.IsValid() {
		return
	}
	a.mu.Lock()
	if !a.ended && a.r.spare.reserved == 0 && a.serverSpanFits(parent, method, path) {
		a.r.spare.setServerSpan(id)
	}
	a.mu.Unlock()
}

// serverSpanFits reports whether a SERVER span with that parent, method
// and path is the request's (see SetServerSpan). Called with mu held and
// the record not ended: its fields are the request's.
func (a *ActiveRecord) serverSpanFits(parent SpanID, method, path string) bool {
	r := a.r
	if r.Kind != KindHTTP || r.ParentSpanID != parent || r.Path != path {
		return false
	}
	m, _ := convention.HTTPMethod(r.Method)
	return m == method
}

// AttrRoom returns the record's [Record.Attrs] to append to: the
// attributes set so far, or, when there are none (Attrs is nil), an empty
// slice of the record's room for its first four attributes, which
// appending fills without an allocation. The caller appends its
// attributes and sets Record().Attrs to the result; until then the
// record does not have them. It is AddAttr's way for a wrapper that adds
// several attributes at once: the slice stays in the caller's variables
// between them, where AddAttr loads it from the record and stores it back
// for each. Appending to it changes no attribute the record has. It is
// small enough for the compiler to inline. A nil ActiveRecord gives nil,
// and then has no record to set. Like [ActiveRecord.Record], it is for
// the goroutine that started the record, before [ActiveRecord.Finish]; a
// call after Finish gives nil, and its record must not be set then.
func (a *ActiveRecord) AttrRoom() []Attr {
	if a == nil || a.finished.Load() {
		return nil
	}
	r := a.r
	if attrs := r.Attrs; attrs != nil {
		return attrs
	}
	return r.spare.attrs[:0]
}

// Recorder returns the recorder a belongs to.
func (a *ActiveRecord) Recorder() *Recorder {
	if a == nil {
		return nil
	}
	return a.rec
}

// SameHeader reports whether h is the header map of a's request, the
// [RequestInfo.Header] a was started with, while a runs: h is then that
// request's, or a request's made from it that shares its map (as
// r.WithContext, [net/http.StripPrefix] and [net/http.ServeMux] make;
// a new request, and r.Clone, have maps of their own). Middleware mounted
// twice on one recorder (middleware/httpstats') asks it to tell the
// request the outer one records from a new request made with its
// context. A nil a or h, or an a that has finished, reports false. Call it
// while a's request is served, on a goroutine the request waits for.
func (a *ActiveRecord) SameHeader(h map[string][]string) bool {
	return a != nil && h != nil && *(*unsafe.Pointer)(unsafe.Pointer(&h)) == *(*unsafe.Pointer)(unsafe.Pointer(&a.hdr))
}

// ContextErr returns the Err of the context a was started in (the one
// given to [StartRecordFrom], [Recorder.StartRecord] or the first
// [NewContext] of a): nil while it goes on, and once it is done why — for
// a request net/http serves, its client gone or its stream reset. A nil a,
// or one never put in a context, reports nil. Middleware asks it, before
// a send, to tell whether the send may have reached the client
// (middleware/httpstats' flushes).
func (a *ActiveRecord) ContextErr() error {
	if a == nil || a.ctx.Context == nil {
		return nil
	}
	return a.ctx.Context.Err()
}

// Start returns the request's start time.
func (a *ActiveRecord) Start() time.Time {
	if a == nil {
		return time.Time{}
	}
	return a.start
}

// AddOverhead adds d to the record's [Record.Overhead]; wrappers call it with
// the time they spent recording.
func (a *ActiveRecord) AddOverhead(d time.Duration) {
	if a != nil {
		a.overhead.Add(int64(d))
	}
}

// Finish ends the request at the current time; see [ActiveRecord.FinishAt].
func (a *ActiveRecord) Finish() { a.FinishAt(time.Now()) }

// FinishAt ends the request at end: calls still running are kept with the
// Running flag, calls started afterwards are counted as late, and the record
// is queued for the sinks unless a route filter excludes it. It must be called
// once, by the goroutine that started the record; a later call (or one of
// Finish or FinishAfter) has no effect. An end before the start gives the
// record a duration of zero. The time from end until
// the record is queued counts as recording overhead, so a caller that does
// its own finishing work (status, route, headers) after taking end is
// charged for it without reading the clock again.
func (a *ActiveRecord) FinishAt(end time.Time) {
	if a == nil {
		return
	}
	a.finish(end.Sub(a.start))
}

// FinishAfter is [ActiveRecord.FinishAt] with the end given as the time
// elapsed since the request's start ([ActiveRecord.Start]), such as
// time.Since(start) taken when the handler returned: it spares the caller
// and the record the time.Time arithmetic of an end time.
func (a *ActiveRecord) FinishAfter(d time.Duration) {
	if a == nil {
		return
	}
	a.finish(d)
}

// finish is FinishAt, with the request's duration (none below zero: an
// end before the start). Only the first call has an effect.
func (a *ActiveRecord) finish(d time.Duration) {
	if !a.finished.CompareAndSwap(false, true) {
		return
	}
	r := a.r
	r.Duration = max(d, 0)
	d = r.Duration
	rec := a.rec
	cfg := &rec.cfg
	// A message passed the filters with its connection.
	admitted := r.Kind == KindMessage || !cfg.filtered() || rec.admitRoute(r.Method, r.Path, r.Route, a.hdr)
	a.hdr = nil // the request's headers: the queued record must not keep them alive
	if !admitted {
		a.mu.Lock()
		a.ended = true
		a.dropSlabLocked()
		a.freezeLocked()     // the calls' array goes back with r
		r.spare.reserved = 0 // SetServerSpan's word
		a.mu.Unlock()
		rec.filtered.Add(1)
		rec.inflight.remove(a)
		rec.release(r)
		return
	}
	s := a.stream()
	if s != nil {
		// A Close recording its event (from another goroutine, such as
		// one a context's end started) records it before the record
		// ends; one after finds the stream closed.
		s.closing.Lock() // unlocked once the stream is folded in, below
	}
	a.mu.Lock()
	a.ended = true
	a.dropSlabLocked()
	// SetServerSpan's ID, set under mu until the record ended: no set
	// lands after this.
	server := r.spare.serverSpan()
	r.spare.reserved = 0
	if a.chunks != nil {
		// Once ended, a's calls are never changed again (every setter
		// checks frozenLocked), so they pass to the record as they are,
		// in their array; those still running are copied.
		a.handOverLocked(r)
	}
	if n := a.live; n > 0 {
		if rec.callHint.Load() != int32(n) {
			rec.callHint.Store(int32(n)) // a store only when it changes: the line is read by every request
		}
		if f := a.pcsBefore + int32(len(r.spare.pcs)); f > 0 && rec.frameHint.Load() != f {
			rec.frameHint.Store(f)
		}
		if m := int32(a.roomsMade); m > 0 && rec.roomHint.Load() != m {
			rec.roomHint.Store(m)
		}
	}
	if r.Route == "" {
		r.Route = a.liveRoute()
	}
	r.DroppedCalls += int(a.dropped)
	// The sinks may keep r: do not keep the ActiveCalls alive with it.
	// Of inline, only the chunks' first slice headers were set (none
	// when no call was made), each emptied by a store: fewer
	// instructions than clear's call through the runtime for one or two.
	// A record that made no call has no chunk, and no last stack (set
	// only by a call given a slot): nothing to empty, nor stores to pay.
	if a.chunks != nil {
		for i := range min(len(a.chunks), len(a.inline)) {
			a.inline[i] = nil
		}
		a.chunks, a.lastPCs = nil, nil
	}
	a.mu.Unlock()
	if a.dropped > 0 {
		rec.droppedCalls.Add(uint64(a.dropped))
	}
	if s != nil {
		if s.closed.CompareAndSwap(false, true) {
			// The handler returned without closing the stream: it ends
			// with its request.
			r.Calls = append(r.Calls, Call{Service: "event", Method: "close", Start: r.Duration,
				Request: "the handler returned", RequestSize: -1, ResponseSize: -1, SpanID: NewSpanID(), Event: true})
		}
		s.fold(r)
		if r.Status == 0 {
			r.Status = s.status // written where its server wrapper did not see it
		}
		s.closing.Unlock()
	}
	if m := a.message(); m != nil {
		r.Attrs = append(r.Attrs, m.attrs()...)
	}
	attrBytes := cfg.capRecord(r)
	if server.IsValid() {
		// After the caps, which it is exempt from (like the count of
		// attributes they left out): an exporter needs it whole.
		attrs := r.Attrs
		if attrs == nil {
			attrs = r.spare.attrs[:0]
		}
		parent := Attr{Key: convention.KeySpanParent, Value: server.String()}
		r.Attrs = append(attrs, parent)
		attrBytes += sizeAttr + int64(len(parent.Key)+len(parent.Value))
	}
	// Finishing is measured, like a call's start, on one record in
	// measureEvery (picked by its random span ID), and until one is
	// measured, and charged the last measurement otherwise: a clock read
	// saved on most records.
	cost := rec.finishCost.Load()
	if cost == 0 || r.SpanID[len(r.SpanID)-1]%measureEvery == 0 {
		cost = int64(max(a.since()-d, 0))
		rec.finishCost.Store(cost)
	}
	r.Overhead += time.Duration(a.overhead.Load() + cost)
	rec.enqueue(r, attrBytes)
	// Listed until queued: once no record is listed, every finished one
	// has reached the queue, and Close delivers it. (inflight.remove's
	// way for a record listed in a slot, most, without its call.)
	if j := a.slot - 1; j >= 0 {
		rec.inflight.slots[j].Store(nil)
		a.slot = 0
	} else {
		rec.inflight.remove(a)
	}
}

// handOverLocked makes a's kept calls r's Calls, in the array they were
// recorded in, and takes from each slot its pointer to its call (see
// frozenLocked): from here on the array is r's, reused with r for the
// next request when its sinks borrow records (see Borrower), so no slot
// may read or write it again, nor the rooms of r's array of rooms (see
// spareRoomLocked). Calls discarded are left out, the calls after them
// moved down; a call still running gets a copy of its own to go on in,
// with copies of its slices and no room (see Record.FinalCall).
// When the calls are not all in the array (it was full, and replaced:
// see callLocked), they are copied into a new one. a.mu must be held, a
// must have ended and have made a call.
func (a *ActiveRecord) handOverLocked(r *Record) {
	calls := r.spare.calls
	inPlace := &calls[0] == a.chunks[0][0].c // the array holds every call, in the slots' order
	if inPlace && int(a.live) == len(calls) && takeEnded(calls) {
		// Every call ended, none was discarded: the array as it lies,
		// the slots' state taken out.
		r.Calls = calls
		a.freezeLocked()
		return
	}
	used := len(calls) // the calls taken from the array: each slot's
	dst := calls
	if !inPlace {
		// The first calls are in an array replaced since.
		dst, used = make([]Call, a.live), int(a.live)
	}
	if int(a.live) < a.slotsLocked() {
		// A call was discarded: its children are adopted by its nearest
		// kept ancestor, while the slots still read their calls' state.
		a.adoptLocked()
	}
	k := 0
	for i, chunk := range a.chunks {
		if i == len(a.chunks)-1 {
			chunk = chunk[:a.used]
		}
		for j := range chunk {
			ac := &chunk[j]
			src := ac.c
			if src.slot == slotDiscarded {
				ac.c = nil
				continue
			}
			c := &dst[k]
			if src.slot == 0 {
				// Still running: it goes on in a copy of its own.
				// The record keeps the call's slices as they are (in a
				// room of the record's own array, reused with it: see
				// spareRoomLocked); the call goes on in copies of its
				// own, and takes no room of the record's again.
				live := new(Call)
				*live = *src
				live.Running = true // the slot's: it ran at the end
				live.Attrs = slices.Clone(src.Attrs)
				live.Phases = slices.Clone(src.Phases)
				ac.c, ac.room = live, nil
				if c != src {
					*c = *src
				}
				c.Running = true
				c.Duration = r.Duration - c.Start
				if r.live == nil {
					r.live = new([]liveCall)
				}
				*r.live = append(*r.live, liveCall{i: k, ac: ac})
			} else {
				ac.c = nil
				if c != src {
					*c = *src
				}
			}
			c.slot = 0                 // the slot's, not the record's
			if n := c.dropped; n > 0 { // SetAttr capped the others
				c.Attrs = append(c.Attrs[:len(c.Attrs):len(c.Attrs)], droppedAttrs(int(n)))
				c.dropped = 0
			}
			k++
		}
	}
	if k > 0 {
		r.Calls = dst[:k]
	}
	// The spare's length is what its next reset zeroes: every call taken
	// from the array, those moved from too.
	r.spare.calls = dst[:used]
}

// takeEnded reports whether every call of calls has ended (none
// discarded, none running), by its slot's state, and if so takes the
// slots' state out of them, as a record's calls have it: the state zero,
// the attributes over the cap noted. Otherwise it leaves calls as they
// were.
func takeEnded(calls []Call) bool {
	var dropped int32
	for i := range calls {
		c := &calls[i]
		if c.slot != slotEnded {
			for j := range i {
				calls[j].slot = slotEnded // as they were: they had all ended
			}
			return false
		}
		c.slot = 0
		dropped |= c.dropped
	}
	if dropped != 0 {
		for i := range calls {
			c := &calls[i]
			if n := c.dropped; n > 0 { // SetAttr capped the others
				c.Attrs = append(c.Attrs[:len(c.Attrs):len(c.Attrs)], droppedAttrs(int(n)))
				c.dropped = 0
			}
		}
	}
	return true
}

// freezeLocked takes from each slot of a its pointer to its call (see
// frozenLocked). a.mu must be held.
func (a *ActiveRecord) freezeLocked() {
	for i, chunk := range a.chunks {
		if i == len(a.chunks)-1 {
			chunk = chunk[:a.used]
		}
		for j := range chunk {
			chunk[j].c = nil
		}
	}
}

// slotsLocked returns how many slots a's calls took, discarded ones too.
// a.mu must be held.
func (a *ActiveRecord) slotsLocked() int {
	n := int(a.used)
	for _, chunk := range a.chunks[:len(a.chunks)-1] {
		n += len(chunk)
	}
	return n
}

// adoptLocked gives each kept call of a whose parent was discarded the
// span of its nearest kept ancestor as its parent's. a.mu must be held,
// and a's slots must still read their calls.
func (a *ActiveRecord) adoptLocked() {
	a.callsLocked(func(ac *ActiveCall) bool {
		if p := ac.parent; p != nil && p.discarded() {
			ac.c.ParentSpanID = ac.keptParentSpan() // its parent was removed: the nearest kept ancestor adopts it
		}
		return true
	})
}

// liveRoute is the route known while a runs: its stream's or its
// message's, else "".
func (a *ActiveRecord) liveRoute() string {
	l := a.link.Load()
	switch {
	case l == nil:
		return ""
	case l == &l.s.head:
		return l.s.route
	}
	return l.route
}

// stream returns the stream a is the connection's record of, or nil.
func (a *ActiveRecord) stream() *Stream {
	if l := a.link.Load(); l != nil && l == &l.s.head {
		return l.s
	}
	return nil
}

// message returns the message a is the record of, or nil.
func (a *ActiveRecord) message() *Message {
	if l := a.link.Load(); l != nil && l != &l.s.head {
		return l
	}
	return nil
}

// An ActiveCall is a call in progress, returned by [StartCall]. End it with
// [ActiveCall.End]. Its methods are safe for concurrent use; a nil
// *ActiveCall (no request is being recorded) ignores every method. Its
// setters still change an ended call until its record ends (a wrapper may
// learn a size or an attribute after End); once the record has ended —
// also from a goroutine that outlives the request — every method has no
// effect: the record keeps the call as it was then.
type ActiveCall struct {
	a *ActiveRecord
	// c is the call, in the record's array of calls (spare.calls, see
	// callLocked), which FinishAt makes the record's Calls as it lies
	// (see handOverLocked); guarded by a.mu once published. FinishAt sets
	// it to nil (see frozenLocked): the array is then the record's, and
	// the next request's when the record is reused (see Borrower), so no
	// slot may read or write it after that. A call still running then
	// gets a copy of its own to go on in (see Record.FinalCall). Its
	// unexported fields slot (see slotState) and dropped (attributes over
	// the recorder's cap, not kept) are the ActiveCall's: they lie in the
	// room Call's flags leave, where fields here would take a word.
	c *Call
	// room is what Reserve allocated for the call's attributes and phases,
	// taken by the first attribute and the first phase set.
	room   *callRoom
	parent *ActiveCall // the call this one was made inside of; set before publication, never changed
	// ctx is the context Do was given: the call itself, as a *doCtx, is
	// the context Do passes to its function (no allocation).
	ctx context.Context
	// span and start are c.SpanID and c.Start, set before publication and
	// never changed, kept here for what reads them without the lock or
	// after the end (SpanID, StartTime, Since, a child's parent): c is
	// not theirs to read then.
	span  SpanID
	start time.Duration
}

// slotState is the state of a call's slot (Call.slot), guarded by the
// record's lock: zero while the call runs. (That the call had not ended
// when its record did, and may still end for Record.FinalCall, is the
// slot's Call.Running: see frozenLocked.)
type slotState uint8

const (
	slotEnded     slotState = 1 // the call has ended
	slotDiscarded slotState = 2 // Discard removed the call; its children take its parent
)

// callSlotBytes is the size of an ActiveCall on 64-bit platforms: its
// call lies in the record's array of calls, not in the slot (which took
// 264 bytes with it), so that ten slots take the 640-byte size class.
// TestCallSlotSizeClass checks it.
const callSlotBytes = 64

// ended and discarded read the slot's state in its call: with a.mu held,
// for a call not frozen (see frozenLocked).
func (c *ActiveCall) ended() bool     { return c.c.slot != 0 } // ended or discarded
func (c *ActiveCall) discarded() bool { return c.c.slot == slotDiscarded }

// callRoom is the room [ActiveCall.Reserve] makes: the attributes and the
// phases of an HTTP client call (see [ActiveCall.Reserve]), in one
// allocation.
type callRoom struct {
	attrs  [reservedAttrs]Attr
	phases [reservedPhases]Phase
}

// reservedAttrs and reservedPhases are how many attributes and phases
// [ActiveCall.Reserve] makes room for: a callRoom of 288 bytes, a size
// class of its own (six phases took the 384-byte class, where most HTTP
// calls, on a connection already open, set three).
const (
	reservedAttrs  = 6
	reservedPhases = 3
)

// StartCall starts recording a call made for the request in ctx. If ctx
// carries no recorded request, it returns nil at almost no cost. The service
// and method are names, cut to the recorder's [WithMaxName].
//
// End the call with c.End(err) where the error is known — not with
// defer c.End(err), which would evaluate err too early.
//
// The call's parent ([Call.ParentSpanID]) is the call ctx is inside of, if
// any (see [ParentFromContext]): the call of a [Do] whose function made
// it, of a [ContextWithParent] or [ContextWithCall].
func StartCall(ctx context.Context, service, method string) *ActiveCall {
	if s, ok := ctx.(*recordCtx); ok && s.a != nil && s.a.finders.Load() == nil {
		// ctx is the request's own context, as a middleware passes it
		// on, and its record has no finders: the record, and no parent,
		// without a call to Value. This path calls nothing else, so that
		// the arguments stay in registers, unspilled.
		return s.a.startCallAt(service, method, false, -1, 0, nil)
	}
	return startCallIn(ctx, service, method)
}

// startCallIn is StartCall for a context other than a record's own, or
// a record with finders.
func startCallIn(ctx context.Context, service, method string) *ActiveCall {
	var a *ActiveRecord
	var parent *ActiveCall
	if s, ok := ctx.(*recordCtx); ok {
		a = s.a // a request's own context: no call mark
	} else {
		a, parent, _ = scopeOf(ctx)
	}
	if a == nil {
		return nil
	}
	if a.finders.Load() != nil {
		parent = a.parentIn(ctx, parent)
	}
	return a.startCallAt(service, method, false, -1, 0, parent)
}

// StartCall starts a call in a directly, as a child of no other call; see
// the function [StartCall].
func (a *ActiveRecord) StartCall(service, method string) *ActiveCall {
	if a == nil {
		return nil
	}
	return a.startCall(service, method, false)
}

// StartCallAt is StartCall for wrappers that learn of a call from another
// instrumentation, such as the OpenTelemetry bridge in package otelexport: the
// call started at start (zero means now) and has the span ID span (zero means
// a new one), so that the call lines up with the span that was propagated. A
// call cannot start before its request: a start before [ActiveRecord.Start]
// is taken as the request's start, so offsets are never negative.
func (a *ActiveRecord) StartCallAt(service, method string, start time.Time, span SpanID) *ActiveCall {
	if a == nil {
		return nil
	}
	return a.startCallAt(service, method, false, a.offset(start), binary.BigEndian.Uint64(span[:]), nil)
}

// StartChild is [ActiveRecord.StartCall] for a call made inside parent, a
// call of a: wrappers that found a with [FromContext] pass
// [ParentFromContext] of the same context, so that the calls they record
// inside a [Do] nest under it. A nil parent, or one of another record,
// makes a call of no parent.
func (a *ActiveRecord) StartChild(parent *ActiveCall, service, method string) *ActiveCall {
	// StartChildAt's, for a zero start (now) and span (a new one), written
	// out: the HTTP transport starts every call here, and the call to
	// StartChildAt, with its time and span to convert, cost a fifth of
	// startCallAt's own.
	if a == nil {
		return nil
	}
	if parent != nil && parent.a != a {
		parent = nil
	}
	return a.startCallAt(service, method, false, -1, 0, parent)
}

// StartChildAt is [ActiveRecord.StartCallAt] for a call made inside parent,
// a call of a (from [ParentFromContext], say); a nil parent, or one of
// another record, makes a call of no parent.
func (a *ActiveRecord) StartChildAt(parent *ActiveCall, service, method string, start time.Time, span SpanID) *ActiveCall {
	if a == nil {
		return nil
	}
	if parent != nil && parent.a != a {
		parent = nil
	}
	return a.startCallAt(service, method, false, a.offset(start), binary.BigEndian.Uint64(span[:]), parent)
}

func (a *ActiveRecord) startCall(service, method string, event bool) *ActiveCall {
	return a.startCallAt(service, method, event, -1, 0, nil)
}

// since returns the time elapsed since the request's start, read from the
// monotonic clock alone: one clock read where time.Now makes two (wall and
// monotonic), and no time.Time arithmetic. Calls keep their times as such
// offsets. On virtual machines a read costs ~25–50 ns, a large part of a
// recorded call's budget.
func (a *ActiveRecord) since() time.Duration { return time.Since(a.start) }

// offset returns the offset of start from the request's start, none below
// zero, or -1 (now) for a zero start: a call's start for startCallAt.
func (a *ActiveRecord) offset(start time.Time) time.Duration {
	if start.IsZero() {
		return -1
	}
	return max(start.Sub(a.start), 0)
}

// startCallAt starts a call of a, of parent if not nil, that started at
// offset off from the request's start (below zero: now), with span ID span
// as a number (zero: a new one). Its nine words of arguments all go in
// registers (a time.Time and a SpanID would make it twelve, partly passed
// through memory).
func (a *ActiveRecord) startCallAt(service, method string, event bool, off time.Duration, span uint64, parent *ActiveCall) *ActiveCall {
	t0 := a.since()
	if off < 0 {
		off = t0
	}
	cfg := &a.rec.cfg
	capString(&service, cfg.maxName)
	capString(&method, cfg.maxName)
	a.mu.Lock()
	if !a.roomLocked() {
		a.mu.Unlock()
		return nil
	}
	// A fresh slot: the newest chunk's next, else a new chunk's first.
	var ac *ActiveCall
	if n := len(a.chunks); n > 0 && int(a.used) < len(a.chunks[n-1]) {
		ac = &a.chunks[n-1][a.used]
		a.used++
	} else {
		ac = a.newChunkLocked()
	}
	a.live++
	// A slot is fresh, zero memory (chunks are never reused), and so is
	// its call (see callLocked): only the fields that are not zero are
	// written.
	c := a.callLocked()
	ac.a, ac.c = a, c
	c.Service, c.Method = service, method
	c.Start, ac.start = off, off
	c.RequestSize, c.ResponseSize = -1, -1
	if span == 0 {
		ac.span = a.callSpanLocked()
	} else {
		binary.BigEndian.PutUint64(ac.span[:], span)
	}
	c.SpanID = ac.span
	c.Event = event
	if parent != nil {
		ac.parent = parent
		c.ParentSpanID = parent.span // set before publication, never changed
	}
	if cfg.maxStack > 0 {
		// The stack is captured with the lock held, straight into the
		// free end of the record's buffer of stacks: no buffer to zero
		// on this goroutine's stack, and no copy.
		buf := a.r.spare.pcs
		if cap(buf)-len(buf) < stackBuf {
			buf = a.growPCsLocked()
		}
		if pcs, fresh := captureStack(buf[len(buf):len(buf)+stackBuf], a.lastPCs); len(pcs) > 0 {
			// A call made from the same place as the one before it (a
			// loop) shares its stack (pcs is lastPCs), which the writer
			// symbolizes once. A new one was captured into the buffer's
			// free end, which grows over it (a.r.spare.pcs is buf; read
			// again, rather than kept across the capture), and is the
			// one the next call compares with.
			ac.c.setRawStack(pcs)
			if fresh {
				a.r.spare.pcs = a.r.spare.pcs[:len(a.r.spare.pcs)+len(pcs)]
				a.lastPCs = pcs
			}
		}
	}
	n := a.live
	a.mu.Unlock()
	cost := a.callCost.Load()
	if uint(n)%measureEvery == 1 { // n > 0: the modulo of an unsigned number is a mask
		cost = int64(a.since() - t0)
		a.callCost.Store(cost)
	}
	a.overhead.Add(cost)
	return ac
}

// callSpanLocked returns a new span ID for a call of a: the record's
// random span ID, plus the number of span IDs made before times an odd
// constant, through splitmix64's finalizer. The finalizer is a bijection,
// so the calls of a record never share an ID; the IDs look as random as
// the record's own, and cost no random bits. a.mu must be held.
func (a *ActiveRecord) callSpanLocked() SpanID {
	seed := binary.BigEndian.Uint64(a.span[:])
	for {
		a.spans++
		if z := mix64(seed + uint64(a.spans)*0x9e3779b97f4a7c15); z != 0 {
			var s SpanID
			binary.BigEndian.PutUint64(s[:], z)
			return s
		}
	}
}

// growPCsLocked makes room for a stack of stackBuf frames after the end of
// the record's buffer of stacks (memory without pointers, which the
// garbage collector does not scan, reused with the record when its sinks
// borrow records), and returns the buffer. a.mu must be held, and a must
// not have ended.
//
// A buffer that has none is first sized by the frames the last record's
// stacks took (frameHint), plus stackBuf: a record whose stacks take as
// many grows it no further, as every capture finds stackBuf slots free.
// Calls made from one place (a loop) share one stack, so ten of them take
// one stack's frames, not ten (the buffer was sized for ten stacks of
// stackBuf/2 frames: 1,280 bytes for ten calls, where the fanout's one
// stack takes ~20 frames). A buffer that is full grows to twice its size;
// earlier calls keep the old array, which stays valid.
func (a *ActiveRecord) growPCsLocked() []uintptr {
	buf := a.r.spare.pcs
	a.pcsBefore += int32(len(buf))
	n := 2 * cap(buf)
	if n == 0 {
		n = min(int(a.rec.frameHint.Load()), maxFirstChunk*stackBuf/2) + stackBuf
	}
	buf = slices.Grow(buf[len(buf):], max(n, stackBuf))
	a.r.spare.pcs = buf
	return buf
}

// callsLocked calls yield for each call of a that is kept (started, not
// discarded), in the order they started, until yield returns false. a.mu
// must be held.
func (a *ActiveRecord) callsLocked(yield func(*ActiveCall) bool) {
	for i, chunk := range a.chunks {
		if i == len(a.chunks)-1 {
			chunk = chunk[:a.used]
		}
		for j := range chunk {
			if ac := &chunk[j]; !ac.discarded() && !yield(ac) {
				return
			}
		}
	}
}

// newChunkLocked adds a chunk of fresh slots for calls to a, with a.mu
// held, and returns its first: the first chunk sized by the recorder's
// callHint, each next one twice the one before, within minChunk, maxChunk
// and the call limit. (Chunks are never reused: a slot is zero memory.)
// For the first, it makes sure the record's array of calls has room for
// as many calls as the hint says (see firstCalls): a reused record's
// (see Borrower) usually has.
func (a *ActiveRecord) newChunkLocked() *ActiveCall {
	var n int
	if len(a.chunks) == 0 {
		a.chunks = a.inline[:0]
		h := int(a.rec.callHint.Load())
		if m := a.firstCalls(h); cap(a.r.spare.calls) < m {
			a.r.spare.calls = make([]Call, 0, m)
		}
		n = min(h, maxFirstChunk)
	} else {
		n = 2 * len(a.chunks[len(a.chunks)-1])
	}
	n = min(max(n, minChunk), maxChunk, a.rec.cfg.maxCalls)
	c := make([]ActiveCall, n)
	a.chunks = append(a.chunks, c)
	a.used = 1
	return &c[0]
}

// callLocked returns the call for a new slot, with a.mu held: the next of
// the record's array of calls, spare.calls, whose length is the calls
// taken from it, one a slot, in the order the slots are. It is zero
// memory: a fresh array, or a reused record's, which reset zeroed. A full
// array is replaced by one twice its size; the calls in the old one stay
// there, and FinishAt copies them all into one array.
func (a *ActiveRecord) callLocked() *Call {
	sp := a.r.spare
	n := len(sp.calls)
	if n == cap(sp.calls) {
		sp.calls, n = make([]Call, 0, 2*n), 0
	}
	sp.calls = sp.calls[:n+1] // the length alone is stored
	return &sp.calls[n]
}

// firstCalls returns how many calls the array of calls of a record is
// made for that starts with the recorder's callHint at hint: as many, at
// least minChunk, at most maxChunk and the call limit, and never of the
// 2,688-byte size class (see callsPast2688).
func (a *ActiveRecord) firstCalls(hint int) int {
	n := min(max(hint, minChunk), maxChunk, a.rec.cfg.maxCalls)
	if b := n*callSize + mallocHeader; b > 2304 && b <= 2688 {
		n = min(callsPast2688, a.rec.cfg.maxCalls)
	}
	return n
}

// newRoomLocked returns a fresh room for a call of a, with a.mu held.
// When a's record is reused (its sinks borrow records, see Borrower), the
// room is the next of the record's own array of rooms (see spareRoomLocked),
// kept with it from one request to the next. Otherwise it is the next free
// room of a's last slab, else the first of a new slab. A slab holds as
// many rooms as the last record that took rooms took and a has not taken
// yet (roomHint less roomsMade), rounded down to 1, 3, 7 or 11 (see
// roomSlab): a record of ten HTTP calls takes its rooms in two
// allocations (7 and 3) where it took ten. A slab's rooms share its
// lifetime, which is the record's: the record's calls keep them. (Slabs
// are never reused: a room is zero memory.) A room taken after a ended (by
// a call that was still running then, see handOverLocked) is a slab's:
// the record's array is the next request's by then.
func (a *ActiveRecord) newRoomLocked() *callRoom {
	if a.rec.pool != nil && !a.ended {
		// The next of the record's array of rooms, taken here when the
		// array has it and it is not the record's first (which may
		// replace the array: see spareRoomLocked), without that call.
		if sp := a.r.spare; len(sp.rooms) != 0 && len(sp.rooms) < cap(sp.rooms) {
			n := len(sp.rooms)
			sp.rooms = sp.rooms[:n+1]
			a.roomsMade++
			return &sp.rooms[n]
		}
		return a.spareRoomLocked()
	}
	if a.roomsLeft == 0 {
		n := roomSlab(int(a.rec.roomHint.Load()) - int(a.roomsMade))
		slab := make([]callRoom, n)
		a.nextRoom, a.roomsLeft = &slab[0], uint8(n)
	}
	r := a.nextRoom
	a.roomsLeft--
	if a.roomsLeft > 0 {
		a.nextRoom = (*callRoom)(unsafe.Add(unsafe.Pointer(r), unsafe.Sizeof(callRoom{})))
	} else {
		a.nextRoom = nil
	}
	a.roomsMade++
	return r
}

// spareRoomLocked returns the next room of the record's array of rooms,
// spare.rooms, whose length is the rooms taken from it: zero memory, a
// fresh array or a reused record's, which reset zeroed. A full array, and
// at the record's first room one with fewer rooms than the last record
// that took rooms took (roomHint), is replaced by one for as many as
// that, at least twice the full one's, at most maxSpareRooms; the rooms
// taken from the old one stay there, kept by the calls that took them,
// and the new one is reused with the record. A service whose requests
// make ten HTTP calls takes its rooms from its records' arrays, with no
// allocation, once each record has served one request. a.mu must be
// held, and a must not have ended: the record is the next request's then.
func (a *ActiveRecord) spareRoomLocked() *callRoom {
	sp := a.r.spare
	n, c := len(sp.rooms), cap(sp.rooms)
	if n == c || n == 0 && c < min(int(a.rec.roomHint.Load()), maxSpareRooms) {
		m := max(int(a.rec.roomHint.Load()), 2*c, 1)
		sp.rooms, n = make([]callRoom, 0, min(m, maxSpareRooms)), 0
	}
	sp.rooms = sp.rooms[:n+1]
	a.roomsMade++
	return &sp.rooms[n]
}

// roomSlab returns how many rooms a slab holds for a record expected to
// take left rooms more: 1, 3, 7 or 11, the most of them not over left
// (1 when left is below 1). An object with pointers over 512 bytes carries
// the allocator's 8-byte header, so a slab of n rooms takes n×288+8 bytes:
// 3, 7 and 11 rooms fill the 896-, 2,048- and 3,200-byte size classes
// but for 24 bytes, 32 bytes a slab more than their rooms one at a time;
// 2, 4 and 8 rooms would fall in the 640-, 1,280- and 2,688-byte classes,
// 32 to 48 bytes a room more (TestRoomSlabSizeClasses).
func roomSlab(left int) int {
	switch {
	case left >= 11:
		return 11
	case left >= 7:
		return 7
	case left >= 3:
		return 3
	}
	return 1
}

// roomLocked reports whether a call may be added to a now, with a.mu held: a
// call after the request ended is counted as late, one over the call limit
// as dropped.
func (a *ActiveRecord) roomLocked() bool {
	if a.ended {
		a.rec.lateCalls.Add(1)
		return false
	}
	if int(a.live) >= a.rec.cfg.maxCalls {
		if a.dropped < math.MaxInt32 {
			a.dropped++
		}
		return false
	}
	return true
}

// End ends the call. A non-nil err is recorded as the call's error, and
// the class of err as its error.type attribute (OpenTelemetry's: the
// result of an ErrorType() string method in err's chain, else the Go type
// of err, such as "*net.OpError"), unless the call has one already — a
// wrapper that knows better (a status code, a database's code) sets it
// first. Calling End again has no effect.
func (c *ActiveCall) End(err error) {
	if c == nil {
		return
	}
	// end, written out: End is the hot path, and the call to end was a
	// tenth of its cost. err is looked at before the clock is read, so
	// that it need not be kept aside across the read.
	if err != nil {
		c.endErr(c.a.since(), err)
		return
	}
	a := c.a
	end := a.since()
	a.mu.Lock()
	c.endLocked(end)
	a.mu.Unlock()
	// End's own cost (a lock) is not added to the overhead: timing it
	// would cost more than it does.
}

// EndAt is End with an explicit end time, for wrappers that learn of a call's
// end after the fact.
func (c *ActiveCall) EndAt(end time.Time, err error) {
	if c != nil {
		c.end(end.Sub(c.a.start), err)
	}
}

// end ends the call at offset end from its record's start.
func (c *ActiveCall) end(end time.Duration, err error) {
	if err != nil {
		c.endErr(end, err)
		return
	}
	a := c.a
	a.mu.Lock()
	c.endLocked(end)
	a.mu.Unlock()
}

// endLocked ends the call at offset end from its record's start, unless
// it has ended already or its record was frozen while it was not running.
// The caller holds the record's lock.
func (c *ActiveCall) endLocked(end time.Duration) {
	if !c.frozenLocked() && !c.ended() {
		c.c.slot = slotEnded
		c.c.Duration = max(end-c.start, 0)
	}
}

// endErr is end for a call that failed with err (not nil).
func (c *ActiveCall) endErr(end time.Duration, err error) {
	a := c.a
	typ := convention.ErrorType(err) // before the lock: it may reflect
	a.mu.Lock()
	c.endErrLocked(end, err, typ)
	a.mu.Unlock()
}

// endErrLocked is endLocked for a call that failed with err (not nil), of
// class typ, with the record's lock held.
func (c *ActiveCall) endErrLocked(end time.Duration, err error, typ string) {
	a := c.a
	if !c.frozenLocked() && !c.ended() {
		c.c.slot = slotEnded
		c.c.Duration = max(end-c.start, 0)
		if c.c.Error == "" {
			c.c.Error = convention.Truncate(err.Error(), a.rec.cfg.maxText)
		}
		// The error's type, unless the wrapper set one or the call has no
		// room left (the recorder's own attribute is not counted as dropped).
		if typ != "" && len(c.c.Attrs) < a.rec.cfg.maxAttrs && !hasAttr(c.c.Attrs, convention.KeyErrorType) {
			c.c.Attrs = append(c.c.Attrs, Attr{Key: convention.KeyErrorType, Value: convention.Truncate(typ, a.rec.cfg.maxAttrValue)})
		}
	}
}

// frozenLocked reports whether c may no longer change, with c.a.mu held:
// once its record has ended, a call belongs to the record (FinishAt took
// its slot's pointer to it), unless the call was still running then (the
// record has a copy; the call goes on in its own, for
// [Record.FinalCall]).
func (c *ActiveCall) frozenLocked() bool { return c.c == nil }

func hasAttr(attrs []Attr, key string) bool {
	for i := range attrs {
		if attrs[i].Key == key {
			return true
		}
	}
	return false
}

// final returns the call as it is now, for [Record.FinalCall]: rec is its
// copy in the record, made when the request ended while it ran.
func (c *ActiveCall) final(rec Call) (Call, bool) {
	c.a.mu.Lock()
	if c.frozenLocked() { // not a call that ran at the end: it has no copy of its own
		c.a.mu.Unlock()
		return rec, true
	}
	if ended := c.ended(); !ended || c.discarded() {
		c.a.mu.Unlock()
		return rec, ended
	}
	f := *c.c
	f.slot, f.dropped = 0, 0 // the slot's, not the record's
	f.Attrs = slices.Clone(c.c.Attrs)
	if n := c.c.dropped; n > 0 { // SetAttr capped the others, as FinishAt notes
		f.Attrs = append(f.Attrs, droppedAttrs(int(n)))
	}
	f.Phases = slices.Clone(c.c.Phases)
	c.a.mu.Unlock()
	f.Start, f.SpanID, f.Event = rec.Start, rec.SpanID, rec.Event
	f.Stack, f.pcs, f.npcs = rec.Stack, nil, 0
	f.Running = true
	// Redacted as the recorder's writer redacted the record's copy (without
	// its cache, which is the writer's alone).
	if red := &c.a.rec.cfg.redaction; !red.empty() {
		c.a.rec.otherScrubber().call(&f)
	}
	return f, true
}

// setField stores v, under the record's lock, in the field of c's call that
// field points at. A nil c is ignored.
func setField[T any](c *ActiveCall, field func(*Call) *T, v T) {
	if c == nil {
		return
	}
	c.a.mu.Lock()
	if !c.frozenLocked() {
		*field(c.c) = v
	}
	c.a.mu.Unlock()
}

// setText is setField for a string cut to n(cfg) bytes, cut before the lock
// is taken.
func setText(c *ActiveCall, field func(*Call) *string, s string, n func(*config) int) {
	if c != nil {
		setField(c, field, convention.Truncate(s, n(&c.a.rec.cfg)))
	}
}

func maxName(c *config) int { return c.maxName }
func maxText(c *config) int { return c.maxText }

// SetError records msg as the call's error without ending it, cut to the
// recorder's [WithMaxText].
func (c *ActiveCall) SetError(msg string) {
	if msg != "" {
		setText(c, func(x *Call) *string { return &x.Error }, msg, maxText)
	}
}

// SetMethod replaces the call's method name, for wrappers that learn it
// late; it is cut to the recorder's [WithMaxName].
func (c *ActiveCall) SetMethod(method string) {
	setText(c, func(x *Call) *string { return &x.Method }, method, maxName)
}

// SetService replaces the call's service name, for wrappers that learn it
// late (such as the OpenTelemetry bridge, from a span's final attributes);
// it is cut to the recorder's [WithMaxName].
func (c *ActiveCall) SetService(service string) {
	setText(c, func(x *Call) *string { return &x.Service }, service, maxName)
}

// SetRequest sets the request summary, cut to the recorder's
// [WithMaxSummary]. The caller redacts it.
func (c *ActiveCall) SetRequest(s string) {
	if c != nil {
		c.setSummary(s, false)
	}
}

// SetResponse sets the response summary, cut like SetRequest.
func (c *ActiveCall) SetResponse(s string) {
	if c != nil {
		c.setSummary(s, true)
	}
}

// setSummary sets the call's request summary (its response's if
// response) to s cut to the recorder's [WithMaxSummary], unless the call
// is frozen; c.c is read under the lock. It is setText written out (the
// HTTP transport sets every call's request, and setText's calls, through
// the field's closure, took half of SetRequest's cost), for both summaries.
func (c *ActiveCall) setSummary(s string, response bool) {
	capString(&s, c.a.rec.cfg.maxSummary)
	c.a.mu.Lock()
	if !c.frozenLocked() {
		if response {
			c.c.Response = s
		} else {
			c.c.Request = s
		}
	}
	c.a.mu.Unlock()
}

// SetRequestSize sets the bytes sent.
func (c *ActiveCall) SetRequestSize(n int64) {
	setField(c, func(x *Call) *int64 { return &x.RequestSize }, n)
}

// SetResponseSize sets the bytes received.
func (c *ActiveCall) SetResponseSize(n int64) {
	setField(c, func(x *Call) *int64 { return &x.ResponseSize }, n)
}

// AddSizes adds to the bytes sent and received (an unknown size counts as 0).
func (c *ActiveCall) AddSizes(sent, received int64) {
	if c == nil {
		return
	}
	c.a.mu.Lock()
	if !c.frozenLocked() {
		c.c.RequestSize = max(c.c.RequestSize, 0) + sent
		c.c.ResponseSize = max(c.c.ResponseSize, 0) + received
	}
	c.a.mu.Unlock()
}

// SetAttr sets an attribute of the call, replacing one with the same key.
// The key is cut to the recorder's [WithMaxName], the value to its
// [WithMaxAttrs] value cap; a new key past the attribute cap is not kept,
// only counted (see [WithMaxAttrs]).
func (c *ActiveCall) SetAttr(key, value string) {
	if c == nil {
		return
	}
	cfg := &c.a.rec.cfg
	capString(&key, cfg.maxName)
	capString(&value, cfg.maxAttrValue)
	c.a.mu.Lock()
	c.setAttrLocked(Attr{Key: key, Value: value}, cfg.maxAttrs)
	c.a.mu.Unlock()
}

// SetAttrs sets several attributes of the call at once, as SetAttr would
// one by one, but with one lock and at most one allocation.
func (c *ActiveCall) SetAttrs(attrs ...Attr) {
	if c == nil || len(attrs) == 0 {
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	if c.frozenLocked() {
		return
	}
	c.setAttrsLocked(attrs, &c.a.rec.cfg)
}

// setAttrsLocked is SetAttrs with c.a.mu held, for a call not frozen.
// Attributes that fit in the room the call has (Reserve's, for an HTTP
// call's first four and then its status and connection reuse), none of
// them cut and no key's length (modulo 64) one set before it, are tested
// and stored in one pass, by assignment (append's typedslicecopy and
// memmove cost more for so few); others take addAttrsLocked, which the
// pass calls only to give up (the loop's calls, in the same function, made
// the compiler spill on every set). The call's slice is stored before the
// pass, and set back if it gives up: the loop then keeps only c for after
// it, where with the slice and the arguments kept it reloaded four values
// and stored its index each turn.
func (c *ActiveCall) setAttrsLocked(attrs []Attr, cfg *config) {
	cc := c.c
	as := cc.Attrs
	if as == nil && c.room != nil {
		as = c.room.attrs[:0]
	}
	had, m := len(as), len(as)+len(attrs)
	if m > cap(as) || m > cfg.maxAttrs {
		c.addAttrsLocked(attrs, cfg)
		return
	}
	var lens uint64 // a bit for each length, modulo 64, of the keys set
	for i := range as {
		lens |= 1 << (len(as[i].Key) & 63)
	}
	dst := as[had:m]
	src := attrs[:len(dst)]
	maxName, maxValue := cfg.maxName, cfg.maxAttrValue
	cc.Attrs = as[:m]
	for i := range src {
		k := len(src[i].Key)
		bit := uint64(1) << (k & 63)
		if k > maxName || len(src[i].Value) > maxValue || lens&bit != 0 {
			// Cut, or a key perhaps set: the loop's way. It appends
			// the i stored first (none cut, their keys new) over
			// themselves.
			c.unsetAttrsLocked(src)
			return
		}
		lens |= bit
		dst[i] = src[i]
	}
}

// unsetAttrsLocked sets the call's attributes back to those it had before
// setAttrsLocked's pass stored attrs and gave up, and sets attrs by
// addAttrsLocked's way.
//
//go:noinline
func (c *ActiveCall) unsetAttrsLocked(attrs []Attr) {
	cc := c.c
	cc.Attrs = cc.Attrs[:len(cc.Attrs)-len(attrs)]
	c.addAttrsLocked(attrs, &c.a.rec.cfg)
}

// addAttrsLocked is setAttrsLocked's way for attributes that do not fit
// its one pass: each is cut to cfg's limits and its key compared with those
// set only when one of them has its length (modulo 64), told by a word of
// their lengths' bits: the keys a wrapper sets are mostly of different
// lengths (an HTTP call's six keys have six), so that most are added
// without a comparison of strings.
//
//go:noinline
func (c *ActiveCall) addAttrsLocked(attrs []Attr, cfg *config) {
	// The attributes are appended to a slice of the function's own,
	// stored into the call once at the end: appends to the call's own
	// field, through the slot's pointer to its call, reloaded that
	// pointer and the slice after each store.
	cc := c.c
	as := cc.Attrs
	n := len(attrs)
	if as == nil {
		if c.room != nil {
			as = c.room.attrs[:0]
		} else {
			// Room for two more: a wrapper sets a call's attributes at its
			// start and adds one or two (a status, a count) at its end.
			n += 2
		}
	}
	as = slices.Grow(as, max(min(n, cfg.maxAttrs-len(as)), 0))
	var lens uint64 // a bit for each length, modulo 64, of the keys set
	for i := range as {
		lens |= 1 << (len(as[i].Key) & 63)
	}
	for _, at := range attrs {
		if len(at.Key) > cfg.maxName || len(at.Value) > cfg.maxAttrValue {
			at = Attr{Key: convention.Truncate(at.Key, cfg.maxName), Value: convention.Truncate(at.Value, cfg.maxAttrValue)}
		}
		bit := uint64(1) << (len(at.Key) & 63)
		if lens&bit == 0 && len(as) < cfg.maxAttrs {
			as = append(as, at) // a new key: none set has its length
			lens |= bit
			continue
		}
		as = putAttr(cc, as, at, cfg.maxAttrs)
		lens |= bit
	}
	cc.Attrs = as
}

// setAttrLocked sets at, already capped, with c.a.mu held; it has no
// effect once the record has ended.
func (c *ActiveCall) setAttrLocked(at Attr, maxAttrs int) {
	if c.frozenLocked() {
		return
	}
	if c.c.Attrs == nil && c.room != nil {
		c.c.Attrs = c.room.attrs[:0]
	}
	c.c.Attrs = putAttr(c.c, c.c.Attrs, at, maxAttrs)
}

// putAttr sets at, already capped, among as, the attributes of call cc
// (with its record's lock held, the call not frozen, its room taken), and
// returns them: the value of an attribute of the same key is replaced;
// under maxAttrs at is added, over it counted as dropped. Small enough to
// be inlined into addAttrsLocked's loop, which a call of setAttrLocked
// for each attribute was not ("An outgoing call's cost, fifteenth
// round").
func putAttr(cc *Call, as []Attr, at Attr, maxAttrs int) []Attr {
	for i := range as {
		if as[i].Key == at.Key {
			as[i].Value = at.Value
			return as
		}
	}
	if len(as) >= maxAttrs {
		if cc.dropped < math.MaxInt32 {
			cc.dropped++
		}
		return as
	}
	return append(as, at)
}

// Reserve makes room for the call's first six attributes and first three
// phases in one allocation, where setting them would take two (and in
// none once its record is reused, when the recorder's sinks borrow
// records: see [Borrower]): for a call
// that will have both, such as an HTTP client call (method, server
// address and port, URL, status and connection reuse; send, wait and
// receive on a connection already open: a call that dialed one, with
// dns, connect or tls phases too, moves its phases to an allocation of
// their own as the fourth is set). Call it before setting any attribute or phase;
// it has no effect on a call that has some, and it changes nothing that is
// recorded: a call without phases has none, as without Reserve.
func (c *ActiveCall) Reserve() {
	if c == nil {
		return
	}
	c.a.mu.Lock()
	if !c.frozenLocked() && c.room == nil && c.c.Attrs == nil && c.c.Phases == nil {
		c.room = c.a.newRoomLocked()
	}
	c.a.mu.Unlock()
}

// AddPhase records a phase of the call that ran from start to end. A call
// keeps at most 32 phases; its name is cut to the recorder's [WithMaxName].
func (c *ActiveCall) AddPhase(name string, start, end time.Time) {
	if c == nil || start.IsZero() || end.Before(start) {
		return
	}
	capString(&name, c.a.rec.cfg.maxName)
	c.a.mu.Lock()
	if !c.frozenLocked() {
		c.addPhaseLocked(name, start.Sub(c.a.start), end.Sub(start))
	}
	c.a.mu.Unlock()
}

// addPhaseLocked adds the phase name (already cut) that started at offset
// start from the record's start and lasted d, with c.a.mu held, for a call
// not frozen.
func (c *ActiveCall) addPhaseLocked(name string, start, d time.Duration) {
	if len(c.c.Phases) >= maxPhases {
		return
	}
	if c.c.Phases == nil {
		if c.room != nil {
			c.c.Phases = c.room.phases[:0]
		} else {
			// A call with phases has several (an HTTP call's send, wait
			// and more): one allocation for the first four, not three.
			c.c.Phases = make([]Phase, 0, min(4, maxPhases))
		}
	}
	c.c.Phases = append(c.c.Phases, Phase{Name: name, Start: start, Duration: d})
}

// A CallUpdate is what a wrapper sets of a call at once, with
// [ActiveCall.Update] or [ActiveCall.EndWith]: the record's lock is taken
// once, where the setters take it once each (an HTTP client call's
// attributes, phases and sizes would take it nine times). Each field is set
// as its setter sets it. It holds no strings of its own, only slices, so
// that a caller's arrays behind them can stay on its stack.
type CallUpdate struct {
	// Reserve makes room for the call's attributes and phases before they
	// are set ([ActiveCall.Reserve]).
	Reserve bool
	// Attrs are the attributes to set ([ActiveCall.SetAttrs]).
	Attrs []Attr
	// Phases are the phases to add ([ActiveCall.AddPhase]): at most 32 a
	// call, each name cut to [WithMaxName]. Unlike a [Record]'s, a phase's
	// Start here is an offset from the call's start
	// ([ActiveCall.StartTime]); a phase of negative Duration is left out,
	// as AddPhase leaves out one that ends before it starts.
	Phases []Phase
	// RequestSize and ResponseSize are the bytes sent and received
	// ([ActiveCall.SetRequestSize], [ActiveCall.SetResponseSize]), each
	// set only when its Has field is true: the zero CallUpdate changes
	// nothing.
	RequestSize, ResponseSize       int64
	HasRequestSize, HasResponseSize bool
}

// Update sets what u holds of the call, under one lock. A nil u, like a
// nil c, changes nothing; u is not kept.
func (c *ActiveCall) Update(u *CallUpdate) {
	if c == nil || u == nil {
		return
	}
	c.a.mu.Lock()
	if !c.frozenLocked() {
		c.updateLocked(u)
	}
	c.a.mu.Unlock()
}

// EndWith sets what u holds of the call, as [ActiveCall.Update] does, then
// ends it d after its start with err, as [ActiveCall.End] ends it, all
// under one lock. Once the call has ended, it sets u as Update does (as
// the setters do after End) and ends nothing.
func (c *ActiveCall) EndWith(u *CallUpdate, d time.Duration, err error) {
	if c == nil {
		return
	}
	if err != nil {
		c.endWithErr(u, d, err)
		return
	}
	// The error's way is a function of its own: its type and the error,
	// kept across the calls here, made the compiler spill and reload them
	// on every call's end.
	c.a.mu.Lock()
	if !c.frozenLocked() {
		if u != nil {
			c.updateLocked(u)
		}
		c.endLocked(c.start + d)
	}
	c.a.mu.Unlock()
}

// endWithErr is EndWith for a call that failed with err (not nil).
func (c *ActiveCall) endWithErr(u *CallUpdate, d time.Duration, err error) {
	typ := convention.ErrorType(err) // before the lock: it may reflect
	c.a.mu.Lock()
	if !c.frozenLocked() {
		if u != nil {
			c.updateLocked(u)
		}
		c.endErrLocked(c.start+d, err, typ)
	}
	c.a.mu.Unlock()
}

// updateLocked sets u, with c.a.mu held, for a call not frozen.
func (c *ActiveCall) updateLocked(u *CallUpdate) {
	if u.Reserve && c.room == nil && c.c.Attrs == nil && c.c.Phases == nil {
		c.room = c.a.newRoomLocked()
	}
	if len(u.Attrs) > 0 {
		c.setAttrsLocked(u.Attrs, &c.a.rec.cfg)
	}
	if len(u.Phases) > 0 {
		c.setPhasesLocked(u.Phases, &c.a.rec.cfg)
	}
	if u.HasRequestSize {
		c.c.RequestSize = u.RequestSize
	}
	if u.HasResponseSize {
		c.c.ResponseSize = u.ResponseSize
	}
}

// setPhasesLocked adds phases, as [CallUpdate.Phases] says, with c.a.mu
// held, for a call not frozen. A call's first phases, when they fit in
// Reserve's room and none is cut or left out (of negative duration), are
// tested and stored in one pass, their starts moved to the record's
// clock; others take addPhasesLocked, which the pass calls only to give
// up, as setAttrsLocked's does.
func (c *ActiveCall) setPhasesLocked(phases []Phase, cfg *config) {
	if len(c.c.Phases) != 0 || c.room == nil || len(phases) > reservedPhases {
		c.addPhasesLocked(phases, cfg)
		return
	}
	ps := c.room.phases[:len(phases)]
	start, maxName := c.start, cfg.maxName
	for i := range ps {
		p := &phases[i]
		if p.Duration < 0 || len(p.Name) > maxName {
			// Left out or cut: the loop's way, which adds the i
			// stored first over themselves.
			c.addPhasesLocked(phases, &c.a.rec.cfg)
			return
		}
		ps[i] = Phase{Name: p.Name, Start: start + p.Start, Duration: p.Duration}
	}
	c.c.Phases = ps
}

// addPhasesLocked adds phases, as [CallUpdate.Phases] says, with c.a.mu
// held, for a call not frozen, one by one: setPhasesLocked's way for those
// its one pass does not take.
//
//go:noinline
func (c *ActiveCall) addPhasesLocked(phases []Phase, cfg *config) {
	for _, p := range phases {
		if p.Duration >= 0 {
			capString(&p.Name, cfg.maxName)
			c.addPhaseLocked(p.Name, c.start+p.Start, p.Duration)
		}
	}
}

// TraceContext returns the trace context to send with the call: the
// request's trace, the call's span, the request's sampling decision (see
// [Record.Unsampled]), the random-trace-id flag ([Record.RandomTraceID])
// and the incoming tracestate.
func (c *ActiveCall) TraceContext() TraceContext {
	if c == nil {
		return TraceContext{}
	}
	return TraceContext{TraceID: c.a.trace, SpanID: c.span, Sampled: !c.a.unsampled, Random: c.a.random, State: c.a.state}
}

// TraceContext returns the request's own trace context (its span as the
// parent), for calls made on its behalf that are not recorded as calls.
func (a *ActiveRecord) TraceContext() TraceContext {
	if a == nil {
		return TraceContext{}
	}
	return TraceContext{TraceID: a.trace, SpanID: a.span, Sampled: !a.unsampled, Random: a.random, State: a.state}
}

type traceKey struct{}

// passthrough is what a context of a request that is not recorded carries
// for the calls it makes: the caller's trace context, and the propagator to
// pass it on with.
type passthrough struct {
	tc TraceContext
	p  Propagator
}

// ContextWithTrace returns ctx carrying tc, the trace context of a request
// that is not recorded (sampled out, filtered, paused), so that outgoing calls
// still pass the caller's trace on, with its sampling flag unchanged, through
// the W3C propagator. Server wrappers use [Recorder.ContextWithTrace], which
// passes it on through the recorder's own propagator.
func ContextWithTrace(ctx context.Context, tc TraceContext) context.Context {
	return context.WithValue(ctx, traceKey{}, passthrough{tc: tc, p: W3CPropagator{}})
}

// ContextWithTrace returns ctx carrying tc, the trace context of a request r
// does not record, so that outgoing calls made with it (through
// middleware/httpstats' transport, middleware/grpcstats' client) pass it on
// unchanged — sampled or not — through r's propagator, with whatever else
// the propagator reads from ctx: the baggage of an OpenTelemetry propagator
// (see package otelexport) passes through even when tc is not valid. ctx is
// the context the propagator's Extract returned.
func (r *Recorder) ContextWithTrace(ctx context.Context, tc TraceContext) context.Context {
	return context.WithValue(ctx, traceKey{}, passthrough{tc: tc, p: r.Propagator()})
}

// TraceFromContext returns the trace context put on ctx by
// [ContextWithTrace], if it is valid. A nil ctx carries none.
func TraceFromContext(ctx context.Context) (TraceContext, bool) {
	if ctx == nil {
		return TraceContext{}, false
	}
	pt, ok := ctx.Value(traceKey{}).(passthrough)
	return pt.tc, ok && pt.tc.IsValid()
}

// Passthrough returns what [ContextWithTrace] or [Recorder.ContextWithTrace]
// put on ctx: the trace context of a request that is not recorded (valid or
// not) and the propagator to pass it on with; ok is false when ctx carries
// none (a nil ctx carries none). Client wrappers inject tc into the
// requests they send for such a context with p.Inject(ctx, tc, carrier).
func Passthrough(ctx context.Context) (tc TraceContext, p Propagator, ok bool) {
	if ctx == nil {
		return TraceContext{}, nil, false
	}
	pt, ok := ctx.Value(traceKey{}).(passthrough)
	return pt.tc, pt.p, ok
}

// SpanID returns the call's span ID, to propagate downstream.
func (c *ActiveCall) SpanID() SpanID {
	if c == nil {
		return SpanID{}
	}
	return c.span // set before publication, never changed
}

// TraceID returns the trace ID of the call's request.
func (c *ActiveCall) TraceID() TraceID {
	if c == nil {
		return TraceID{}
	}
	return c.a.trace // set before publication, never changed
}

// StartTime returns when the call started.
func (c *ActiveCall) StartTime() time.Time {
	if c == nil {
		return time.Time{}
	}
	return c.a.start.Add(c.start) // set before publication, never changed
}

// Since returns the time elapsed since the call's start, as
// time.Since(c.StartTime()) would, without making that time: for a
// wrapper that times a call's events from its start. A nil call returns 0.
func (c *ActiveCall) Since() time.Duration {
	if c == nil {
		return 0
	}
	return c.a.since() - c.start // set before publication, never changed
}

// Record returns the active record the call belongs to.
func (c *ActiveCall) Record() *ActiveRecord {
	if c == nil {
		return nil
	}
	return c.a
}

// Do records fn as a call of the request in ctx and returns fn's error. fn
// gets a context inside the call (see [ContextWithParent]): the calls it
// makes with it are recorded as the call's children, drawn under it on the
// dashboard, their time counted once.
func Do(ctx context.Context, service, method string, fn func(ctx context.Context) error) error {
	a, mark, _ := scopeOf(ctx)
	if a == nil {
		return fn(ctx)
	}
	c := a.startCallAt(service, method, false, -1, 0, a.parentIn(ctx, mark))
	if c == nil {
		return fn(ctx)
	}
	// The node is the call: Do costs no allocation more than StartCall.
	// Nothing reads it before fn does.
	c.ctx = ctx
	err := fn((*doCtx)(c))
	c.End(err)
	return err
}

// Event records a custom event (App Engine Appstats' record_custom_event) in
// the request in ctx: a point on the timeline with a label and a detail text.
func Event(ctx context.Context, label, detail string) {
	a, mark, _ := scopeOf(ctx)
	if a == nil {
		return
	}
	a.event(label, detail, a.parentIn(ctx, mark))
}

func panicString(v any) (s string) {
	switch x := v.(type) {
	case string:
		return x
	case error, fmt.Stringer:
		// An Error or String method may panic itself (a typed nil whose
		// method reads its receiver): fmt then formats the value, as it
		// recovers from such a panic ("<nil>" for a nil receiver),
		// rather than a second panic replacing the first.
		defer func() {
			if recover() != nil {
				s = fmt.Sprint(v)
			}
		}()
		if e, ok := x.(error); ok {
			return e.Error()
		}
		return x.(fmt.Stringer).String()
	}
	// With the fields' names of a struct ({User:bob Password:…}, as %+v
	// writes it), which redaction ties a secret to: %v's {bob hunter2}
	// leaves it nothing to tie a value to.
	return fmt.Sprintf("%+v", v)
}

// PanicString formats a recovered panic value for [Record.Panic]: a
// string as it is, an error's Error(), a Stringer's String(), any other
// value as %+v writes it (a struct with its fields' names).
func PanicString(v any) string { return panicString(v) }

// Discard removes a call that turned out not to have happened — for example a
// database/sql driver call that returned driver.ErrSkip, after which
// database/sql retries the work another way that is recorded by itself. It
// has no effect on a call that has ended or on a nil *ActiveCall.
func (c *ActiveCall) Discard() {
	if c == nil {
		return
	}
	a := c.a
	a.mu.Lock()
	if !c.frozenLocked() && !c.ended() {
		c.c.slot = slotDiscarded
		a.live--
	}
	a.mu.Unlock()
}
