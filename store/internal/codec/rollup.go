package codec

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// A group aggregates requests (overall, per route) or calls (per RPC, per
// route×RPC) in one time bucket.
type group struct {
	count    int64 // requests, or calls
	errors   int64 // failed requests, or failed calls
	calls    int64 // requests: calls they made
	requests int64 // calls: requests that made at least one
	// stored counts the requests (of a request group), or the requests
	// that made at least one such call (of a call group), whose full
	// record was persisted: at most count, or requests.
	stored int64
	total  time.Duration
	cost   float64 // of the calls (see recording.CostModel)
	sk     sketch.Sketch
}

func (g *group) merge(o *group) {
	g.count += o.count
	g.errors += o.errors
	g.calls += o.calls
	g.requests += o.requests
	g.stored += o.stored
	g.total += o.total
	g.cost += o.cost
	g.sk.Merge(&o.sk)
}

// groupOf returns m's group for k, added empty if m has none.
func groupOf[K comparable](m map[K]*group, k K) *group {
	g := m[k]
	if g == nil {
		g = new(group)
		m[k] = g
	}
	return g
}

// mergeGroups adds each group of src to dst's group of the same key.
func mergeGroups[K comparable](dst, src map[K]*group) {
	for k, g := range src {
		groupOf(dst, k).merge(g)
	}
}

type rpcKey struct{ service, method string }

type routeRPCKey struct{ route, service, method string }

// A Rollup pre-aggregates the records of a time bucket (a minute, an hour,
// or one write's records of one minute): totals, a request-latency histogram
// and per-route, per-RPC, per-route×RPC and per-instance groups, each with a
// [sketch.Sketch].
//
// A bounded rollup keeps at most maxKeys groups per map (instances
// included) in what it encodes and answers, folding the others into the
// [store.Other] group as [store.DefaultMaxKeys] documents; while adding it
// lets a map grow to twice that before folding, so that the groups with
// the most requests or calls are the ones kept.
type Rollup struct {
	all     group
	hist    []int64 // storekit.HistogramBuckets
	routes  map[string]*group
	rpcs    map[rpcKey]*group
	rr      map[routeRPCKey]*group
	insts   map[string]*group
	maxKeys int // 0: unbounded
	memo    rollupMemo
	// span, when hasSpan is set, is the span of bucket indexes that the
	// sketches of the first route and instance groups are made to cover
	// when they are made (see Reserve).
	span    struct{ lo, hi int }
	hasSpan bool
}

// A rollupMemo holds, for an unbounded rollup (one write's deltas), the
// groups that the last records added counted in, with their keys: a
// write's records come mostly from a few routes, instances and RPCs in a
// row, whose groups are found so by comparing the words of their
// strings (data and length: the recorder's records share them) rather
// than hashing them into the maps; an equal key in other memory is
// looked up in the maps. A bounded rollup folds groups away (see bound)
// and keeps none; Reset forgets them.
type rollupMemo struct {
	route, inst   string
	routeG, instG *group
	rpcs          [8]memoRPC // the last RPCs counted, in turn
	next          int
}

// A memoRPC is an RPC's group and its route×RPC group, with their key.
type memoRPC struct {
	k     routeRPCKey
	g, gr *group
}

// routeGroup returns ru's group for route.
func (ru *Rollup) routeGroup(route string) *group {
	return ru.memoGroup(ru.routes, &ru.memo.route, &ru.memo.routeG, route)
}

// instGroup returns ru's group for instance inst.
func (ru *Rollup) instGroup(inst string) *group {
	return ru.memoGroup(ru.insts, &ru.memo.inst, &ru.memo.instG, inst)
}

// memoGroup returns groups' group for key: the one remembered in *last
// and *lastG when key is the very string of *last (an unbounded rollup
// only; a bounded one's bound may fold groups away), else the map's, then
// remembered.
func (ru *Rollup) memoGroup(groups map[string]*group, last *string, lastG **group, key string) *group {
	if ru.maxKeys != 0 {
		return groupOf(groups, key)
	}
	if *lastG == nil || !sameData(last, &key) {
		first := len(groups) == 0
		g := groupOf(groups, key)
		if ru.hasSpan && first {
			// The first route's and instance's only: a write's records
			// of many routes keep no more memory than before.
			g.sk.Reserve(ru.span.lo, ru.span.hi)
		}
		*last, *lastG = key, g
	}
	return *lastG
}

