package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
)

// Comparing two requests (Jaeger's trace comparison): their calls are
// matched by service and method and by order — the k-th call of a name in
// one with the k-th of the same name in the other — and the differences in
// counts and durations shown.

// The compare page shows its call-by-call rows comparePageRows a page
// (?page=P), and the maxCompareGroups RPCs of largest difference: two
// records of 10,000 calls, each call with a name of its own, made a page of
// 5.9 MB. api/compare answers its rows a page at a time (?offset=&limit=,
// default comparePairsDefault, at most comparePairsMax, and fewer where
// they would pass compareBytes bytes), and the maxCompareGroups RPCs too:
// it stopped at 2,000 rows, the others out of reach, and listed every RPC
// (10,000 names of 410 bytes: 6.5 MB).
const (
	comparePairsDefault = 2000
	comparePairsMax     = 5000
	compareBytes        = 4 << 20
	comparePageRows     = 1000
	maxCompareGroups    = 200
)

type compareView struct {
	pageMeta
	A, B       compareSide
	SameRoute  bool
	Delta      time.Duration // B's duration less A's
	CallsDelta int
	Groups     []compareGroup
	Pairs      []comparePair // the page's
	PairPage   callPage      // the page of the pairs shown
	GroupsCut  int           // groups not listed
	OnlyA      int           // calls of A with no match in B
	OnlyB      int
	SlowerRows int // matched calls that took longer in B
}

type compareSide struct {
	Rec    *recording.Record
	Link   string
	Status statusView
	Calls  int
}

// compareGroup is all the calls of one service and method in either
// request.
type compareGroup struct {
	Service    string
	Method     string
	Color      int
	CountA     int
	CountB     int
	TotalA     time.Duration
	TotalB     time.Duration
	CountDelta int
	Delta      time.Duration // TotalB - TotalA
}

// comparePair is the k-th call of a name in A and in B; Only says which one
// it is missing from ("" when both have it).
type comparePair struct {
	Service    string
	Method     string
	Color      int
	Occurrence int // 1 for the first call of the name
	NumA, NumB int // call numbers on the details pages; 0 when missing
	// PageA and PageB are the pages of the details pages' calls that show
	// call NumA and NumB: 0 or 1 for the first.
	PageA, PageB int
	DurA, DurB   time.Duration
	Delta        time.Duration
	ErrA, ErrB   bool
	Only         string // "a", "b" or ""
}

// comparison matches the calls of a and b.
func comparison(a, b *recording.Record) (groups []compareGroup, pairs []comparePair) {
	type key struct{ service, method string }
	numA, numB := callNumbers(a), callNumbers(b)
	byStart := func(r *recording.Record, num []int) []int {
		out := make([]int, 0, len(r.Calls))
		for i := range r.Calls {
			if !r.Calls[i].Event {
				out = append(out, i)
			}
		}
		slices.SortFunc(out, func(x, y int) int { return cmp.Compare(num[x], num[y]) })
		return out
	}
	ia, ib := byStart(a, numA), byStart(b, numB)
	gidx := make(map[key]int)
	group := func(c *recording.Call) *compareGroup {
		k := key{c.Service, c.Method}
		j, ok := gidx[k]
		if !ok {
			j = len(groups)
			gidx[k] = j
			groups = append(groups, compareGroup{Service: c.Service, Method: c.Method, Color: serviceColor(c.Service)})
		}
		return &groups[j]
	}
	// The k-th call of each name in B, to match A's with.
	inB := make(map[key][]int)
	for _, i := range ib {
		c := &b.Calls[i]
		k := key{c.Service, c.Method}
		inB[k] = append(inB[k], i)
		g := group(c)
		g.CountB++
		g.TotalB += c.Duration
	}
	seen := make(map[key]int)
	matchedB := make([]bool, len(b.Calls))
	// One pair per call of A, then one per call of B left unmatched: the
	// list sized for them, not grown by append (which allocated about
	// three times its 1.4 MB for records of 10,000 calls).
	pairs = make([]comparePair, 0, len(ia))
	matched := 0
	for _, i := range ia {
		c := &a.Calls[i]
		k := key{c.Service, c.Method}
		g := group(c)
		g.CountA++
		g.TotalA += c.Duration
		occ := seen[k]
		seen[k] = occ + 1
		p := comparePair{Service: c.Service, Method: c.Method, Color: serviceColor(c.Service), Occurrence: occ + 1,
			NumA: numA[i], DurA: c.Duration, ErrA: c.Error != ""}
		if occ < len(inB[k]) {
			j := inB[k][occ]
			matchedB[j] = true
			matched++
			p.NumB, p.DurB, p.ErrB = numB[j], b.Calls[j].Duration, b.Calls[j].Error != ""
			p.Delta = p.DurB - p.DurA
		} else {
			p.Only = "a"
			p.Delta = -p.DurA
		}
		pairs = append(pairs, p)
	}
	pairs = slices.Grow(pairs, len(ib)-matched)
	seenB := make(map[key]int)
	for _, j := range ib {
		c := &b.Calls[j]
		k := key{c.Service, c.Method}
		seenB[k]++
		if matchedB[j] {
			continue
		}
		pairs = append(pairs, comparePair{Service: c.Service, Method: c.Method, Color: serviceColor(c.Service),
			Occurrence: seenB[k], NumB: numB[j], DurB: c.Duration, ErrB: c.Error != "", Delta: c.Duration, Only: "b"})
	}
	// In the order the calls happened: by A's number, B's for calls only B
	// made (placed after A's call of the same rank).
	slices.SortStableFunc(pairs, func(x, y comparePair) int {
		return cmp.Compare(max(x.NumA, x.NumB), max(y.NumA, y.NumB))
	})
	for i := range groups {
		g := &groups[i]
		g.CountDelta, g.Delta = g.CountB-g.CountA, g.TotalB-g.TotalA
	}
	slices.SortStableFunc(groups, func(x, y compareGroup) int {
		return cmp.Compare(absDur(y.Delta), absDur(x.Delta))
	})
	return groups, pairs
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// compareParams reads ?a= and ?b= (record IDs) and loads both records; on
// bad input or a store error it answers and returns false.
func (h *handler) compareParams(w http.ResponseWriter, r *http.Request) (a, b *recording.Record, ok bool) {
	q := r.URL.Query()
	var recs [2]*recording.Record
	for i, name := range []string{"a", "b"} {
		s := q.Get(name)
		if s == "" {
			h.fail(w, r, http.StatusBadRequest, name+": a record id is required")
			return nil, nil, false
		}
		id, err := recording.ParseID(s)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, name+": malformed record id")
			return nil, nil, false
		}
		rec, err := h.st.Get(r.Context(), id)
		if err != nil {
			h.getError(w, r, id, err)
			return nil, nil, false
		}
		recs[i] = rec
	}
	return recs[0], recs[1], true
}

