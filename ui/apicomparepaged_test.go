package ui_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

type comparePagedJSON struct {
	RPCs []struct {
		Service string  `json:"service"`
		Method  string  `json:"method"`
		DeltaMS float64 `json:"delta_ms"`
	} `json:"rpcs"`
	RPCsCut int `json:"rpcs_cut"`
	Calls   []struct {
		Method string `json:"method"`
		A      *int   `json:"a"`
		B      *int   `json:"b"`
	} `json:"calls"`
	CallsCut  int `json:"calls_cut"`
	CallsPage *struct {
		Offset int  `json:"offset"`
		Limit  int  `json:"limit"`
		Total  int  `json:"total"`
		Next   *int `json:"next"`
	} `json:"calls_page"`
}

// api/compare of two records of 5,000 calls, each call with a name of its
// own (7,500 matched calls and RPCs): its calls come a page at a time
// (calls_page, as api/records/{id}'s), following next reaches every one
// once, and rpcs holds the 200 of largest difference (none left out has a
// larger one), rpcs_cut counting the others; bad offset and limit are a
// 400 naming them. Before, the answer stopped at 2,000 calls, the others
// out of reach, and listed every RPC.
func TestAPIComparePaged(t *testing.T) {
	const n = 5000 // n/2 a multiple of 4: a name has the same service in both
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a := makeRecord(now, 1, "/distinct", 200, n)
	b := makeRecord(now.Add(time.Millisecond), 2, "/distinct", 200, n)
	for i := range a.Calls {
		a.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i)
		b.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i+n/2)
	}
	small := makeRecord(now.Add(2*time.Millisecond), 3, "/distinct", 200, 3)
	writeRecs(t, st, a, b, small)
	h := ui.NewHandler(st)
	base := "/stats/api/compare?a=" + a.ID.String() + "&b=" + b.ID.String()
	const total = 3 * n / 2

	seenA, seenB := map[int]int{}, map[int]int{}
	pages := 0
	for q, next := "", 0; ; q = "&offset=" + strconv.Itoa(next) {
		w := do(h, "GET", base+q, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", base+q, w.Code, w.Body.String())
		}
		if w.Body.Len() > 5<<20 {
			t.Errorf("%s: %d bytes", q, w.Body.Len())
		}
		c := decode[comparePagedJSON](t, w)
		pages++
		if len(c.RPCs) != 200 || c.RPCsCut != total-200 {
			t.Errorf("%s: %d rpcs, rpcs_cut %d; want 200 and %d", q, len(c.RPCs), c.RPCsCut, total-200)
		}
		if pages == 1 {
			checkLargestDeltas(t, c, a, b)
		}
		p := c.CallsPage
		if p == nil {
			t.Fatalf("%s: no calls_page", q)
		}
		if p.Offset != next || p.Total != total || p.Limit != 2000 || len(c.Calls) == 0 || len(c.Calls) > 2000 ||
			c.CallsCut != total-len(c.Calls) {
			t.Errorf("%s: calls_page %+v, %d calls, calls_cut %d", q, *p, len(c.Calls), c.CallsCut)
		}
		for _, pc := range c.Calls {
			if pc.A != nil {
				seenA[*pc.A]++
			}
			if pc.B != nil {
				seenB[*pc.B]++
			}
		}
		if p.Next == nil {
			break
		}
		if *p.Next != next+len(c.Calls) || pages > 20 {
			t.Fatalf("%s: next %d after %d calls from %d", q, *p.Next, len(c.Calls), next)
		}
		next = *p.Next
	}
	if len(seenA) != n || len(seenB) != n {
		t.Errorf("the pages listed %d calls of A and %d of B, want %d each", len(seenA), len(seenB), n)
	}
	for i, k := range seenA {
		if k != 1 {
			t.Errorf("A's call %d listed %d times", i, k)
		}
	}

	// A page asked for: limit, and the last page.
	c := decode[comparePagedJSON](t, do(h, "GET", base+"&offset="+strconv.Itoa(total-10)+"&limit=5000", nil))
	if p := c.CallsPage; p == nil || len(c.Calls) != 10 || p.Next != nil || p.Limit != 5000 || c.CallsCut != total-10 {
		t.Errorf("the last page: %d calls, %+v", len(c.Calls), p)
	}
	// Two small records: every call, no calls_page, no rpcs_cut.
	w := do(h, "GET", "/stats/api/compare?a="+small.ID.String()+"&b="+small.ID.String(), nil)
	if c := decode[comparePagedJSON](t, w); c.CallsPage != nil || len(c.Calls) != 3 || c.CallsCut != 0 || c.RPCsCut != 0 ||
		strings.Contains(w.Body.String(), "rpcs_cut") {
		t.Errorf("two records of 3 calls: %s", w.Body.String())
	}
	for _, q := range []string{"offset=-1", "offset=" + strconv.Itoa(total+1), "offset=x", "limit=0", "limit=5001", "limit=1e3", "offset=" + strings.Repeat("9", 40)} {
		w := do(h, "GET", base+"&"+q, nil)
		name, _, _ := strings.Cut(q, "=")
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"error":"`+name+`: `) {
			t.Errorf("%s: %d %s, want 400 naming %s", q, w.Code, w.Body.String(), name)
		}
	}
}

