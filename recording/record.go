package recording

import (
	"cmp"
	"slices"
	"time"
	"unsafe"
)

// Kind says what produced a [Record].
type Kind uint8

// The kinds of record.
const (
	KindHTTP       Kind = iota // an incoming net/http request
	KindGRPC                   // an incoming gRPC call
	KindBackground             // work started with [Recorder.StartRecord] outside a server
	KindMessage                // one message handled on a long-lived connection: see [Stream]
)

// String returns "http", "grpc", "background" or "message".
func (k Kind) String() string {
	switch k {
	case KindHTTP:
		return "http"
	case KindGRPC:
		return "grpc"
	case KindBackground:
		return "background"
	case KindMessage:
		return "message"
	}
	return "unknown"
}

// ParseKind is the inverse of [Kind.String].
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "http":
		return KindHTTP, true
	case "grpc":
		return KindGRPC, true
	case "background":
		return KindBackground, true
	case "message":
		return KindMessage, true
	}
	return 0, false
}

// A Record is the timeline of one request: the request itself and every call
// it made while it ran.
//
// A Record handed to a [Sink] is complete and must be treated as read-only: the
// same value is passed to every sink, possibly concurrently with other sinks
// reading it.
type Record struct {
	ID           ID      // time-ordered, byte-sortable, unique across processes
	TraceID      TraceID // from an incoming traceparent, or generated
	SpanID       SpanID  // the request's own span
	ParentSpanID SpanID  // the caller's span, when a traceparent came in
	Kind         Kind

	// Unsampled says the caller did not sample the trace (an incoming W3C
	// traceparent with flags 00) and the recorder followed it (see
	// [WithCallerSampling]): the record is kept, but its calls pass "not
	// sampled" downstream and exporters leave it out. It is the negative of
	// the trace flag so that a Record built by hand is sampled; stores do
	// not keep it.
	Unsampled bool
	// RandomTraceID says the trace ID is random, as W3C Trace Context
	// Level 2's random-trace-id flag (0x02) tells: at least its right-most
	// 7 bytes are. The recorder sets it when it generated the trace ID
	// (no valid traceparent came in), and when the caller's traceparent
	// had the flag; a caller's trace ID without the flag stays without
	// it. The recorder passes it on to the calls, which keep the record's
	// trace ID, and exporters put it in the spans' flags; stores do not
	// keep it. (Beside Unsampled, it takes no room of its own.)
	RandomTraceID bool
	// hdrSame says hdrFlat holds the pairs of the record's last request,
	// which its header map spare.hdr holds as redaction left them (see
	// config.knownHeaders). (Beside Unsampled, it takes no room of its
	// own.)
	hdrSame bool
	// hdrUA is 1 + the index of the User-Agent pair in hdrFlat when
	// SetHeaders found the names of the record's last request in their
	// places (see config.knownHeaders), for KeptHeader; else 0.
	// hdrOrderUA is 1 + the index of User-Agent's entry (marked ua) in
	// spare.hdrOrder, among its first maxKnownHeaders, else 0: set by
	// headerMap with the entries, kept with them by reset. (Beside
	// hdrSame, they take no room of their own.)
	hdrUA, hdrOrderUA uint8
	// hdrShared says spare.hdr is not the record's own map but one the
	// writer shares between pooled records whose headers are the same
	// (Recorder.poolHdr), which nothing writes to: never refilled nor
	// cleared, and with values that are not spare.hdrVals. Set by
	// headerMap, kept with the map by reset. (Beside hdrSame, it takes
	// no room of its own.)
	hdrShared bool

	Start    time.Time
	Duration time.Duration

	Method string // HTTP method, or "POST" for gRPC
	Path   string // URL path, or the gRPC full method
	Route  string // low-cardinality grouping key from the router: r.Pattern, a router's template, a gRPC method, or "GET (unmatched 4xx)"
	Query  string // the raw query, redacted
	Status int    // HTTP status, or the gRPC status code

	RequestBytes  int64
	ResponseBytes int64
	User          string // from a user hook, if configured
	// Headers are the request's headers, redacted; full record only.
	// Records with the same headers may share one map, which later
	// records (pooled ones too) are given as well: never modify it, not
	// even in a [Borrower]'s Write (whose change would show in the
	// headers of later records). See [Sink].
	Headers  map[string][]string
	Remote   string // the peer's address
	Instance string // host/pid of the recording process

	// Overhead is the recorder's own cost for this request on the request
	// path (stack capture included). To spare clock reads, some parts are
	// measured on a sample and charged the last measurement otherwise:
	// starting a call (measured on a record's first call and every eighth
	// after it), finishing a record (measured on one record in eight, by
	// the recorder), and middleware/httpstats' setup of a request and of
	// an outgoing call (each measured on one in eight).
	Overhead time.Duration

	Error string // a failure of the request as a whole (e.g. a gRPC error message)
	Panic string // the value a panicking handler panicked with

	Calls        []Call
	DroppedCalls int // calls over Recorder's MaxCalls, not kept

	Warnings []Warning // filled by the recorder's analysis before sinks see the record
	Attrs    []Attr

	// ExecTrace is the Go execution trace taken when the request ended, if
	// it was slow and the recorder runs a flight recorder (see
	// [WithFlightRecorder]); nil otherwise.
	ExecTrace *ExecTrace

	hdrFlat []string // headers kept by ActiveRecord.SetHeaders, made into Headers off the request path
	// hdrFlatBytes is recordSize's estimate of hdrFlat (flatHeaders
	// counts it).
	hdrFlatBytes int64
	// live lists the calls still running when the request ended, for
	// FinalCall: a pointer, nil for most records, rather than a slice's
	// three words, which keeps a Record within the 576-byte size class
	// (see TestRecordSizeClass).
	live *[]liveCall
	// state is the tracestate that came with the request, as the
	// recorder passed it on (see [Record.TraceState]): nil for none. A
	// pointer rather than a string's two words, for TestRecordSizeClass;
	// a box of the Record's own, never into the ActiveRecord, which the
	// Record outlives (TestTraceStateKeepsNoActiveRecord).
	state *string
	// spare is memory to reuse when the record is (see Borrower), and
	// the buffers the record fills while it is made: a pooled record's
	// own for its life; a record a sink may keep borrows one from the
	// recorder (spareList), which its writer takes back once the record
	// is prepared, before any sink sees it (the record then holds nil).
	// A pointer rather than the spare's 320 bytes (its room for the
	// first four attributes included) keeps a Record at 440 bytes, in
	// the 448-byte size class, without the malloc header of an object
	// with pointers over 512 bytes (TestRecordSizeClass): a Record
	// holding its spare would be a 768-byte object, 320 bytes more for
	// every record a keeping sink (otelexport) is given, and fifteen
	// pointer words more for the garbage collector to scan in each
	// record it keeps. Never nil in a record startRecord made until
	// then.
	spare *spare

	// The pipeline's bookkeeping, read and written by the recorder alone.
	// size is the estimated bytes held, while queued (positive; 0 before).
	// A snapshot of Recorder.Active, which the recorder never queues (it
	// sets size anew if one is handed to it), keeps there, negated and
	// minus one, the calls kept so far and not copied into it, for
	// KeptCalls: a field of their own would take the Record into a larger
	// size class (TestRecordSizeClass).
	size int64
	// hdrBytes is recordSize's estimate of Headers when headerMap made
	// them (0: count them).
	hdrBytes int64
	pending  int32 // sinks not yet done with the record (atomic)
	missed   int32 // 1 when a sink did not accept it (atomic)
}

