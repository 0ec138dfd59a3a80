package ui

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// The JSON API's types. They are explicit so that the API stays stable when
// the recording types change; API.md documents them.

type summaryJSON struct {
	ID            string   `json:"id"`
	TraceID       string   `json:"trace_id"`
	Kind          string   `json:"kind"`
	Start         string   `json:"start"`
	DurationMS    float64  `json:"duration_ms"`
	Method        string   `json:"method"`
	Path          string   `json:"path"`
	Query         string   `json:"query,omitempty"`
	Route         string   `json:"route"`
	Status        int      `json:"status"`
	CallCount     int      `json:"call_count"`
	ErrorCalls    int      `json:"error_calls"`
	DroppedCalls  int      `json:"dropped_calls"`
	OverheadMS    float64  `json:"overhead_ms"`
	RequestBytes  int64    `json:"request_bytes"`
	ResponseBytes int64    `json:"response_bytes"`
	User          string   `json:"user,omitempty"`
	Instance      string   `json:"instance,omitempty"`
	Error         string   `json:"error,omitempty"`
	Panic         string   `json:"panic,omitempty"`
	Failed        bool     `json:"failed"`
	WarningCount  int      `json:"warning_count"`
	Cost          jsonCost `json:"cost"`
}

type recordJSON struct {
	summaryJSON
	SpanID       string              `json:"span_id"`
	ParentSpanID string              `json:"parent_span_id,omitempty"`
	Remote       string              `json:"remote,omitempty"`
	Headers      map[string][]string `json:"headers"`
	Attrs        []attrJSON          `json:"attrs"`
	Warnings     []warningJSON       `json:"warnings"`
	RPCStats     []rpcStatJSON       `json:"rpc_stats"`
	// RPCStatsCut counts the RPCs a page of calls leaves out of RPCStats
	// (see apiRecord).
	RPCStatsCut int        `json:"rpc_stats_cut,omitempty"`
	Calls       []callJSON `json:"calls"`
	// CallsPage says which of the record's calls Calls holds, where it
	// holds a page of them (see apiRecord); absent when it holds them all.
	CallsPage *callsPageJSON `json:"calls_page,omitempty"`
	ExecTrace *execTraceJSON `json:"exec_trace,omitempty"`
	CostUnit  string         `json:"cost_unit,omitempty"`
	Active    bool           `json:"active,omitempty"` // still in the making: a snapshot
}

// callsPageJSON is the place of a record's answer's calls among its
// calls: from offset, at most limit, of total; next is the offset of the
// next page, absent on the last.
type callsPageJSON struct {
	Offset int  `json:"offset"`
	Limit  int  `json:"limit"`
	Total  int  `json:"total"`
	Next   *int `json:"next,omitempty"`
}

type callJSON struct {
	Service      string      `json:"service"`
	Method       string      `json:"method"`
	StartMS      float64     `json:"start_ms"`
	DurationMS   float64     `json:"duration_ms"`
	Error        string      `json:"error"`
	RequestSize  int64       `json:"request_size"`
	ResponseSize int64       `json:"response_size"`
	Request      string      `json:"request"`
	Response     string      `json:"response"`
	Stack        []frameJSON `json:"stack"`
	Phases       []phaseJSON `json:"phases"`
	Attrs        []attrJSON  `json:"attrs"`
	SpanID       string      `json:"span_id,omitempty"`
	Running      bool        `json:"running,omitempty"`
	Event        bool        `json:"event,omitempty"`
	Cost         jsonCost    `json:"cost"`
	// Parent is the index in calls of the call this one was made inside
	// of; absent for a call the request made directly.
	Parent *int    `json:"parent,omitempty"`
	SelfMS float64 `json:"self_ms"`
}

type frameJSON struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
}

