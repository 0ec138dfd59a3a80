package ui_test

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// The compare page of two records of 2,400 calls each, every call with a
// name of its own (3,600 matched calls: four pages): the call-by-call rows
// come a page at a time (at most 1,000 rows, a bounded page), the pages'
// links reach every call of both, and the RPC table is bounded, saying how
// many it leaves out; each call's link names the page of its record's
// details that has its row. Before, two records of 10,000 calls made a
// page of 5.9 MB (10,000 RPC rows and the first 2,000 pairs; the other
// calls not listed).
func TestComparePaged(t *testing.T) {
	const n = 2400 // n/2 a multiple of 4: a name has the same service in both
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a := makeRecord(now, 1, "/distinct", 200, n)
	b := makeRecord(now.Add(time.Millisecond), 2, "/distinct", 200, n)
	for i := range a.Calls {
		a.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i)
		b.Calls[i].Method = fmt.Sprintf("SELECT %d FROM users", i+n/2)
	}
	writeRecs(t, st, a, b)
	h := ui.NewHandler(st)
	base := "/stats/compare?a=" + a.ID.String() + "&b=" + b.ID.String()
	pairRE := regexp.MustCompile(`<a href="records/([0-9a-f]+)(?:\?page=(\d+))?#call-(\d+)">`)
	groupRE := regexp.MustCompile(`<tr><td class="name">`)
	linkRE := regexp.MustCompile(`href="(\?[^"#]*page=\d+)#pairs"`)
	const maxBytes, maxRows, maxGroups = 1 << 20, 1000, 200

	seen := map[string]int{}        // record id/call number → times listed
	linked := map[string][]string{} // record id?page=P → call numbers linked there
	visited := map[string]bool{}
	queue := []string{base + "&page=1"} // the page without page=, whose links lead here too
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if visited[u] {
			continue
		}
		visited[u] = true
		w := do(h, "GET", u, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", u, w.Code, w.Body.String())
		}
		body := w.Body.String()
		if len(body) > maxBytes {
			t.Errorf("%s: %d bytes, want at most %d", u, len(body), maxBytes)
		}
		pairs := strings.Count(body, "<tr class=\"pair")
		if pairs == 0 || pairs > maxRows {
			t.Errorf("%s: %d call rows, want 1 to %d", u, pairs, maxRows)
		}
		if g := len(groupRE.FindAllString(body, -1)); g > maxGroups {
			t.Errorf("%s: %d RPC rows, want at most %d", u, g, maxGroups)
		}
		if !strings.Contains(body, "RPCs are not listed") {
			t.Errorf("%s: the RPC table does not say it leaves some out", u)
		}
		for _, m := range pairRE.FindAllStringSubmatch(body, -1) {
			seen[m[1]+"/"+m[3]]++
			page := m[2]
			if page == "" {
				page = "1"
			}
			linked[m[1]+"?page="+page] = append(linked[m[1]+"?page="+page], m[3])
		}
		for _, l := range linkRE.FindAllStringSubmatch(body, -1) {
			queue = append(queue, "/stats/compare"+html.UnescapeString(l[1]))
		}
	}
	for _, id := range []string{a.ID.String(), b.ID.String()} {
		for num := 1; num <= n; num++ {
			if k := seen[id+"/"+strconv.Itoa(num)]; k != 1 {
				t.Fatalf("call #%d of %s listed %d times, want once", num, id, k)
			}
		}
	}
	// Each call is linked with the page of its record's details that has
	// its row, #call-N: the first page held only the first 1,000 calls
	// (its script went on to the page of the others).
	idRE := regexp.MustCompile(`id="call-(\d+)"`)
	for page, nums := range linked {
		w := do(h, "GET", "/stats/records/"+page, nil)
		if w.Code != 200 {
			t.Fatalf("records/%s: %d", page, w.Code)
		}
		has := map[string]bool{}
		for _, m := range idRE.FindAllStringSubmatch(w.Body.String(), -1) {
			has[m[1]] = true
		}
		missing := 0
		for _, num := range nums {
			if !has[num] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("records/%s: %d of the %d calls linked there (#call-N) are not on it", page, missing, len(nums))
		}
	}
	// n/2 names in both, n/2 in A only, n/2 in B only.
	if want := (3*n/2 + maxRows - 1) / maxRows; len(visited) != want || want < 3 {
		t.Errorf("%d pages visited, want %d (3 or more)", len(visited), want)
	}
	for _, q := range []string{"&page=0", "&page=x", "&page=999"} {
		w := do(h, "GET", base+q, nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "page:") {
			t.Errorf("GET %s: %d, want 400 with a message", q, w.Code)
		}
	}
}

// Two small records compare on one page, without a pager.
func TestCompareSmallOnePage(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a, b := makeRecord(now, 1, "/s", 200, 30), makeRecord(now, 2, "/s", 200, 40)
	writeRecs(t, st, a, b)
	body := do(ui.NewHandler(st), "GET", "/stats/compare?a="+a.ID.String()+"&b="+b.ID.String(), nil).Body.String()
	if strings.Contains(body, "pair-pages") || strings.Contains(body, "not listed") {
		t.Error("a comparison of 30 and 40 calls is paged or cut")
	}
	if k := strings.Count(body, `<tr class="pair`); k != 40 {
		t.Errorf("%d call rows, want 40", k)
	}
}