// liveCall is a call of a record that was still running when its request
// ended: its index in Calls, and the call itself, which may end later.
type liveCall struct {
	i  int
	ac *ActiveCall
}

// A Call is one outgoing call a request made: an RPC, an HTTP request, a SQL
// statement, a socket operation, or anything wrapped by hand.
type Call struct {
	Service string // "http", "grpc", "sql", "net", "dns", or the user's name
	Method  string // e.g. "GET api.example.com/users/{id}", "SELECT users"

	Start    time.Duration // offset from the record's Start
	Duration time.Duration

	Error string

	RequestSize  int64 // bytes sent, -1 when unknown
	ResponseSize int64 // bytes received, -1 when unknown
	Request      string
	Response     string

	Stack  []Frame
	Phases []Phase
	Attrs  []Attr

	SpanID SpanID // the call's span, as propagated downstream
	// ParentSpanID is the SpanID of the call this one was made inside of
	// (see [ContextWithParent], [Do]), or zero for a call the request made
	// directly. [Record.Parents] turns it into indexes.
	ParentSpanID SpanID
	Running      bool // still running when the request ended
	Event        bool // a custom event (see [Event]), not a timed call

	// npcs is the length of the raw stack pcs points at (at most
	// stackBuf). It, and the fields of the call's slot below, lie in the
	// room the two flags above leave before Cost: the slot's state kept
	// here costs its ActiveCall no word of its own (see callSlotBytes).
	npcs uint8
	// slot and dropped are the state of the call's slot while the call
	// is recorded (see ActiveCall): ended or discarded, and the count of
	// attributes over the recorder's cap, not kept. Zero in a record's
	// calls.
	slot    slotState
	dropped int32

	// Cost is what the call cost, in the unit of the recorder's cost
	// model ([WithCostModel]); 0 without one.
	Cost float64

	// pcs points at the raw stack, npcs frames, symbolized into Stack
	// off the request path: a pointer and a length in the flags' room,
	// where a slice's header took three words.
	pcs *uintptr
}