// maxReservedSpan is the most bucket indexes Reserve reserves a
// sketch: 4 KiB of counts, latencies within a factor of ~27,000.
const maxReservedSpan = 512

// ReserveSpan returns the span of bucket indexes for the next rollup to
// Reserve after one whose Span is lo..hi: lo..hi with a quarter of its
// width (at least 8 buckets) on either side — the next write's fastest
// and slowest requests mostly fall a little outside the last one's, and a
// sketch grown past its reserved span copies its counts — the margins cut
// so that the span stays within what Reserve reserves (a span of more
// than 341 buckets widened by a quarter on either side would be past it,
// and reserve nothing). ok is false for a span Reserve would refuse with
// no margin at all.
func ReserveSpan(lo, hi int) (rlo, rhi int, ok bool) {
	if hi < lo || hi-lo >= maxReservedSpan {
		return 0, 0, false
	}
	m := min(max(8, (hi-lo)/4), (maxReservedSpan-1-(hi-lo))/2)
	return max(0, lo-m), hi + m, true
}

// Span returns the lowest and highest sketch bucket indexes of the
// requests ru counts (see sketch.Sketch.Span), for Reserve.
func (ru *Rollup) Span() (lo, hi int, ok bool) { return ru.all.sk.Span() }

// Reserve makes an empty rollup's request sketches — the overall group's
// now, its first route's and instance's as they are made — cover the
// bucket indexes lo..hi, another rollup's Span, so that they do not grow
// their counts again and again as this rollup counts requests like that
// one's: one write's delta after the last one's. (Each new delta's
// sketches would otherwise start empty and grow in several steps, ~90
// bytes a record over budget in the load test.) What ru encodes and
// answers does not change (see sketch.Sketch.Reserve). The sketches of
// calls' groups are left as they are. It does nothing to a bounded
// rollup, one that counts requests already, or for a span wider than
// maxReservedSpan.
func (ru *Rollup) Reserve(lo, hi int) {
	if ru.maxKeys != 0 || ru.all.count != 0 || hi < lo || hi-lo >= maxReservedSpan {
		return
	}
	ru.span.lo, ru.span.hi, ru.hasSpan = lo, hi, true
	ru.all.sk.Reserve(lo, hi)
}

// Trim drops the zero counts at either end of each of ru's sketches (see
// sketch.Sketch.Trim): a write's delta, its records counted, was
// reserved the last delta's span with a margin on either side (see
// Reserve), which every later reader would otherwise pass over —
// AppendRollup as it encodes the delta, and each merge of the delta
// into a read's or a fold's rollup. What ru encodes and answers does not
// change.
func (ru *Rollup) Trim() {
	ru.all.sk.Trim()
	for _, g := range ru.routes {
		g.sk.Trim()
	}
	for _, g := range ru.rpcs {
		g.sk.Trim()
	}
	for _, g := range ru.rr {
		g.sk.Trim()
	}
	for _, g := range ru.insts {
		g.sk.Trim()
	}
}

// rpcGroups returns ru's group for the RPC service and method, and its
// group for that RPC under route.
func (ru *Rollup) rpcGroups(route, service, method string) (g, gr *group) {
	if ru.maxKeys != 0 {
		return groupOf(ru.rpcs, rpcKey{service, method}), groupOf(ru.rr, routeRPCKey{route, service, method})
	}
	m := &ru.memo
	for i := range m.rpcs {
		e := &m.rpcs[i]
		if e.g != nil && sameData(&e.k.method, &method) && sameData(&e.k.service, &service) && sameData(&e.k.route, &route) {
			return e.g, e.gr
		}
	}
	g, gr = groupOf(ru.rpcs, rpcKey{service, method}), groupOf(ru.rr, routeRPCKey{route, service, method})
	m.rpcs[m.next%len(m.rpcs)] = memoRPC{routeRPCKey{route, service, method}, g, gr}
	m.next++
	return g, gr
}

