package ui

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/goappstats/appstats/recording"
)

// A callTree is a record's calls as the details page shows them: nested
// under the calls they were made inside of ([recording.Call.ParentSpanID]),
// each with its self time and the parts of it on the request's critical
// path.
type callTree struct {
	// order lists call indexes in display order: depth first, siblings
	// by start time.
	order   []int
	parents []int // per call: the parent's index, or -1
	depth   []int // per call: 0 for a call the request made directly
	kids    []int // per call: how many children it has
	num     []int // per call: its number, 1-based, in start order
	self    []time.Duration
	// crit lists, per call, the segments of its time on the critical path
	// (offsets from the record's start), earliest first.
	crit [][]span
}

// span is a time range as offsets from a record's start.
type span struct{ a, b time.Duration }

func buildTree(r *recording.Record) *callTree {
	t, roots, children := treeShape(r)
	t.self = recording.SelfTimes(r.Calls, t.parents)
	t.criticalPath(r, roots, children)
	return t
}

// treeShape is buildTree without self times and the critical path: the
// parents, numbers, depths, child counts and order of r's calls, and the
// roots and children lists the critical path walks.
func treeShape(r *recording.Record) (t *callTree, roots []int, children [][]int) {
	n := len(r.Calls)
	t = &callTree{
		parents: r.Parents(),
		depth:   make([]int, n),
		kids:    make([]int, n),
		num:     make([]int, n),
		crit:    make([][]span, n),
		order:   make([]int, 0, n),
	}
	byStart := func(a, b int) int {
		return cmp.Or(cmp.Compare(r.Calls[a].Start, r.Calls[b].Start), cmp.Compare(a, b))
	}
	start := make([]int, n)
	for i := range start {
		start[i] = i
	}
	slices.SortFunc(start, byStart)
	for k, i := range start {
		t.num[i] = k + 1
	}
	children = make([][]int, n)
	for _, i := range start { // so children lists are in start order
		if p := t.parents[i]; p >= 0 {
			children[p] = append(children[p], i)
			t.kids[p]++
		} else {
			roots = append(roots, i)
		}
	}
	// Depth first, without recursion: records may nest deeply.
	stack := make([]int, 0, 16)
	for k := len(roots) - 1; k >= 0; k-- {
		stack = append(stack, roots[k])
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		t.order = append(t.order, i)
		for k := len(children[i]) - 1; k >= 0; k-- {
			c := children[i][k]
			t.depth[c] = t.depth[i] + 1
			stack = append(stack, c)
		}
	}
	return t, roots, children
}

// treeOrder is treeShape's order alone, for what needs only the calls'
// display order (which page of the details page shows a call: callPages):
// the children lists in two slices (each call's children at the
// offsets its parent's count leaves) instead of one slice a parent, and no
// depths, numbers or critical path, which a compare page of two records of
// 10,000 calls allocated 0.8 MB a record for.
func treeOrder(r *recording.Record) []int {
	n := len(r.Calls)
	parents := r.Parents()
	start := make([]int, n)
	for i := range start {
		start[i] = i
	}
	slices.SortFunc(start, func(a, b int) int {
		return cmp.Or(cmp.Compare(r.Calls[a].Start, r.Calls[b].Start), cmp.Compare(a, b))
	})
	// at[p] is where p's children start in kids, at[n] the roots; each
	// list in start order.
	at := make([]int, n+2)
	for _, p := range parents {
		if p < 0 {
			p = n
		}
		at[p+1]++
	}
	for i := 1; i < len(at); i++ {
		at[i] += at[i-1]
	}
	kids := make([]int, n)
	fill := slices.Clone(at[:n+1])
	for _, i := range start {
		p := parents[i]
		if p < 0 {
			p = n
		}
		kids[fill[p]] = i
		fill[p]++
	}
	// Depth first, without recursion; the stack reuses fill, whose
	// entries are no longer needed, and never holds more than n.
	order := make([]int, 0, n)
	stack := fill[:0]
	for k := at[n+1] - 1; k >= at[n]; k-- {
		stack = append(stack, kids[k])
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order = append(order, i)
		for k := at[i+1] - 1; k >= at[i]; k-- {
			stack = append(stack, kids[k])
		}
	}
	return order
}

// criticalPath finds the calls that made the request as long as it was:
// walking back from the request's end, the time belongs to the call that
// ended last before it, recursively into that call's own children, then
// to whatever ran before that call started (Jaeger's critical path). Time
// no call covers is the handler's own. Custom events take no time and are
// never on the path.
//
// Each call's children are in start order (roots and children are built
// so), which lets a step find the child that ends last before the cursor
// by binary searches instead of a scan of every child: a record of n calls
// in a row takes O(n log n), not O(n²).
func (t *callTree) criticalPath(r *recording.Record, roots []int, children [][]int) {
	type job struct {
		node   int // -1: the request itself
		lo, hi time.Duration
	}
	kidsOf := func(node int) []int {
		if node < 0 {
			return roots
		}
		return children[node]
	}
	jobs := []job{{-1, 0, r.Duration}}
	var reach []time.Duration // per child of the job's node: the latest end among it and the children before it
	for steps := 0; len(jobs) > 0 && steps < 1<<20; steps++ {
		j := jobs[len(jobs)-1]
		jobs = jobs[:len(jobs)-1]
		kids := kidsOf(j.node)
		reach = reach[:0]
		for k, i := range kids {
			e := time.Duration(math.MinInt64) // an event: never chosen
			if c := &r.Calls[i]; !c.Event {
				e = c.End()
			}
			if k > 0 {
				e = max(e, reach[k-1])
			}
			reach = append(reach, e)
		}
		cur := j.hi
		for cur > j.lo {
			// The children that started before cur are a prefix of kids.
			// Of them, the one that ends last before cur (a child still
			// running at cur counts up to cur), the first in start order
			// of those that do: the first whose reach gets there.
			p := sort.Search(len(kids), func(k int) bool { return r.Calls[kids[k]].Start >= cur })
			bestEnd := time.Duration(math.MinInt64)
			if p > 0 {
				bestEnd = min(reach[p-1], cur)
			}
			if bestEnd <= j.lo {
				t.addCrit(j.node, j.lo, cur)
				break
			}
			best := kids[sort.Search(p, func(k int) bool { return reach[k] >= bestEnd })]
			t.addCrit(j.node, bestEnd, cur)
			a := max(r.Calls[best].Start, j.lo)
			jobs = append(jobs, job{best, a, bestEnd})
			cur = a
		}
	}
	for i := range t.crit {
		slices.SortFunc(t.crit[i], func(x, y span) int { return cmp.Compare(x.a, y.a) })
	}
}

func (t *callTree) addCrit(node int, a, b time.Duration) {
	if node < 0 || b <= a {
		return
	}
	t.crit[node] = append(t.crit[node], span{a, b})
}

// critTime is how long call i is on the critical path.
func (t *callTree) critTime(i int) time.Duration {
	var d time.Duration
	for _, s := range t.crit[i] {
		d += s.b - s.a
	}
	return d
}