// rawStack returns c's raw stack (nil when it has none).
func (c *Call) rawStack() []uintptr { return unsafe.Slice(c.pcs, c.npcs) }

// setRawStack makes pcs c's raw stack; it has at most stackBuf frames.
func (c *Call) setRawStack(pcs []uintptr) {
	c.pcs, c.npcs = unsafe.SliceData(pcs), uint8(len(pcs))
}

// stackBuf frames fit npcs.
var _ = [1]struct{}{}[stackBuf>>8]

// A Frame is one symbolized stack frame of a call.
type Frame struct {
	Function string
	File     string
	Line     int
}

// A Phase is a part of a call, such as the DNS lookup of an HTTP request.
// Start is an offset from the record's Start, like [Call.Start].
type Phase struct {
	Name     string
	Start    time.Duration
	Duration time.Duration
}

// An Attr is a key/value annotation; keys follow OpenTelemetry semantic
// conventions where one exists.
type Attr struct {
	Key   string
	Value string
}

// Warning kinds.
const (
	WarnRepeated = "repeated" // identical calls repeated: the N+1 pattern
	WarnRunning  = "running"  // calls still running when the request ended
)

// A Warning is something the recorder's analysis found suspicious in a record.
type Warning struct {
	Kind    string // WarnRepeated or WarnRunning
	Service string
	Method  string
	Request string // the normalized request shared by the repeated calls
	Count   int
	Total   time.Duration
	Message string
}

// An RPCStat aggregates a record's calls of one service and method.
type RPCStat struct {
	Service string
	Method  string
	Count   int
	Errors  int
	Total   time.Duration
	Cost    float64 // the calls' total cost (see [CostModel])
}

// A Summary is the part of a record that lists and aggregates need: no call
// details, stacks or headers (App Engine Appstats' "part" record).
type Summary struct {
	ID           ID
	TraceID      TraceID
	Kind         Kind
	Start        time.Time
	Duration     time.Duration
	Method       string
	Path         string
	Route        string
	Query        string
	Status       int
	RequestBytes int64
	// ResponseBytes counts the bytes written in response.
	ResponseBytes int64
	User          string
	Instance      string
	Overhead      time.Duration
	Error         string
	Panic         string
	CallCount     int
	ErrorCalls    int
	DroppedCalls  int
	Warnings      int
	RPCs          []RPCStat
}

// HasError reports whether the request failed: a 5xx status, a gRPC error
// code, a panic or an error message.
func (s *Summary) HasError() bool { return failed(s.Kind, &s.Status, s.Error, s.Panic) }

// failed reports whether a request of kind that ended with *status, the
// error message errMsg and the panic message panicMsg failed: what
// [Summary.HasError] and [Record.HasError] report, the one without the
// other's struct. The status is passed by its address so that, inlined,
// each branch compares it in memory, as a method reading its field does:
// by value, it is loaded into a register first, one instruction more.
func failed(kind Kind, status *int, errMsg, panicMsg string) bool {
	if panicMsg != "" || errMsg != "" {
		return true
	}
	if kind == KindGRPC {
		return *status != 0
	}
	return *status >= 500
}

// KeptCalls returns how many calls the recorder kept for the record, events
// included: len(r.Calls), and, for a snapshot of a record in the making
// ([Recorder.Active]), also the calls kept so far that the snapshot does
// not copy (over its maxCalls). Calls dropped over the recorder's limit
// ([WithMaxCalls]) are not kept: [Record.DroppedCalls] counts them.
func (r *Record) KeptCalls() int {
	if r.size < 0 { // a snapshot's count of calls not copied (see size)
		return len(r.Calls) + int(-1-r.size)
	}
	return len(r.Calls)
}