// NewRollup returns an empty rollup that keeps every key: for one write's
// deltas, which a transaction's size bounds, and for Series, which reads
// only the overall group.
func NewRollup() *Rollup { return NewBoundedRollup(0) }

// NewBoundedRollup returns an empty rollup that keeps at most maxKeys
// routes, RPCs and route×RPC pairs (maxKeys <= 0: all of them): for the
// minute and hour rollups, and for Stats.
func NewBoundedRollup(maxKeys int) *Rollup {
	return &Rollup{
		hist:    make([]int64, storekit.HistogramBuckets),
		routes:  make(map[string]*group),
		rpcs:    make(map[rpcKey]*group),
		rr:      make(map[routeRPCKey]*group),
		insts:   make(map[string]*group),
		maxKeys: max(maxKeys, 0),
	}
}

// The keys of the Other groups; never modified.
var (
	otherRPC      = rpcKey{store.Other, ""}
	otherRouteRPC = routeRPCKey{store.Other, store.Other, ""}
)

// bound folds each map that holds more than slack×maxKeys groups (and an
// Other group) down to maxKeys: slack 2 while adding, 1 before encoding
// or answering.
func (ru *Rollup) bound(slack int) {
	if ru.maxKeys == 0 {
		return
	}
	limit := slack*ru.maxKeys + 1
	byRequests := func(ka string, a *group, kb string, b *group) int {
		return cmp.Or(storekit.Rank(a.count, a.total, b.count, b.total), cmp.Compare(ka, kb))
	}
	if len(ru.routes) > limit {
		storekit.Fold(ru.routes, ru.maxKeys, store.Other, byRequests, newGroup, mergeInto)
	}
	if len(ru.insts) > limit {
		storekit.Fold(ru.insts, ru.maxKeys, store.Other, byRequests, newGroup, mergeInto)
	}
	if len(ru.rpcs) > limit {
		storekit.Fold(ru.rpcs, ru.maxKeys, otherRPC, func(ka rpcKey, a *group, kb rpcKey, b *group) int {
			return cmp.Or(storekit.Rank(a.count, a.total, b.count, b.total),
				cmp.Compare(ka.service, kb.service), cmp.Compare(ka.method, kb.method))
		}, newGroup, mergeInto)
	}
	if len(ru.rr) > limit {
		storekit.Fold(ru.rr, ru.maxKeys, otherRouteRPC, func(ka routeRPCKey, a *group, kb routeRPCKey, b *group) int {
			return cmp.Or(storekit.Rank(a.count, a.total, b.count, b.total),
				cmp.Compare(ka.route, kb.route), cmp.Compare(ka.service, kb.service), cmp.Compare(ka.method, kb.method))
		}, newGroup, mergeInto)
	}
}

func newGroup() *group { return new(group) }

func mergeInto(dst, src *group) { dst.merge(src) }

// Reset empties ru, keeping its histogram's storage.
func (ru *Rollup) Reset() {
	ru.all = group{}
	clear(ru.hist)
	clear(ru.routes)
	clear(ru.rpcs)
	clear(ru.rr)
	clear(ru.insts)
	ru.memo = rollupMemo{}
	ru.hasSpan = false
}

// AddOverall counts one record in the overall group and histogram only
// (what Series needs), from [DecodeOverall].
func (ru *Rollup) AddOverall(o Overall) {
	ru.all.count++
	if o.Failed {
		ru.all.errors++
	}
	ru.all.calls += int64(o.Calls)
	ru.all.total += o.Duration
	ru.all.cost += o.Cost
	ru.all.sk.Add(o.Duration)
	ru.hist[storekit.HistogramIndex(o.Duration)]++
}

// Add counts one record whose full record is persisted from its summary
// and its calls' durations (in the order of s.RPCs, Count durations each).
func (ru *Rollup) Add(s *recording.Summary, durs []time.Duration) { ru.add(s, durs, 1) }

// AddCounted counts one record as Add does, but as one whose full record
// was not persisted (over a storage budget): it counts in every figure
// but the stored ones.
func (ru *Rollup) AddCounted(s *recording.Summary, durs []time.Duration) { ru.add(s, durs, 0) }