type phaseJSON struct {
	Name       string  `json:"name"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
}

type attrJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type warningJSON struct {
	Kind    string  `json:"kind"`
	Service string  `json:"service,omitempty"`
	Method  string  `json:"method,omitempty"`
	Request string  `json:"request,omitempty"`
	Count   int     `json:"count"`
	TotalMS float64 `json:"total_ms"`
	Message string  `json:"message"`
}

type rpcStatJSON struct {
	Service string   `json:"service"`
	Method  string   `json:"method"`
	Count   int      `json:"count"`
	Errors  int      `json:"errors"`
	TotalMS float64  `json:"total_ms"`
	Cost    jsonCost `json:"cost"`
}

type listJSON struct {
	Records []summaryJSON `json:"records"`
	Next    string        `json:"next"`
	// Truncated says a list sorted by duration is the slowest of the
	// newest maxSortScan matching records, not of all of them.
	Truncated bool `json:"truncated,omitempty"`
}

type latencyJSON struct {
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
}

type rpcStatsJSON struct {
	Service  string  `json:"service"`
	Method   string  `json:"method"`
	Count    int64   `json:"count"`
	Errors   int64   `json:"errors"`
	Requests int64   `json:"requests"`
	TotalMS  float64 `json:"total_ms"`
	MeanMS   float64 `json:"mean_ms"`
	latencyJSON
	Share     float64        `json:"share"`
	Cost      jsonCost       `json:"cost"`
	CostShare jsonCost       `json:"cost_share"`
	Routes    []routeRPCJSON `json:"routes,omitempty"`
}

type routeRPCJSON struct {
	Route    string   `json:"route"`
	Count    int64    `json:"count"`
	Errors   int64    `json:"errors"`
	Requests int64    `json:"requests"`
	TotalMS  float64  `json:"total_ms"`
	MeanMS   float64  `json:"mean_ms"`
	Cost     jsonCost `json:"cost"`
	latencyJSON
}

type pathStatsJSON struct {
	Route           string   `json:"route"`
	Requests        int64    `json:"requests"`
	Stored          int64    `json:"stored"`
	Errors          int64    `json:"errors"`
	Calls           int64    `json:"calls"`
	CallsPerRequest float64  `json:"calls_per_request"`
	TotalMS         float64  `json:"total_ms"`
	MeanMS          float64  `json:"mean_ms"`
	Cost            jsonCost `json:"cost"`
	CostShare       jsonCost `json:"cost_share"`
	latencyJSON
	RPCs []pathRPCJSON `json:"rpcs,omitempty"`
}

type pathRPCJSON struct {
	Service  string   `json:"service"`
	Method   string   `json:"method"`
	Count    int64    `json:"count"`
	Errors   int64    `json:"errors"`
	Requests int64    `json:"requests"`
	TotalMS  float64  `json:"total_ms"`
	MeanMS   float64  `json:"mean_ms"`
	Cost     jsonCost `json:"cost"`
	latencyJSON
}

type instanceStatsJSON struct {
	Instance        string  `json:"instance"`
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"`
	Calls           int64   `json:"calls"`
	CallsPerRequest float64 `json:"calls_per_request"`
	TotalMS         float64 `json:"total_ms"`
	MeanMS          float64 `json:"mean_ms"`
	latencyJSON
}

type histogramJSON struct {
	LeMS  float64 `json:"le_ms"` // 0: the overflow bucket
	Count int64   `json:"count"`
}

type statsJSON struct {
	Window           windowJSON          `json:"window"`
	Requests         int64               `json:"requests"`
	Errors           int64               `json:"errors"`
	RPCs             []rpcStatsJSON      `json:"rpcs"`
	Paths            []pathStatsJSON     `json:"paths"`
	Instances        []instanceStatsJSON `json:"instances"`
	Histogram        []histogramJSON     `json:"histogram"`
	RPCsOmitted      int                 `json:"rpcs_omitted"`
	PathsOmitted     int                 `json:"paths_omitted"`
	RouteRPCsOmitted int                 `json:"route_rpcs_omitted"`
	InstancesOmitted int                 `json:"instances_omitted"`
	Cost             jsonCost            `json:"cost"`
	CostUnit         string              `json:"cost_unit,omitempty"`
}

type windowJSON struct {
	Since string `json:"since"`
	Until string `json:"until"`
}

type seriesJSON struct {
	Window  windowJSON   `json:"window"`
	StepMS  float64      `json:"step_ms"`
	Buckets []bucketJSON `json:"buckets"`
}

