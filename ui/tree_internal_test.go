package ui

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

func TestCriticalPath(t *testing.T) {
	ms := time.Millisecond
	sp := func(b byte) recording.SpanID { return recording.SpanID{0, 0, 0, 0, 0, 0, 0, b} }
	call := func(id, parent byte, start, dur int) recording.Call {
		c := recording.Call{Method: fmt.Sprint(id), SpanID: sp(id), Start: time.Duration(start) * ms, Duration: time.Duration(dur) * ms}
		if parent != 0 {
			c.ParentSpanID = sp(parent)
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		dur   int
		calls []recording.Call
		want  []string // per call: its critical segments
	}{
		{"serial", 40, []recording.Call{call(1, 0, 0, 10), call(2, 0, 10, 20)}, []string{"[0s 10ms]", "[10ms 30ms]"}},
		{"parallel", 40, []recording.Call{call(1, 0, 0, 10), call(2, 0, 0, 30)}, []string{"[]", "[0s 30ms]"}},
		{"nested", 60, []recording.Call{call(1, 0, 0, 50), call(2, 1, 5, 15), call(3, 1, 10, 30)},
			[]string{"[0s 5ms 40ms 50ms]", "[5ms 10ms]", "[10ms 40ms]"}},
		{"event and running", 30, []recording.Call{call(1, 0, 0, 10), {Method: "ev", Start: 20 * ms, Event: true}, call(2, 0, 15, 40)},
			[]string{"[0s 10ms]", "[]", "[15ms 30ms]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recording.Record{Duration: time.Duration(tc.dur) * ms, Calls: tc.calls}
			tr := buildTree(r)
			for i, want := range tc.want {
				var got []time.Duration
				for _, s := range tr.crit[i] {
					got = append(got, s.a, s.b)
				}
				if g := fmt.Sprint(got); g != want {
					t.Errorf("call %d: critical %s, want %s", i, g, want)
				}
			}
		})
	}
}

func TestTreeOrder(t *testing.T) {
	ms := time.Millisecond
	sp := func(b byte) recording.SpanID { return recording.SpanID{0, 0, 0, 0, 0, 0, 0, b} }
	r := &recording.Record{Duration: 100 * ms, Calls: []recording.Call{
		{Method: "a", SpanID: sp(1), Start: 0, Duration: 50 * ms},
		{Method: "b", SpanID: sp(2), Start: 10 * ms, Duration: 5 * ms},
		{Method: "a1", SpanID: sp(3), ParentSpanID: sp(1), Start: 20 * ms, Duration: 5 * ms},
		{Method: "a0", SpanID: sp(4), ParentSpanID: sp(1), Start: 5 * ms, Duration: 5 * ms},
		{Method: "a00", SpanID: sp(5), ParentSpanID: sp(4), Start: 6 * ms, Duration: 1 * ms},
	}}
	tr := buildTree(r)
	var got []string
	for _, i := range tr.order {
		got = append(got, fmt.Sprintf("%s/%d/#%d", r.Calls[i].Method, tr.depth[i], tr.num[i]))
	}
	want := "[a/0/#1 a0/1/#2 a00/2/#3 a1/1/#5 b/0/#4]"
	if fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if tr.kids[0] != 2 || tr.kids[3] != 1 || tr.kids[1] != 0 {
		t.Errorf("kids %v", tr.kids)
	}
}

// wbr escapes what it is given: a path is request-controlled.
func TestWbrEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":            "/<wbr>a/<wbr>b",
		"GET /users/{id}": "GET /<wbr>users/<wbr>{id}",
		`/x/<script>"&'`:  `/<wbr>x/<wbr>&lt;script&gt;&#34;<wbr>&amp;&#39;`,
		"/naïve.café/é":   "/<wbr>naïve<wbr>.café/<wbr>é",
	} {
		if got := string(wbr(in)); got != want {
			t.Errorf("wbr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHistogramFloor(t *testing.T) {
	ms := time.Millisecond
	h := []store.HistogramBucket{{Le: ms, Count: 5}, {Le: 2 * ms, Count: 3}, {Le: 5 * ms, Count: 2}, {Le: 0, Count: 1}}
	for n, want := range map[int]time.Duration{1: 5 * ms, 2: 2 * ms, 3: 2 * ms, 4: ms, 6: ms, 7: 0, 11: 0, 12: 0} {
		if got := histogramFloor(h, n); got != want {
			t.Errorf("histogramFloor(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestServiceColor(t *testing.T) {
	if serviceColor("http") != 0 || serviceColor("sql") != 1 || serviceColor("memcache") != serviceColor("cache") {
		t.Error("the common services lost their colours")
	}
	for _, s := range []string{"report", "payments", "dashboard", "", "ünïcode"} {
		c := serviceColor(s)
		if c != serviceColor(s) || c < firstHashed || c >= len(palette) {
			t.Errorf("serviceColor(%q) = %d", s, c)
		}
	}
}

// TestCriticalPathLinear: the critical path of a record with many calls
// takes time about linear in them. Each step of the walk back used to scan
// every child of the call, so that 100,000 calls one after the other took
// minutes, for every view of the record's details page.
func TestCriticalPathLinear(t *testing.T) {
	const n = 100_000
	r := &recording.Record{Duration: n * time.Millisecond, Calls: make([]recording.Call, n)}
	for i := range r.Calls {
		r.Calls[i] = recording.Call{Service: "sql", Method: "q", Start: time.Duration(i) * time.Millisecond, Duration: time.Millisecond / 2}
	}
	done := make(chan *callTree, 1)
	go func() { done <- buildTree(r) }()
	select {
	case tr := <-done:
		if got := tr.critTime(n - 1); got != time.Millisecond/2 {
			t.Errorf("last call on the critical path for %v, want 500µs", got)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the call tree of %d calls in a row took over 15s", n)
	}
}

// TestCriticalPathSame: criticalPath finds the same segments as the walk
// it replaced, which scanned every child at each step, on random records
// with nesting, ties, events, calls still running, negative offsets and
// ends that overflow.
func TestCriticalPathSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3000 {
		n := rng.IntN(40)
		r := &recording.Record{Duration: time.Duration(rng.IntN(120)-10) * time.Millisecond}
		for i := range n {
			c := recording.Call{
				SpanID:   recording.SpanID{0, 0, 0, 0, 0, 0, 1, byte(i + 1)},
				Start:    time.Duration(rng.IntN(12)*10-10) * time.Millisecond,
				Duration: time.Duration(rng.IntN(8)*10) * time.Millisecond,
				Event:    rng.IntN(8) == 0,
			}
			if i > 0 && rng.IntN(2) == 0 {
				c.ParentSpanID = recording.SpanID{0, 0, 0, 0, 0, 0, 1, byte(rng.IntN(i) + 1)}
			}
			if rng.IntN(50) == 0 {
				c.Start, c.Duration = math.MaxInt64-5, math.MaxInt64
			}
			r.Calls = append(r.Calls, c)
		}
		got := buildTree(r)
		want := buildTree(r)
		for i := range want.crit {
			want.crit[i] = nil
		}
		want.scanCriticalPath(r)
		if !reflect.DeepEqual(got.crit, want.crit) {
			t.Fatalf("round %d: critical segments %v, want %v", round, got.crit, want.crit)
		}
	}
}

// scanCriticalPath is criticalPath as it was: at each step, a scan of
// every child.
func (t *callTree) scanCriticalPath(r *recording.Record) {
	var roots []int
	children := make([][]int, len(r.Calls))
	for _, i := range t.order {
		if p := t.parents[i]; p >= 0 {
			children[p] = append(children[p], i)
		}
	}
	for i := range children {
		slices.SortStableFunc(children[i], func(a, b int) int { return cmp.Or(cmp.Compare(r.Calls[a].Start, r.Calls[b].Start), cmp.Compare(a, b)) })
		if t.parents[i] < 0 {
			roots = append(roots, i)
		}
	}
	slices.SortStableFunc(roots, func(a, b int) int { return cmp.Or(cmp.Compare(r.Calls[a].Start, r.Calls[b].Start), cmp.Compare(a, b)) })
	type job struct {
		node   int
		lo, hi time.Duration
	}
	kidsOf := func(node int) []int {
		if node < 0 {
			return roots
		}
		return children[node]
	}
	jobs := []job{{-1, 0, r.Duration}}
	for len(jobs) > 0 {
		j := jobs[len(jobs)-1]
		jobs = jobs[:len(jobs)-1]
		cur := j.hi
		for cur > j.lo {
			best, bestEnd := -1, time.Duration(0)
			for _, k := range kidsOf(j.node) {
				c := &r.Calls[k]
				if c.Event || c.Start >= cur {
					continue
				}
				if e := min(c.End(), cur); e > j.lo && (best < 0 || e > bestEnd) {
					best, bestEnd = k, e
				}
			}
			if best < 0 {
				t.addCrit(j.node, j.lo, cur)
				break
			}
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

// treeOrder gives treeShape's order (the details page's, which callPages
// pages by) for records of random trees: calls nested at random, out of
// order, with equal starts, and with a parent span no call has.
func TestTreeOrderMatchesShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(44, 1))
	for n := range 300 {
		r := &recording.Record{}
		for i := range n {
			c := recording.Call{Start: time.Duration(rng.IntN(20)) * time.Millisecond}
			c.SpanID[0], c.SpanID[1] = byte(i>>8)+1, byte(i)
			if i > 0 && rng.IntN(3) > 0 {
				p := rng.IntN(i)
				c.ParentSpanID = r.Calls[p].SpanID
			} else if rng.IntN(10) == 0 {
				c.ParentSpanID = recording.SpanID{0xff, 0xff}
			}
			r.Calls = append(r.Calls, c)
		}
		rng.Shuffle(n, func(i, j int) { r.Calls[i], r.Calls[j] = r.Calls[j], r.Calls[i] })
		want, _, _ := treeShape(r)
		if got := treeOrder(r); !slices.Equal(got, want.order) {
			t.Fatalf("%d calls: treeOrder %v, treeShape %v", n, got, want.order)
		}
	}
}