func compareSideOf(r *recording.Record) compareSide {
	s := r.Summary()
	return compareSide{Rec: r, Link: recordLink(r.ID), Status: statusOf(r.Kind, r.Status), Calls: s.CallCount}
}

// compare serves the comparison of two requests.
func (h *handler) compare(w http.ResponseWriter, r *http.Request) {
	a, b, ok := h.compareParams(w, r)
	if !ok {
		return
	}
	nonce := newNonce()
	v := &compareView{
		pageMeta:  pageMeta{Base: "./", Nonce: nonce, Title: "Compare " + a.Path, Page: "compare"},
		A:         compareSideOf(a),
		B:         compareSideOf(b),
		SameRoute: a.Route == b.Route,
		Delta:     b.Duration - a.Duration,
	}
	// The page is at the prefix's root: record links go one level down.
	v.A.Link, v.B.Link = "records/"+a.ID.String(), "records/"+b.ID.String()
	v.CallsDelta = v.B.Calls - v.A.Calls
	v.Groups, v.Pairs = comparison(a, b)
	for _, p := range v.Pairs {
		switch {
		case p.Only == "a":
			v.OnlyA++
		case p.Only == "b":
			v.OnlyB++
		case p.Delta > 0:
			v.SlowerRows++
		}
	}
	page, err := pageParam(r, len(v.Pairs), comparePageRows, pageURLOf(r, "pairs"))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	v.PairPage, v.Pairs = page, v.Pairs[page.From:page.To]
	// A call on another page of its record's calls than the first is
	// linked with its page, where its row (#call-N) is.
	for side, rec := range []*recording.Record{a, b} {
		pages := callPages(rec)
		if pages == nil {
			continue
		}
		idx := callIndexByNum(rec)
		for k := range v.Pairs {
			p := &v.Pairs[k]
			if side == 0 && p.NumA > 0 {
				p.PageA = pages[idx[p.NumA]]
			} else if side == 1 && p.NumB > 0 {
				p.PageB = pages[idx[p.NumB]]
			}
		}
	}
	if len(v.Groups) > maxCompareGroups {
		v.GroupsCut = len(v.Groups) - maxCompareGroups
		v.Groups = v.Groups[:maxCompareGroups]
	}
	h.render(w, r, h.pages.compare, "page", nonce, v)
}

// The compare API.

type compareJSON struct {
	A       summaryJSON        `json:"a"`
	B       summaryJSON        `json:"b"`
	DeltaMS float64            `json:"delta_ms"`
	RPCs    []compareGroupJSON `json:"rpcs"`
	// RPCsCut counts the RPCs left out of RPCs (maxCompareGroups).
	RPCsCut int               `json:"rpcs_cut,omitempty"`
	Calls   []comparePairJSON `json:"calls"`
	// CallsCut counts the matched calls not in Calls; CallsPage says
	// which Calls are, when they are not all.
	CallsCut  int            `json:"calls_cut"`
	CallsPage *callsPageJSON `json:"calls_page,omitempty"`
}