// checkLargestDeltas fails t unless c.rpcs are RPCs of a and b with their
// difference in time (B's total less A's), and none of the RPCs left out
// differs by more than any of them.
func checkLargestDeltas(t *testing.T, c comparePagedJSON, a, b *recording.Record) {
	t.Helper()
	delta := map[string]time.Duration{} // service and method → B's total less A's
	for _, c := range a.Calls {
		delta[c.Service+" "+c.Method] -= c.Duration
	}
	for _, c := range b.Calls {
		delta[c.Service+" "+c.Method] += c.Duration
	}
	listed := map[string]bool{}
	least := math.Inf(1)
	for _, g := range c.RPCs {
		k := g.Service + " " + g.Method
		d, ok := delta[k]
		if !ok || math.Abs(g.DeltaMS-float64(d.Microseconds())/1000) > 1e-9 {
			t.Errorf("rpcs: %q delta_ms %v, want %v", k, g.DeltaMS, float64(d.Microseconds())/1000)
		}
		listed[k] = true
		least = min(least, math.Abs(g.DeltaMS))
	}
	most, name := 0.0, ""
	for k, d := range delta {
		if v := math.Abs(float64(d.Microseconds()) / 1000); !listed[k] && v > most {
			most, name = v, k
		}
	}
	if most > least {
		t.Errorf("rpcs: the least difference listed is %v ms, but %q, left out, differs by %v ms", least, name, most)
	}
}

// api/compare's page of calls stops where its bytes would pass the
// budget (4 MB), short of limit: two records of 1,200 calls of the same
// names of 5,000 bytes; next follows the calls it holds, and the pages
// reach every call once.
func TestAPIComparePagedByBytes(t *testing.T) {
	const n, long = 1200, 5000
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a := makeRecord(now, 1, "/long", 200, n)
	b := makeRecord(now.Add(time.Millisecond), 2, "/long", 200, n)
	for i := range a.Calls {
		a.Calls[i].Method = fmt.Sprintf("%d %s", i, strings.Repeat("x", long))
		b.Calls[i].Method = a.Calls[i].Method
	}
	writeRecs(t, st, a, b)
	h := ui.NewHandler(st)
	base := "/stats/api/compare?a=" + a.ID.String() + "&b=" + b.ID.String()
	seen := map[int]int{}
	pages := 0
	for q, next := "", 0; ; q = "&offset=" + strconv.Itoa(next) {
		w := do(h, "GET", base+q, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", base+q, w.Code, w.Body.String()[:min(w.Body.Len(), 300)])
		}
		if w.Body.Len() > 4<<20+64<<10 {
			t.Errorf("%s: %d bytes, over the budget of 4 MB", q, w.Body.Len())
		}
		c := decode[comparePagedJSON](t, w)
		pages++
		p := c.CallsPage
		if p == nil {
			t.Fatalf("%s: no calls_page: every call of %d bytes each in one answer", q, long)
		}
		for _, pc := range c.Calls {
			if pc.A != nil {
				seen[*pc.A]++
			}
		}
		if p.Next == nil {
			if p.Offset+len(c.Calls) != n {
				t.Errorf("%s: the last page ends at %d, want %d", q, p.Offset+len(c.Calls), n)
			}
			break
		}
		if len(c.Calls) == 0 || len(c.Calls) >= p.Limit || *p.Next != next+len(c.Calls) || pages > n {
			t.Fatalf("%s: %d calls (limit %d), next %d after %d", q, len(c.Calls), p.Limit, *p.Next, next)
		}
		next = *p.Next
	}
	if pages < 2 {
		t.Errorf("%d pages: the budget cut none", pages)
	}
	if len(seen) != n {
		t.Errorf("the pages listed %d calls of A, want %d", len(seen), n)
	}
	for i, k := range seen {
		if k != 1 {
			t.Errorf("A's call %d listed %d times", i, k)
		}
	}
}