// add counts one record; stored is 1 if its full record is persisted.
func (ru *Rollup) add(s *recording.Summary, durs []time.Duration, stored int64) {
	failed := s.HasError()
	cost := s.Cost()
	// A duration's sketch bucket (a logarithm) is computed once for the
	// groups it is counted in: the request's three, each call's two.
	rb := sketch.BucketOf(s.Duration)
	addReq := func(g *group) {
		g.count++
		g.stored += stored
		if failed {
			g.errors++
		}
		g.calls += int64(s.CallCount)
		g.total += s.Duration
		g.cost += cost
		if !g.sk.TryAddBucket(rb, 1) {
			g.sk.AddBucket(rb, 1)
		}
	}
	addReq(&ru.all)
	ru.hist[storekit.HistogramIndex(s.Duration)]++
	// The last record's route and instance (see memoGroup, which sets
	// them for an unbounded rollup only), without a call.
	rg, ig := ru.memo.routeG, ru.memo.instG
	if rg == nil || !sameData(&ru.memo.route, &s.Route) {
		rg = ru.routeGroup(s.Route)
	}
	if ig == nil || !sameData(&ru.memo.inst, &s.Instance) {
		ig = ru.instGroup(s.Instance)
	}
	addReq(rg)
	addReq(ig)
	for _, rpc := range s.RPCs {
		n := min(rpc.Count, len(durs))
		cd := durs[:n]
		durs = durs[n:]
		g, gr := ru.rpcGroups(s.Route, rpc.Service, rpc.Method)
		for _, g := range [2]*group{g, gr} {
			g.count += int64(rpc.Count)
			g.errors += int64(rpc.Errors)
			g.requests++
			g.stored += stored
			g.total += rpc.Total
			g.cost += rpc.Cost
		}
		// Equal durations in a row (a coarse clock, or calls answered
		// alike) are counted together.
		for len(cd) > 0 {
			k := 1
			for k < len(cd) && cd[k] == cd[0] {
				k++
			}
			b := sketch.BucketOf(cd[0])
			if !g.sk.TryAddBucket(b, uint64(k)) {
				g.sk.AddBucket(b, uint64(k))
			}
			if !gr.sk.TryAddBucket(b, uint64(k)) {
				gr.sk.AddBucket(b, uint64(k))
			}
			cd = cd[k:]
		}
	}
	if ru.maxKeys != 0 { // a call, ~15 instructions a record, for a delta
		ru.bound(2)
	}
}

// Merge adds o to ru. It copies: ru never shares groups with o.
func (ru *Rollup) Merge(o *Rollup) {
	ru.MergeOverall(o)
	mergeGroups(ru.routes, o.routes)
	mergeGroups(ru.rpcs, o.rpcs)
	mergeGroups(ru.rr, o.rr)
	mergeGroups(ru.insts, o.insts)
	ru.bound(2)
}

// appendGroup encodes g as a rollup of version ver has it. all, if not
// nil, is the rollup's overall sketch as encoded (see enc.sketchAs).
func appendGroup(e *enc, g *group, ver byte, all *encodedSketch) {
	e.u(uint64(g.count))
	e.u(uint64(g.errors))
	e.u(uint64(g.calls))
	e.u(uint64(g.requests))
	if ver >= rollupV4 {
		e.u(uint64(g.stored))
	}
	e.d(g.total)
	if ver >= rollupV3 {
		e.f(g.cost)
	}
	e.sketchAs(&g.sk, all)
}

// AppendRollup encodes ru (version 4: version 1 had no instances, version
// 2 no costs, version 3 no counts of stored records), folded first to its
// maximum of keys. The overall group and the histogram come
// first, so a reader that needs only them (Series) stops early.
func AppendRollup(b []byte, ru *Rollup) []byte { return appendRollupVersion(b, ru, rollupV4) }