type bucketJSON struct {
	Start    string `json:"start"`
	StartMS  int64  `json:"start_unix_ms"`
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"`
	Calls    int64  `json:"calls"`
	latencyJSON
}

type healthJSON struct {
	Recorder *recorderJSON `json:"recorder"`
	Live     *liveJSON     `json:"live"`
	Store    *storeJSON    `json:"store"`
}

// storeJSON is a store's [store.Health], for stores that report it.
type storeJSON struct {
	State      string `json:"state"`
	Detail     string `json:"detail,omitempty"`
	Dropped    uint64 `json:"dropped"`
	OverBudget uint64 `json:"over_budget"`
	Skipped    uint64 `json:"skipped"`
	MovedAside string `json:"moved_aside,omitempty"`
	DiskBytes  int64  `json:"disk_bytes"`
	DiskFree   int64  `json:"disk_free"`
	MaxBytes   int64  `json:"max_bytes"`
}

type recorderJSON struct {
	Recorded      uint64     `json:"recorded"`
	Written       uint64     `json:"written"`
	Dropped       uint64     `json:"dropped"`
	SinkErrors    uint64     `json:"sink_errors"`
	SampledOut    uint64     `json:"sampled_out"`
	PausedOut     uint64     `json:"paused_out"`
	Filtered      uint64     `json:"filtered"`
	DroppedCalls  uint64     `json:"dropped_calls"`
	LateCalls     uint64     `json:"late_calls"`
	QueueDepth    int        `json:"queue_depth"`
	QueueCap      int        `json:"queue_cap"`
	QueueBytes    int64      `json:"queue_bytes"`
	QueueBytesCap int64      `json:"queue_bytes_cap"`
	Sinks         []sinkJSON `json:"sinks"`
	Paused        bool       `json:"paused"`
}

type sinkJSON struct {
	Name       string `json:"name"`
	Written    uint64 `json:"written"`
	Dropped    uint64 `json:"dropped"`
	Errors     uint64 `json:"errors"`
	QueueDepth int    `json:"queue_depth"`
	QueueBytes int64  `json:"queue_bytes"`
}

type liveJSON struct {
	Subscribers int    `json:"subscribers"`
	Notified    uint64 `json:"notified"`
	Refused     uint64 `json:"refused"` // streams refused over the Live's cap
}

// ms converts a duration to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func latencyOf(l store.Latency) latencyJSON {
	return latencyJSON{P50MS: ms(l.P50), P95MS: ms(l.P95), P99MS: ms(l.P99)}
}

func toSummaryJSON(s *recording.Summary) summaryJSON {
	return summaryJSON{
		ID:            s.ID.String(),
		TraceID:       s.TraceID.String(),
		Kind:          s.Kind.String(),
		Start:         rfc3339(s.Start),
		DurationMS:    ms(s.Duration),
		Method:        s.Method,
		Path:          s.Path,
		Query:         s.Query,
		Route:         s.Route,
		Status:        s.Status,
		CallCount:     s.CallCount,
		ErrorCalls:    s.ErrorCalls,
		DroppedCalls:  s.DroppedCalls,
		OverheadMS:    ms(s.Overhead),
		RequestBytes:  s.RequestBytes,
		ResponseBytes: s.ResponseBytes,
		User:          s.User,
		Instance:      s.Instance,
		Error:         s.Error,
		Panic:         s.Panic,
		Failed:        s.HasError(),
		WarningCount:  s.Warnings,
		Cost:          jsonCost(s.Cost()),
	}
}

func toRecordJSON(r *recording.Record) recordJSON {
	parents := r.Parents()
	self := recording.SelfTimes(r.Calls, parents)
	sum := r.Summary()
	return toRecordJSONCalls(r, &sum, 0, len(r.Calls), parents, self, recordRPCsJSON(&sum, nil, nil, 0))
}