// Summary returns the record's summary.
func (r *Record) Summary() Summary {
	var s Summary
	r.SummaryInto(&s)
	return s
}

// SummaryInto sets *s to the record's summary, as [Record.Summary]
// returns it, reusing the memory of s.RPCs (so that s.RPCs may be empty
// rather than nil): a writer that summarizes record after record
// allocates nothing for their RPC stats.
func (r *Record) SummaryInto(s *Summary) {
	*s = Summary{
		ID:            r.ID,
		TraceID:       r.TraceID,
		Kind:          r.Kind,
		Start:         r.Start,
		Duration:      r.Duration,
		Method:        r.Method,
		Path:          r.Path,
		Route:         r.Route,
		Query:         r.Query,
		Status:        r.Status,
		RequestBytes:  r.RequestBytes,
		ResponseBytes: r.ResponseBytes,
		User:          r.User,
		Instance:      r.Instance,
		Overhead:      r.Overhead,
		Error:         r.Error,
		Panic:         r.Panic,
		DroppedCalls:  r.DroppedCalls,
		Warnings:      len(r.Warnings),
		RPCs:          r.AppendRPCStats(s.RPCs[:0]),
	}
	for i := range r.Calls {
		if r.Calls[i].Event {
			continue
		}
		s.CallCount++
		if r.Calls[i].Error != "" {
			s.ErrorCalls++
		}
	}
}

// RPCStats aggregates the record's calls per service and method, in order of
// first appearance. Custom events are not counted.
func (r *Record) RPCStats() []RPCStat { return r.AppendRPCStats(nil) }

// AppendRPCStats appends what [Record.RPCStats] returns to out.
func (r *Record) AppendRPCStats(out []RPCStat) []RPCStat {
	base := len(out)
	// A record's RPCs are mostly few, and its calls in a row mostly of
	// one: the previous call's RPC is tried first, then the others in
	// order; a map indexes them once there are many.
	var idx map[[2]string]int
	j := -1
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		if j < 0 || out[j].Service != c.Service || out[j].Method != c.Method {
			j = -1
			if idx != nil {
				if k, ok := idx[[2]string{c.Service, c.Method}]; ok {
					j = k
				}
			} else {
				for k := base; k < len(out); k++ {
					if out[k].Service == c.Service && out[k].Method == c.Method {
						j = k
						break
					}
				}
			}
			if j < 0 {
				j = len(out)
				out = append(out, RPCStat{Service: c.Service, Method: c.Method})
				if idx == nil && len(out)-base > 16 {
					idx = make(map[[2]string]int, 2*(len(out)-base))
					for k := base; k < len(out); k++ {
						idx[[2]string{out[k].Service, out[k].Method}] = k
					}
				} else if idx != nil {
					idx[[2]string{c.Service, c.Method}] = j
				}
			}
		}
		out[j].Count++
		out[j].Total += c.Duration
		out[j].Cost += c.Cost
		if c.Error != "" {
			out[j].Errors++
		}
	}
	return out
}

// HasError reports whether the request failed; see [Summary.HasError].
func (r *Record) HasError() bool { return failed(r.Kind, &r.Status, r.Error, r.Panic) }

// Attr returns the value of the record attribute key, or "".
func (r *Record) Attr(key string) string {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// Attr returns the value of the call attribute key, or "".
func (c *Call) Attr(key string) string {
	for _, a := range c.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// End returns the offset of the call's end from the record's start.
func (c *Call) End() time.Duration { return c.Start + c.Duration }

// Parents returns, for each call of r, the index in r.Calls of the call it
// was made inside of ([Call.ParentSpanID]), or -1 for a call the request
// made directly, or whose parent is not among r.Calls. The result is a
// forest: a parent link that would close a cycle (only a record built by
// hand can have one) is dropped.
func (r *Record) Parents() []int {
	out := make([]int, len(r.Calls))
	var idx map[SpanID]int
	for i := range r.Calls {
		out[i] = -1
		if r.Calls[i].ParentSpanID.IsValid() && idx == nil {
			idx = make(map[SpanID]int, len(r.Calls))
		}
	}
	if idx == nil {
		return out
	}
	for i := range r.Calls {
		if s := r.Calls[i].SpanID; s.IsValid() {
			if _, dup := idx[s]; !dup {
				idx[s] = i
			}
		}
	}
	for i := range r.Calls {
		if p := r.Calls[i].ParentSpanID; p.IsValid() {
			if j, ok := idx[p]; ok && j != i {
				out[i] = j
			}
		}
	}
	// Drop links that close a cycle: walk up from each call, marking the
	// calls of the current walk; reaching one of them again is a cycle.
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(out))
	for i := range out {
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = onPath
			if p := out[j]; p >= 0 && state[p] == onPath {
				out[j] = -1
			}
			j = out[j]
		}
		for j = i; j >= 0 && state[j] == onPath; j = out[j] {
			state[j] = done
		}
	}
	return out
}