// appendRollupVersion encodes ru as version ver of the encoding writes
// it: the latest for AppendRollup, earlier ones for the tests that read
// them.
func appendRollupVersion(b []byte, ru *Rollup, ver byte) []byte {
	ru.bound(1)
	e := enc{b: append(b, tagRollup, ver)}
	// A write's delta of one route and one instance (a service's own
	// records, mostly) counts the same durations in its route's and
	// instance's sketches as in the overall one: their bytes are copied.
	var all encodedSketch
	appendGroup(&e, &ru.all, ver, &all)
	e.n(len(ru.hist))
	for _, c := range ru.hist {
		e.u(uint64(c))
	}
	e.n(len(ru.routes))
	for k, g := range ru.routes {
		e.s(k)
		appendGroup(&e, g, ver, &all)
	}
	e.n(len(ru.rpcs))
	for k, g := range ru.rpcs {
		e.s(k.service)
		e.s(k.method)
		appendGroup(&e, g, ver, &all)
	}
	e.n(len(ru.rr))
	for k, g := range ru.rr {
		e.s(k.route)
		e.s(k.service)
		e.s(k.method)
		appendGroup(&e, g, ver, &all)
	}
	if ver >= rollupV2 {
		e.n(len(ru.insts))
		for k, g := range ru.insts {
			e.s(k)
			appendGroup(&e, g, ver, &all)
		}
	}
	return e.b
}

// AppendOverall encodes only ru's overall group and histogram, as a
// rollup without routes, RPCs or instances: what a reader that needs only
// them (Series) can fetch instead of the whole rollup, which is tens of
// times larger.
func AppendOverall(b []byte, ru *Rollup) []byte {
	e := enc{b: append(b, tagRollup, rollupV4)}
	appendGroup(&e, &ru.all, rollupV4, nil)
	e.n(len(ru.hist))
	for _, c := range ru.hist {
		e.u(uint64(c))
	}
	for range 4 { // no routes, RPCs, route×RPCs, instances
		e.n(0)
	}
	return e.b
}

// mergeGroup decodes a group of a rollup of version ver and adds it to g,
// a group of calls (per RPC, per route×RPC) if calls is set, else of
// requests.
func mergeGroup(d *dec, ver byte, g *group, scratch *sketch.Sketch, calls bool) {
	count := int64(d.u())
	g.count += count
	g.errors += int64(d.u())
	g.calls += int64(d.u())
	requests := int64(d.u())
	g.requests += requests
	if ver >= rollupV4 {
		g.stored += int64(d.u())
	} else {
		// Before version 4 every record counted was persisted.
		g.stored += count
		if calls {
			g.stored += requests - count
		}
	}
	g.total += d.d()
	if ver >= rollupV3 {
		g.cost += d.f()
	}
	if d.err != nil {
		return
	}
	n, err := scratch.Decode(d.b[d.p:])
	if err != nil {
		d.fail(err)
		return
	}
	d.p += n
	g.sk.Merge(scratch)
}

// MergeEncoded decodes an encoded rollup into ru. With overallOnly, only the
// overall group and histogram are read. On error ru may hold part of b.
func (ru *Rollup) MergeEncoded(b []byte, overallOnly bool, scratch *sketch.Sketch) error {
	d := newDec(b, !overallOnly)
	ver := d.header(tagRollup, latestRollup)
	mergeGroup(d, ver, &ru.all, scratch, false)
	if n := d.n(1); n != len(ru.hist) {
		d.fail(errShortHist)
	}
	for i := range ru.hist {
		ru.hist[i] += int64(d.u())
	}
	if overallOnly {
		if d.err != nil {
			return d.done("rollup")
		}
		return nil
	}
	// A group whose key could not be read is not added. Each list is
	// bounded as it is read, so a stored rollup of more keys than ru keeps
	// (written with a larger maximum) costs no more memory.
	for range d.n(7) {
		if k := d.s(); d.err == nil {
			mergeGroup(d, ver, groupOf(ru.routes, k), scratch, false)
			ru.bound(2)
		}
	}
	for range d.n(8) {
		if k := (rpcKey{d.s(), d.s()}); d.err == nil {
			mergeGroup(d, ver, groupOf(ru.rpcs, k), scratch, true)
			ru.bound(2)
		}
	}
	for range d.n(9) {
		if k := (routeRPCKey{d.s(), d.s(), d.s()}); d.err == nil {
			mergeGroup(d, ver, groupOf(ru.rr, k), scratch, true)
			ru.bound(2)
		}
	}
	if ver >= rollupV2 {
		for range d.n(7) {
			if k := d.s(); d.err == nil {
				mergeGroup(d, ver, groupOf(ru.insts, k), scratch, false)
				ru.bound(2)
			}
		}
	}
	return d.done("rollup")
}