// toRecordJSONCalls is toRecordJSON with r's calls [from, to) only, their
// parents and self times given, and the rpc_stats given.
func toRecordJSONCalls(r *recording.Record, sum *recording.Summary, from, to int, parents []int, self []time.Duration, rpcs []rpcStatJSON) recordJSON {
	out := recordJSON{
		summaryJSON: toSummaryJSON(sum),
		SpanID:      r.SpanID.String(),
		Remote:      r.Remote,
		Headers:     r.Headers,
		Attrs:       attrsJSON(r.Attrs),
		Warnings:    make([]warningJSON, 0, len(r.Warnings)),
		RPCStats:    rpcs,
		RPCStatsCut: len(sum.RPCs) - len(rpcs),
		Calls:       make([]callJSON, 0, to-from),
		ExecTrace:   toExecTraceJSON(r),
	}
	if out.Headers == nil {
		out.Headers = map[string][]string{}
	}
	if r.ParentSpanID.IsValid() {
		out.ParentSpanID = r.ParentSpanID.String()
	}
	for _, w := range r.Warnings {
		out.Warnings = append(out.Warnings, warningJSON{
			Kind: w.Kind, Service: w.Service, Method: w.Method, Request: w.Request,
			Count: w.Count, TotalMS: ms(w.Total), Message: w.Message,
		})
	}
	for i := from; i < to; i++ {
		out.Calls = append(out.Calls, toCallJSON(r, i, parents, self))
	}
	return out
}

// toCallJSON is the JSON of r's call i, given r's calls' parents and self
// times.
func toCallJSON(r *recording.Record, i int, parents []int, self []time.Duration) callJSON {
	c := &r.Calls[i]
	cj := callJSON{
		Service:      c.Service,
		Method:       c.Method,
		StartMS:      ms(c.Start),
		DurationMS:   ms(c.Duration),
		Error:        c.Error,
		RequestSize:  c.RequestSize,
		ResponseSize: c.ResponseSize,
		Request:      c.Request,
		Response:     c.Response,
		Stack:        make([]frameJSON, len(c.Stack)),
		Phases:       make([]phaseJSON, len(c.Phases)),
		Attrs:        attrsJSON(c.Attrs),
		Running:      c.Running,
		Event:        c.Event,
		Cost:         jsonCost(c.Cost),
	}
	if c.SpanID.IsValid() {
		cj.SpanID = c.SpanID.String()
	}
	for j, f := range c.Stack {
		cj.Stack[j] = frameJSON{Function: f.Function, File: f.File, Line: f.Line}
	}
	for j, p := range c.Phases {
		cj.Phases[j] = phaseJSON{Name: p.Name, StartMS: ms(p.Start), DurationMS: ms(p.Duration)}
	}
	if p := parents[i]; p >= 0 {
		cj.Parent = &p
	}
	cj.SelfMS = ms(self[i])
	return cj
}

// recordRPCsJSON is the rpc_stats of a record's answer: every RPC of sum,
// in its order; or, given the record's calls and their self times and a
// bound n > 0, the n of most self time, in that order.
func recordRPCsJSON(sum *recording.Summary, r *recording.Record, self []time.Duration, n int) []rpcStatJSON {
	keep := sum.RPCs
	if n > 0 && len(sum.RPCs) > n {
		idx := make(map[[2]string]int, len(sum.RPCs))
		for j, s := range sum.RPCs {
			idx[[2]string{s.Service, s.Method}] = j
		}
		selfOf := make([]time.Duration, len(sum.RPCs))
		for i := range r.Calls {
			if c := &r.Calls[i]; !c.Event {
				if j, ok := idx[[2]string{c.Service, c.Method}]; ok {
					selfOf[j] += self[i]
				}
			}
		}
		order := make([]int, len(sum.RPCs))
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(selfOf[b], selfOf[a]) })
		order = order[:n]
		slices.Sort(order)
		keep = make([]recording.RPCStat, n)
		for k, j := range order {
			keep[k] = sum.RPCs[j]
		}
	}
	out := make([]rpcStatJSON, len(keep))
	for j, s := range keep {
		out[j] = rpcStatJSON{
			Service: s.Service, Method: s.Method, Count: s.Count, Errors: s.Errors, TotalMS: ms(s.Total), Cost: jsonCost(s.Cost),
		}
	}
	return out
}