// SelfTimes returns, for each call of r, its self time: its duration less
// the time its children (see [Record.Parents]) ran within it, each instant
// counted once however many children ran in parallel. Summed over all
// calls, self times count every instant of nested calls once, where
// durations count it at every level.
func (r *Record) SelfTimes() []time.Duration {
	return SelfTimes(r.Calls, r.Parents())
}

// SelfTimes is [Record.SelfTimes] for calls whose parents (indexes, -1 for
// none) are known already.
func SelfTimes(calls []Call, parents []int) []time.Duration {
	out := make([]time.Duration, len(calls))
	kids := make([][]int, len(calls))
	for i := range calls {
		out[i] = max(calls[i].Duration, 0)
		if p := parents[i]; p >= 0 && p < len(calls) && !calls[i].Event {
			kids[p] = append(kids[p], i)
		}
	}
	for p, ks := range kids {
		if len(ks) == 0 {
			continue
		}
		// The union of the children's intervals, clipped to the parent's.
		lo, hi := calls[p].Start, calls[p].End()
		iv := make([][2]time.Duration, 0, len(ks))
		for _, k := range ks {
			a, b := max(calls[k].Start, lo), min(calls[k].End(), hi)
			if a < b {
				iv = append(iv, [2]time.Duration{a, b})
			}
		}
		slices.SortFunc(iv, func(x, y [2]time.Duration) int { return cmp.Compare(x[0], y[0]) })
		var covered time.Duration
		var curA, curB time.Duration
		for j, v := range iv {
			switch {
			case j == 0:
				curA, curB = v[0], v[1]
			case v[0] <= curB:
				curB = max(curB, v[1])
			default:
				covered += curB - curA
				curA, curB = v[0], v[1]
			}
		}
		if len(iv) > 0 {
			covered += curB - curA
		}
		out[p] = max(out[p]-covered, 0)
	}
	return out
}

// FinalCall returns the i-th call of r as it is now, and whether that is
// its final state. A call still running when the request ended
// ([Call.Running]) is in r.Calls as it was then, with the request's end as
// its end; it may have ended since, and then FinalCall returns it as it
// ended — its true duration, error, sizes, response, phases and attributes,
// redacted as the record is — with Running still set (it was running when
// the request ended), and final true. Until it ends, FinalCall returns
// r.Calls[i] and false. Any other call is r.Calls[i], final; so is every
// call of a record built by hand or read from a store, which knows nothing
// of later ends.
//
// Sinks that write a record some time after they got it (an exporter that
// waits a little for such calls, say) use it; it does not modify r, and is
// safe to call from any goroutine.
func (r *Record) FinalCall(i int) (c Call, final bool) {
	c = r.Calls[i]
	if !c.Running {
		return c, true
	}
	if r.live == nil {
		return c, true
	}
	for _, l := range *r.live {
		if l.i == i {
			return l.ac.final(c)
		}
	}
	return c, true
}

// TraceState returns the W3C tracestate that came with the request, as the
// recorder passed it on to the request's calls (shortened as W3C Trace
// Context says when it was over 512 bytes), or "" for none. Exporters give
// it to the record's spans, as OpenTelemetry's SDK gives a span its
// parent's. Stores do not keep it.
func (r *Record) TraceState() string {
	if r.state == nil {
		return ""
	}
	return *r.state
}

// SetTraceState sets what [Record.TraceState] returns, for a Record built
// or decoded by a program.
func (r *Record) SetTraceState(s string) {
	if s == "" {
		r.state = nil
		return
	}
	r.state = &s
}
