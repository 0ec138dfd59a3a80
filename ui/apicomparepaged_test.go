package ui_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

type comparePagedJSON struct {
	RPCs []struct {
		Method string `json:"method"`
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

// api/compare of two records of 10,000 calls, each call with a name of its
// own (15,000 matched calls and RPCs): its calls come a page at a time
// (calls_page, as api/records/{id}'s), following next reaches every one
// once, and rpcs holds the 200 of largest difference, rpcs_cut counting
// the others; bad offset and limit are a 400 naming them. Before, the
// answer stopped at 2,000 calls, the others out of reach, and listed all
// 15,000 RPCs.
func TestAPIComparePaged(t *testing.T) {
	const n = 10000
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
	c := decode[comparePagedJSON](t, do(h, "GET", base+"&offset=14990&limit=5000", nil))
	if p := c.CallsPage; p == nil || len(c.Calls) != 10 || p.Next != nil || p.Limit != 5000 || c.CallsCut != total-10 {
		t.Errorf("the last page: %d calls, %+v", len(c.Calls), p)
	}
	// Two small records: every call, no calls_page, no rpcs_cut.
	w := do(h, "GET", "/stats/api/compare?a="+small.ID.String()+"&b="+small.ID.String(), nil)
	if c := decode[comparePagedJSON](t, w); c.CallsPage != nil || len(c.Calls) != 3 || c.CallsCut != 0 || c.RPCsCut != 0 ||
		strings.Contains(w.Body.String(), "rpcs_cut") {
		t.Errorf("two records of 3 calls: %s", w.Body.String())
	}
	for _, q := range []string{"offset=-1", "offset=15001", "offset=x", "limit=0", "limit=5001", "limit=1e3", "offset=" + strings.Repeat("9", 40)} {
		w := do(h, "GET", base+"&"+q, nil)
		name, _, _ := strings.Cut(q, "=")
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"error":"`+name+`: `) {
			t.Errorf("%s: %d %s, want 400 naming %s", q, w.Code, w.Body.String(), name)
		}
	}
}