// rpcStatsCost is what rpcs add to an answer, by the measure of callCost.
func rpcStatsCost(rpcs []rpcStatJSON) int {
	n := 0
	for _, s := range rpcs {
		n += 160 + 2*textCost(s.Service) + 2*textCost(s.Method)
	}
	return n
}

func attrsJSON(as []recording.Attr) []attrJSON {
	out := make([]attrJSON, len(as))
	for i, a := range as {
		out[i] = attrJSON{Key: a.Key, Value: a.Value}
	}
	return out
}

// toStatsJSON converts st, cut to the bounds of boundStats; shares are of
// the total call time of every RPC, listed or not.
func toStatsJSON(all *store.Stats, costUnit string) statsJSON {
	cost := costColumnsOf(all, costUnit)
	var total time.Duration
	for i := range all.RPCs {
		total += all.RPCs[i].Total
	}
	shown := boundStats(all)
	st := shown.Stats
	out := statsJSON{
		Window:           windowJSON{Since: rfc3339(st.Window.Since), Until: rfc3339(st.Window.Until)},
		Requests:         st.Requests,
		Errors:           st.Errors,
		RPCs:             make([]rpcStatsJSON, 0, len(st.RPCs)),
		Paths:            make([]pathStatsJSON, 0, len(st.Routes)),
		Instances:        make([]instanceStatsJSON, 0, len(st.Instances)),
		Histogram:        make([]histogramJSON, 0, len(st.Histogram)),
		RPCsOmitted:      shown.RPCsOmitted,
		PathsOmitted:     shown.RoutesOmitted,
		RouteRPCsOmitted: shown.RouteRPCsOmitted,
		InstancesOmitted: shown.InstancesOmitted,
		Cost:             jsonCost(cost.Total),
		CostUnit:         costUnit,
	}
	byRPC := make(map[[2]string][]routeRPCJSON)
	byRoute := make(map[string][]pathRPCJSON)
	for i := range st.RouteRPCs {
		rr := &st.RouteRPCs[i]
		k := [2]string{rr.Service, rr.Method}
		byRPC[k] = append(byRPC[k], routeRPCJSON{
			Route: rr.Route, Count: rr.Count, Errors: rr.Errors, Requests: rr.Requests,
			TotalMS: ms(rr.Total), MeanMS: ms(rr.Mean), Cost: jsonCost(rr.Cost), latencyJSON: latencyOf(rr.Latency),
		})
		byRoute[rr.Route] = append(byRoute[rr.Route], pathRPCJSON{
			Service: rr.Service, Method: rr.Method, Count: rr.Count, Errors: rr.Errors, Requests: rr.Requests,
			TotalMS: ms(rr.Total), MeanMS: ms(rr.Mean), Cost: jsonCost(rr.Cost), latencyJSON: latencyOf(rr.Latency),
		})
	}
	for i := range st.RPCs {
		r := &st.RPCs[i]
		share := 0.0
		if total > 0 {
			share = float64(r.Total) / float64(total)
		}
		out.RPCs = append(out.RPCs, rpcStatsJSON{
			Service: r.Service, Method: r.Method, Count: r.Count, Errors: r.Errors, Requests: r.Requests,
			TotalMS: ms(r.Total), MeanMS: ms(r.Mean), latencyJSON: latencyOf(r.Latency),
			Share: share, Cost: jsonCost(r.Cost), CostShare: jsonCost(cost.share(r.Cost)), Routes: byRPC[[2]string{r.Service, r.Method}],
		})
	}
	for i := range st.Routes {
		r := &st.Routes[i]
		cpr := 0.0
		if r.Requests > 0 {
			cpr = float64(r.Calls) / float64(r.Requests)
		}
		out.Paths = append(out.Paths, pathStatsJSON{
			Route: r.Route, Requests: r.Requests, Stored: storedOf(r), Errors: r.Errors, Calls: r.Calls, CallsPerRequest: cpr,
			TotalMS: ms(r.Total), MeanMS: ms(r.Mean), Cost: jsonCost(r.Cost), CostShare: jsonCost(cost.share(r.Cost)),
			latencyJSON: latencyOf(r.Latency), RPCs: byRoute[r.Route],
		})
	}
	for i := range st.Instances {
		in := &st.Instances[i]
		cpr := 0.0
		if in.Requests > 0 {
			cpr = float64(in.Calls) / float64(in.Requests)
		}
		out.Instances = append(out.Instances, instanceStatsJSON{
			Instance: in.Instance, Requests: in.Requests, Errors: in.Errors, Calls: in.Calls, CallsPerRequest: cpr,
			TotalMS: ms(in.Total), MeanMS: ms(in.Mean), latencyJSON: latencyOf(in.Latency),
		})
	}
	for _, b := range st.Histogram {
		out.Histogram = append(out.Histogram, histogramJSON{LeMS: ms(b.Le), Count: b.Count})
	}
	return out
}