type compareGroupJSON struct {
	Service string  `json:"service"`
	Method  string  `json:"method"`
	CountA  int     `json:"count_a"`
	CountB  int     `json:"count_b"`
	TotalA  float64 `json:"total_a_ms"`
	TotalB  float64 `json:"total_b_ms"`
	DeltaMS float64 `json:"delta_ms"`
}

type comparePairJSON struct {
	Service    string   `json:"service"`
	Method     string   `json:"method"`
	Occurrence int      `json:"occurrence"`
	A          *int     `json:"a,omitempty"` // the call's index in A's calls
	B          *int     `json:"b,omitempty"`
	AMS        *float64 `json:"a_ms,omitempty"`
	BMS        *float64 `json:"b_ms,omitempty"`
	DeltaMS    float64  `json:"delta_ms"`
}

// apiCompare serves GET api/compare?a=&b=.
func (h *handler) apiCompare(w http.ResponseWriter, r *http.Request) {
	a, b, ok := h.compareParams(w, r)
	if !ok {
		return
	}
	groups, pairs := comparison(a, b)
	rpcs := groups[:min(len(groups), maxCompareGroups)]
	from, to, page, err := comparePairsParam(r.URL.Query(), pairs, compareBytes-compareGroupsCost(rpcs))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	sa, sb := a.Summary(), b.Summary()
	out := compareJSON{A: toSummaryJSON(&sa), B: toSummaryJSON(&sb), DeltaMS: ms(b.Duration - a.Duration),
		RPCs: make([]compareGroupJSON, 0, len(rpcs)), RPCsCut: len(groups) - len(rpcs),
		Calls: make([]comparePairJSON, 0, to-from), CallsCut: len(pairs) - (to - from), CallsPage: page}
	for _, g := range rpcs {
		out.RPCs = append(out.RPCs, compareGroupJSON{Service: g.Service, Method: g.Method, CountA: g.CountA, CountB: g.CountB,
			TotalA: ms(g.TotalA), TotalB: ms(g.TotalB), DeltaMS: ms(g.Delta)})
	}
	// Call numbers are 1-based ranks in start order; the API gives
	// indexes in the record's calls.
	na, nb := callIndexByNum(a), callIndexByNum(b)
	index := func(byNum []int, num int) *int {
		if num <= 0 || num >= len(byNum) {
			return nil
		}
		i := byNum[num]
		return &i
	}
	for _, p := range pairs[from:to] {
		pj := comparePairJSON{Service: p.Service, Method: p.Method, Occurrence: p.Occurrence, DeltaMS: ms(p.Delta),
			A: index(na, p.NumA), B: index(nb, p.NumB)}
		if pj.A != nil {
			v := ms(p.DurA)
			pj.AMS = &v
		}
		if pj.B != nil {
			v := ms(p.DurB)
			pj.BMS = &v
		}
		out.Calls = append(out.Calls, pj)
	}
	writeJSON(w, http.StatusOK, out)
}

// comparePairCost bounds what a pair adds to api/compare's answer, in the
// measure of callCost.
func comparePairCost(p *comparePair) int {
	return 200 + textCost(p.Service) + textCost(p.Method)
}

// compareGroupsCost is what gs add to api/compare's answer, by the same
// measure.
func compareGroupsCost(gs []compareGroup) int {
	n := 0
	for i := range gs {
		n += 200 + textCost(gs[i].Service) + textCost(gs[i].Method)
	}
	return n
}

// comparePairsParam reads api/compare's ?offset= and ?limit=: the pairs
// [from, to) to answer with, within budget bytes by comparePairCost (at
// least one), and their place (nil when they are all of them); an error,
// meant for a 400 answer, for bad values.
func comparePairsParam(q url.Values, pairs []comparePair, budget int) (from, to int, page *callsPageJSON, err error) {
	total := len(pairs)
	offset, limit := 0, comparePairsDefault
	if q.Has("offset") {
		s := q.Get("offset")
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 || offset > total {
			return 0, 0, nil, fmt.Errorf("offset: %q is not an offset in these records' matched calls (0 to %d)", s, total)
		}
	}
	if q.Has("limit") {
		s := q.Get("limit")
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > comparePairsMax {
			return 0, 0, nil, fmt.Errorf("limit: %q is not a number of matched calls from 1 to %d", s, comparePairsMax)
		}
	}
	to, cost := offset, 0
	for to < min(total, offset+limit) {
		if cost += comparePairCost(&pairs[to]); cost > budget && to > offset {
			break
		}
		to++
	}
	if offset == 0 && to == total {
		return 0, total, nil, nil
	}
	page = &callsPageJSON{Offset: offset, Limit: limit, Total: total}
	if to < total {
		page.Next = &to
	}
	return offset, to, page, nil
}

// callIndexByNum maps r's call numbers (1-based ranks in start order,
// callNumbers) to the calls' indexes.
func callIndexByNum(r *recording.Record) []int {
	out := make([]int, len(r.Calls)+1)
	for i, n := range callNumbers(r) {
		out[n] = i
	}
	return out
}