var errShortHist = errors.New("histogram size mismatch")

// Stats converts ru into [store.Stats], folded first to its maximum of
// keys.
func (ru *Rollup) Stats(w store.Window) *store.Stats {
	ru.bound(1)
	st := &store.Stats{Window: w, Requests: ru.all.count, Errors: ru.all.errors}
	st.Histogram = storekit.NewHistogram()
	for i, c := range ru.hist {
		st.Histogram[i].Count = c
	}
	for k, g := range ru.routes {
		st.Routes = append(st.Routes, store.RouteStats{
			Route: k, Requests: g.count, Stored: g.stored, Errors: g.errors, Calls: g.calls,
			Total: g.total, Mean: g.total / time.Duration(max(g.count, 1)), Cost: g.cost, Latency: g.sk.Latency(),
		})
	}
	for k, g := range ru.insts {
		st.Instances = append(st.Instances, store.InstanceStats{
			Instance: k, Requests: g.count, Errors: g.errors, Calls: g.calls,
			Total: g.total, Mean: g.total / time.Duration(max(g.count, 1)), Latency: g.sk.Latency(),
		})
	}
	rpc := func(k rpcKey, g *group) store.RPCStats {
		return store.RPCStats{
			Service: k.service, Method: k.method, Count: g.count, Errors: g.errors,
			Requests: g.requests, Total: g.total, Mean: g.total / time.Duration(max(g.count, 1)),
			Cost: g.cost, Latency: g.sk.Latency(),
		}
	}
	for k, g := range ru.rpcs {
		st.RPCs = append(st.RPCs, rpc(k, g))
	}
	for k, g := range ru.rr {
		st.RouteRPCs = append(st.RouteRPCs, store.RouteRPCStats{Route: k.route, RPCStats: rpc(rpcKey{k.service, k.method}, g)})
	}
	storekit.SortStats(st)
	return st
}

// CallDurations lists the durations of r's calls grouped in the order of
// s.RPCs, as [Rollup.Add] and [AppendSummary] expect.
func CallDurations(r *recording.Record, s *recording.Summary) []time.Duration {
	return AppendCallDurations(make([]time.Duration, 0, s.CallCount), r, s)
}

// AppendCallDurations appends what [CallDurations] returns to out, so that
// a writer can reuse one buffer for its records.
func AppendCallDurations(out []time.Duration, r *recording.Record, s *recording.Summary) []time.Duration {
	// One pass over the calls when the RPCs are few (as they mostly are):
	// each call's duration goes to the next place in its RPC's run. A
	// summary that is not the record's takes the general way below.
	if out, ok := appendCallDurationsFew(out, r, s); ok {
		return out
	}
	// Many RPCs: each call's RPC is found in a map, so that a record of
	// many distinct calls costs its calls and RPCs, not their product
	// (10,000 calls of as many RPCs took 100 million comparisons). An RPC
	// listed twice (a summary not the record's) gets its calls twice, as
	// the definition (for each RPC, its calls) has it.
	type rpcKey struct{ service, method string }
	first := make(map[rpcKey]int, len(s.RPCs)) // an RPC's first index in s.RPCs
	again := make([]int, len(s.RPCs))          // the RPC's next index in s.RPCs, or -1
	for j, rpc := range s.RPCs {
		again[j] = -1
		k := rpcKey{rpc.Service, rpc.Method}
		if i, ok := first[k]; ok {
			for again[i] >= 0 {
				i = again[i]
			}
			again[i] = j
			continue
		}
		first[k] = j
	}
	of := make([]int, len(r.Calls)) // each call's RPC's first index, or -1
	count := make([]int, len(s.RPCs)+1)
	for i := range r.Calls {
		c := &r.Calls[i]
		of[i] = -1
		if j, ok := first[rpcKey{c.Service, c.Method}]; ok && !c.Event {
			of[i] = j
			for ; j >= 0; j = again[j] {
				count[j+1]++
			}
		}
	}
	for j := range s.RPCs {
		count[j+1] += count[j] // count[j]: where RPC j's durations begin
	}
	n := len(out)
	out = slices.Grow(out, count[len(s.RPCs)])[:n+count[len(s.RPCs)]]
	for i := range r.Calls {
		for j := of[i]; j >= 0; j = again[j] {
			out[n+count[j]] = r.Calls[i].Duration
			count[j]++
		}
	}
	return out
}