// writeJSON writes v with the given status. encoding/json escapes <, > and &,
// so the output is safe even if a browser sniffed it as HTML.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", noStore)
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// apiRecords serves GET api/records.
func (h *handler) apiRecords(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	for _, name := range [...]string{"from", "to", "window"} {
		if v.Has(name) {
			// api/stats' and api/series' range, which this list would
			// otherwise pass over and answer with every record.
			h.fail(w, r, http.StatusBadRequest, name+": api/records takes its range as since and until "+
				"(Unix milliseconds, RFC 3339, or 2006-01-02T15:04[:05] in UTC); from, to and window are api/stats' and api/series'")
			return
		}
	}
	p, err := parseList(v, store.DefaultLimit)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if f := &p.more; !f.since.IsZero() {
		p.query.Since = f.since
	}
	if f := &p.more; !f.until.IsZero() {
		p.query.Until = f.until
	}
	var page store.Page
	var cut bool
	if p.more.Sort == "duration" {
		var more bool
		page.Records, more, cut, err = h.slowest(r.Context(), p.query, p.more.Offset, nil)
		if n := fitBudget(page.Records, apiListFixed, apiListBudget); n < len(page.Records) {
			page.Records, more = page.Records[:n], true
		}
		if more {
			page.Next = strconv.Itoa(p.more.Offset + len(page.Records))
		}
	} else {
		page, err = h.list(r.Context(), p.query, apiListFixed, apiListBudget)
	}
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	out := listJSON{Truncated: cut, Records: make([]summaryJSON, len(page.Records)), Next: page.Next}
	for i := range page.Records {
		out.Records[i] = toSummaryJSON(&page.Records[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// The calls of a record's answer come a page at a time (?offset=&limit=,
// in recording order; parent indexes stay the record's): a record of
// 10,000 calls (recording.WithMaxCalls) made an answer of 6.5 MB. Without
// either, a record of at most recordCallsDefault calls (the recorder's
// default cap) is answered whole, as before, and a bigger one with its
// first recordCallsDefault; ?download=1 without them is the whole record,
// the form UnmarshalRecord reads. A page holds fewer calls than its limit
// where they would pass recordCallsBudget bytes (by callCost) with the
// answer's rpc_stats, but at least one. A paged answer's rpc_stats holds
// the maxDetailsRPCs RPCs of most self time, as the details page does, and
// rpc_stats_cut counts the others: a page of one call of a record of
// 10,000 calls each named on its own held every RPC, 5 MB.
const (
	recordCallsDefault = recording.DefaultMaxCalls
	recordCallsMax     = 5000
	recordCallsBudget  = 4 << 20
)

// recordCallsParam reads ?offset= and ?limit= for a record of total calls:
// the calls [from, to) to answer with, within budget bytes by callCost,
// and their place (nil for all of them, unasked); an error, meant for a
// 400 answer, for bad values.
func recordCallsParam(q url.Values, calls []recording.Call, whole bool, budget int) (from, to int, page *callsPageJSON, err error) {
	total := len(calls)
	if !q.Has("offset") && !q.Has("limit") && (whole || total <= recordCallsDefault) {
		return 0, total, nil, nil
	}
	offset, limit := 0, recordCallsDefault
	if q.Has("offset") {
		s := q.Get("offset")
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 || offset > total {
			return 0, 0, nil, fmt.Errorf("offset: %q is not an offset in this record's calls (0 to %d)", s, total)
		}
	}
	if q.Has("limit") {
		s := q.Get("limit")
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > recordCallsMax {
			return 0, 0, nil, fmt.Errorf("limit: %q is not a number of calls from 1 to %d", s, recordCallsMax)
		}
	}
	to, cost := offset, 0
	for to < min(total, offset+limit) {
		if cost += callCost(&calls[to]); cost > budget && to > offset {
			break
		}
		to++
	}
	page = &callsPageJSON{Offset: offset, Limit: limit, Total: total}
	if to < total {
		page.Next = &to
	}
	return offset, to, page, nil
}

// apiRecord serves GET api/records/{id}?offset=&limit=; ?download=1 makes
// it an attachment.
func (h *handler) apiRecord(w http.ResponseWriter, r *http.Request) {
	rec, active := h.recordParam(w, r)
	if rec == nil {
		return
	}
	q := r.URL.Query()
	download := q.Get("download") == "1" || q.Get("download") == "true"
	sum := rec.Summary()
	parents := rec.Parents()
	self := recording.SelfTimes(rec.Calls, parents)
	rpcs := recordRPCsJSON(&sum, rec, self, maxDetailsRPCs)
	from, to, page, err := recordCallsParam(q, rec.Calls, download, recordCallsBudget-rpcStatsCost(rpcs))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if page == nil {
		rpcs = recordRPCsJSON(&sum, nil, nil, 0) // every call: every RPC
	}
	if download {
		// The ID is 32 hex digits: safe in the header.
		w.Header().Set("Content-Disposition", `attachment; filename="appstats-`+rec.ID.String()+`.json"`)
	}
	if page == nil && len(rec.Calls) > streamCallsOver {
		// Every call of a big record (the download): written a call at
		// a time.
		out := toRecordJSONCalls(rec, &sum, 0, 0, parents, self, rpcs)
		out.CostUnit = h.costUnit()
		out.Active = active
		writeRecordJSONStream(w, &out, rec, parents, self)
		return
	}
	out := toRecordJSONCalls(rec, &sum, from, to, parents, self, rpcs)
	out.CallsPage = page
	out.CostUnit = h.costUnit()
	out.Active = active
	writeJSON(w, http.StatusOK, out)
}

// streamCallsOver is the number of calls over which a record's answer of
// every call is written a call at a time (writeRecordJSONStream): a
// download of a record of 100,000 calls (recording.WithMaxCalls) held the
// JSON of every call, and then the whole answer's bytes, at once.
const streamCallsOver = recordCallsDefault

// streamBuffer is the size of the writes of writeRecordJSONStream (one
// call's JSON longer than it is written as one).
const streamBuffer = 32 << 10

// writeRecordJSONStream writes the answer out would be with r's calls as
// its calls (out's own calls empty), the same bytes writeJSON writes, but
// without the JSON of every call at once: besides r, parents, self and out
// (its rpc_stats among them), it holds one call's JSON at a time and a
// buffer of streamBuffer bytes. A call's JSON cannot fail to encode:
// callJSON holds strings (invalid UTF-8 is replaced, not refused),
// integers, booleans, float64s of durations (finite) and jsonCost, which
// writes null for NaN and ±Inf.
func writeRecordJSONStream(w http.ResponseWriter, out *recordJSON, r *recording.Record, parents []int, self []time.Duration) {
	out.Calls = []callJSON{}
	head, err := json.Marshal(out)
	// The last "calls":[] is the field: the strings and map keys before
	// it have their quotes escaped, and none after it is a map.
	at := bytes.LastIndex(head, []byte(`"calls":[]`))
	if err != nil || at < 0 {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "encoding failed"})
		return
	}
	at += len(`"calls":[`)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", noStore)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, streamBuffer)
	_, _ = bw.Write(head[:at])
	var cb bytes.Buffer
	enc := json.NewEncoder(&cb)
	for i := range r.Calls {
		cb.Reset()
		if i > 0 {
			cb.WriteByte(',')
		}
		_ = enc.Encode(toCallJSON(r, i, parents, self)) // cannot fail (see above)
		b := cb.Bytes()
		if _, err := bw.Write(b[:len(b)-1]); err != nil { // without Encode's newline
			return // the client left
		}
	}
	_, _ = bw.Write(head[at:])
	_ = bw.WriteByte('\n')
	_ = bw.Flush()
}

// apiStats serves GET api/stats?window=.
func (h *handler) apiStats(w http.ResponseWriter, r *http.Request) {
	wc, ok := h.windowParam(w, r)
	if !ok {
		return
	}
	st, err := h.st.Stats(r.Context(), wc.span(time.Now()))
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toStatsJSON(st, h.costUnit()))
}

// apiSeries serves GET api/series?window=.
func (h *handler) apiSeries(w http.ResponseWriter, r *http.Request) {
	wc, ok := h.windowParam(w, r)
	if !ok {
		return
	}
	win := seriesWindow(time.Now(), wc)
	bs, err := h.st.Series(r.Context(), win, wc.Step)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSeriesJSON(win, wc, bs))
}

