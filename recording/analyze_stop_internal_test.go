package recording

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plainWarnings is the N+1 analysis written plainly, as a reference: every
// call but events counted by its key, the groups of threshold calls or more
// warned of in the order of their first calls, then the running calls. A
// threshold of 1 or less is DefaultRepeatThreshold, as Analyze documents.
func plainWarnings(r *Record, threshold int) []Warning {
	if threshold <= 1 {
		threshold = DefaultRepeatThreshold
	}
	type count struct {
		n     int
		total time.Duration
	}
	counts := map[callKey]count{}
	var order []callKey
	running, runningTotal := 0, time.Duration(0)
	for _, c := range r.Calls {
		if c.Event {
			continue
		}
		if c.Running {
			running++
			runningTotal += c.Duration
		}
		k := callKey{c.Service, c.Method, c.Request}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		w := counts[k]
		counts[k] = count{w.n + 1, w.total + c.Duration}
	}
	var out []Warning
	if len(r.Calls) >= threshold {
		for _, k := range order {
			w := counts[k]
			if w.n < threshold {
				continue
			}
			msg := strconv.Itoa(w.n) + " identical " + k.service + " calls " + k.method + " (" +
				string(appendMicros(nil, w.total)) + " in all): an N+1 pattern? batch them or run them once"
			out = append(out, Warning{Kind: WarnRepeated, Service: k.service, Method: k.method, Request: k.request,
				Count: w.n, Total: w.total, Message: msg})
		}
	}
	if running > 0 {
		out = append(out, Warning{Kind: WarnRunning, Count: running, Total: runningTotal,
			Message: strconv.Itoa(running) + " call(s) still running when the request ended"})
	}
	return out
}

// TestAnalysisAsPlainCount checks the N+1 analysis, which stops grouping
// once no group can reach the threshold, against plainWarnings, field by
// field and message by message, over random records whose groups reach the
// threshold by their last calls or miss it by one: a few keys (some in
// copies of their strings), runs of one key, events and running calls,
// thresholds of 2 to 8 (and, one round in sixteen each, of −1 to 1, which
// mean the default, and of the record's most calls or more), and records
// of more distinct calls than
// maxLinearGroups; one analysis reused from record to record as the writer
// reuses it.
func TestAnalysisAsPlainCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var a analysis
	var reqs []string
	for i := range 40 {
		reqs = append(reqs, fmt.Sprint("GET http://backend:8080/item/", i))
	}
	for round := range 20000 {
		threshold := 2 + rng.IntN(7)
		size := threshold // the records' calls are drawn below 3×size
		switch rng.IntN(16) {
		case 0:
			threshold = -1 + rng.IntN(3) // the default's
			size = DefaultRepeatThreshold
		case 1:
			threshold = 3*size + rng.IntN(3) // past every record's calls
		}
		keys := 1 + rng.IntN(6)
		if rng.IntN(8) == 0 {
			keys = len(reqs) // more groups than maxLinearGroups
		}
		r := &Record{}
		for range rng.IntN(3 * size) {
			req := reqs[rng.IntN(keys)]
			if rng.IntN(4) == 0 {
				req = strings.Clone(req) // equal, elsewhere in memory
			}
			c := Call{Service: "http", Method: "GET backend:8080/item/{id}", Request: req,
				Duration: time.Duration(1+rng.IntN(5000)) * time.Microsecond}
			c.Event = rng.IntN(10) == 0
			c.Running = rng.IntN(10) == 0
			for n := rng.IntN(3); n > 0 && rng.IntN(2) == 0; n-- {
				r.Calls = append(r.Calls, c) // a run of the very strings
			}
			r.Calls = append(r.Calls, c)
		}
		got := a.analyze(nil, r, threshold)
		want := plainWarnings(r, threshold)
		if len(got) != len(want) {
			t.Fatalf("round %d, threshold %d: %d warnings, want %d:\n%+v\n%+v", round, threshold, len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("round %d, threshold %d, warning %d:\n got %+v\nwant %+v", round, threshold, i, got[i], want[i])
			}
		}
	}
}

// TestAnalysisStopsGrouping checks that tally stops grouping once no group
// can reach the threshold: a record of ten calls to ten URLs (the fanout's)
// is grouped up to its seventh call with a threshold of 5, and one whose
// last call makes its first call's group reach the threshold is grouped to
// its end, and warned of.
func TestAnalysisStopsGrouping(t *testing.T) {
	var a analysis
	r := &Record{}
	for i := range 10 {
		r.Calls = append(r.Calls, Call{Service: "http", Method: "GET", Request: fmt.Sprint("GET /item/", i)})
	}
	running, _, maxN := a.tally(r.Calls, 5)
	if n := len(a.groups); n != 7 || maxN != 1 || running != 0 {
		t.Errorf("ten distinct calls: %d groups made, largest %d, running %d; want 7, 1, 0", n, maxN, running)
	}
	a.groups = a.groups[:0]
	// Calls 0, 3, 6, 8 and 9 alike: the fifth of them is the last call.
	for _, i := range []int{3, 6, 8, 9} {
		r.Calls[i] = r.Calls[0]
	}
	_, _, maxN = a.tally(r.Calls, 5)
	if maxN != 5 {
		t.Errorf("five alike, the last at the end: largest group %d, want 5", maxN)
	}
	a.groups = a.groups[:0]
	if w := a.analyze(nil, r, 5); len(w) != 1 || w[0].Count != 5 || w[0].Request != "GET /item/0" {
		t.Errorf("five alike: warnings %+v", w)
	}
}