// MergeOverall adds o's overall group and histogram to ru (what Series
// needs).
func (ru *Rollup) MergeOverall(o *Rollup) {
	ru.all.merge(&o.all)
	for i, c := range o.hist {
		ru.hist[i] += c
	}
}

// MergeShare adds the share num/den (0 < num <= den) of o to ru: each
// group's counts, times and costs, and each histogram bucket, scaled and
// rounded to the nearest; its latency sketches whole (their percentiles
// are o's). It estimates the records of part of a bucket from the
// bucket's rollup, for a store that did not persist every record of it.
func (ru *Rollup) MergeShare(o *Rollup, num, den int64) {
	f := float64(num) / float64(den)
	n := func(v int64) int64 { return int64(math.Round(float64(v) * f)) }
	share := func(dst, src *group) {
		dst.count += n(src.count)
		dst.errors += n(src.errors)
		dst.calls += n(src.calls)
		dst.requests += n(src.requests)
		dst.stored += n(src.stored)
		dst.total += time.Duration(n(int64(src.total)))
		dst.cost += src.cost * f
		dst.sk.Merge(&src.sk)
	}
	share(&ru.all, &o.all)
	for i, c := range o.hist {
		ru.hist[i] += n(c)
	}
	shareAll := func(dst, src map[string]*group) {
		for k, g := range src {
			share(groupOf(dst, k), g)
		}
	}
	shareAll(ru.routes, o.routes)
	shareAll(ru.insts, o.insts)
	for k, g := range o.rpcs {
		share(groupOf(ru.rpcs, k), g)
	}
	for k, g := range o.rr {
		share(groupOf(ru.rr, k), g)
	}
	ru.bound(2)
}

// Requests returns the number of requests aggregated.
func (ru *Rollup) Requests() int64 { return ru.all.count }

// Errors returns the number of failed requests aggregated.
func (ru *Rollup) Errors() int64 { return ru.all.errors }

// Stored returns the number of requests aggregated whose full record was
// persisted.
func (ru *Rollup) Stored() int64 { return ru.all.stored }

// Calls returns the number of calls the aggregated requests made.
func (ru *Rollup) Calls() int64 { return ru.all.calls }

// Latency returns the aggregated requests' latency percentiles.
func (ru *Rollup) Latency() store.Latency { return ru.all.sk.Latency() }

// appendCallDurationsFew does what AppendCallDurations does in one pass
// over r's calls, for up to 16 RPCs; ok is false (and out unchanged) if s
// has more, or does not count r's calls.
func appendCallDurationsFew(out []time.Duration, r *recording.Record, s *recording.Summary) (_ []time.Duration, ok bool) {
	var next, end [16]int
	if len(s.RPCs) > len(next) {
		return out, false
	}
	n, at := len(out), len(out)
	for j := range s.RPCs {
		next[j] = at
		at += max(s.RPCs[j].Count, 0)
		end[j] = at
	}
	buf := slices.Grow(out, at-n)[:at]
	j := -1 // the previous call's RPC: calls in a row are often of one
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			continue
		}
		if j < 0 || !sameString(c.Service, s.RPCs[j].Service) || !sameString(c.Method, s.RPCs[j].Method) {
			j = slices.IndexFunc(s.RPCs, func(rpc recording.RPCStat) bool { return c.Service == rpc.Service && c.Method == rpc.Method })
		}
		if j < 0 || next[j] == end[j] {
			return out, false
		}
		buf[next[j]] = c.Duration
		next[j]++
	}
	for j := range s.RPCs {
		if next[j] != end[j] {
			return out, false
		}
	}
	return buf, true
}

// sameString reports whether a and b are equal, comparing their pointers
// before their bytes: a call's service and method are mostly the very
// strings of its RPC's stats (the summary takes them from the calls).
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}