func toSeriesJSON(win store.Window, wc windowChoice, bs []store.Bucket) seriesJSON {
	out := seriesJSON{
		Window:  windowJSON{Since: rfc3339(win.Since), Until: rfc3339(win.Until)},
		StepMS:  ms(wc.Step),
		Buckets: make([]bucketJSON, len(bs)),
	}
	for i, b := range bs {
		out.Buckets[i] = bucketJSON{
			Start: rfc3339(b.Start), StartMS: b.Start.UnixMilli(),
			Requests: b.Requests, Errors: b.Errors, Calls: b.Calls, latencyJSON: latencyOf(b.Latency),
		}
	}
	return out
}

// seriesWindow aligns the window to whole steps, so that buckets do not
// shift on every refresh; the last bucket ends after now.
func seriesWindow(now time.Time, wc windowChoice) store.Window {
	if !wc.Until.IsZero() {
		return wc.span(now) // a custom range, as given
	}
	until := now.Truncate(wc.Step).Add(wc.Step)
	return store.Window{Since: until.Add(-wc.Span), Until: until}
}

// apiHealth serves GET api/health.
func (h *handler) apiHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.health())
}

func (h *handler) health() healthJSON {
	var out healthJSON
	if rec := h.cfg.rec; rec != nil {
		s := rec.Stats()
		out.Recorder = &recorderJSON{
			Recorded: s.Recorded, Written: s.Written, Dropped: s.Dropped, SinkErrors: s.SinkErrors,
			SampledOut: s.SampledOut, PausedOut: s.PausedOut, Filtered: s.Filtered, DroppedCalls: s.DroppedCalls,
			LateCalls: s.LateCalls, QueueDepth: s.QueueDepth, QueueCap: s.QueueCap,
			QueueBytes: s.QueueBytes, QueueBytesCap: s.QueueBytesCap, Sinks: []sinkJSON{}, Paused: s.Paused,
		}
		for _, k := range s.Sinks {
			out.Recorder.Sinks = append(out.Recorder.Sinks, sinkJSON{Name: k.Name, Written: k.Written, Dropped: k.Dropped,
				Errors: k.Errors, QueueDepth: k.QueueDepth, QueueBytes: k.QueueBytes})
		}
	}
	if l := h.cfg.live; l != nil {
		out.Live = &liveJSON{Subscribers: l.Subscribers(), Notified: l.notified.Load(), Refused: l.refused.Load()}
	}
	if hr, ok := h.st.(store.HealthReporter); ok {
		sh := hr.Health()
		out.Store = &storeJSON{
			State: sh.State, Detail: sh.Detail, Dropped: sh.Dropped, OverBudget: sh.OverBudget, Skipped: sh.Skipped, MovedAside: sh.MovedAside,
			DiskBytes: sh.DiskBytes, DiskFree: sh.DiskFree, MaxBytes: sh.MaxBytes,
		}
	}
	return out
}
